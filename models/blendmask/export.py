#!/usr/bin/python3
"""Export a BlendMask / B2Inst checkpoint as ONNX parts + the manifest (opset 17, fp32;
AdelaiDet's "heads only" layout: blender, decoding and NMS stay outside the graph):

    <stem>.onnx               input [1,3,512,512] → bases [1,K',128,128] (stride 4; B2Inst's
                              boundary basis is channel K' − 1 = 4), then for P3..P7:
                              P{l}/logits [1,80,H,W], P{l}/bbox_reg [1,4,H,W] (ltrb, input px),
                              P{l}/centerness [1,1,H,W], P{l}/top_feats [1,K'·14·14,H,W]
    <stem>-scoring-head.onnx  (B2Inst) ONE packed input (the app's stage runner gives every
                              part a single tensor): scoring_features [N,2+K',56,56] =
                              channel 0 mask probabilities (sigmoid of the blended logits),
                              channel 1 their soft boundary clamp(Laplacian(p), 0) (3x3
                              [[-1,-1,-1],[-1,8,-1],[-1,-1,-1]], zero padding, not binarised),
                              channels 2.. the RoI'd bases (RoIAlign aligned, sampling 1,
                              scale 1/4, 56x56) — the head's own concatenation, in its order
                              → scores [N,2] = (S_IoU, S_boundary)
    <stem>.json               ModelManifest, family 'blendmask', `blendMask` block

    /usr/bin/python3 models/blendmask/export.py --variant b2inst --out /tmp/x \
        [--ckpt models/blendmask/checkpoints/latest-b2inst.pt] [--random] [--url-prefix /e2e-models/]

--url-prefix (default models/blendmask/) is what the manifest's `url` and `scoringHeadUrl`
start with, so parts exported to a scratch folder can be served from another URL.

The bundled names (models/blendmask/blendmask-512.*, b2inst-512.*) are written only when
--out is models/blendmask itself AND the weights come from a checkpoint (never --random).
Files go to a temporary path, are checked (onnx.checker, output names and shapes,
≤ 8 MB each, decimal; the attention conv stored in fp16, see FP16_STORED) and then moved into place.
"""
from __future__ import annotations

import argparse
import io
import json
import os
import sys

import numpy as np
import onnx
from onnx import numpy_helper
import torch
import torch.nn as nn

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, '..', 'common'))
from emoji_coco import load_categories  # noqa: E402
from integrity import add_digests, sha256_hex  # noqa: E402
from model import (ATTN_SIZE, BASIS_STRIDE, BLEND_SIZE, LEVELS, MEAN_RGB, NUM_BASES, NUM_CLASSES, STD_RGB,  # noqa: E402
                   STRIDES, BlendMask, DetectorExport, level_sizes, output_names)

SIZE = 512
# Every bundled ONNX file ≤ 8 MB (decimal: the stricter reading of the project's rule).
MAX_BYTES = 8_000_000
# The attention conv's weight (K'·196 × 64 × 3 × 3: 2.26 MB of B2Inst's 8.2 MB detector) is
# stored in float16 and cast to float32 inside the graph. ORT folds that Cast when it loads
# the model, so every path computes in fp32 with these weights rounded to fp16 (relative error
# ≤ 2⁻¹¹); the other weights stay fp32. Both variants are exported the same way.
FP16_STORED = ('model.top_layer.weight',)
STEMS = {'blendmask': f'blendmask-{SIZE}', 'b2inst': f'b2inst-{SIZE}'}
SCORE_MODES = ('sqrt', 'product', 'cls')
URL_PREFIX = 'models/blendmask/'
SCORING_INPUT = 'scoring_features'

DEFAULTS = {'confThreshold': 0.05, 'scoreThreshold': 0.3, 'topK': 500, 'nmsIou': 0.6,
            'nmsKind': 'greedy', 'maxDetections': 100}


class ScoringExport(nn.Module):
    """ONNX part 2 (B2Inst), one packed input: scoring_features [N, 2 + K', R, R] = cat(mask
    probabilities, clamp(Laplacian(p), 0), RoI'd bases) on channels — exactly the tensor
    `model.ScoringHead.forward` concatenates from its three arguments, in the same order — fed
    straight to the head's convs and FC branches → scores [N,2] = sigmoid(S_IoU, S_boundary).
    Same weights, same maths as `model.score` (training); only the concatenation moves out."""

    def __init__(self, model: BlendMask):
        super().__init__()
        self.head = model.scoring

    def forward(self, scoring_features):
        x = self.head.convs(scoring_features).flatten(1)
        return torch.sigmoid(torch.cat([self.head.iou(x), self.head.boundary(x)], 1))


def url_join(prefix: str, name: str) -> str:
    return prefix + name if not prefix or prefix.endswith('/') else f'{prefix}/{name}'


def load_checkpoint(path: str) -> tuple[BlendMask, dict]:
    ck = torch.load(path, map_location='cpu', weights_only=False)
    sd = ck['model']
    model = BlendMask(b2inst=any(k.startswith('scoring.') for k in sd))
    model.load_state_dict({k: v.float() if v.is_floating_point() else v for k, v in sd.items()})
    model.eval()
    return model, ck


