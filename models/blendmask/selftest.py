#!/usr/bin/python3
"""Self-checks of the BlendMask / B2Inst recipe against hand-computed values (no dataset
needed): the Laplacian boundary target on a square, the boundary Dice, the blender on one
instance with K = 2 and a 4x4 basis, the holistic boundary map, the scoring targets, the
final-score combinations, the FCOS targets reused from models/common/fcos.py, output
shapes, gradients reaching bases / attentions / boundary basis / scoring head, and the ONNX
parts (checker, names, shapes, ≤ 8 MB; the scoring head's one packed input
`scoring_features` [N, 2 + K', 56, 56] = (p, clamp(Laplacian(p), 0), RoI'd bases) giving the
training path's scores) and the written manifest (url prefix, bytes / sha256 of both parts).

    /usr/bin/python3 models/blendmask/selftest.py
"""
import math
import os
import sys

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from model import (ATTN_SIZE, BLEND_SIZE, NUM_CLASSES, BlendMask, blend, boundary_target, dice_score,  # noqa: E402
                   final_score, laplacian, level_sizes, roi_bases)
from loss import blendmask_loss, dice_loss, holistic_boundary, mask_targets, scoring_targets  # noqa: E402
import fcos  # noqa: E402  (models/common, on the path through model.py)


def check(cond, what):
    if not cond:
        raise AssertionError(what)
    print('ok ', what)


