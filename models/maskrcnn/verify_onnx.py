#!/usr/bin/python3
"""Check the exported ONNX parts against PyTorch: each part runs in onnxruntime-web (wasm,
in Node: models/common/ort_run.mjs) on an input, the same input goes through the checkpoint in torch,
and the max abs difference of every output is printed (and must be < --tol).

    /usr/bin/python3 models/maskrcnn/verify_onnx.py [--ckpt models/maskrcnn/checkpoints/latest.pt | --random]

Backbone: a val image (stretched to 512, normalised as the manifest says); box head: 500
RoIs (R = rpnPostNmsTopN) of random features; mask head: 100 RoIs (M = maxDetections).
"""
from __future__ import annotations

import argparse
import os
import sys

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.normpath(os.path.join(HERE, '..', '..'))
sys.path.insert(0, HERE)
from export import SIZE, load_checkpoint  # noqa: E402
from model import BackboneExport, MaskRCNN  # noqa: E402
sys.path.insert(0, os.path.join(HERE, '..', 'common'))
from onnx_check import compare, run_ort  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--ckpt', default=os.path.join(HERE, 'checkpoints', 'latest.pt'))
    ap.add_argument('--random', action='store_true')
    ap.add_argument('--dir', default=HERE, help='folder holding the exported ONNX files')
    ap.add_argument('--prefix', default=f'maskrcnn-{SIZE}', help='head files <prefix>-{box,mask}-head.onnx')
    ap.add_argument('--tol', type=float, default=1e-4, help='relative to max(1, max |torch|)')
    args = ap.parse_args()
    torch.set_num_threads(1)
    if args.random:
        torch.manual_seed(0)
        model = MaskRCNN().eval()
    else:
        model, _ = load_checkpoint(args.ckpt)
    rng = np.random.default_rng(1)
    from data import EmojiCoco, preprocess
    ds = EmojiCoco(os.path.join(HERE, '..', 'data', 'emoji-coco'), 'val', flip=False)
    _, rgb = ds.load(0)
    x = preprocess(np.ascontiguousarray(rgb), SIZE)[None].numpy()
    ok = True
    with torch.no_grad():
        outs = BackboneExport(model)(torch.from_numpy(x))
    names = ['p2', 'p3', 'p4', 'p5', 'objectness', 'rpn_deltas']
    ok &= compare('backbone', run_ort(os.path.join(args.dir, f'maskrcnn-{SIZE}.onnx'), {'input': x}),
                  {n: o.numpy() for n, o in zip(names, outs)}, args.tol)
    p = outs[2].numpy()  # realistic feature magnitudes for the heads: crops of P4
    box_in = np.stack([p[0, :, y:y + 7, x0:x0 + 7] for y, x0 in rng.integers(0, p.shape[-1] - 7, (500, 2))])
    mask_in = np.stack([p[0, :, y:y + 14, x0:x0 + 14] for y, x0 in rng.integers(0, p.shape[-1] - 14, (100, 2))])
    with torch.no_grad():
        cls, deltas = model.box_head(torch.from_numpy(box_in))
        masks = model.mask_head(torch.from_numpy(mask_in))
    ok &= compare('box_head', run_ort(os.path.join(args.dir, f'{args.prefix}-box-head.onnx'), {'box_features': box_in}),
                  {'class_logits': cls.numpy(), 'box_deltas': deltas.numpy()}, args.tol)
    ok &= compare('mask_head', run_ort(os.path.join(args.dir, f'{args.prefix}-mask-head.onnx'), {'mask_features': mask_in}),
                  {'mask_logits': masks.numpy()}, args.tol)
    print('ALL OK' if ok else 'MISMATCH')
    sys.exit(0 if ok else 1)


if __name__ == '__main__':
    main()