def blend_block(model: BlendMask, score_mode: str) -> dict:
    return {
        'numBases': model.n_bases,                       # K' (the blender's K)
        'attnSize': ATTN_SIZE,                           # M
        'blendSize': BLEND_SIZE,                         # R
        'basisStride': BASIS_STRIDE,
        'spatialScale': 1.0 / BASIS_STRIDE,
        'samplingRatio': 1,
        'aligned': True,
        'strides': list(STRIDES),
        'preNmsTopN': 1000,
        'candidateThreshold': 0.05,
        'nmsIou': 0.6,
        'maxDetections': 100,
        'maskThreshold': 0.5,
        'boundaryBasisIndex': model.n_bases - 1 if model.b2inst else None,
        'scoreCombination': score_mode if model.b2inst else 'cls',
        'scoreCombinations': {'sqrt': 's_cls * sqrt(S_IoU * S_boundary)', 'product': 's_cls * S_IoU * S_boundary',
                              'cls': 's_cls'},
        'boundaryKernel': [[-1, -1, -1], [-1, 8, -1], [-1, -1, -1]],
    }


def manifest(model: BlendMask, stem: str, notes: str, score_mode: str, url_prefix: str = URL_PREFIX) -> dict:
    cats = load_categories()
    outputs = {'bases': 'bases'}
    for lv in LEVELS:
        outputs.update({f'logitsP{lv}': f'P{lv}/logits', f'bboxRegP{lv}': f'P{lv}/bbox_reg',
                        f'centernessP{lv}': f'P{lv}/centerness', f'topFeatsP{lv}': f'P{lv}/top_feats'})
    block = blend_block(model, score_mode)
    if model.b2inst:
        block.update({'scoringHeadUrl': url_join(url_prefix, f'{stem}-scoring-head.onnx'), 'scoringHeadBytes': 0,
                      'scoringHeadSha256': '',
                      'scoringHeadInput': SCORING_INPUT,
                      'scoringHeadOutput': 'scores'})
    return {
        'id': stem,
        'name': f'{"B2Inst" if model.b2inst else "BlendMask"} {SIZE} (emoji-COCO, VoVNetV2-lite FCOS, '
                f'{model.n_bases} bases)',
        'family': 'blendmask',
        'url': url_join(url_prefix, f'{stem}.onnx'),
        'bytes': 0,
        'sha256': '',
        'input': {'name': 'input', 'width': SIZE, 'height': SIZE, 'resize': 'stretch', 'channels': 'rgb',
                  'scale': 1 / 255, 'mean': list(MEAN_RGB), 'std': list(STD_RGB)},
        'outputs': outputs,
        'classes': [c['name'] for c in cats],
        'categoryIds': [c['id'] for c in cats],
        'defaults': dict(DEFAULTS),
        'notes': notes,
        'blendMask': block,
    }


def store_fp16(data: bytes, names: tuple[str, ...]) -> bytes:
    """The initializers `names` stored as float16, each cast back to float32 by a Cast node at the graph's start."""
    proto = onnx.load_from_string(data)
    graph = proto.graph
    found = 0
    for init in list(graph.initializer):
        if init.name not in names:
            continue
        half = numpy_helper.from_array(numpy_helper.to_array(init).astype(np.float16), init.name + '.fp16')
        graph.initializer.remove(init)
        graph.initializer.append(half)
        graph.node.insert(0, onnx.helper.make_node('Cast', [half.name], [init.name], to=onnx.TensorProto.FLOAT, name=init.name + '.cast'))
        found += 1
    assert found == len(names), f'fp16 storage: {found} of {names} found'
    onnx.checker.check_model(proto)
    return proto.SerializeToString()


def to_onnx(module, example: tuple, input_names: list[str], out_names: list[str], dynamic_first: bool,
            fp16: tuple[str, ...] = ()) -> bytes:
    buf = io.BytesIO()
    axes = {**{i: {0: 'n'} for i in input_names}, **{o: {0: 'n'} for o in out_names}} if dynamic_first else None
    with torch.no_grad():
        torch.onnx.export(module.eval(), example, buf, opset_version=17, input_names=input_names,
                          output_names=out_names, dynamic_axes=axes, do_constant_folding=True)
    data = buf.getvalue()
    onnx.checker.check_model(onnx.load_from_string(data))
    if fp16:
        data = store_fp16(data, fp16)
    assert len(data) <= MAX_BYTES, f'{input_names[0]} part: {len(data)} bytes > {MAX_BYTES} bytes'
    return data


def output_dims(data: bytes) -> dict:
    proto = onnx.load_from_string(data)
    return {o.name: [d.dim_value if d.dim_value else d.dim_param for d in o.type.tensor_type.shape.dim]
            for o in proto.graph.output}


