#!/usr/bin/python3
"""Self-checks of the YOLO-seg recipe against hand-computed values.

    /usr/bin/python3 models/yoloseg/selftest.py
"""
import math
import os
import sys

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from model import YoloSeg, YoloSegExport, dfl_expectation, make_anchors  # noqa: E402
from loss import bbox_iou, dfl_loss, task_aligned_assign, yoloseg_loss  # noqa: E402
from data import letterbox, letterbox_geometry  # noqa: E402


def check(cond, what):
    if not cond:
        raise AssertionError(what)
    print('ok ', what)


def main():
    torch.set_num_threads(1)
    torch.manual_seed(0)
    # letterbox (MODELS.md §2): 640x480 into 416 → gain 0.65, 416x312, pad top 52 / bottom 52
    r, w, h, left, top = letterbox_geometry(480, 640, 416)
    check((round(r, 4), w, h, left, top) == (0.65, 416, 312, 0, 52), 'letterbox 640x480 → 416')
    # odd padding: 300x200 (w x h) into 64 → 64x43, dh = 10.5: top round(10.4) = 10, bottom 11
    r, w, h, left, top = letterbox_geometry(200, 300, 64)
    check((w, h, left, top) == (64, 43, 0, 10), 'letterbox odd pad split (top 10, bottom 11)')
    img, _ = letterbox(np.zeros((200, 300, 3), np.uint8), 64)
    check(img[9, 0, 0] == 114 and img[10, 0, 0] == 0 and img[52, 0, 0] == 0 and img[53, 0, 0] == 114,
          'letterbox pad rows are 114, image rows 10..52')

    # anchors: 416 → 52² + 26² + 13² = 3549, first centre (4, 4) px, last P5 centre (400, 400) px
    points, strides = make_anchors(416)
    check(points.shape == (3549, 2), 'anchor count at 416')
    c = points * strides[:, None]
    check(c[0].tolist() == [4.0, 4.0] and c[-1].tolist() == [400.0, 400.0] and c[52].tolist() == [4.0, 12.0],
          'anchor centres row-major, P3 first, P5 last')

    # IoU / CIoU by hand: [0,0,2,2] vs [1,0,3,2]: inter 2, union 6 → 1/3;
    # CIoU: same aspect (v = 0), centre distance² 1, enclosing diagonal² 3² + 2² = 13 → 1/3 − 1/13
    a, b = torch.tensor([0., 0, 2, 2]), torch.tensor([1., 0, 3, 2])
    check(abs(bbox_iou(a, b).item() - 1 / 3) < 1e-6, 'IoU by hand')
    check(abs(bbox_iou(a, b, ciou=True).item() - (1 / 3 - 1 / 13)) < 1e-6, 'CIoU by hand')

    # DFL: target 2.3 → 0.7·(−log p2) + 0.3·(−log p3); uniform logits over 16 bins → log 16
    logits = torch.zeros(1, 4, 16)
    check(abs(dfl_loss(logits, torch.full((1, 4), 2.3), 16).item() - math.log(16)) < 1e-5, 'DFL of uniform bins = log 16')
    logits = torch.randn(1, 4, 16)
    lp = logits.log_softmax(-1)
    want = -(0.7 * lp[0, :, 2] + 0.3 * lp[0, :, 3]).mean().item()
    check(abs(dfl_loss(logits, torch.full((1, 4), 2.3), 16).item() - want) < 1e-5, 'DFL interpolates bins 2 and 3')
    # DFL expectation: all mass on bin 5 → distance 5
    d = torch.full((1, 64, 1), -50.0)
    d[0, 5::16] = 50
    check(torch.allclose(dfl_expectation(d), torch.full((1, 4, 1), 5.0)), 'DFL expectation')

    # TAL on 4 anchors, 1 GT [0, 0, 10, 10] of class 1: anchors inside: centres (2,2), (8,8);
    # outside (20, 20); on the border (10, 5) excluded. Both inside get picked (top-k 10).
    centres = torch.tensor([[2., 2], [8, 8], [20, 20], [10, 5]])
    scores = torch.full((1, 4, 3), 0.5)
    pred = torch.tensor([[[0., 0, 10, 10], [2, 2, 12, 12], [0, 0, 10, 10], [0, 0, 10, 10]]])
    fg, tgt, ts = task_aligned_assign(scores, pred, centres, torch.tensor([[[0., 0, 10, 10]]]), torch.tensor([[1]]))
    check(fg[0].tolist() == [True, True, False, False], 'TAL: centres inside the GT only')
    # normalised soft target: best anchor (IoU 1) → 1·maxIoU = 1; the other → its align / best align
    iou2 = bbox_iou(torch.tensor([0., 0, 10, 10]), torch.tensor([2., 2, 12, 12]), ciou=True).item()
    check(abs(ts[0, 0, 1].item() - 1) < 1e-5 and abs(ts[0, 1, 1].item() - iou2 ** 6) < 1e-5
          and ts[0, :, [0, 2]].abs().max().item() == 0, 'TAL soft targets = align / max align × max IoU')
    # an anchor inside two GTs goes to the one its box overlaps most
    fg, tgt, _ = task_aligned_assign(torch.full((1, 1, 3), 0.5), torch.tensor([[[0., 0, 10, 10]]]),
                                     torch.tensor([[5., 5]]), torch.tensor([[[0., 0, 20, 20], [0, 0, 11, 11]]]),
                                     torch.tensor([[0, 2]]))
    check(fg[0, 0].item() and tgt[0, 0].item() == 1, 'TAL: shared anchor → larger IoU GT')

    # the network: shapes at 320, export interface at 416
    model = YoloSeg()
    out = model(torch.rand(2, 3, 320, 320))
    check(out['box_dist'].shape == (2, 64, 2100) and out['cls'].shape == (2, 80, 2100)
          and out['coef'].shape == (2, 32, 2100) and out['protos'].shape == (2, 32, 80, 80), 'training outputs at 320')
    model.eval()
    o0, o1 = YoloSegExport(model, 416)(torch.rand(1, 3, 416, 416))
    check(o0.shape == (1, 116, 3549) and o1.shape == (1, 32, 104, 104), 'export outputs at 416')
    check(bool(((o0[0, 4:84] >= 0) & (o0[0, 4:84] <= 1)).all()), 'scores are sigmoid')
    # class bias start: score ≈ 5 / 80 / (416/8)² at P3
    check(abs(o0[0, 4:84, :2704].mean().item() - 5 / 80 / 52 ** 2) < 2e-4, 'class prior bias')

    # one loss evaluation on a toy batch: finite, every term > 0, gradients reach every head
    model.train()
    gt_boxes = torch.tensor([[[40., 40, 120, 140], [200, 10, 300, 60]], [[10, 10, 100, 100], [0, 0, 0, 0]]])
    gt_labels = torch.tensor([[3, 7], [0, -1]])
    masks = [torch.zeros(2, 80, 80, dtype=torch.uint8), torch.zeros(1, 80, 80, dtype=torch.uint8)]
    masks[0][0, 10:35, 10:30] = 1
    masks[0][1, 2:15, 50:75] = 1
    masks[1][0, 2:25, 2:25] = 1
    losses, num_pos = yoloseg_loss(model(torch.rand(2, 3, 320, 320)), gt_boxes, gt_labels, masks, 320)
    check(num_pos > 0 and all(torch.isfinite(v) and v.item() > 0 for v in losses.values()), f'losses {num_pos} positives')
    sum(losses.values()).backward()
    check(model.heads[0].coef[-1].weight.grad.abs().sum() > 0, 'gradients reach the P3 coefficient branch')
    check(model.proto.cv3.conv.weight.grad.abs().sum() > 0, 'gradients reach the protonet')

    # backbone pretraining: the classifier reads C3, C4, C5; the saved state is exactly the
    # backbone's modules, and loads over a detector leaving the neck and heads untouched
    from pretrain_backbone import CropClassifier, backbone_features, backbone_state
    clf = CropClassifier(model, model.width[2:], backbone_features)
    check(clf(torch.rand(2, 3, 48, 48)).shape == (2, 80), 'crop classifier logits')
    state = backbone_state(model)
    check({k.split('.')[0] for k in state} == {'stem', 's4', 's8', 's16', 's32'}, 'backbone state = stem..s32')
    other = YoloSeg()
    neck_before = other.td3.cv1.conv.weight.clone()
    missing, unexpected = other.load_state_dict(state, strict=False)
    check(not unexpected and torch.equal(other.s32[0].conv.weight, model.s32[0].conv.weight)
          and torch.equal(other.td3.cv1.conv.weight, neck_before), 'backbone loads over a detector, neck kept')


if __name__ == '__main__':
    main()
