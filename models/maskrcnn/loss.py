"""Mask R-CNN training maths (torchvision's rpn.py / roi_heads.py / poolers.py, rewritten):
box coder, matcher, balanced sampler, RPN proposals, the multi-level RoI pooler
(RoIAlign or RoIPool) and the multi-task loss L = L_rpn + L_cls + L_box + L_mask.

Shapes: per image, boxes are xyxy in input pixels; anchors [A_total, 4] in the order of
model.make_anchors (level, row, col, anchor).
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torchvision.ops import box_iou, batched_nms, roi_align, roi_pool

from model import BBOX_CLAMP, BOX_POOL, MASK_POOL, MASK_SIZE, STRIDES

RPN_WEIGHTS = (1.0, 1.0, 1.0, 1.0)
BOX_WEIGHTS = (10.0, 10.0, 5.0, 5.0)
CANONICAL_SCALE, CANONICAL_LEVEL, MIN_LEVEL, MAX_LEVEL = 224.0, 4, 2, 5
SAMPLING_RATIO = 2
SMOOTH_L1_BETA = 1.0 / 9


def encode(gt: torch.Tensor, ref: torch.Tensor, weights=RPN_WEIGHTS) -> torch.Tensor:
    """Regression targets [N, 4] (dx, dy, dw, dh) of gt boxes relative to ref boxes."""
    wx, wy, ww, wh = weights
    rw, rh = ref[:, 2] - ref[:, 0], ref[:, 3] - ref[:, 1]
    rx, ry = ref[:, 0] + 0.5 * rw, ref[:, 1] + 0.5 * rh
    gw, gh = gt[:, 2] - gt[:, 0], gt[:, 3] - gt[:, 1]
    gx, gy = gt[:, 0] + 0.5 * gw, gt[:, 1] + 0.5 * gh
    return torch.stack([wx * (gx - rx) / rw, wy * (gy - ry) / rh, ww * torch.log(gw / rw), wh * torch.log(gh / rh)], 1)


def decode(deltas: torch.Tensor, ref: torch.Tensor, weights=RPN_WEIGHTS) -> torch.Tensor:
    """deltas [..., N, 4] on ref boxes [N, 4] → boxes xyxy; dw, dh clamped ≤ log(1000/16)."""
    wx, wy, ww, wh = weights
    rw, rh = ref[:, 2] - ref[:, 0], ref[:, 3] - ref[:, 1]
    rx, ry = ref[:, 0] + 0.5 * rw, ref[:, 1] + 0.5 * rh
    dx, dy = deltas[..., 0] / wx, deltas[..., 1] / wy
    dw = (deltas[..., 2] / ww).clamp(max=BBOX_CLAMP)
    dh = (deltas[..., 3] / wh).clamp(max=BBOX_CLAMP)
    cx, cy = dx * rw + rx, dy * rh + ry
    w, h = torch.exp(dw) * rw, torch.exp(dh) * rh
    return torch.stack([cx - 0.5 * w, cy - 0.5 * h, cx + 0.5 * w, cy + 0.5 * h], -1)


def match(iou: torch.Tensor, high: float, low: float, low_quality: bool) -> torch.Tensor:
    """iou [G, N] → matched GT index per column [N]; −1 below `low`, −2 in [low, high).
    low_quality: each GT's best columns (ties included) are matched to it whatever the IoU."""
    n = iou.shape[1]
    if iou.shape[0] == 0:
        return torch.full((n,), -1, dtype=torch.long)
    vals, idx = iou.max(0)
    out = idx.clone()
    out[vals < low] = -1
    out[(vals >= low) & (vals < high)] = -2
    if low_quality:
        best = iou.max(1).values[:, None]
        _, cols = torch.where((iou == best) & (best > 0))
        out[cols] = idx[cols]
    return out


def sample(matched: torch.Tensor, total: int, positive_fraction: float) -> tuple[torch.Tensor, torch.Tensor]:
    """Balanced sampling → (positive indices, negative indices)."""
    pos = torch.where(matched >= 0)[0]
    neg = torch.where(matched == -1)[0]
    n_pos = min(int(total * positive_fraction), pos.numel())
    n_neg = min(total - n_pos, neg.numel())
    pos = pos[torch.randperm(pos.numel())[:n_pos]]
    neg = neg[torch.randperm(neg.numel())[:n_neg]]
    return pos, neg


def roi_levels(boxes: torch.Tensor) -> torch.Tensor:
    """FPN level of each RoI [K]: floor(4 + log2(√area / 224 + 1e-6)) clamped to [2, 5]."""
    area = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    lvl = torch.floor(CANONICAL_LEVEL + torch.log2(torch.sqrt(area.clamp(min=0)) / CANONICAL_SCALE + 1e-6))
    return lvl.clamp(MIN_LEVEL, MAX_LEVEL).long()


