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
    """One image: → conf_t [N] (−1 neutral, 0 background, 1..80), idx_t [N] (matched GT index)."""
    conf_t, idx_t = match_batch(gt_boxes[None], gt_labels[None], gt_labels.new_ones(1, len(gt_labels), dtype=torch.bool),
                                priors_point)
    return conf_t[0], idx_t[0]


def match_batch(gt_boxes, gt_labels, valid, priors_point):
    """A padded batch: gt_boxes [B, G, 4] xyxy, gt_labels [B, G], valid [B, G] (False on
    padding), priors_point [N, 4] → conf_t [B, N] (−1 neutral, 0 background, 1..80),
    idx_t [B, N] (matched GT index; 0 where there is no GT)."""
    B, G = valid.shape
    N = priors_point.shape[0]
    if G == 0:
        zeros = torch.zeros(B, N, dtype=torch.long, device=priors_point.device)
        return zeros, zeros.clone()
    iou = box_iou(gt_boxes.reshape(-1, 4), priors_point).view(B, G, N)
    iou = iou.masked_fill(~valid[:, :, None], -1.0)           # padding matches nothing
    best_truth_overlap, best_truth_idx = iou.max(1)            # per prior [B, N]
    best_prior_idx = iou.argmax(2)                             # per GT [B, G]
    # each GT keeps its best prior (overlap set to 2); padding writes to a spare column N
    target = torch.where(valid, best_prior_idx, torch.full_like(best_prior_idx, N))
    overlap = torch.cat([best_truth_overlap, best_truth_overlap.new_zeros(B, 1)], 1)
    overlap.scatter_(1, target, 2.0)
    idx = torch.cat([best_truth_idx, best_truth_idx.new_zeros(B, 1)], 1)
    idx.scatter_(1, target, torch.arange(G, device=idx.device).expand(B, G))
    best_truth_overlap, best_truth_idx = overlap[:, :N], idx[:, :N]
    conf_t = gt_labels.gather(1, best_truth_idx)
    conf_t = conf_t.masked_fill(best_truth_overlap < POS_IOU, -1)
    conf_t = conf_t.masked_fill(best_truth_overlap < NEG_IOU, 0)
    return conf_t, best_truth_idx


def box_region(boxes, h: int, w: int, padding: int = 1):
    """boxes xyxy relative [..., 4] → 0/1 region [..., h, w] of each box on an h × w grid,
    with YOLACT's 1 px padding (in proto pixels)."""
    x1 = torch.clamp(torch.min(boxes[..., 0], boxes[..., 2]) * w - padding, min=0)[..., None, None]
    x2 = torch.clamp(torch.max(boxes[..., 0], boxes[..., 2]) * w + padding, max=w)[..., None, None]
    y1 = torch.clamp(torch.min(boxes[..., 1], boxes[..., 3]) * h - padding, min=0)[..., None, None]
    y2 = torch.clamp(torch.max(boxes[..., 1], boxes[..., 3]) * h + padding, max=h)[..., None, None]
    cols = torch.arange(w, dtype=boxes.dtype, device=boxes.device)[None, :]
    rows = torch.arange(h, dtype=boxes.dtype, device=boxes.device)[:, None]
    return ((cols >= x1) & (cols < x2) & (rows >= y1) & (rows < y2)).to(boxes.dtype)


def crop_mask(masks, boxes, padding: int = 1):
    """masks [P, P, n]; boxes xyxy relative [n, 4] → 0/1 crop region [P, P, n] (YOLACT's
    crop with 1 px padding in proto space)."""
    h, w, _ = masks.shape
    return box_region(boxes.to(masks.dtype), h, w, padding).permute(1, 2, 0)


def yolact_loss(out, priors, gt_boxes, gt_labels, gt_masks, gt_valid, semantic_t):
    """The whole batch at once, without a loop over images (on a GPU a loop of small
    kernels and host syncs per image costs more than the network).

    out: the model's outputs; priors [N, 4] (cx, cy, w, h); the ground truth padded to the
    most objects G of an image in the batch (data.collate): gt_boxes [B, G, 4] relative
    xyxy, gt_labels [B, G] (1..80), gt_masks [B, G, P, P] at prototype resolution,
    gt_valid [B, G] (False on padding); semantic_t [B, 80, S3, S3].
    → ({'B', 'C', 'M', 'S'}, number of positives)."""
    loc_p, conf_p, coef_p, proto, sem_p = out
    B, N, _ = loc_p.shape
    conf_t, idx_t = match_batch(gt_boxes, gt_labels, gt_valid, point_form(priors))  # [B, N]
    pos = conf_t > 0
    num_pos = pos.sum()
    norm = num_pos.clamp(min=1).float()

    matched = gt_boxes.gather(1, idx_t[:, :, None].expand(B, N, 4))                  # [B, N, 4]
    loc_t = encode(matched.reshape(-1, 4), priors.repeat(B, 1)).view(B, N, 4)
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

    # mask loss on at most MASKS_TO_TRAIN positives an image, a uniform random subset:
    # the K positives with the highest random key (non-positives get key −1)
    P = proto.shape[1]
    K = int(pos.sum(1).max().clamp(max=MASKS_TO_TRAIN))
    if K > 0:
        key = torch.rand(B, N, device=pos.device).masked_fill(~pos, -1.0)
        key, chosen = key.topk(K, dim=1)                                              # [B, K]
        used = (key >= 0).float()
        gt_i = idx_t.gather(1, chosen)                                                # [B, K]
        mask_t = gt_masks.gather(1, gt_i[:, :, None, None].expand(B, K, P, P)).float()  # [B, K, P, P]
        box_t = gt_boxes.gather(1, gt_i[:, :, None].expand(B, K, 4))                  # [B, K, 4]
        coef = coef_p.gather(1, chosen[:, :, None].expand(B, K, coef_p.shape[2]))     # [B, K, 32]
        logits = torch.einsum('bhwc,bkc->bkhw', proto, coef)                           # [B, K, P, P]
        pre = F.binary_cross_entropy_with_logits(logits, mask_t, reduction='none')
        pre = pre * box_region(box_t, P, P)
        box_w = ((box_t[..., 2] - box_t[..., 0]) * P).clamp(min=1)
        box_h = ((box_t[..., 3] - box_t[..., 1]) * P).clamp(min=1)
        loss_m = (pre.sum((2, 3)) / box_w / box_h * used).sum()
    else:
        loss_m = conf_p.new_zeros(())
    loss_m = loss_m * MASK_ALPHA

    S = sem_p.shape[-1]
    loss_s = F.binary_cross_entropy_with_logits(sem_p, semantic_t.float(), reduction='sum') / (S * S) * SEMANTIC_ALPHA

    losses = {'B': loss_b / norm, 'C': loss_c / norm, 'M': loss_m / norm, 'S': loss_s / B}
    return losses, int(num_pos)
