"""YOLACT's multibox loss (dbolya/yolact layers/modules/multibox_loss.py, re-derived):

- matching: IoU(GT box, prior in point form) ≥ 0.5 positive, < 0.4 negative, in between
  neutral; each GT also takes its best prior (forced positive);
- class: softmax cross-entropy on positives + OHEM negatives (3 negatives : 1 positive,
  ranked by background loss), weight 1;
- box: smooth-L1 on encoded deltas, variances (0.1, 0.2), weight 1.5;
- mask: per-pixel BCE of the assembled masks sigmoid(P·cᵀ), cropped to the GT box and
  normalised by the GT box area (proto pixels), weight 6.125;
- semantic segmentation on P3 (BCE with logits, summed, / P3 area), weight 1.
B, C, M are divided by the number of positives in the batch; S by the batch size.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from model import VARIANCES

POS_IOU = 0.5
NEG_IOU = 0.4
NEG_POS_RATIO = 3
BBOX_ALPHA = 1.5
CONF_ALPHA = 1.0
MASK_ALPHA = 6.125
SEMANTIC_ALPHA = 1.0
MASKS_TO_TRAIN = 100  # at most this many positives per image get a mask loss (YOLACT)


def point_form(p):  # (cx, cy, w, h) → (x1, y1, x2, y2)
    return torch.cat([p[:, :2] - p[:, 2:] / 2, p[:, :2] + p[:, 2:] / 2], 1)


def box_iou(a, b):  # [n,4], [m,4] xyxy → [n, m]
    lt = torch.max(a[:, None, :2], b[None, :, :2])
    rb = torch.min(a[:, None, 2:], b[None, :, 2:])
    inter = (rb - lt).clamp(min=0).prod(2)
    area_a = (a[:, 2:] - a[:, :2]).prod(1)
    area_b = (b[:, 2:] - b[:, :2]).prod(1)
    return inter / (area_a[:, None] + area_b[None, :] - inter)


def encode(matched, priors):
    """GT xyxy [N,4] → deltas w.r.t. priors (cx, cy, w, h) [N,4]."""
    g_c = ((matched[:, :2] + matched[:, 2:]) / 2 - priors[:, :2]) / (VARIANCES[0] * priors[:, 2:])
    g_wh = torch.log((matched[:, 2:] - matched[:, :2]).clamp(min=1e-6) / priors[:, 2:]) / VARIANCES[1]
    return torch.cat([g_c, g_wh], 1)


def decode(loc, priors):
    """deltas [N,4] → xyxy [N,4] (MODELS.md §1)."""
    c = priors[:, :2] + loc[:, :2] * VARIANCES[0] * priors[:, 2:]
    wh = priors[:, 2:] * torch.exp(loc[:, 2:] * VARIANCES[1])
    return torch.cat([c - wh / 2, c + wh / 2], 1)


def match(gt_boxes, gt_labels, priors_point):
    """→ conf_t [N] (−1 neutral, 0 background, 1..80), idx_t [N] (matched GT index)."""
    n = priors_point.shape[0]
    if gt_boxes.shape[0] == 0:
        return torch.zeros(n, dtype=torch.long), torch.zeros(n, dtype=torch.long)
    iou = box_iou(gt_boxes, priors_point)              # [G, N]
    best_truth_overlap, best_truth_idx = iou.max(0)    # per prior
    best_prior_idx = iou.argmax(1)                     # per GT
    for g in range(gt_boxes.shape[0]):                 # each GT keeps its best prior
        best_truth_overlap[best_prior_idx[g]] = 2.0
        best_truth_idx[best_prior_idx[g]] = g
    conf_t = gt_labels[best_truth_idx].clone()
    conf_t[best_truth_overlap < POS_IOU] = -1
    conf_t[best_truth_overlap < NEG_IOU] = 0
    return conf_t, best_truth_idx


def crop_mask(masks, boxes, padding: int = 1):
    """masks [P, P, n]; boxes xyxy relative [n, 4] → 0/1 crop region [P, P, n] (YOLACT's
    crop with 1 px padding in proto space)."""
    h, w, n = masks.shape
    x1 = torch.clamp(torch.min(boxes[:, 0], boxes[:, 2]) * w - padding, min=0)
    x2 = torch.clamp(torch.max(boxes[:, 0], boxes[:, 2]) * w + padding, max=w)
    y1 = torch.clamp(torch.min(boxes[:, 1], boxes[:, 3]) * h - padding, min=0)
    y2 = torch.clamp(torch.max(boxes[:, 1], boxes[:, 3]) * h + padding, max=h)
    cols = torch.arange(w, dtype=masks.dtype)[None, :, None]
    rows = torch.arange(h, dtype=masks.dtype)[:, None, None]
    return ((cols >= x1) & (cols < x2) & (rows >= y1) & (rows < y2)).to(masks.dtype)


def yolact_loss(out, priors, gt_boxes, gt_labels, gt_masks, semantic_t):
    loc_p, conf_p, coef_p, proto, sem_p = out
    B, N, _ = loc_p.shape
    priors_point = point_form(priors)
    conf_ts, loc_ts, idx_ts = [], [], []
    for b in range(B):
        conf_t, idx_t = match(gt_boxes[b], gt_labels[b], priors_point)
        conf_ts.append(conf_t)
        idx_ts.append(idx_t)
        if gt_boxes[b].shape[0]:
            loc_ts.append(encode(gt_boxes[b][idx_t], priors))
        else:
            loc_ts.append(torch.zeros(N, 4))
    conf_t = torch.stack(conf_ts)   # [B, N]
    loc_t = torch.stack(loc_ts)     # [B, N, 4]
    pos = conf_t > 0
    num_pos = int(pos.sum())
    norm = max(num_pos, 1)

    loss_b = F.smooth_l1_loss(loc_p[pos], loc_t[pos], reduction='sum') * BBOX_ALPHA

    # OHEM on the background loss: logsumexp(conf) − conf[background]
    with torch.no_grad():
        bg_loss = torch.logsumexp(conf_p, 2) - conf_p[:, :, 0]
        bg_loss[pos] = 0
        bg_loss[conf_t < 0] = 0
        _, order = bg_loss.sort(1, descending=True)
        _, rank = order.sort(1)
        num_neg = (NEG_POS_RATIO * pos.sum(1, keepdim=True)).clamp(max=N - 1)
        neg = (rank < num_neg) & ~pos & (conf_t >= 0)
    sel = pos | neg
    loss_c = F.cross_entropy(conf_p[sel], conf_t[sel].clamp(min=0), reduction='sum') * CONF_ALPHA

    loss_m = conf_p.new_zeros(())
    P = proto.shape[1]
    for b in range(B):
        pos_idx = torch.nonzero(pos[b]).squeeze(1)
        if pos_idx.numel() == 0:
            continue
        if pos_idx.numel() > MASKS_TO_TRAIN:
            pos_idx = pos_idx[torch.randperm(pos_idx.numel())[:MASKS_TO_TRAIN]]
        gt_i = idx_ts[b][pos_idx]
        mask_t = gt_masks[b][gt_i].permute(1, 2, 0).float()           # [P, P, n]
        box_t = gt_boxes[b][gt_i]                                       # [n, 4]
        logits = proto[b] @ coef_p[b, pos_idx].t()                      # [P, P, n]
        pre = F.binary_cross_entropy_with_logits(logits, mask_t, reduction='none')
        pre = pre * crop_mask(pre, box_t)
        box_w = ((box_t[:, 2] - box_t[:, 0]) * P).clamp(min=1)
        box_h = ((box_t[:, 3] - box_t[:, 1]) * P).clamp(min=1)
        loss_m = loss_m + (pre.sum((0, 1)) / box_w / box_h).sum()
    loss_m = loss_m * MASK_ALPHA

    S = sem_p.shape[-1]
    loss_s = F.binary_cross_entropy_with_logits(sem_p, semantic_t.float(), reduction='sum') / (S * S) * SEMANTIC_ALPHA

    losses = {'B': loss_b / norm, 'C': loss_c / norm, 'M': loss_m / norm, 'S': loss_s / B}
    return losses, num_pos