def pool_rois(feats: list[torch.Tensor], boxes: list[torch.Tensor], size: int, pooler: str) -> torch.Tensor:
    """Multi-level RoI features [ΣK, C, size, size] from P2..P5 (feats[0..3]).
    'align': RoIAlign, aligned (half-pixel offset), sampling ratio 2;
    'pool': RoIPool (Fast R-CNN: box quantised to the feature grid, max per bin)."""
    rois = torch.cat([torch.cat([torch.full((b.shape[0], 1), float(i)), b], 1) for i, b in enumerate(boxes)], 0)
    out = feats[0].new_zeros((rois.shape[0], feats[0].shape[1], size, size))
    if rois.shape[0] == 0:
        return out
    levels = roi_levels(rois[:, 1:])
    for lvl in range(MIN_LEVEL, MAX_LEVEL + 1):
        sel = torch.where(levels == lvl)[0]
        if sel.numel() == 0:
            continue
        f = feats[lvl - 2]
        scale = 1.0 / STRIDES[lvl - 2]
        if pooler == 'align':
            out[sel] = roi_align(f, rois[sel], (size, size), scale, SAMPLING_RATIO, aligned=True)
        else:
            out[sel] = roi_pool(f, rois[sel], (size, size), scale)
    return out


@torch.no_grad()
def rpn_proposals(objectness: torch.Tensor, deltas: torch.Tensor, anchors: torch.Tensor, level_counts: list[int],
                  size: int, pre_nms: int, post_nms: int, nms_iou: float = 0.7) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """Per image: top pre_nms per level by logit, decode, sigmoid, clip, drop sides < 1e-3,
    NMS per level, top post_nms overall by score → [(boxes [P, 4], scores [P])]."""
    out = []
    for b in range(objectness.shape[0]):
        boxes_l, scores_l, lvl_l = [], [], []
        start = 0
        for lvl, n in enumerate(level_counts):
            logit = objectness[b, start:start + n]
            k = min(pre_nms, n)
            top, idx = logit.topk(k)
            idx = idx + start
            boxes_l.append(decode(deltas[b, idx], anchors[idx]))
            scores_l.append(torch.sigmoid(top))
            lvl_l.append(torch.full((k,), lvl))
            start += n
        boxes, scores, lvls = torch.cat(boxes_l), torch.cat(scores_l), torch.cat(lvl_l)
        boxes = boxes.clamp(0, size)
        keep = ((boxes[:, 2] - boxes[:, 0]) >= 1e-3) & ((boxes[:, 3] - boxes[:, 1]) >= 1e-3)
        boxes, scores, lvls = boxes[keep], scores[keep], lvls[keep]
        keep = batched_nms(boxes, scores, lvls, nms_iou)[:post_nms]  # sorted by score, descending
        out.append((boxes[keep], scores[keep]))
    return out


def smooth_l1_sum(x: torch.Tensor, y: torch.Tensor, beta: float = SMOOTH_L1_BETA) -> torch.Tensor:
    return F.smooth_l1_loss(x, y, reduction='sum', beta=beta)


