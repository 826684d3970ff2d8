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
from torchvision.ops import roi_align

from fcos import (CENTER_RADIUS, FOCAL_ALPHA, FOCAL_GAMMA, INF, all_locations, centerness_target,  # noqa: F401
                  fcos_losses, fcos_targets, giou_loss)
from model import MASK_SIZE, NUM_CLASSES, POOL_SIZE, ROI_MAX_LEVEL, ROI_MIN_LEVEL, STRIDES  # noqa: F401

SAMPLING_RATIO = 2


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
    losses, cls_t, _ = fcos_losses(outs, gt_boxes, gt_labels)
    pos = cls_t >= 0

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