def input_dims(data: bytes) -> dict:
    proto = onnx.load_from_string(data)
    inits = {i.name for i in proto.graph.initializer}
    return {i.name: [d.dim_value if d.dim_value else d.dim_param for d in i.type.tensor_type.shape.dim]
            for i in proto.graph.input if i.name not in inits}


def expected_dims(model: BlendMask, size: int = SIZE) -> dict:
    k = model.n_bases
    sides = level_sizes(size)
    want = {'bases': [1, k, sides[0] * 2, sides[0] * 2]}
    for lv, s in zip(LEVELS, sides):
        want.update({f'P{lv}/logits': [1, NUM_CLASSES, s, s], f'P{lv}/bbox_reg': [1, 4, s, s],
                     f'P{lv}/centerness': [1, 1, s, s], f'P{lv}/top_feats': [1, k * ATTN_SIZE * ATTN_SIZE, s, s]})
    return want


def export_parts(model: BlendMask, size: int = SIZE) -> dict[str, bytes]:
    """→ {'detector': bytes[, 'scoring': bytes]}; `size` other than 512 only for quick checks."""
    model.eval()
    names = output_names()
    det = to_onnx(DetectorExport(model), (torch.zeros(1, 3, size, size),), ['input'], names, False, FP16_STORED)
    got = output_dims(det)
    assert list(got) == names and got == expected_dims(model, size), (got, expected_dims(model, size))
    parts = {'detector': det}
    if model.b2inst:
        r, k = BLEND_SIZE, model.n_bases
        ex = (torch.cat([torch.rand(2, 2, r, r), torch.randn(2, k, r, r)], 1),)
        sc = to_onnx(ScoringExport(model), ex, [SCORING_INPUT], ['scores'], True)
        assert output_dims(sc) == {'scores': ['n', 2]}, output_dims(sc)
        assert input_dims(sc) == {SCORING_INPUT: ['n', 2 + k, r, r]}, input_dims(sc)
        parts['scoring'] = sc
    return parts


def write_atomic(files: dict):
    for path, data in files.items():
        with open(path + '.tmp', 'wb' if isinstance(data, bytes) else 'w') as f:
            f.write(data)
    for path in files:
        os.replace(path + '.tmp', path)


def export_all(model: BlendMask, out_dir: str, notes: str, score_mode: str = 'sqrt', url_prefix: str = URL_PREFIX,
               size: int = SIZE) -> list[str]:
    """Writes <stem>.onnx [, <stem>-scoring-head.onnx], <stem>.json (bytes and sha256 of every part
    filled in from the bytes written); `size` other than 512 only for quick checks."""
    stem_name = STEMS['b2inst' if model.b2inst else 'blendmask']
    parts = export_parts(model, size)
    stem = os.path.join(out_dir, stem_name)
    files: dict = {f'{stem}.onnx': parts['detector']}
    if 'scoring' in parts:
        files[f'{stem}-scoring-head.onnx'] = parts['scoring']
    man = add_digests(manifest(model, stem_name, notes, score_mode, url_prefix), files)
    if 'scoring' in parts:
        man['blendMask']['scoringHeadBytes'] = len(parts['scoring'])
        man['blendMask']['scoringHeadSha256'] = sha256_hex(parts['scoring'])
    files[f'{stem}.json'] = json.dumps(man, indent=2) + '\n'
    write_atomic(files)
    return list(files)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--variant', choices=sorted(STEMS), required=True)
    ap.add_argument('--ckpt', default=None, help='default: models/blendmask/checkpoints/latest-<variant>.pt')
    ap.add_argument('--random', action='store_true', help='untrained weights (seed 0), never to the bundled names')
    ap.add_argument('--out', required=True, help='folder (models/blendmask for the bundled files)')
    ap.add_argument('--score', choices=SCORE_MODES, default='sqrt', help="B2Inst's final score in the manifest")
    ap.add_argument('--notes', default=None)
    ap.add_argument('--url-prefix', default=URL_PREFIX,
                    help="what the manifest's url and scoringHeadUrl start with (default models/blendmask/)")
    args = ap.parse_args()
    torch.set_num_threads(1)
    bundled = os.path.realpath(args.out) == os.path.realpath(HERE)
    if args.random:
        if bundled:
            sys.exit('--random never writes the bundled names: pass another --out')
        torch.manual_seed(0)
        model, ck = BlendMask(args.variant == 'b2inst').eval(), {'notes': 'UNTRAINED (random weights): wiring only.'}
    else:
        model, ck = load_checkpoint(args.ckpt or os.path.join(HERE, 'checkpoints', f'latest-{args.variant}.pt'))
        if model.b2inst != (args.variant == 'b2inst'):
            sys.exit(f'the checkpoint is not a {args.variant} checkpoint')
    os.makedirs(args.out, exist_ok=True)
    notes = args.notes or ck.get('notes') or f'Trained {ck.get("step", "?")} steps on synthetic emoji-COCO.'
    for path in export_all(model, args.out, notes, args.score, args.url_prefix):
        print(f'{path}: {os.path.getsize(path)} bytes')


if __name__ == '__main__':
    main()