def main():
    torch.set_num_threads(1)
    torch.manual_seed(0)

    # ---- Laplacian boundary of a 4x4 square of ones in a 6x6 mask (zero padding):
    # inside corner 8 − 3 = 5, inside edge 8 − 5 = 3, inside interior 8 − 8 = 0, outside < 0 → 0
    m = torch.zeros(1, 1, 6, 6)
    m[0, 0, 1:5, 1:5] = 1
    lap = laplacian(m)[0, 0]
    check(lap[1, 1] == 5 and lap[1, 2] == 3 and lap[2, 1] == 3 and lap[2, 2] == 0 and lap[0, 0] == 0 and lap[0, 2] == 0,
          'Laplacian on a square: corner 5, edge 3, interior 0, outside clamped to 0')
    ones = laplacian(torch.ones(1, 1, 3, 3))[0, 0]
    check(torch.equal(ones, torch.tensor([[5., 3., 5.], [3., 0., 3.], [5., 3., 5.]])),
          'Laplacian pads with zeros: a 3x3 mask of ones → corners 5, edges 3, centre 0 (soft, not binarised)')
    b = boundary_target(m)[0, 0]
    ring = torch.zeros(6, 6)
    ring[1:5, 1:5] = 1
    ring[2:4, 2:4] = 0
    check(torch.equal(b, ring) and int(b.sum()) == 12, 'boundary target = the square\'s 12-pixel ring (> 0.1)')

    # ---- Dice (2ΣBpBg + ε)/(ΣBp² + ΣBg² + ε), ε = 1: Bp = [1,1,0,0], Bg = [1,0,1,0] → (2 + 1)/(2 + 2 + 1)
    d = dice_score(torch.tensor([[1., 1., 0., 0.]]), torch.tensor([[1., 0., 1., 0.]]))
    check(math.isclose(float(d), 3 / 5, rel_tol=1e-6), 'boundary Dice of two 2-pixel maps sharing 1 pixel = 3/5')
    d = dice_score(torch.tensor([[0.5, 1.0]]), torch.tensor([[1.0, 1.0]]))
    check(math.isclose(float(d), (2 * 1.5 + 1) / (1.25 + 2 + 1), rel_tol=1e-6), 'Dice with soft values squares them')
    dl = dice_loss(torch.tensor([[1., 1., 0., 0.]]), torch.tensor([[1., 0., 1., 0.]]))
    check(math.isclose(float(dl), 1 - 3 / 5, rel_tol=1e-6), 'Dice loss 1 − (2Σpt + 1)/(Σp + Σt + 1)')

    # ---- blender, 1 instance, K = 2, 4x4 bases, box [0,0,4,4], scale 1, R = 4 (RoIAlign samples the
    # pixel centres exactly: values = the bases). Attention M = 2: basis 0 all 0, basis 1 columns [0, 4 ln 2];
    # bilinear 2 → 4 (align_corners=False) gives columns [0, ln 2, 3 ln 2, 4 ln 2] → softmax weight of
    # basis 1: 1/2, 2/3, 8/9, 16/17. Basis 0 = 1 everywhere, basis 1 = 4·row + col.
    bases = torch.stack([torch.ones(4, 4), torch.arange(16.).reshape(4, 4)])[None]
    attn = torch.zeros(1, 2, 2, 2)
    attn[0, 1, :, 1] = 4 * math.log(2)
    pooled = roi_bases(bases, torch.tensor([[0., 0., 0., 4., 4.]]), size=4, scale=1.0)
    check(torch.allclose(pooled[0], bases[0], atol=1e-6), 'RoIAlign (aligned, sampling 1) of a whole 4x4 basis = the basis')
    out = blend(pooled, attn)[0]
    w1 = [1 / 2, 2 / 3, 8 / 9, 16 / 17]
    hand = torch.tensor([[(1 - w1[c]) * 1 + w1[c] * (4 * r + c) for c in range(4)] for r in range(4)])
    check(torch.allclose(out, hand, atol=1e-5), 'blender: row 0 = 1/2, 1, 17/9, 49/17 (hand values), all rows')
    check(math.isclose(float(out[0, 3]), 49 / 17, rel_tol=1e-5) and math.isclose(float(out[2, 2]), 1 / 9 + 8 / 9 * 10,
                                                                                   rel_tol=1e-5),
          'blender: (0,3) = 1/17 + 16/17·3, (2,2) = 1/9 + 8/9·10')
    # the real scale: bases at stride 4, box [8, 8, 24, 24] covers basis cells 2..5
    big = torch.arange(64.).reshape(1, 1, 8, 8)
    p4 = roi_bases(big, torch.tensor([[0., 8., 8., 24., 24.]]), size=4)
    check(torch.allclose(p4[0, 0], big[0, 0, 2:6, 2:6]), 'RoIAlign scale 1/4: box [8,8,24,24] → basis cells 2..5')

    # ---- holistic boundary map: a 16x16 square in a 32x32 image at basis side 8 → 4x4 square, 12-pixel ring
    gm = torch.zeros(2, 32, 32, dtype=torch.uint8)
    gm[0, 8:24, 8:24] = 1
    hb = holistic_boundary(gm, 8)
    check(hb.shape == (1, 8, 8) and int(hb.sum()) == 12 and hb[0, 2, 2] == 1 and hb[0, 3, 3] == 0,
          'holistic boundary at stride 4: the ring of the resampled square (empty mask adds nothing)')

    # ---- scoring targets: prediction = left half of a 4x4 square target
    tgt = torch.zeros(1, 6, 6)
    tgt[0, 1:5, 1:5] = 1
    logit = torch.full((1, 6, 6), -5.0)
    logit[0, 1:5, 1:3] = 5.0
    iou_t, bd_t = scoring_targets(logit, tgt)
    # pred 4x2 block: every pixel is boundary (8 px); GT ring 12 px; shared: column 1 rows 1..4 + (1,2),(4,2) = 6
    check(math.isclose(float(iou_t), 8 / 16) and math.isclose(float(bd_t), (2 * 6 + 1) / (8 + 12 + 1), rel_tol=1e-6),
          'scoring targets: IoU 8/16, boundary Dice (2·6 + 1)/(8 + 12 + 1)')
    s = final_score(torch.tensor([0.8]), torch.tensor([0.5]), torch.tensor([0.5]), 'sqrt')
    check(math.isclose(float(s), 0.4, rel_tol=1e-6)
          and math.isclose(float(final_score(torch.tensor([0.8]), torch.tensor([0.5]), torch.tensor([0.5]), 'product')), 0.2,
                           rel_tol=1e-6)
          and math.isclose(float(final_score(torch.tensor([0.8]), torch.tensor([0.5]), torch.tensor([0.5]), 'cls')), 0.8,
                           rel_tol=1e-6),
          'final score: sqrt 0.8·√0.25 = 0.4, product 0.2, cls 0.8')

    # ---- FCOS targets are CenterMask's (one implementation, models/common/fcos.py)
    cm_src = open(os.path.join(HERE, '..', 'centermask', 'loss.py')).read()
    import loss as bm_loss
    check('from fcos import' in cm_src and 'def fcos_targets' not in cm_src and 'def fcos_losses' not in cm_src
          and bm_loss.fcos_losses is fcos.fcos_losses, 'CenterMask and BlendMask share fcos_targets / fcos_losses (no copy)')
    pts, strides, ranges = fcos.all_locations(level_sizes(128))
    cls, reg, matched = fcos.fcos_targets(pts, strides, ranges, torch.tensor([[40., 40., 80., 80.], [30., 30., 90., 90.]]),
                                          torch.tensor([5, 2]))
    pos = torch.where(cls >= 0)[0]
    check(pos.numel() == 9 and set(matched[pos].tolist()) == {0} and set(cls[pos].tolist()) == {4},
          'FCOS targets: 9 positives on P3 for the smaller box, class label − 1 (as CenterMask\'s selftest)')

    # ---- shapes
    x = torch.randn(2, 3, 128, 128)
    for b2 in (False, True):
        model = BlendMask(b2).eval()
        k = 5 if b2 else 4
        with torch.no_grad():
            bases, outs = model(x)
        check(tuple(bases.shape) == (2, k, 32, 32) and [tuple(o[3].shape) for o in outs]
              == [(2, k * ATTN_SIZE ** 2, s, s) for s in level_sizes(128)]
              and [tuple(o[0].shape) for o in outs] == [(2, NUM_CLASSES, s, s) for s in level_sizes(128)],
              f'{"B2Inst" if b2 else "BlendMask"}: bases [B,{k},S/4,S/4], top_feats [B,{k}·14·14,H,W], logits [B,80,H,W]')
        # eval BN as explicit scale/shift = BatchNorm's own eval
        layer = model.head.box_tower[0]
        f = torch.randn(1, 64, 8, 8)
        with torch.no_grad():
            layer.bn[2].running_mean.uniform_(-1, 1)
            layer.bn[2].running_var.uniform_(0.5, 2)
            ref = torch.relu(layer.bn[2](layer.conv(f)))
            got = layer(f, 2)
        check(torch.allclose(ref, got, atol=1e-5), 'explicit eval BatchNorm (export) = nn.BatchNorm2d eval')

    # ---- loss on a tiny batch: finite; gradients reach the bases, the attentions, the boundary basis, the scoring head
    model = BlendMask(True).train()
    gb = [torch.tensor([[10., 12., 60., 70.], [64., 64., 120., 100.]]), torch.zeros(0, 4)]
    gl = [torch.tensor([3, 17]), torch.zeros(0, dtype=torch.long)]
    gmk = [torch.zeros(2, 128, 128, dtype=torch.uint8), torch.zeros(0, 128, 128, dtype=torch.uint8)]
    gmk[0][0, 20:60, 15:50] = 1
    gmk[0][1, 70:95, 70:115] = 1
    losses, stats = blendmask_loss(model, x, gb, gl, gmk)
    check(set(losses) == {'cls', 'box', 'ctr', 'mask', 'boundary', 'score'} and all(torch.isfinite(v) for v in losses.values()),
          'B2Inst losses cls, box, ctr, mask, boundary, score finite')
    check(stats['mask_rois'] > 0 and stats['boundary_px'] > 0, 'mask RoIs from FCOS positives; boundary map not empty')
    grads = {}
    for name in ('mask', 'boundary', 'score'):
        model.zero_grad(set_to_none=True)
        torch.manual_seed(1)                       # the same sampled RoIs each time
        ls, _ = blendmask_loss(model, x, gb, gl, gmk)
        ls[name].backward()
        grads[name] = {n: None if g is None else g.clone() for n, g in (
            ('bottom_out', model.bottom.out.weight.grad), ('top', model.top_layer.weight.grad),
            ('scoring', model.scoring.iou[-1].weight.grad))}
    g = grads['mask']
    check(g['bottom_out'] is not None and float(g['bottom_out'][:4].abs().sum()) > 0 and float(g['top'].abs().sum()) > 0,
          'mask loss → bases (bottom 1x1, first K channels) and attentions (top layer)')
    g = grads['boundary']
    check(g['bottom_out'] is not None and float(g['bottom_out'][4].abs().sum()) > 0
          and float(g['bottom_out'][:4].abs().sum()) == 0, 'boundary loss → the boundary basis channel only (channel 4)')
    g = grads['score']
    check(g['scoring'] is not None and float(g['scoring'].abs().sum()) > 0
          and (g['top'] is None or float(g['top'].abs().sum()) == 0), 'score loss → scoring head, not the blender (detached)')
    gm2 = mask_targets(gmk[0], torch.tensor([[0., 15., 20., 50., 60.]]))
    check(gm2.shape == (1, BLEND_SIZE, BLEND_SIZE) and float(gm2.mean()) == 1.0, 'mask target: the GT mask in its box = ones')

    # ---- --detector-init: CenterMask's backbone + FPN + FCOS head load into BlendMask by name (shared fcos.py)
    import tempfile
    import train
    import importlib.util
    spec = importlib.util.spec_from_file_location('centermask_model', os.path.join(HERE, '..', 'centermask', 'model.py'))
    cm_mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(cm_mod)
    cm = cm_mod.CenterMask()
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, 'cm.pt')
        torch.save({'model': {k: v.half() if v.is_floating_point() else v for k, v in cm.state_dict().items()}}, path)
        bm = BlendMask(True)
        train.load_detector(bm, path)
    same = all(torch.equal(getattr(bm, p).state_dict()[k], v.half().float() if v.is_floating_point() else v)
               for p in train.DETECTOR_PARTS for k, v in getattr(cm, p).state_dict().items())
    check(same, '--detector-init: backbone, FPN and FCOS head copied from a CenterMask checkpoint, every tensor')

    # ---- ONNX parts: checker, names, shapes (asserted in export_parts), ≤ 8 MB. Weights set the size, so a
    # 128 input gives the same bytes as 512 (±graph constants), faster.
    import export
    import hashlib
    import json
    import onnx
    sizes = {}
    for b2 in (False, True):
        model = BlendMask(b2).eval()
        name = 'b2inst' if b2 else 'blendmask'
        with tempfile.TemporaryDirectory() as tmp:
            written = export.export_all(model, tmp, 'selftest', 'sqrt', url_prefix='/e2e-models/', size=128)
            stem = os.path.join(tmp, export.STEMS[name])
            parts = {'detector': open(f'{stem}.onnx', 'rb').read()}
            if b2:
                parts['scoring'] = open(f'{stem}-scoring-head.onnx', 'rb').read()
            man = json.load(open(f'{stem}.json'))
        sizes.update({f'{name}-{k}': len(v) for k, v in parts.items()})
        check(sorted(os.path.basename(w) for w in written) == sorted(
              [f'{name}-512.onnx', f'{name}-512.json'] + ([f'{name}-512-scoring-head.onnx'] if b2 else []))
              and man['url'] == f'/e2e-models/{name}-512.onnx' and man['bytes'] == len(parts['detector'])
              and man['sha256'] == hashlib.sha256(parts['detector']).hexdigest(),
              f'{name} manifest: url under --url-prefix, bytes and sha256 of the written detector part')
        if not b2:
            check('scoringHeadUrl' not in man['blendMask'] and man['blendMask']['boundaryBasisIndex'] is None,
                  'BlendMask manifest: no scoring head, no boundary basis')
            continue
        bm = man['blendMask']
        check(bm['numBases'] == 5 and bm['boundaryBasisIndex'] == 4 and bm['scoreCombination'] == 'sqrt'
              and man['outputs']['topFeatsP3'] == 'P3/top_feats',
              'manifest blendMask block: K\' 5, boundary basis 4, score sqrt, AdelaiDet output names')
        check({k for k in bm if k.startswith('scoringHead')} == {'scoringHeadUrl', 'scoringHeadBytes', 'scoringHeadSha256',
                                                                  'scoringHeadInput', 'scoringHeadOutput'}
              and bm['scoringHeadInput'] == 'scoring_features' and bm['scoringHeadOutput'] == 'scores'
              and bm['scoringHeadUrl'] == '/e2e-models/b2inst-512-scoring-head.onnx'
              and bm['scoringHeadBytes'] == len(parts['scoring'])
              and bm['scoringHeadSha256'] == hashlib.sha256(parts['scoring']).hexdigest(),
              'manifest scoring head: scoringHeadInput "scoring_features", output "scores", url under --url-prefix, '
              'bytes and sha256 of the written part')
        check(export.input_dims(parts['scoring']) == {'scoring_features': ['n', 7, BLEND_SIZE, BLEND_SIZE]}
              and export.output_dims(parts['scoring']) == {'scores': ['n', 2]}
              and len(onnx.load_from_string(parts['scoring']).graph.input) == 1,
              'scoring head part: ONE input scoring_features [n, 2 + 5, 56, 56] → scores [n, 2]')
        # the packed wrapper = the training path (model.score: sigmoid, zero-padded soft Laplacian, RoI'd bases)
        pooled = torch.randn(3, 5, BLEND_SIZE, BLEND_SIZE)
        logits = torch.randn(3, BLEND_SIZE, BLEND_SIZE) * 3
        p = torch.sigmoid(logits)[:, None]
        with torch.no_grad():
            packed = export.ScoringExport(model)(torch.cat([p, laplacian(p), pooled], 1))
            ref = torch.sigmoid(model.score(logits, pooled))
            swapped = export.ScoringExport(model)(torch.cat([laplacian(p), p, pooled], 1))
        check(torch.allclose(packed, ref, atol=1e-6) and not torch.allclose(swapped, ref, atol=1e-4),
              'ScoringExport(cat(p, clamp(Laplacian(p), 0), roi_bases)) = sigmoid(model.score(logits, roi_bases)); '
              'order matters')
    check(len(sizes) == 3 and all(v <= export.MAX_BYTES for v in sizes.values()),
          'ONNX parts ≤ 8 MB (%s)' % ', '.join(f'{k} {v / 1e6:.2f} MB' for k, v in sizes.items()))
    print('ok  all BlendMask / B2Inst self-checks passed')


if __name__ == '__main__':
    main()
