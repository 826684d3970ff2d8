#!/usr/bin/python3
"""Export a YOLACT checkpoint to ONNX (opset 17) in the public layout + its manifest.

    /usr/bin/python3 models/yolact/export.py [--ckpt models/yolact/checkpoints/latest.pt]
        [--variants 550,384] [--notes "..."]

Writes models/yolact/yolact-<size>.onnx and yolact-<size>.json (ModelManifest of
app/types.ts). Files are written to a temporary path, checked, then moved into place
atomically, so a reader never sees a half-written model.
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
from model import MEAN_RGB, STD_RGB, Yolact, YolactExport, level_sizes, make_priors  # noqa: E402
from data import load_categories  # noqa: E402

DEFAULT_VARIANTS = (550, 384)
NAMES = {550: 'YOLACT-550 (emoji-COCO, MobileNetV2-lite FPN)',
         384: 'YOLACT-384 (emoji-COCO, MobileNetV2-lite FPN, faster)'}


def load_checkpoint(path: str, weights: str = 'model') -> tuple[Yolact, dict]:
    """checkpoints/latest.pt, or a run's state.pt; weights='ema': a state.pt's moving average
    (train.py --ema) instead of its last weights."""
    ck = torch.load(path, map_location='cpu', weights_only=False)
    model = Yolact(width=ck.get('width', 64))
    state = {k: v.float() if v.is_floating_point() else v for k, v in ck[weights].items()}
    model.load_state_dict(state)
    model.eval()
    return model, ck


def manifest(size: int, notes: str) -> dict:
    cats = load_categories()
    return {
        'id': f'yolact-{size}',
        'name': NAMES.get(size, f'YOLACT-{size} (emoji-COCO)'),
        'family': 'yolact',
        'url': f'models/yolact/yolact-{size}.onnx',
        'input': {'name': 'input', 'width': size, 'height': size, 'resize': 'stretch',
                  'channels': 'rgb', 'scale': 1, 'mean': list(MEAN_RGB), 'std': list(STD_RGB)},
        'outputs': {'loc': 'loc', 'conf': 'conf', 'mask': 'mask', 'priors': 'priors', 'proto': 'proto'},
        'classes': [c['name'] for c in cats],
        'categoryIds': [c['id'] for c in cats],
        'defaults': {'confThreshold': 0.05, 'scoreThreshold': 0.15, 'topK': 200, 'nmsIou': 0.5,
                     'nmsKind': 'fast', 'maxDetections': 100},
        'notes': notes,
    }


def export_variant(model: Yolact, size: int, out_dir: str, notes: str) -> str:
    """ONNX + manifest for one input size; returns the ONNX path."""
    wrapper = YolactExport(model, size).eval()
    x = torch.zeros(1, 3, size, size)
    buf = io.BytesIO()
    with torch.no_grad():
        torch.onnx.export(wrapper, x, buf, opset_version=17, input_names=['input'],
                          output_names=['loc', 'conf', 'mask', 'priors', 'proto'],
                          do_constant_folding=True)
    proto = onnx.load_from_string(buf.getvalue())
    onnx.checker.check_model(proto)
    n = sum(3 * s * s for s in level_sizes(size))
    p = 2 * level_sizes(size)[0]
    dims = {o.name: [d.dim_value for d in o.type.tensor_type.shape.dim] for o in proto.graph.output}
    expected = {'loc': [1, n, 4], 'conf': [1, n, 81], 'mask': [1, n, 32], 'priors': [n, 4], 'proto': [1, p, p, 32]}
    assert dims == expected, (dims, expected)
    onnx_path = os.path.join(out_dir, f'yolact-{size}.onnx')
    json_path = os.path.join(out_dir, f'yolact-{size}.json')
    data = buf.getvalue()
    assert len(data) <= 8 * 1024 * 1024, f'{onnx_path}: {len(data)} bytes > 8 MB'
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
    ap.add_argument('--variants', default=','.join(str(v) for v in DEFAULT_VARIANTS))
    ap.add_argument('--out', default=HERE)
    ap.add_argument('--notes', default=None)
    args = ap.parse_args()
    torch.set_num_threads(2)
    model, ck = load_checkpoint(args.ckpt)
    for size in [int(s) for s in args.variants.split(',')]:
        notes = args.notes or ck.get('notes') or f'Trained {ck.get("step", "?")} steps on synthetic emoji-COCO.'
        path = export_variant(model, size, args.out, notes)
        print(f'{path}: {os.path.getsize(path)} bytes, priors {make_priors(size).shape[0]}')


if __name__ == '__main__':
    main()
