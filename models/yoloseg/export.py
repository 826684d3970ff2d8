#!/usr/bin/python3
"""Export a YOLO-seg checkpoint to ONNX (opset 17) with the Ultralytics interface + its manifest.

    /usr/bin/python3 models/yoloseg/export.py [--ckpt models/yoloseg/checkpoints/latest.pt]
        [--sizes 416] [--notes "..."]

Writes models/yoloseg/yoloseg-<S>.onnx:
  images  [1, 3, S, S]          RGB 0–1, letterboxed (pad 114)
  output0 [1, 4 + 80 + 32, N]   cx, cy, w, h (input px), 80 sigmoid scores, 32 coefficients
  output1 [1, 32, S/4, S/4]     prototypes
  metadata_props as Ultralytics writes them: names, imgsz, task, stride, batch, author, description
and yoloseg-<S>.json (ModelManifest of app/types.ts, family 'yolo-seg'). Both written to a
temporary path, checked, then moved into place, so a reader never sees a half-written model.
"""
from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import sys

import onnx
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from model import NUM_PROTOS, STRIDES, YoloSeg, YoloSegExport  # noqa: E402
from data import PAD_VALUE, load_categories  # noqa: E402

DEFAULT_SIZES = (416,)
MAX_BYTES = 8 * 1024 * 1024
# Post-processing defaults. Ultralytics predicts at conf 0.25, IoU 0.7, max_det 300; our
# model is small and trained briefly, so its scores run lower: candidates from 0.01 (AP needs
# low-score detections; Ultralytics validates at conf 0.001) and a display threshold of 0.1;
# cap 100 like YOLACT.
DEFAULTS = {'confThreshold': 0.01, 'scoreThreshold': 0.1, 'topK': 300, 'nmsIou': 0.7,
            'nmsKind': 'greedy', 'maxDetections': 100}


def load_checkpoint(path: str) -> tuple[YoloSeg, dict]:
    ck = torch.load(path, map_location='cpu', weights_only=False)
    model = YoloSeg(width=tuple(ck.get('width', (16, 32, 64, 96, 128))))
    model.load_state_dict({k: v.float() if v.is_floating_point() else v for k, v in ck['model'].items()})
    model.eval()
    return model, ck


def manifest(size: int, notes: str) -> dict:
    cats = load_categories()
    return {
        'id': f'yoloseg-{size}',
        'name': f'YOLO-seg-{size} (emoji-COCO, C2f-lite, trained here)',
        'family': 'yolo-seg',
        'url': f'models/yoloseg/yoloseg-{size}.onnx',
        'input': {'name': 'images', 'width': size, 'height': size, 'resize': 'letterbox', 'channels': 'rgb',
                  'scale': 1 / 255, 'mean': [0, 0, 0], 'std': [1, 1, 1], 'padValue': PAD_VALUE},
        'outputs': {'output0': 'output0', 'protos': 'output1'},
        'classes': [c['name'] for c in cats],
        'categoryIds': [c['id'] for c in cats],
        'defaults': dict(DEFAULTS),
        'notes': notes,
    }


def ultralytics_metadata(size: int, names: list[str], notes: str) -> dict[str, str]:
    return {
        'description': f'SegArena YOLO-seg-{size}: {notes}',
        'author': 'SegArena',
        'task': 'segment',
        'stride': str(max(STRIDES)),
        'batch': '1',
        'imgsz': f'[{size}, {size}]',
        'names': '{' + ', '.join(f"{i}: '{n}'" for i, n in enumerate(names)) + '}',
    }


def export_size(model: YoloSeg, size: int, out_dir: str, notes: str) -> str:
    """ONNX + manifest for one input size; returns the ONNX path."""
    wrapper = YoloSegExport(model, size).eval()
    buf = io.BytesIO()
    with torch.no_grad():
        torch.onnx.export(wrapper, torch.zeros(1, 3, size, size), buf, opset_version=17,
                          input_names=['images'], output_names=['output0', 'output1'], do_constant_folding=True)
    proto = onnx.load_from_string(buf.getvalue())
    names = [c['name'] for c in load_categories()]
    for k, v in ultralytics_metadata(size, names, notes).items():
        p = proto.metadata_props.add()
        p.key, p.value = k, v
    onnx.checker.check_model(proto)
    n = sum((size // s) ** 2 for s in STRIDES)
    dims = {o.name: [d.dim_value for d in o.type.tensor_type.shape.dim] for o in proto.graph.output}
    expected = {'output0': [1, 4 + model.nc + NUM_PROTOS, n], 'output1': [1, NUM_PROTOS, size // 4, size // 4]}
    assert dims == expected, (dims, expected)
    data = proto.SerializeToString()
    onnx_path = os.path.join(out_dir, f'yoloseg-{size}.onnx')
    json_path = os.path.join(out_dir, f'yoloseg-{size}.json')
    assert len(data) <= MAX_BYTES, f'{onnx_path}: {len(data)} bytes > 8 MB'
    with open(onnx_path + '.tmp', 'wb') as f:
        f.write(data)
    with open(json_path + '.tmp', 'w') as f:
        # The digest of the file it names: the app checks it on load and keys recorded accuracy by it.
        json.dump({**manifest(size, notes), 'sha256': hashlib.sha256(data).hexdigest()}, f, indent=2)
        f.write('\n')
    os.replace(onnx_path + '.tmp', onnx_path)
    os.replace(json_path + '.tmp', json_path)
    return onnx_path


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--ckpt', default=os.path.join(HERE, 'checkpoints', 'latest.pt'))
    ap.add_argument('--sizes', default=','.join(str(s) for s in DEFAULT_SIZES))
    ap.add_argument('--out', default=HERE)
    ap.add_argument('--notes', default=None)
    args = ap.parse_args()
    torch.set_num_threads(1)
    model, ck = load_checkpoint(args.ckpt)
    notes = args.notes or ck.get('notes') or f'Trained {ck.get("step", "?")} steps on synthetic emoji-COCO.'
    for size in [int(s) for s in args.sizes.split(',')]:
        path = export_size(model, size, args.out, notes)
        print(f'{path}: {os.path.getsize(path)} bytes')


if __name__ == '__main__':
    main()