def maskrcnn_loss(model, x: torch.Tensor, anchors: torch.Tensor, level_counts: list[int], gt_boxes: list,
                  gt_labels: list, gt_masks: list, pooler: str = 'align', rpn_batch: int = 256,
                  pre_nms: int = 1000, post_nms: int = 500, roi_batch: int = 128, roi_pos_fraction: float = 0.25,
                  mask_rois: int = 8, heads_only: bool = False) -> tuple[dict, dict]:
    """One forward pass + the paper's multi-task loss. Returns (losses, stats).
    heads_only: the backbone/FPN/RPN run without gradients (RoIPool fine-tuning of the heads)."""
    size = x.shape[-1]
    if heads_only:
        with torch.no_grad():
            feats, objectness, deltas = model.features(x)
    else:
        feats, objectness, deltas = model.features(x)
    B = x.shape[0]
    losses = {}

    # ---- RPN: IoU ≥ 0.7 positive, < 0.3 negative, each GT's best anchors positive; 256 a image, ½ positive
    if not heads_only:
        obj_logits, obj_targets, reg_pred, reg_tgt = [], [], [], []
        n_sampled = 0
        for b in range(B):
            m = match(box_iou(gt_boxes[b], anchors), 0.7, 0.3, True) if gt_boxes[b].numel() else \
                torch.full((anchors.shape[0],), -1, dtype=torch.long)
            pos, neg = sample(m, rpn_batch, 0.5)
            idx = torch.cat([pos, neg])
            n_sampled += idx.numel()
            obj_logits.append(objectness[b, idx])
            obj_targets.append(torch.cat([torch.ones(pos.numel()), torch.zeros(neg.numel())]))
            if pos.numel():
                reg_pred.append(deltas[b, pos])
                reg_tgt.append(encode(gt_boxes[b][m[pos]], anchors[pos]))
        losses['rpn_cls'] = F.binary_cross_entropy_with_logits(torch.cat(obj_logits), torch.cat(obj_targets))
        losses['rpn_box'] = (smooth_l1_sum(torch.cat(reg_pred), torch.cat(reg_tgt)) / max(1, n_sampled)
                             if reg_pred else deltas.sum() * 0)

    # ---- proposals (detached) + GT boxes; 128 RoIs a image, 25 % positive at IoU ≥ 0.5
    props = rpn_proposals(objectness.detach(), deltas.detach(), anchors, level_counts, size, pre_nms, post_nms)
    rois, labels, targets, matched_gt = [], [], [], []
    for b in range(B):
        p = torch.cat([props[b][0], gt_boxes[b]], 0)
        m = match(box_iou(gt_boxes[b], p), 0.5, 0.5, False) if gt_boxes[b].numel() else \
            torch.full((p.shape[0],), -1, dtype=torch.long)
        pos, neg = sample(m, roi_batch, roi_pos_fraction)
        idx = torch.cat([pos, neg])
        rois.append(p[idx])
        lab = torch.zeros(idx.numel(), dtype=torch.long)
        lab[:pos.numel()] = gt_labels[b][m[pos]]
        labels.append(lab)
        t = torch.zeros(idx.numel(), 4)
        if pos.numel():
            t[:pos.numel()] = encode(gt_boxes[b][m[pos]], p[pos], BOX_WEIGHTS)
        targets.append(t)
        matched_gt.append(m[pos])
    box_feats = pool_rois(feats, rois, BOX_POOL, pooler)
    class_logits, box_deltas = model.box_head(box_feats)
    labels_all, targets_all = torch.cat(labels), torch.cat(targets)
    losses['cls'] = F.cross_entropy(class_logits, labels_all)
    fg = torch.where(labels_all > 0)[0]
    if fg.numel():
        d = box_deltas.reshape(-1, box_deltas.shape[1] // 4, 4)[fg, labels_all[fg]]
        losses['box'] = smooth_l1_sum(d, targets_all[fg]) / labels_all.numel()
    else:
        losses['box'] = box_deltas.sum() * 0

    # ---- mask: positive RoIs (at most mask_rois a image), GT mask RoIAligned to 28x28, BCE on the GT class
    mask_boxes, mask_labels, mask_targets = [], [], []
    for b in range(B):
        n_pos = matched_gt[b].numel()
        take = torch.randperm(n_pos)[:mask_rois]
        boxes = rois[b][take]
        mask_boxes.append(boxes)
        mask_labels.append(labels[b][take])
        if take.numel():
            gm = gt_masks[b][:, None].float()                                        # [G, 1, S, S]
            r = torch.cat([matched_gt[b][take][:, None].float(), boxes], 1)
            mask_targets.append(roi_align(gm, r, (MASK_SIZE, MASK_SIZE), 1.0, SAMPLING_RATIO, aligned=True)[:, 0])
    n_mask = sum(t.shape[0] for t in mask_boxes)
    if n_mask:
        mask_logits = model.mask_head(pool_rois(feats, mask_boxes, MASK_POOL, pooler))  # [M, 81, 28, 28]
        lab = torch.cat(mask_labels)
        picked = mask_logits[torch.arange(n_mask), lab]
        losses['mask'] = F.binary_cross_entropy_with_logits(picked, torch.cat(mask_targets))
    else:
        losses['mask'] = sum(p.sum() for p in model.mask_head.parameters()) * 0
    stats = {'fg_rois': int(fg.numel()), 'mask_rois': n_mask,
             'proposals': sum(int(p[0].shape[0]) for p in props) / B}
    return losses, stats


def level_counts_of(input_size: int) -> list[int]:
    from model import NUM_ANCHORS, level_sizes
    return [NUM_ANCHORS * s * s for s in level_sizes(input_size)]


def _selfcheck():
    a = torch.tensor([[0., 0., 10., 20.], [5., 5., 25., 15.]])
    g = torch.tensor([[1., 2., 12., 18.], [0., 0., 40., 30.]])
    assert torch.allclose(decode(encode(g, a, BOX_WEIGHTS), a, BOX_WEIGHTS), g, atol=1e-4)
    assert roi_levels(torch.tensor([[0., 0., 224., 224.], [0., 0., 10., 10.], [0., 0., 447., 448.]])).tolist() == [4, 2, 4]
    assert math.isclose(float(decode(torch.tensor([[0., 0., 100., 0.]]), a[:1])[0, 2] - decode(torch.tensor([[0., 0., 100., 0.]]), a[:1])[0, 0]),
                        10 * 1000 / 16, rel_tol=1e-4)


if __name__ == '__main__':
    _selfcheck()
    print('ok')
