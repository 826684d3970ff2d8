#!/usr/bin/python3
"""Check exported BlendMask / B2Inst ONNX parts against PyTorch: each part runs in
onnxruntime-web (wasm, in Node: models/common/ort_run.mjs), the same inputs go through the
checkpoint in torch, and every output's max abs difference must be < --tol relative to
max(1, max |torch|).

    /usr/bin/python3 models/blendmask/verify_onnx.py --variant b2inst --dir /tmp/b2 [--ckpt ...]
    /usr/bin/python3 models/blendmask/verify_onnx.py --variant b2inst --random   (exports to a temp dir first)

Detector: a val image (stretched to 512, normalised as the manifest says); scoring head
(B2Inst): the blender's own inputs for 20 boxes on that image, packed as the app packs them
into the part's one input `scoring_features` [N, 2 + K', 56, 56] (channel 0 mask
probabilities, 1 clamp(Laplacian(p), 0) with zero padding, 2.. the RoI'd bases); the torch
side is the training path `model.score(logits, roi_bases)` (three separate tensors), so the
packing order is checked too.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, '..', 'common'))
from onnx_check import REPO, compare  # noqa: E402
from emoji_coco import EmojiCoco, preprocess  # noqa: E402
from export import FP16_STORED, SCORING_INPUT, SIZE, STEMS, export_all, load_checkpoint  # noqa: E402
from model import ATTN_SIZE, LEVELS, BlendMask, DetectorExport, blend, laplacian, output_names, roi_bases  # noqa: E402


def run_ort(onnx_path: str, feeds: dict) -> dict:
    """models/common/ort_run.mjs, with the folders its output files need for names holding '/'
    (AdelaiDet's 'P3/logits' → out-P3/logits.f32)."""
    with tempfile.TemporaryDirectory() as d:
        for lv in LEVELS:
            os.makedirs(os.path.join(d, f'out-P{lv}'), exist_ok=True)
        spec = {}
        for name, arr in feeds.items():
            arr.astype('<f4').tofile(os.path.join(d, f'{name}.f32'))
            spec[name] = {'dims': list(arr.shape), 'file': f'{name}.f32'}
        with open(os.path.join(d, 'feeds.json'), 'w') as f:
            json.dump(spec, f)
        subprocess.run(['node', os.path.join(HERE, '..', 'common', 'ort_run.mjs'), onnx_path, d], check=True, cwd=REPO)
        with open(os.path.join(d, 'outputs.json')) as f:
            dims = json.load(f)
        return {k: np.fromfile(os.path.join(d, f'out-{k}.f32'), '<f4').reshape(v) for k, v in dims.items()}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--variant', choices=sorted(STEMS), required=True)
    ap.add_argument('--ckpt', default=None)
    ap.add_argument('--random', action='store_true', help='untrained weights (seed 0), exported to a temp dir')
    ap.add_argument('--dir', default=None, help='folder holding the exported files (default: export to a temp dir)')
    ap.add_argument('--tol', type=float, default=1e-4)
    args = ap.parse_args()
    torch.set_num_threads(1)
    if args.random:
        torch.manual_seed(0)
        model = BlendMask(args.variant == 'b2inst').eval()
    else:
        model, _ = load_checkpoint(args.ckpt or os.path.join(HERE, 'checkpoints', f'latest-{args.variant}.pt'))
    # The export stores these weights in float16 (export.py FP16_STORED): the torch side uses the
    # same rounded values, so the comparison measures the graph, not the storage precision.
    with torch.no_grad():
        for name in FP16_STORED:
            param = model.get_parameter(name.removeprefix('model.'))
            param.copy_(param.half().float())
    tmp = None
    if args.dir is None:
        tmp = tempfile.TemporaryDirectory()
        export_all(model, tmp.name, 'verify_onnx')
        args.dir = tmp.name
    stem = os.path.join(args.dir, STEMS[args.variant])
    ds = EmojiCoco(os.path.join(HERE, '..', 'data', 'emoji-coco'), 'val', flip=False)
    _, rgb = ds.load(0)
    x = preprocess(np.ascontiguousarray(rgb), SIZE)[None].numpy()
    with torch.no_grad():
        outs = DetectorExport(model)(torch.from_numpy(x))
    ok = compare('detector', run_ort(f'{stem}.onnx', {'input': x}),
                 {n: o.numpy() for n, o in zip(output_names(), outs)}, args.tol)
    if model.b2inst:
        rng = np.random.default_rng(1)
        xy = rng.uniform(0, 400, (20, 2))
        wh = rng.uniform(12, 300, (20, 2))
        boxes = torch.tensor(np.concatenate([np.zeros((20, 1)), xy, np.minimum(xy + wh, SIZE)], 1), dtype=torch.float32)
        k = model.n_bases
        attn = outs[4][0].flatten(1).T[torch.from_numpy(rng.integers(0, 64 * 64, 20))].reshape(20, k, ATTN_SIZE, ATTN_SIZE)
        with torch.no_grad():
            pooled = roi_bases(outs[0], boxes)
            logits = blend(pooled, attn)
            probs = torch.sigmoid(logits)[:, None]
            packed = torch.cat([probs, laplacian(probs), pooled], 1)        # [N, 2 + K', 56, 56]
            scores = torch.sigmoid(model.score(logits, pooled))
        ok &= compare('scoring_head', run_ort(f'{stem}-scoring-head.onnx', {SCORING_INPUT: packed.numpy()}),
                      {'scores': scores.numpy()}, args.tol)
    print('ALL OK' if ok else 'MISMATCH')
    sys.exit(0 if ok else 1)


if __name__ == '__main__':
    main()
