"""BlendMask / B2Inst training maths.

- FCOS: models/common/fcos.py `fcos_losses` (the same targets and losses as CenterMask).
- Mask (BlendMask): for up to `mask_rois` FCOS positives an image (random), the matched GT
  box is the RoI (AdelaiDet trains the blender on GT boxes); the location's top_feats are
  its attentions; blend → logits [R,R]; BCE against the GT mask RoIAligned into the box at
  R×R (aligned, sampling 2, ≥ 0.5 → {0, 1}).
- Boundary basis (B2Inst): the last basis channel [B,1,S/4,S/4] against the holistic
  boundary map of the image: every GT mask area-resampled to S/4 (≥ 0.5), Laplacian,
  clamp ≥ 0, > 0.1, the union over instances; BCE + Dice (1 − (2Σpt + 1)/(Σp + Σt + 1)).
- Scoring head (B2Inst): on the same blended masks (detached): S_IoU target = IoU of the
  binarised predicted mask (p ≥ 0.5) and the GT mask in the R×R box frame, S_boundary
  target = Dice of their Laplacian boundaries (2ΣBpBg + 1)/(ΣBp² + ΣBg² + 1); L2 on the
  sigmoids of both outputs.

Shapes: per image, boxes xyxy in input pixels, labels 1..80, masks [n,S,S] uint8.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torchvision.ops import roi_align

from model import ATTN_SIZE, BLEND_SIZE, blend, boundary_target, dice_score, roi_bases
from fcos import fcos_losses

TARGET_SAMPLING = 2


def holistic_boundary(masks: torch.Tensor, side: int) -> torch.Tensor:
    """GT masks of one image [n,S,S] → the boundary map of all instances [1,side,side] at the
    basis resolution (area resampling, ≥ 0.5, Laplacian boundary, union)."""
    if masks.shape[0] == 0:
        return torch.zeros(1, side, side)
    m = (F.adaptive_avg_pool2d(masks[:, None].float(), side) >= 0.5).float()
    return boundary_target(m).amax(0)


def dice_loss(p: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """1 − (2Σpt + 1)/(Σp + Σt + 1), per item [N] (BMask R-CNN's boundary Dice)."""
    p, t = p.flatten(1), t.flatten(1)
    return 1 - (2 * (p * t).sum(1) + 1) / (p.sum(1) + t.sum(1) + 1)


def mask_targets(gt_masks: torch.Tensor, rois: torch.Tensor, size: int = BLEND_SIZE) -> torch.Tensor:
    """GT masks [n,S,S] of one image, rois [N,5] (GT index, box) → binary targets [N,size,size]."""
    return (roi_align(gt_masks[:, None].float(), rois, (size, size), 1.0, TARGET_SAMPLING, aligned=True)[:, 0]
            >= 0.5).float()


def scoring_targets(mask_logits: torch.Tensor, target: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Blended logits [N,R,R], binary targets [N,R,R] → IoU and boundary Dice targets [N]."""
    pred = (mask_logits.detach() >= 0).float()                 # sigmoid ≥ 0.5
    inter = (pred * target).flatten(1).sum(1)
    union = ((pred + target) > 0).float().flatten(1).sum(1)
    iou = inter / union.clamp(min=1)
    bd = dice_score(boundary_target(pred[:, None]), boundary_target(target[:, None]))
    return iou, bd


def blendmask_loss(model, x: torch.Tensor, gt_boxes: list, gt_labels: list, gt_masks: list,
                   mask_rois: int = 16, boundary_weight: float = 1.0, score_weight: float = 1.0) -> tuple[dict, dict]:
    """One forward pass → (losses {cls, box, ctr, mask[, boundary, score]}, stats)."""
    B = x.shape[0]
    bases, outs = model(x)
    losses, cls_t, idx_t = fcos_losses(outs, gt_boxes, gt_labels)
    k = model.n_bases
    top = torch.cat([o[3].flatten(2) for o in outs], 2).transpose(1, 2)        # [B, N, K'·M·M]

    rois, attns, targets = [], [], []
    for b in range(B):
        pos = torch.where(idx_t[b] >= 0)[0]
        if pos.numel() == 0:
            continue
        pos = pos[torch.randperm(pos.numel())[:mask_rois]]
        gi = idx_t[b, pos]
        rois.append(torch.cat([torch.full((pos.numel(), 1), float(b)), gt_boxes[b][gi]], 1))
        attns.append(top[b, pos])
        targets.append(mask_targets(gt_masks[b], torch.cat([gi[:, None].float(), gt_boxes[b][gi]], 1)))
    stats = {'pos': int((cls_t >= 0).sum()), 'mask_rois': sum(r.shape[0] for r in rois)}
    if rois:
        rois, attns, targets = torch.cat(rois), torch.cat(attns), torch.cat(targets)
        pooled = roi_bases(bases, rois)
        logits = blend(pooled, attns.reshape(-1, k, ATTN_SIZE, ATTN_SIZE))
        losses['mask'] = F.binary_cross_entropy_with_logits(logits, targets)
    else:
        losses['mask'] = bases.sum() * 0 + top.sum() * 0

    if model.b2inst:
        side = bases.shape[-1]
        bt = torch.stack([holistic_boundary(gt_masks[b], side) for b in range(B)])   # [B,1,side,side]
        bl = bases[:, -1:]
        losses['boundary'] = boundary_weight * (F.binary_cross_entropy_with_logits(bl, bt)
                                                + dice_loss(torch.sigmoid(bl), bt).mean())
        stats['boundary_px'] = float(bt.mean())
        if stats['mask_rois']:
            pred = torch.sigmoid(model.score(logits, pooled))
            iou_t, bd_t = scoring_targets(logits, targets)
            losses['score'] = score_weight * (F.mse_loss(pred[:, 0], iou_t) + F.mse_loss(pred[:, 1], bd_t))
            stats['mean_iou_t'], stats['mean_bd_t'] = float(iou_t.mean()), float(bd_t.mean())
        else:
            losses['score'] = sum(p.sum() for p in model.scoring.parameters()) * 0
    stats.setdefault('mean_iou_t', math.nan)
    return losses, stats

