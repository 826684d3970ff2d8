"""Quick COCO-style AP shared by the recipes' Python evaluators (models/maskrcnn/evaluate.py,
models/centermask/evaluate.py): IoU 0.50:0.05:0.95, 101 recall points, all areas, per
category then averaged over the categories that have GT (maxDets: whatever the detector
keeps, ≤ 100)."""
from __future__ import annotations

import numpy as np
import torch
from torchvision.ops import box_iou

IOU_THRESHOLDS = np.linspace(0.5, 0.95, 10)
RECALL_POINTS = np.linspace(0, 1, 101)


def mask_iou(d: np.ndarray, g: np.ndarray) -> np.ndarray:
    """Flattened binary masks d [D, P], g [G, P] → IoU [D, G]."""
    df, gf = d.astype(np.float32), g.astype(np.float32)
    inter = df @ gf.T
    return inter / np.maximum(df.sum(1)[:, None] + gf.sum(1)[None, :] - inter, 1)


def average_precision(per_class: dict) -> np.ndarray:
    """per_class[c] = (list of (score, [T] matched flags), n_gt) → AP per IoU threshold [T]."""
    aps = []
    for dets, n_gt in per_class.values():
        if n_gt == 0:
            continue
        ap_t = np.zeros(len(IOU_THRESHOLDS))
        if dets:
            dets = sorted(dets, key=lambda d: -d[0])
            tp = np.array([d[1] for d in dets], np.float64)
            ctp, cfp = np.cumsum(tp, 0), np.cumsum(1 - tp, 0)
            for t in range(len(IOU_THRESHOLDS)):
                rec = ctp[:, t] / n_gt
                prec = np.maximum.accumulate((ctp[:, t] / np.maximum(ctp[:, t] + cfp[:, t], 1e-9))[::-1])[::-1]
                idx = np.searchsorted(rec, RECALL_POINTS, side='left')
                ap_t[t] = np.where(idx < len(prec), prec[np.minimum(idx, len(prec) - 1)], 0).mean()
        aps.append(ap_t)
    return np.mean(aps, 0) if aps else np.zeros(len(IOU_THRESHOLDS))


def greedy_flags(ious: np.ndarray, n_gt: int) -> np.ndarray:
    """COCO matching of score-sorted detections → [D, T] true-positive flags."""
    flags = np.zeros((ious.shape[0], len(IOU_THRESHOLDS)))
    for t, thr in enumerate(IOU_THRESHOLDS):
        taken = np.zeros(n_gt, bool)
        for j in range(ious.shape[0]):
            cand = np.where(~taken & (ious[j] >= thr), ious[j], -1)
            if cand.max(initial=-1) >= thr:
                taken[int(cand.argmax())] = True
                flags[j, t] = 1
    return flags


class CocoAP:
    """Accumulates one image at a time; mask and box AP may rank by different scores
    (CenterMask: mask AP by score · maskiou, box AP by the detector's score).

    add(dets, gts): dets = list of (class 0..79, box score, box xyxy, mask bool [H, W],
    mask score); gts = list of (class 0..79, box xyxy, mask bool [H, W])."""

    def __init__(self, num_classes: int = 80):
        self.mask = {c: ([], 0) for c in range(num_classes)}
        self.box = {c: ([], 0) for c in range(num_classes)}
        self.images = 0
        self.detections = 0

    def add(self, dets: list, gts: list):
        self.images += 1
        self.detections += len(dets)
        for c in self.mask:
            g = [x for x in gts if x[0] == c]
            for stats in (self.mask, self.box):
                stats[c] = (stats[c][0], stats[c][1] + len(g))
            dc = [x for x in dets if x[0] == c]
            if not dc:
                continue
            dm = sorted(dc, key=lambda x: -x[4])   # mask ranking
            db = sorted(dc, key=lambda x: -x[1])   # box ranking
            if g:
                gm = np.stack([x[2].ravel() > 0 for x in g])
                fm = greedy_flags(mask_iou(np.stack([x[3].ravel() for x in dm]), gm), len(g))
                gb = torch.tensor([x[1] for x in g], dtype=torch.float32)
                fb = greedy_flags(box_iou(torch.tensor([x[2] for x in db], dtype=torch.float32), gb).numpy(), len(g))
            else:
                fm = np.zeros((len(dm), len(IOU_THRESHOLDS)))
                fb = np.zeros((len(db), len(IOU_THRESHOLDS)))
            self.mask[c][0].extend((x[4], fm[j]) for j, x in enumerate(dm))
            self.box[c][0].extend((x[1], fb[j]) for j, x in enumerate(db))

    def summary(self) -> dict:
        m_ap, b_ap = average_precision(self.mask), average_precision(self.box)
        return {'images': self.images, 'mask_AP': float(m_ap.mean()), 'mask_AP50': float(m_ap[0]),
                'mask_AP75': float(m_ap[5]), 'box_AP': float(b_ap.mean()), 'box_AP50': float(b_ap[0]),
                'detections_per_image': round(self.detections / max(1, self.images), 1)}
