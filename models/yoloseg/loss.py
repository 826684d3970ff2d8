"""The YOLOv8-seg training recipe, re-derived (Ultralytics v8DetectionLoss / v8SegmentationLoss):

Assignment — task-aligned assigner (TOOD; Ultralytics TaskAlignedAssigner):
  for every GT g and anchor a whose centre lies inside g's box:
      align(g, a) = score(a, class g)^α · IoU(g, box a)^β        α = 0.5, β = 6
  (predicted, detached). Each GT takes its top-k = 10 anchors by alignment; an anchor
  claimed by several GTs keeps the one with the highest IoU. Soft class target of a
  positive anchor = align / max align of its GT × max IoU of its GT (so the best anchor of
  a GT aims at that GT's best IoU, the others lower).
  Cost on the CPU: tensors [B, M, N] (M ≤ ~30 GTs an image, N ≤ 3549 anchors): a few ms,
  far below the network's step, so the full TAL is kept rather than centre sampling.

Losses (normalised by Σ target scores, as Ultralytics):
  class  BCE-with-logits of all N × 80 logits vs the soft targets (no objectness)
  box    (1 − CIoU) of positives, weighted by their target score
  dfl    distribution focal loss: the target distance t (stride units, clamped to
         reg_max − 1 − 0.01) between bins ⌊t⌋ and ⌊t⌋+1, CE to both weighted by the distance
  mask   per positive: BCE-with-logits of (coef · protos) vs its GT mask at proto
         resolution, summed inside the GT box and divided by the box area (proto pixels),
         then averaged over positives
Gains (Ultralytics default.yaml): box 7.5, cls 0.5, dfl 1.5, mask = box gain 7.5.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from model import REG_MAX, make_anchors

ALPHA, BETA, TOP_K = 0.5, 6.0, 10
GAIN_BOX, GAIN_CLS, GAIN_DFL, GAIN_MASK = 7.5, 0.5, 1.5, 7.5
EPS = 1e-9
MAX_MASK_POS = 400  # positives a batch spends the mask loss on (random subset beyond that)


def bbox_iou(a: torch.Tensor, b: torch.Tensor, ciou: bool = False) -> torch.Tensor:
    """Element-wise IoU (or CIoU) of xyxy boxes a, b [..., 4] (broadcast) → [...]."""
    ax1, ay1, ax2, ay2 = a.unbind(-1)
    bx1, by1, bx2, by2 = b.unbind(-1)
    w1, h1 = ax2 - ax1, (ay2 - ay1).clamp(min=EPS)
    w2, h2 = bx2 - bx1, (by2 - by1).clamp(min=EPS)
    inter = (torch.min(ax2, bx2) - torch.max(ax1, bx1)).clamp(min=0) * \
            (torch.min(ay2, by2) - torch.max(ay1, by1)).clamp(min=0)
    union = w1 * h1 + w2 * h2 - inter + EPS
    iou = inter / union
    if not ciou:
        return iou
    cw = torch.max(ax2, bx2) - torch.min(ax1, bx1)
    ch = torch.max(ay2, by2) - torch.min(ay1, by1)
    c2 = cw ** 2 + ch ** 2 + EPS                                   # enclosing diagonal²
    rho2 = ((bx1 + bx2 - ax1 - ax2) ** 2 + (by1 + by2 - ay1 - ay2) ** 2) / 4  # centre distance²
    v = (4 / math.pi ** 2) * (torch.atan(w2 / h2) - torch.atan(w1 / h1)).pow(2)
    with torch.no_grad():
        alpha = v / (v - iou + 1).clamp(min=EPS)  # v = 0, IoU = 1 would be 0 / 0
    return iou - (rho2 / c2 + v * alpha)


@torch.no_grad()
def task_aligned_assign(scores, pred_boxes, centres, gt_boxes, gt_labels):
    """scores [B, N, C] sigmoid, pred_boxes [B, N, 4] xyxy px, centres [N, 2] px,
    gt_boxes [B, M, 4] px, gt_labels [B, M] (−1 = padding).
    → fg [B, N] bool, target_gt [B, N] long (index into M), target_scores [B, N, C]."""
    b, n, c = scores.shape
    m = gt_boxes.shape[1]
    valid = gt_labels >= 0                                                   # [B, M]
    lt = centres.view(1, 1, n, 2) - gt_boxes[:, :, None, :2]
    rb = gt_boxes[:, :, None, 2:] - centres.view(1, 1, n, 2)
    inside = torch.cat([lt, rb], -1).amin(-1) > EPS                          # [B, M, N]
    cand = inside & valid[:, :, None]
    labels = gt_labels.clamp(min=0)
    cls_score = scores.gather(2, labels[:, None, :].expand(b, n, m)).permute(0, 2, 1)  # [B, M, N]
    iou = bbox_iou(gt_boxes[:, :, None, :], pred_boxes[:, None, :, :], ciou=True).clamp(min=0)
    iou = torch.where(cand, iou, torch.zeros_like(iou))
    align = cls_score.pow(ALPHA) * iou.pow(BETA)
    align = torch.where(cand, align, torch.zeros_like(align))
    k = min(TOP_K, n)
    top_idx = align.topk(k, dim=2).indices                                   # [B, M, k]
    pos = torch.zeros_like(cand)
    pos.scatter_(2, top_idx, True)
    pos &= cand
    # an anchor claimed by several GTs keeps the one with the largest IoU
    multi = pos.sum(1, keepdim=True) > 1                                      # [B, 1, N]
    if multi.any():
        best = F.one_hot(iou.argmax(1), m).permute(0, 2, 1).bool()            # [B, M, N]
        pos = torch.where(multi, best & cand, pos)
    fg = pos.any(1)                                                          # [B, N]
    target_gt = pos.float().argmax(1)                                        # [B, N]
    align = align * pos
    norm = (align * iou.amax(2, keepdim=True) / (align.amax(2, keepdim=True) + EPS)).amax(1)  # [B, N]
    t_labels = labels.gather(1, target_gt)                                   # [B, N]
    target_scores = F.one_hot(t_labels, c).float() * (norm * fg)[..., None]
    return fg, target_gt, target_scores


def dfl_loss(dist_logits: torch.Tensor, target: torch.Tensor, reg_max: int) -> torch.Tensor:
    """dist_logits [P, 4, reg_max], target [P, 4] distances in strides → [P] mean over sides."""
    t = target.clamp(0, reg_max - 1 - 0.01)
    left = t.long()
    wl = left + 1 - t
    wr = 1 - wl
    logp = dist_logits.log_softmax(-1)
    l = -(logp.gather(-1, left[..., None])[..., 0] * wl + logp.gather(-1, (left + 1)[..., None])[..., 0] * wr)
    return l.mean(-1)


def yoloseg_loss(out: dict, gt_boxes: torch.Tensor, gt_labels: torch.Tensor, gt_masks: list,
                 size: int, reg_max: int = REG_MAX):
    """out: model(x) dict; gt_boxes [B, M, 4] px; gt_labels [B, M]; gt_masks [n_b, S/4, S/4].
    → dict of weighted losses (box, cls, dfl, mask), number of positives."""
    box_dist, cls_logits, coef, protos = out['box_dist'], out['cls'], out['coef'], out['protos']
    b, _, n = cls_logits.shape
    points, strides = make_anchors(size)                                     # [N, 2] strides units, [N]
    centres = points * strides[:, None]                                      # [N, 2] px
    dist = box_dist.view(b, 4, reg_max, n).permute(0, 3, 1, 2)               # [B, N, 4, R]
    bins = torch.arange(reg_max, dtype=dist.dtype)
    ltrb = (dist.softmax(-1) * bins).sum(-1)                                 # [B, N, 4] strides
    pred_boxes = torch.cat([points - ltrb[..., :2], points + ltrb[..., 2:]], -1) * strides[None, :, None]  # px
    logits = cls_logits.permute(0, 2, 1)                                     # [B, N, C]

    fg, target_gt, target_scores = task_aligned_assign(
        logits.detach().sigmoid(), pred_boxes.detach(), centres, gt_boxes, gt_labels)
    ts_sum = target_scores.sum().clamp(min=1)
    loss_cls = F.binary_cross_entropy_with_logits(logits, target_scores, reduction='sum') / ts_sum

    num_pos = int(fg.sum())
    zero = logits.sum() * 0
    if num_pos == 0:
        return {'box': zero, 'cls': GAIN_CLS * loss_cls, 'dfl': zero, 'mask': zero + protos.sum() * 0 + coef.sum() * 0}, 0
    tgt_boxes = gt_boxes.gather(1, target_gt[..., None].expand(b, n, 4))     # [B, N, 4]
    weight = target_scores.sum(-1)[fg]                                       # [P]
    ciou = bbox_iou(pred_boxes[fg], tgt_boxes[fg], ciou=True)
    loss_box = ((1 - ciou) * weight).sum() / ts_sum
    s = strides[None, :, None].expand(b, n, 1)[fg]                           # [P, 1]
    c = centres[None].expand(b, n, 2)[fg]
    tb = tgt_boxes[fg]
    target_ltrb = torch.cat([c - tb[:, :2], tb[:, 2:] - c], -1) / s          # [P, 4] strides
    loss_dfl = (dfl_loss(dist[fg], target_ltrb, reg_max) * weight).sum() / ts_sum

    # masks: positives (at most MAX_MASK_POS of them), at proto resolution
    p = protos.shape[-1]
    bi, ai = fg.nonzero(as_tuple=True)
    if bi.numel() > MAX_MASK_POS:
        keep = torch.randperm(bi.numel())[:MAX_MASK_POS]
        bi, ai = bi[keep], ai[keep]
    gi = target_gt[bi, ai]
    box_p = gt_boxes[bi, gi] * (p / size)                                    # [P, 4] proto px
    r = torch.arange(p, dtype=torch.float32)
    crop = ((r[None, None, :] >= box_p[:, None, 0:1]) & (r[None, None, :] < box_p[:, None, 2:3]) &
            (r[None, :, None] >= box_p[:, None, 1:2]) & (r[None, :, None] < box_p[:, None, 3:4]))
    area = ((box_p[:, 2] - box_p[:, 0]) * (box_p[:, 3] - box_p[:, 1])).clamp(min=1)
    total = zero
    for img in bi.unique().tolist():                                         # one matmul per image
        sel = (bi == img).nonzero(as_tuple=True)[0]
        pred = (coef[img][:, ai[sel]].t() @ protos[img].reshape(protos.shape[1], -1)).view(-1, p, p)  # [P_b, p, p] logits
        target = gt_masks[img][gi[sel]].float()                              # [P_b, p, p]
        bce = F.binary_cross_entropy_with_logits(pred, target, reduction='none')
        total = total + ((bce * crop[sel]).sum((1, 2)) / area[sel]).sum()
    loss_mask = total / bi.numel()

    return {'box': GAIN_BOX * loss_box, 'cls': GAIN_CLS * loss_cls, 'dfl': GAIN_DFL * loss_dfl,
            'mask': GAIN_MASK * loss_mask}, num_pos
