#!/usr/bin/python3
"""Self-checks of the CenterMask recipe against hand-computed values (no dataset needed, a few
seconds): level sides and locations, FCOS target assignment on a hand-made case, centerness
and GIoU, the Equation 2 RoI level, the decode of the interface's outputs, the paste, the
loss on a tiny batch, and the ONNX export (checker, output names and shapes = the torch
module's; onnxruntime for Python is not installed here, the app's tests run the files).

    /usr/bin/python3 models/centermask/selftest.py
"""
import math
import os
import sys
import tempfile

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from model import (FPN_CHANNELS, MASK_SIZE, NUM_CLASSES, POOL_SIZE, STRIDES, CenterMask, DetectorExport,  # noqa: E402
                   MaskHeadExport, level_sizes, locations)
from loss import all_locations, centermask_loss, centerness_target, fcos_targets, giou_loss, roi_levels  # noqa: E402
from evaluate import decode, paste_mask  # noqa: E402


def check(cond, what):
    if not cond:
        raise AssertionError(what)
    print('ok ', what)


def main():
    torch.set_num_threads(1)
    torch.manual_seed(0)
    check(level_sizes(512) == [64, 32, 16, 8, 4], 'P3..P7 sides at 512')
    check(level_sizes(384) == [48, 24, 12, 6, 3], 'P3..P7 sides at 384')
    model = CenterMask().eval()
    with torch.no_grad():
        feats, outs = model.features(torch.zeros(1, 3, 128, 128))
    check([f.shape[-1] for f in feats] == level_sizes(128) == [16, 8, 4, 2, 1], 'model level sides at 128 = level_sizes')
    check([tuple(o[0].shape) for o in outs] == [(1, NUM_CLASSES, s, s) for s in level_sizes(128)]
          and all(o[1].shape[1] == 4 and o[2].shape[1] == 1 for o in outs), 'cls [1,K,H,W], box [1,4,H,W], ctr [1,1,H,W]')
    check(bool(all((o[1] >= 0).all() for o in outs)), 'box distances ≥ 0 (ReLU · stride)')
    p5 = locations(16, 32)
    check(p5[0].tolist() == [16, 16] and p5[1 * 16 + 2].tolist() == [80, 48], 'locations (x·s + s//2, y·s + s//2), row-major')

    # ---- FCOS targets on a 128 input: box A [40,40,80,80] (label 5) inside box B [30,30,90,90] (label 2)
    pts, strides, ranges = all_locations(level_sizes(128))
    check(pts.shape[0] == 16 * 16 + 8 * 8 + 4 * 4 + 2 * 2 + 1, 'all locations (P3..P7 at 128)')
    boxes = torch.tensor([[40., 40., 80., 80.], [30., 30., 90., 90.]])
    cls, reg, matched = fcos_targets(pts, strides, ranges, boxes, torch.tensor([5, 2]))
    pos = torch.where(cls >= 0)[0]
    # centre region of both: 60 ± 12 (1.5 · stride 8) → P3 locations x, y ∈ {52, 60, 68}; both boxes'
    # largest distance ≤ 64 there (P3 range); the smaller box (A, area 1600 < 3600) wins all 9.
    check(pos.numel() == 9 and bool((pos < 256).all()), '9 positives, all on P3 (centre sampling radius 1.5)')
    check(set(cls[pos].tolist()) == {4} and set(matched[pos].tolist()) == {0}, 'overlap → the smaller box, class label − 1')
    centre = int(torch.where((pts[:, 0] == 60) & (pts[:, 1] == 60) & (strides == 8))[0])
    check(reg[centre].tolist() == [20, 20, 20, 20], 'ltrb target at (60, 60) = 20, 20, 20, 20')
    corner = int(torch.where((pts[:, 0] == 52) & (pts[:, 1] == 52) & (strides == 8))[0])
    check(math.isclose(float(centerness_target(reg[corner:corner + 1])), 12 / 28, rel_tol=1e-5),
          'centerness at (52, 52) = √(12/28 · 12/28)')
    # a large box [0,0,128,128]: largest distance 68..76 near its centre → P4 (64..128), not P3
    cls2, _, _ = fcos_targets(pts, strides, ranges, torch.tensor([[0., 0., 128., 128.]]), torch.tensor([1]))
    pos2 = torch.where(cls2 >= 0)[0]
    check(pos2.numel() == 4 and bool(((pos2 >= 256) & (pos2 < 320)).all()), 'large box → 4 positives on P4 (scale range)')
    t = torch.tensor([[2., 2., 2., 2.], [1., 2., 3., 4.]])
    check(torch.allclose(giou_loss(t, t), torch.zeros(2), atol=1e-6), 'GIoU loss 0 for equal boxes')
    check(math.isclose(float(giou_loss(torch.tensor([[1., 1., 1., 1.]]), t[:1])), 1 - 5 / 17, rel_tol=1e-5),
          'GIoU loss of a box inside another (IoU (4+1)/(16+1))')

    # ---- Equation 2: k = ceil(5 − log2(A_input / A_box)) in [3, 5]
    area = 512.0 * 512.0
    lv = roi_levels(torch.tensor([[0., 0., 512., 256.], [0., 0., 256., 256.], [0., 0., 512., 300.],
                                  [0., 0., 512., 512.], [0., 0., 10., 10.], [0., 0., 300., 256.]]), area).tolist()
    check(lv == [4, 3, 5, 5, 3, 4], 'Eq. 2 level: half the image → P4, a quarter → P3, more than half → P5, tiny → P3')

    # ---- decode of hand-made outputs (sizes of a 128 input): one location of P4 fires
    sides = level_sizes(128)
    cls_l = [torch.full((NUM_CLASSES, s, s), -10.0) for s in sides]
    box_l = [torch.full((4, s, s), 5.0) for s in sides]
    ctr_l = [torch.zeros(1, s, s) for s in sides]
    cls_l[1][7, 2, 3] = 0.0                                  # p = 0.5, class 7, row 2 col 3 of P4 → (56, 40)
    box_l[1][:, 2, 3] = torch.tensor([6., 4., 10., 20.])
    ctr_l[1][0, 2, 3] = math.log(0.8 / 0.2)                  # ctr 0.8
    b, s, c = decode(cls_l, box_l, ctr_l, 128)
    check(b.tolist() == [[50, 36, 66, 60]] and c.tolist() == [7] and math.isclose(float(s[0]), math.sqrt(0.4), rel_tol=1e-5),
          'decode: box (lx − l, ly − t, lx + r, ly + b), score √(cls·ctr), candidates cls > 0.05')

    # ---- paste (detectron2): ones in box [10, 10, 38, 38] → pixels 10..37 ≥ 0.5
    m = paste_mask(torch.ones(MASK_SIZE, MASK_SIZE), torch.tensor([10., 10., 38., 38.]), 50, 50) >= 0.5
    check(int(m.sum()) == 28 * 28 and bool(m[10:38, 10:38].all()), 'paste: a 28x28 box of ones covers exactly its pixels')

    # ---- the loss on a tiny batch: finite, backward reaches every head
    model.train()
    x = torch.randn(2, 3, 128, 128)
    gb = [torch.tensor([[10., 12., 60., 70.], [64., 64., 120., 100.]]), torch.zeros(0, 4)]
    gl = [torch.tensor([3, 17]), torch.zeros(0, dtype=torch.long)]
    gm = [torch.zeros(2, 128, 128, dtype=torch.uint8), torch.zeros(0, 128, 128, dtype=torch.uint8)]
    gm[0][0, 20:60, 15:50] = 1
    gm[0][1, 70:95, 70:115] = 1
    losses, stats = centermask_loss(model, x, gb, gl, gm)
    check(set(losses) == {'cls', 'ctr', 'box', 'mask', 'maskiou'} and all(torch.isfinite(v) for v in losses.values()),
          'losses cls, ctr, box, mask, maskiou finite')
    sum(losses.values()).backward()
    check(model.mask_head.maskiou.iou.weight.grad is not None and model.head.scales.grad is not None
          and model.backbone.stem[0][0].weight.grad is not None, 'gradients reach backbone, FCOS scales and MaskIoU head')
    check(stats['mask_rois'] == 2 and stats['pos'] > 0, 'mask RoIs = the GT boxes (jittered), FCOS positives found')

    # ---- ONNX export: checker, names and shapes (export.py asserts them), torch shapes agree
    import export
    model.eval()
    with tempfile.TemporaryDirectory() as tmp:
        paths = export.export_all(model, tmp, 'selftest')
        sizes = {os.path.basename(p): os.path.getsize(p) for p in paths}
        import json
        man = json.load(open(os.path.join(tmp, 'centermask-lite-512.json')))
    check(all(v <= export.MAX_BYTES for k, v in sizes.items() if k.endswith('.onnx')),
          'ONNX parts ≤ 8 MB (%s)' % ', '.join(f'{k} {v / 1e6:.2f} MB' for k, v in sizes.items() if k.endswith('.onnx')))
    check(man['family'] == 'centermask' and man['bytes'] == sizes['centermask-lite-512.onnx']
          and man['centerMask']['maskHeadBytes'] == sizes['centermask-lite-512-mask-head.onnx']
          and len(man['centerMask']['maskHeadSha256']) == 64 and len(man['sha256']) == 64
          and man['centerMask']['strides'] == list(STRIDES) and man['centerMask']['roiLevels'] == 'ratio',
          'manifest: family, bytes and sha256 of both parts, centerMask block')
    det_want, head_want = export.expected_dims()
    with torch.no_grad():
        outs = DetectorExport(model)(torch.zeros(1, 3, 512, 512))
        ml, mi = MaskHeadExport(model)(torch.zeros(3, FPN_CHANNELS, POOL_SIZE, POOL_SIZE))
    check([list(o.shape) for o in outs] == [det_want[n] for n in DetectorExport.OUTPUT_NAMES],
          'torch detector outputs = the exported names/shapes (p3..p5, cls/box/ctr_p3..7)')
    check(list(ml.shape) == [3, NUM_CLASSES, MASK_SIZE, MASK_SIZE] and list(mi.shape) == [3, NUM_CLASSES],
          'mask head: mask_logits [M,K,28,28], mask_iou [M,K]')
    print('ok  all CenterMask self-checks passed')


if __name__ == '__main__':
    main()
