"""CenterMask training maths: FCOS targets (centre sampling, scale ranges per level), the
FCOS losses (sigmoid focal, GIoU weighted by the centerness target, centerness BCE), the
Equation 2 RoI level and the multi-level RoIAlign, the SAG-Mask loss (Mask R-CNN's: GT mask
RoIAligned into the box, 28x28, BCE on the GT class) and the MaskIoU loss (L2 to the IoU of
the binarised predicted mask and the GT mask in the 28x28 box frame, GT class column).

Shapes: per image, boxes are xyxy in input pixels; labels are 1..80 (0 = background, as
models/common/emoji_coco.py gives them); FCOS classes are labels − 1.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torchvision.ops import roi_align, sigmoid_focal_loss

from model import (MASK_SIZE, NUM_CLASSES, POOL_SIZE, ROI_MAX_LEVEL, ROI_MIN_LEVEL, SIZES_OF_INTEREST, STRIDES,
                   locations)

CENTER_RADIUS = 1.5
FOCAL_ALPHA, FOCAL_GAMMA = 0.25, 2.0
SAMPLING_RATIO = 2
INF = 1e8


def all_locations(sides: list[int]) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Every level's locations concatenated (level, row, col) → points [N, 2], stride [N],
    scale range [N, 2]."""
    pts, strides, ranges = [], [], []
    for side, s, r in zip(sides, STRIDES, SIZES_OF_INTEREST):
        p = locations(side, s)
        pts.append(p)
        strides.append(torch.full((p.shape[0],), float(s)))
        ranges.append(torch.tensor(r, dtype=torch.float32).expand(p.shape[0], 2))
    return torch.cat(pts), torch.cat(strides), torch.cat(ranges)


def fcos_targets(points, strides, ranges, boxes, labels, radius=CENTER_RADIUS):
    """One image. → class target [N] (0..79, −1 = background), ltrb target [N, 4] (px),
    matched GT index [N] (−1 = none). A location is positive for a GT box when it lies in the
    box's centre region (centre ± radius·stride, clipped to the box) and the box's largest
    ltrb distance from it is in the level's scale range; among several, the smallest box."""
    n = points.shape[0]
    if boxes.shape[0] == 0:
        return torch.full((n,), -1, dtype=torch.long), torch.zeros(n, 4), torch.full((n,), -1, dtype=torch.long)
    x, y = points[:, 0:1], points[:, 1:2]                                      # [N, 1]
    x1, y1, x2, y2 = (boxes[:, i][None] for i in range(4))                     # [1, G]
    ltrb = torch.stack([x - x1, y - y1, x2 - x, y2 - y], -1)                   # [N, G, 4]
    cx, cy = (x1 + x2) / 2, (y1 + y2) / 2
    rs = strides[:, None] * radius
    cx1, cy1 = torch.maximum(cx - rs, x1), torch.maximum(cy - rs, y1)
    cx2, cy2 = torch.minimum(cx + rs, x2), torch.minimum(cy + rs, y2)
    in_centre = (x > cx1) & (y > cy1) & (x < cx2) & (y < cy2)
    max_reg = ltrb.max(-1).values
    in_range = (max_reg >= ranges[:, 0:1]) & (max_reg <= ranges[:, 1:2])
    area = ((x2 - x1) * (y2 - y1)).expand(n, -1).clone()
    area[~(in_centre & in_range)] = INF
    best_area, best = area.min(1)
    matched = torch.where(best_area < INF, best, torch.full_like(best, -1))
    cls = torch.where(matched >= 0, labels[best.clamp(min=0)] - 1, torch.full_like(best, -1))
    reg = ltrb[torch.arange(n), best]
    return cls, reg, matched


def centerness_target(reg: torch.Tensor) -> torch.Tensor:
    lr, tb = reg[:, [0, 2]], reg[:, [1, 3]]
    return torch.sqrt((lr.min(1).values / lr.max(1).values.clamp(min=1e-6)).clamp(min=0)
                      * (tb.min(1).values / tb.max(1).values.clamp(min=1e-6)).clamp(min=0))


def giou_loss(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """ltrb distances from the same point [P, 4] → 1 − GIoU [P]."""
    pl, pt, pr, pb = pred.unbind(1)
    tl, tt, tr, tb = target.unbind(1)
    pa, ta = (pl + pr) * (pt + pb), (tl + tr) * (tt + tb)
    iw, ih = torch.min(pl, tl) + torch.min(pr, tr), torch.min(pt, tt) + torch.min(pb, tb)
    inter = iw.clamp(min=0) * ih.clamp(min=0)
    union = pa + ta - inter
    iou = (inter + 1) / (union + 1)
    enclose = (torch.max(pl, tl) + torch.max(pr, tr)) * (torch.max(pt, tt) + torch.max(pb, tb)) + 1e-7
    return 1 - (iou - (enclose - union) / enclose)


def roi_levels(boxes: torch.Tensor, input_area: float) -> torch.Tensor:
    """CenterMask Equation 2: k = ceil(5 − log2(A_input / A_box)), clamped to [3, 5]."""
    area = ((boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])).clamp(min=1e-6)
    k = torch.ceil(ROI_MAX_LEVEL - torch.log2(input_area / area))
    return k.clamp(ROI_MIN_LEVEL, ROI_MAX_LEVEL).long()


