#!/usr/bin/python3
"""Export a CenterMask checkpoint as the two ONNX parts the app runs + the manifest
(opset 17, fp32; the interface is in README.md "Interface"):

    centermask-lite-512.onnx            input [1,3,512,512] → p3 [1,C,64,64], p4 [1,C,32,32],
                                        p5 [1,C,16,16], cls_p{3..7} [1,K,H,W] logits,
                                        box_p{3..7} [1,4,H,W] ltrb px, ctr_p{3..7} [1,1,H,W] logits
    centermask-lite-512-mask-head.onnx  mask_features [M,C,14,14] → mask_logits [M,K,28,28],
                                        mask_iou [M,K]
    centermask-lite-512.json            ModelManifest, family 'centermask', `centerMask` block

    /usr/bin/python3 models/centermask/export.py [--ckpt models/centermask/checkpoints/latest.pt] [--random]

Files go to a temporary path, are checked (onnx.checker, output shapes, ≤ 8 MB) and then
moved into place atomically.
"""
from __future__ import annotations

import argparse
import io
import json
import os
import sys

import onnx
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, '..', 'common'))
from emoji_coco import load_categories  # noqa: E402
from integrity import add_digests  # noqa: E402
from model import (FPN_CHANNELS, LEVELS, MASK_SIZE, MEAN_RGB, NUM_CLASSES, POOL_SIZE, ROI_MAX_LEVEL,  # noqa: E402
                   ROI_MIN_LEVEL, STD_RGB, STRIDES, CenterMask, DetectorExport, MaskHeadExport, level_sizes)

SIZE = 512
MAX_BYTES = 8 * 1024 * 1024
STEM = f'centermask-lite-{SIZE}'

# What the app's WGSL needs (MODELS.md §4 + our choices); evaluate.py uses the same numbers.
CENTER_MASK = {
    'strides': list(STRIDES),
    'fpnChannels': FPN_CHANNELS,
    'poolSize': POOL_SIZE,
    'maskSize': MASK_SIZE,
    'roiLevels': 'ratio',
    'minLevel': ROI_MIN_LEVEL,
    'maxLevel': ROI_MAX_LEVEL,
    'preNmsTopN': 1000,
    'candidateThreshold': 0.05,
    'nmsIou': 0.6,
    'maxDetections': 50,
    'samplingRatio': 2,
    'aligned': True,
}
# topK: candidates a class keeps before NMS in the app (its kernels hold at most 512; the
# per-level pre-NMS top 1000 is preNmsTopN above).
DEFAULTS = {'confThreshold': 0.05, 'scoreThreshold': 0.5, 'topK': 500, 'nmsIou': 0.6,
            'nmsKind': 'greedy', 'maxDetections': 50}


def load_checkpoint(path: str) -> tuple[CenterMask, dict]:
    ck = torch.load(path, map_location='cpu', weights_only=False)
    model = CenterMask()
    model.load_state_dict({k: v.float() if v.is_floating_point() else v for k, v in ck['model'].items()})
    model.eval()
    return model, ck


def manifest(notes: str) -> dict:
    cats = load_categories()
    outputs = {'p3': 'p3', 'p4': 'p4', 'p5': 'p5'}
    for kind in ('cls', 'box', 'ctr'):
        outputs.update({f'{kind}P{lv}': f'{kind}_p{lv}' for lv in LEVELS})
    return {
        'id': STEM,
        'name': f'CenterMask-Lite {SIZE} (emoji-COCO, VoVNetV2-lite FCOS + SAG-Mask)',
        'family': 'centermask',
        'url': f'models/centermask/{STEM}.onnx',
        'bytes': 0,
        'sha256': '',
        'input': {'name': 'input', 'width': SIZE, 'height': SIZE, 'resize': 'stretch', 'channels': 'rgb',
                  'scale': 1 / 255, 'mean': list(MEAN_RGB), 'std': list(STD_RGB)},
        'outputs': outputs,
        'classes': [c['name'] for c in cats],
        'categoryIds': [c['id'] for c in cats],
        'defaults': dict(DEFAULTS),
        'notes': notes,
        'centerMask': {'maskHeadUrl': f'models/centermask/{STEM}-mask-head.onnx', 'maskHeadBytes': 0,
                       'maskHeadSha256': '', **CENTER_MASK},
    }


