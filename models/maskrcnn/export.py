#!/usr/bin/python3
"""Export a Mask R-CNN checkpoint as the three ONNX parts of the TwoStageConfig contract
(app/types.ts) + the manifests, opset 17:

    maskrcnn-512.onnx           input [1,3,512,512] → p2 [1,64,128,128], p3 [1,64,64,64],
                                p4 [1,64,32,32], p5 [1,64,16,16], objectness [1,65472],
                                rpn_deltas [1,65472,4]
    maskrcnn-512-box-head.onnx  box_features [R,64,7,7] → class_logits [R,81], box_deltas [R,324]
    maskrcnn-512-mask-head.onnx mask_features [M,64,14,14] → mask_logits [M,81,28,28]
    maskrcnn-512.json           ModelManifest, twoStage.pooler 'align'
    maskrcnn-512-roipool.json   same files, twoStage.pooler 'pool'

    /usr/bin/python3 models/maskrcnn/export.py [--ckpt models/maskrcnn/checkpoints/latest.pt]
        [--random] [--notes "..."] [--pool-ckpt ...]

`--random` exports untrained weights (seeded). Files go to a temporary path, are checked
(onnx.checker, shapes, ≤ 8 MB) and then moved into place atomically. With --pool-ckpt
(a RoIPool fine-tune, heads only), the roipool manifest points at its own head files
`maskrcnn-512-roipool-{box,mask}-head.onnx`.
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
sys.path.insert(0, os.path.join(HERE, '..', 'dataset'))
sys.path.insert(0, os.path.join(HERE, '..', 'common'))
from generate import load_categories  # noqa: E402
from integrity import add_digests  # noqa: E402
from model import (ANCHOR_RATIOS, ANCHOR_SIZES, BOX_POOL, CHANNELS, MASK_POOL, MASK_SIZE, MEAN_RGB,  # noqa: E402
                   NUM_ANCHORS, NUM_CLASSES, STD_RGB, STRIDES, BackboneExport, MaskRCNN, level_sizes)

SIZE = 512
MAX_BYTES = 8 * 1024 * 1024

# The contract's constants (issue 6); the app's kernels read them from the manifest.
TWO_STAGE = {
    'channels': CHANNELS,
    'strides': list(STRIDES),
    'anchorSizes': list(ANCHOR_SIZES),
    'anchorRatios': list(ANCHOR_RATIOS),
    'rpnPreNmsTopN': 1000,
    'rpnPostNmsTopN': 500,
    'rpnNmsIou': 0.7,
    'canonicalScale': 224,
    'canonicalLevel': 4,
    'minLevel': 2,
    'maxLevel': 5,
    'pooler': 'align',
    'samplingRatio': 2,
    'aligned': True,
    'boxWeights': [10, 10, 5, 5],
    'maskSize': MASK_SIZE,
    'boxPool': BOX_POOL,
    'maskPool': MASK_POOL,
}
# confThreshold: the box head's candidate test (torchvision's box_score_thresh); scoreThreshold:
# what the pane draws at first (the torchvision and Detectron2 demos draw scores ≥ 0.5)
DEFAULTS = {'confThreshold': 0.05, 'scoreThreshold': 0.5, 'topK': 200, 'nmsIou': 0.5,
            'nmsKind': 'greedy', 'maxDetections': 100}


def load_checkpoint(path: str) -> tuple[MaskRCNN, dict]:
    ck = torch.load(path, map_location='cpu', weights_only=False)
    model = MaskRCNN()
    model.load_state_dict({k: v.float() if v.is_floating_point() else v for k, v in ck['model'].items()})
    model.eval()
    return model, ck


def manifest(pooler: str, notes: str, head_prefix: str) -> dict:
    cats = load_categories()
    base = f'models/maskrcnn/maskrcnn-{SIZE}'
    ident = f'maskrcnn-{SIZE}' + ('-roipool' if pooler == 'pool' else '')
    name = f'Mask R-CNN {SIZE} (emoji-COCO, MobileNetV2-lite FPN, ' + ('RoIPool)' if pooler == 'pool' else 'RoIAlign)')
    return {
        'id': ident,
        'name': name,
        'family': 'maskrcnn',
        'url': f'{base}.onnx',
        'input': {'name': 'input', 'width': SIZE, 'height': SIZE, 'resize': 'stretch', 'channels': 'rgb',
                  'scale': 1 / 255, 'mean': list(MEAN_RGB), 'std': list(STD_RGB)},
        'outputs': {'p2': 'p2', 'p3': 'p3', 'p4': 'p4', 'p5': 'p5', 'objectness': 'objectness',
                    'rpnDeltas': 'rpn_deltas'},
        'classes': [c['name'] for c in cats],
        'categoryIds': [c['id'] for c in cats],
        'defaults': dict(DEFAULTS),
        'notes': notes,
        'twoStage': {'boxHeadUrl': f'models/maskrcnn/{head_prefix}-box-head.onnx',
                     'maskHeadUrl': f'models/maskrcnn/{head_prefix}-mask-head.onnx',
                     **TWO_STAGE, 'pooler': pooler},
    }


def to_onnx(module: torch.nn.Module, example: torch.Tensor, input_name: str, output_names: list[str],
            dynamic_first: bool) -> bytes:
    buf = io.BytesIO()
    axes = None
    if dynamic_first:
        axes = {input_name: {0: 'n'}, **{o: {0: 'n'} for o in output_names}}
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


def write_atomic(files: dict[str, bytes | str]):
    for path, data in files.items():
        with open(path + '.tmp', 'wb' if isinstance(data, bytes) else 'w') as f:
            f.write(data)
    for path in files:
        os.replace(path + '.tmp', path)


def export_parts(model: MaskRCNN) -> dict[str, bytes]:
    """The three ONNX parts as bytes, shapes checked against the contract."""
    model.eval()
    sides = level_sizes(SIZE)
    a_total = NUM_ANCHORS * sum(s * s for s in sides)
    backbone = to_onnx(BackboneExport(model), torch.zeros(1, 3, SIZE, SIZE), 'input',
                       ['p2', 'p3', 'p4', 'p5', 'objectness', 'rpn_deltas'], False)
    want = {f'p{i + 2}': [1, CHANNELS, s, s] for i, s in enumerate(sides[:4])}
    want.update(objectness=[1, a_total], rpn_deltas=[1, a_total, 4])
    assert output_dims(backbone) == want, (output_dims(backbone), want)
    box = to_onnx(model.box_head, torch.zeros(2, CHANNELS, BOX_POOL, BOX_POOL), 'box_features',
                  ['class_logits', 'box_deltas'], True)
    assert output_dims(box) == {'class_logits': ['n', NUM_CLASSES], 'box_deltas': ['n', 4 * NUM_CLASSES]}, output_dims(box)
    mask = to_onnx(model.mask_head, torch.zeros(2, CHANNELS, MASK_POOL, MASK_POOL), 'mask_features',
                   ['mask_logits'], True)
    assert output_dims(mask) == {'mask_logits': ['n', NUM_CLASSES, MASK_SIZE, MASK_SIZE]}, output_dims(mask)
    return {'backbone': backbone, 'box': box, 'mask': mask}


def export_all(model: MaskRCNN, out_dir: str, notes: str, pool_model: MaskRCNN | None = None,
               pool_notes: str | None = None) -> list[str]:
    """Write the bundled files; returns their paths. pool_model: RoIPool-trained heads."""
    parts = export_parts(model)
    stem = os.path.join(out_dir, f'maskrcnn-{SIZE}')
    files: dict[str, bytes | str] = {
        f'{stem}.onnx': parts['backbone'],
        f'{stem}-box-head.onnx': parts['box'],
        f'{stem}-mask-head.onnx': parts['mask'],
    }
    if pool_model is not None:
        pool_parts = export_parts(pool_model)
        files[f'{stem}-roipool-box-head.onnx'] = pool_parts['box']
        files[f'{stem}-roipool-mask-head.onnx'] = pool_parts['mask']
        pool_manifest = manifest('pool', pool_notes or notes, f'maskrcnn-{SIZE}-roipool')
    else:
        # The RoIAlign-trained heads fed RoIPool features: the paper's comparison at test time.
        pool_notes = pool_notes or (notes + ' RoIPool variant: the same RoIAlign-trained heads fed RoIPool features'
                                    ' (no RoIPool fine-tune yet).')
        pool_manifest = manifest('pool', pool_notes, f'maskrcnn-{SIZE}')
    # Each manifest carries the digests of the files it names (the app checks them on load).
    files[f'{stem}.json'] = json.dumps(add_digests(manifest('align', notes, f'maskrcnn-{SIZE}'), files), indent=2) + '\n'
    files[f'{stem}-roipool.json'] = json.dumps(add_digests(pool_manifest, files), indent=2) + '\n'
    write_atomic(files)
    return list(files)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--ckpt', default=os.path.join(HERE, 'checkpoints', 'latest.pt'))
    ap.add_argument('--pool-ckpt', default=None, help='RoIPool fine-tune (heads) for the roipool manifest')
    ap.add_argument('--random', action='store_true', help='untrained weights (seed 0)')
    ap.add_argument('--out', default=HERE)
    ap.add_argument('--notes', default=None)
    ap.add_argument('--pool-notes', default=None)
    args = ap.parse_args()
    torch.set_num_threads(1)
    if args.random:
        torch.manual_seed(0)
        model, ck = MaskRCNN().eval(), {'notes': 'UNTRAINED (random weights): for wiring the pipeline only.'}
    else:
        model, ck = load_checkpoint(args.ckpt)
    pool_model, pool_ck = (load_checkpoint(args.pool_ckpt) if args.pool_ckpt else (None, {}))
    notes = args.notes or ck.get('notes') or f'Trained {ck.get("step", "?")} steps on synthetic emoji-COCO.'
    pool_notes = args.pool_notes or pool_ck.get('notes') or ck.get('pool_notes')
    for path in export_all(model, args.out, notes, pool_model, pool_notes):
        print(f'{path}: {os.path.getsize(path)} bytes')


if __name__ == '__main__':
    main()