def pool_rois(feats: list[torch.Tensor], boxes: list[torch.Tensor], input_area: float,
              size: int = POOL_SIZE) -> torch.Tensor:
    """RoIAlign (aligned=True, sampling 2) of each box on its Equation 2 level of P3..P5
    (feats[0..2]) → [ΣR, C, size, size]."""
    rois = torch.cat([torch.cat([torch.full((b.shape[0], 1), float(i)), b], 1) for i, b in enumerate(boxes)], 0)
    out = feats[0].new_zeros((rois.shape[0], feats[0].shape[1], size, size))
    if rois.shape[0] == 0:
        return out
    levels = roi_levels(rois[:, 1:], input_area)
    for lvl in range(ROI_MIN_LEVEL, ROI_MAX_LEVEL + 1):
        sel = torch.where(levels == lvl)[0]
        if sel.numel():
            out[sel] = roi_align(feats[lvl - 3], rois[sel], (size, size), 1.0 / STRIDES[lvl - 3], SAMPLING_RATIO,
                                 aligned=True)
    return out


def jitter_boxes(boxes: torch.Tensor, size: int, amount: float = 0.1) -> torch.Tensor:
    """GT boxes moved by up to ±amount of their side and scaled by 1 ± amount, clipped to the input."""
    w, h = boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1]
    cx, cy = boxes[:, 0] + w / 2 + (torch.rand_like(w) * 2 - 1) * amount * w, \
        boxes[:, 1] + h / 2 + (torch.rand_like(h) * 2 - 1) * amount * h
    w = w * (1 + (torch.rand_like(w) * 2 - 1) * amount)
    h = h * (1 + (torch.rand_like(h) * 2 - 1) * amount)
    out = torch.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], 1).clamp(0, size)
    ok = ((out[:, 2] - out[:, 0]) >= 2) & ((out[:, 3] - out[:, 1]) >= 2)
    return torch.where(ok[:, None], out, boxes)


def centermask_loss(model, x: torch.Tensor, gt_boxes: list, gt_labels: list, gt_masks: list,
                    mask_rois: int = 8, jitter: float = 0.1) -> tuple[dict, dict]:
    """One forward pass + L = L_cls + L_center + L_box + L_mask + L_maskiou. → (losses, stats)."""
    size = x.shape[-1]
    B = x.shape[0]
    feats, outs = model.features(x)
    sides = [o[0].shape[-1] for o in outs]
    points, strides, ranges = all_locations(sides)
    # flatten predictions in (level, row, col) order: [B, N, K], [B, N, 4], [B, N]
    cls_p = torch.cat([o[0].flatten(2) for o in outs], 2).transpose(1, 2)
    box_p = torch.cat([o[1].flatten(2) for o in outs], 2).transpose(1, 2)
    ctr_p = torch.cat([o[2].flatten(2) for o in outs], 2)[:, 0]
    cls_t, reg_t = [], []
    for b in range(B):
        c, r, _ = fcos_targets(points, strides, ranges, gt_boxes[b], gt_labels[b])
        cls_t.append(c)
        reg_t.append(r)
    cls_t, reg_t = torch.stack(cls_t), torch.stack(reg_t)                      # [B, N], [B, N, 4]
    pos = cls_t >= 0
    n_pos = max(1.0, float(pos.sum()))
    onehot = torch.zeros_like(cls_p)
    onehot[pos, cls_t[pos]] = 1.0
    losses = {'cls': sigmoid_focal_loss(cls_p, onehot, FOCAL_ALPHA, FOCAL_GAMMA, reduction='sum') / n_pos}
    if pos.any():
        ctr_t = centerness_target(reg_t[pos])
        losses['box'] = (giou_loss(box_p[pos], reg_t[pos]) * ctr_t).sum() / ctr_t.sum().clamp(min=1e-6)
        losses['ctr'] = F.binary_cross_entropy_with_logits(ctr_p[pos], ctr_t, reduction='sum') / n_pos
    else:
        losses['box'] = box_p.sum() * 0
        losses['ctr'] = ctr_p.sum() * 0

    # ---- SAG-Mask + MaskIoU on jittered GT boxes (at most mask_rois a image)
    boxes, labels, targets = [], [], []
    for b in range(B):
        g = gt_boxes[b].shape[0]
        take = torch.randperm(g)[:mask_rois]
        bx = jitter_boxes(gt_boxes[b][take], size, jitter) if take.numel() else gt_boxes[b][take]
        boxes.append(bx)
        labels.append(gt_labels[b][take] - 1)
        if take.numel():
            gm = gt_masks[b][:, None].float()
            r = torch.cat([take[:, None].float(), bx], 1)
            targets.append(roi_align(gm, r, (MASK_SIZE, MASK_SIZE), 1.0, SAMPLING_RATIO, aligned=True)[:, 0])
    m = sum(t.shape[0] for t in boxes)
    if m:
        roi_feats = pool_rois(feats[:3], boxes, float(size * size))
        mask_logits, mask_iou = model.mask_head(roi_feats, detach_mask=True)
        lab = torch.cat(labels)
        tgt = torch.cat(targets)
        picked = mask_logits[torch.arange(m), lab]
        losses['mask'] = F.binary_cross_entropy_with_logits(picked, tgt)
        with torch.no_grad():
            pred_bin, gt_bin = picked > 0, tgt >= 0.5
            inter = (pred_bin & gt_bin).flatten(1).sum(1).float()
            union = (pred_bin | gt_bin).flatten(1).sum(1).float()
            iou_t = inter / union.clamp(min=1)
        losses['maskiou'] = F.mse_loss(mask_iou[torch.arange(m), lab], iou_t)
    else:
        zero = sum(p.sum() for p in model.mask_head.parameters()) * 0
        losses['mask'] = zero
        losses['maskiou'] = zero
        iou_t = torch.zeros(0)
    stats = {'pos': int(pos.sum()), 'mask_rois': m, 'mean_mask_iou': float(iou_t.mean()) if m else math.nan}
    return losses, stats
