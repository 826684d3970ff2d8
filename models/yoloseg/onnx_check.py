#!/usr/bin/python3
"""PyTorch side of the ONNX check: the letterboxed sample image and the model's outputs
(latest checkpoint, as exported) into DIR, then `npx tsx models/yoloseg/onnx_check.mts DIR`
compares onnxruntime-web's outputs and the app's letterbox with them.

    /usr/bin/python3 models/yoloseg/onnx_check.py [--ckpt ...] [--dir /tmp/yoloseg-onnx-check]
"""
import argparse
import os
import subprocess
import sys

import cv2
import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from export import load_checkpoint  # noqa: E402
from model import YoloSegExport  # noqa: E402
from data import letterbox, to_tensor  # noqa: E402

ap = argparse.ArgumentParser()
ap.add_argument('--ckpt', default=os.path.join(HERE, 'checkpoints', 'latest.pt'))
ap.add_argument('--dir', default='/tmp/yoloseg-onnx-check')
args = ap.parse_args()
torch.set_num_threads(1)
os.makedirs(args.dir, exist_ok=True)
model, ck = load_checkpoint(args.ckpt)
repo = os.path.normpath(os.path.join(HERE, '..', '..'))
rgb = np.ascontiguousarray(cv2.imread(os.path.join(repo, 'public', 'samples', 'sample-1.jpg'))[..., ::-1])
img, _ = letterbox(rgb, 416)
x = to_tensor(img)[None]
with torch.no_grad():
    o0, o1 = YoloSegExport(model, 416).eval()(x)
for name, t in (('input', x), ('output0', o0), ('output1', o1)):
    t.numpy().astype(np.float32).tofile(os.path.join(args.dir, f'{name}.bin'))
print(f'checkpoint step {ck.get("step")}: best score {o0[0, 4:84].max().item():.4f}', flush=True)
subprocess.run(['npx', 'tsx', os.path.join(HERE, 'onnx_check.mts'), args.dir], cwd=repo, check=True)