def to_onnx(module: torch.nn.Module, example: torch.Tensor, input_name: str, output_names: list[str],
            dynamic_first: bool) -> bytes:
    buf = io.BytesIO()
    axes = {input_name: {0: 'm'}, **{o: {0: 'm'} for o in output_names}} if dynamic_first else None
    with torch.no_grad():
        torch.onnx.export(module.eval(), example, buf, opset_version=17, input_names=[input_name],
                          output_names=output_names, dynamic_axes=axes, do_constant_folding=True)
    data = buf.getvalue()
    onnx.checker.check_model(onnx.load_from_string(data))
    assert len(data) <= MAX_BYTES, f'{input_name} part: {len(data)} bytes > 8 MB'
    return data


def output_dims(data: bytes) -> dict:
    proto = onnx.load_from_string(data)
    return {o.name: [d.dim_value if d.dim_value else d.dim_param for d in o.type.tensor_type.shape.dim]
            for o in proto.graph.output}


def expected_dims() -> tuple[dict, dict]:
    sides = level_sizes(SIZE)
    det = {f'p{lv}': [1, FPN_CHANNELS, s, s] for lv, s in zip(LEVELS[:3], sides)}
    for lv, s in zip(LEVELS, sides):
        det[f'cls_p{lv}'] = [1, NUM_CLASSES, s, s]
        det[f'box_p{lv}'] = [1, 4, s, s]
        det[f'ctr_p{lv}'] = [1, 1, s, s]
    head = {'mask_logits': ['m', NUM_CLASSES, MASK_SIZE, MASK_SIZE], 'mask_iou': ['m', NUM_CLASSES]}
    return det, head


def export_parts(model: CenterMask) -> dict[str, bytes]:
    model.eval()
    det_want, head_want = expected_dims()
    det = to_onnx(DetectorExport(model), torch.zeros(1, 3, SIZE, SIZE), 'input', list(DetectorExport.OUTPUT_NAMES), False)
    assert output_dims(det) == det_want, (output_dims(det), det_want)
    head = to_onnx(MaskHeadExport(model), torch.zeros(2, FPN_CHANNELS, POOL_SIZE, POOL_SIZE), 'mask_features',
                   ['mask_logits', 'mask_iou'], True)
    assert output_dims(head) == head_want, (output_dims(head), head_want)
    return {'detector': det, 'mask': head}


def write_atomic(files: dict[str, bytes | str]):
    for path, data in files.items():
        with open(path + '.tmp', 'wb' if isinstance(data, bytes) else 'w') as f:
            f.write(data)
    for path in files:
        os.replace(path + '.tmp', path)


def export_all(model: CenterMask, out_dir: str, notes: str) -> list[str]:
    parts = export_parts(model)
    stem = os.path.join(out_dir, STEM)
    files: dict[str, bytes | str] = {f'{stem}.onnx': parts['detector'], f'{stem}-mask-head.onnx': parts['mask']}
    files[f'{stem}.json'] = json.dumps(add_digests(manifest(notes), files), indent=2) + '\n'
    write_atomic(files)
    return list(files)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--ckpt', default=os.path.join(HERE, 'checkpoints', 'latest.pt'))
    ap.add_argument('--random', action='store_true', help='untrained weights (seed 0)')
    ap.add_argument('--out', default=HERE)
    ap.add_argument('--notes', default=None)
    args = ap.parse_args()
    torch.set_num_threads(1)
    if args.random:
        torch.manual_seed(0)
        model, ck = CenterMask().eval(), {'notes': 'UNTRAINED (random weights): for wiring the pipeline only.'}
    else:
        model, ck = load_checkpoint(args.ckpt)
    notes = args.notes or ck.get('notes') or f'Trained {ck.get("step", "?")} steps on synthetic emoji-COCO.'
    for path in export_all(model, args.out, notes):
        print(f'{path}: {os.path.getsize(path)} bytes')


if __name__ == '__main__':
    main()
