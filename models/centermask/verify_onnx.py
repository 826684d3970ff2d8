#!/usr/bin/python3
"""Check the exported ONNX parts against PyTorch: each part runs in onnxruntime-web (wasm, in
Node: models/common/ort_run.mjs) on an input, the same input goes through the checkpoint in
torch, and the max abs difference of every output is printed (and must be < --tol relative
to max(1, max |torch|)).

    /usr/bin/python3 models/centermask/verify_onnx.py [--ckpt models/centermask/checkpoints/latest.pt]

Detector: a val image (stretched to 512, normalised as the manifest says); mask head: 50
RoIs (M = maxDetections) of real P3 features pooled by Equation 2 RoIAlign.
"""
from __future__ import annotations

import argparse
import os
import sys

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, '..', 'common'))
from onnx_check import compare, run_ort  # noqa: E402
from emoji_coco import EmojiCoco, preprocess  # noqa: E402
from export import SIZE, STEM, load_checkpoint  # noqa: E402
from loss import pool_rois  # noqa: E402
from model import DetectorExport  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--ckpt', default=os.path.join(HERE, 'checkpoints', 'latest.pt'))
    ap.add_argument('--dir', default=HERE, help='folder holding the exported ONNX files')
    ap.add_argument('--tol', type=float, default=1e-4)
    args = ap.parse_args()
    torch.set_num_threads(1)
    model, _ = load_checkpoint(args.ckpt)
    ds = EmojiCoco(os.path.join(HERE, '..', 'data', 'emoji-coco'), 'val', flip=False)
    _, rgb = ds.load(0)
    x = preprocess(np.ascontiguousarray(rgb), SIZE)[None].numpy()
    with torch.no_grad():
        outs = DetectorExport(model)(torch.from_numpy(x))
    ok = compare('detector', run_ort(os.path.join(args.dir, f'{STEM}.onnx'), {'input': x}),
                 {n: o.numpy() for n, o in zip(DetectorExport.OUTPUT_NAMES, outs)}, args.tol)
    rng = np.random.default_rng(1)
    xy = rng.uniform(0, 400, (50, 2))
    wh = rng.uniform(12, 300, (50, 2))
    boxes = torch.tensor(np.concatenate([xy, np.minimum(xy + wh, SIZE)], 1), dtype=torch.float32)
    with torch.no_grad():
        feats = pool_rois(list(outs[:3]), [boxes], float(SIZE * SIZE))
        logits, iou = model.mask_head(feats)
    ok &= compare('mask_head', run_ort(os.path.join(args.dir, f'{STEM}-mask-head.onnx'), {'mask_features': feats.numpy()}),
                  {'mask_logits': logits.numpy(), 'mask_iou': iou.numpy()}, args.tol)
    print('ALL OK' if ok else 'MISMATCH')
    sys.exit(0 if ok else 1)


if __name__ == '__main__':
    main()
