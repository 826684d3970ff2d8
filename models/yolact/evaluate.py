#!/usr/bin/python3
"""Quick Python estimate of mask/box AP on emoji-COCO val for a YOLACT checkpoint, and a
predictions picture (score ≥ 0.1). The official numbers come from the TypeScript evaluator
(`npm run eval`); this one is for training logs.

    /usr/bin/python3 models/yolact/evaluate.py [--ckpt ...] [--size 550] [--limit 300]
        [--picture models/yolact/predictions.png]

Post-processing as MODELS.md §1: candidates with max foreground score > 0.05, per class
top 200, Fast NMS (IoU 0.5), first 100 by score; masks sigmoid(P·cᵀ) cropped to the box
(1 px padding in proto space), bilinear to the original size, > 0.5.
COCO-style AP: IoU 0.50:0.05:0.95, 101 recall points, maxDets 100, all areas, per category
then averaged over categories with GT.
"""
from __future__ import annotations

import argparse
import json
import os
import sys

import cv2
import numpy as np
import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from model import Yolact, YolactExport, make_priors  # noqa: E402
from loss import box_iou, crop_mask, decode  # noqa: E402
from data import EmojiCoco, class_index_of_category, preprocess  # noqa: E402

CONF_THRESH = 0.05
TOP_K = 200
NMS_IOU = 0.5
MAX_DET = 100
IOU_THRESHOLDS = np.linspace(0.5, 0.95, 10)
RECALL_POINTS = np.linspace(0, 1, 101)


def fast_nms(boxes, scores, coefs):
    """boxes [n,4], scores [n,80], coefs [n,32] → (boxes, class 0-based, score, coefs) kept."""
    scores = scores.t()                                   # [80, n]
    k = min(TOP_K, scores.shape[1])
    top, idx = scores.topk(k, dim=1)                      # [80, k]
    b = boxes[idx]                                        # [80, k, 4]
    lt = torch.max(b[:, :, None, :2], b[:, None, :, :2])
    rb = torch.min(b[:, :, None, 2:], b[:, None, :, 2:])
    inter = (rb - lt).clamp(min=0).prod(3)
    area = (b[..., 2:] - b[..., :2]).prod(2)
    iou = inter / (area[:, :, None] + area[:, None, :] - inter)
    iou = iou.triu(diagonal=1)
    keep = iou.max(1).values <= NMS_IOU                   # [80, k]
    classes = torch.arange(scores.shape[0])[:, None].expand_as(keep)
    boxes_k, cls_k, sc_k, co_k = b[keep], classes[keep], top[keep], coefs[idx[keep]]
    order = sc_k.argsort(descending=True)[:MAX_DET]
    return boxes_k[order], cls_k[order], sc_k[order], co_k[order]


@torch.no_grad()
def detect(export_model: YolactExport, rgb: np.ndarray, size: int):
    """RGB uint8 [H,W,3] → list of (class 0-based, score, box xyxy px, mask bool [H,W])."""
    h, w = rgb.shape[:2]
    loc, conf, coef, priors, proto = export_model(preprocess(rgb, size)[None])
    loc, conf, coef, proto = loc[0], conf[0], coef[0], proto[0]
    cand = conf[:, 1:].max(1).values > CONF_THRESH
    if not cand.any():
        return []
    boxes = decode(loc[cand], priors[cand])
    boxes, cls, score, co = fast_nms(boxes, conf[cand, 1:], coef[cand])
    if boxes.shape[0] == 0:
        return []
    m = torch.sigmoid(proto @ co.t())                     # [P, P, n]
    m = m * crop_mask(m, boxes)
    m = F.interpolate(m.permute(2, 0, 1)[None], size=(h, w), mode='bilinear', align_corners=False)[0] > 0.5
    scale = torch.tensor([w, h, w, h], dtype=torch.float32)
    bx = (boxes * scale)
    bx[:, 0::2] = bx[:, 0::2].clamp(0, w)
    bx[:, 1::2] = bx[:, 1::2].clamp(0, h)
    return [(int(cls[i]), float(score[i]), bx[i].tolist(), m[i].numpy()) for i in range(boxes.shape[0])]


def mask_iou(d: np.ndarray, g: np.ndarray) -> np.ndarray:
    """d [nd, HW] bool, g [ng, HW] bool → [nd, ng]."""
    df, gf = d.astype(np.float32), g.astype(np.float32)
    inter = df @ gf.T
    union = df.sum(1)[:, None] + gf.sum(1)[None, :] - inter
    return inter / np.maximum(union, 1)


def box_iou_np(d, g):
    return box_iou(torch.tensor(d, dtype=torch.float32).reshape(-1, 4),
                   torch.tensor(g, dtype=torch.float32).reshape(-1, 4)).numpy()


def average_precision(per_class: dict) -> np.ndarray:
    """per_class[c] = (list of (score, [T] matched flags), n_gt) → AP per threshold [T]."""
    aps = []
    for c, (dets, n_gt) in per_class.items():
        if n_gt == 0:
            continue
        ap_t = np.zeros(len(IOU_THRESHOLDS))
        if dets:
            dets = sorted(dets, key=lambda x: -x[0])
            tp = np.array([d[1] for d in dets], np.float64)          # [D, T]
            ctp = np.cumsum(tp, 0)
            cfp = np.cumsum(1 - tp, 0)
            for t in range(len(IOU_THRESHOLDS)):
                rec = ctp[:, t] / n_gt
                prec = ctp[:, t] / np.maximum(ctp[:, t] + cfp[:, t], 1e-9)
                prec = np.maximum.accumulate(prec[::-1])[::-1]
                idx = np.searchsorted(rec, RECALL_POINTS, side='left')
                q = np.where(idx < len(prec), prec[np.minimum(idx, len(prec) - 1)], 0)
                ap_t[t] = q.mean()
        aps.append(ap_t)
    return np.mean(aps, 0) if aps else np.zeros(len(IOU_THRESHOLDS))


def evaluate(model: Yolact, data_root: str, size: int, limit: int | None = None,
             split: str = 'val') -> dict:
    model.eval()
    ex = YolactExport(model, size).eval()
    ds = EmojiCoco(data_root, split, flip=False)
    cls_of = class_index_of_category()
    n = len(ds) if limit is None else min(limit, len(ds))
    mask_stats: dict = {c: ([], 0) for c in range(80)}
    box_stats: dict = {c: ([], 0) for c in range(80)}
    from generate import rle_decode
    for i in range(n):
        im, rgb = ds.load(i)
        dets = detect(ex, np.ascontiguousarray(rgb), size)
        anns = ds.anns[im['id']]
        for c in range(80):
            g = [a for a in anns if cls_of[a['category_id']] - 1 == c]
            d = [x for x in dets if x[0] == c]
            mask_stats[c] = (mask_stats[c][0], mask_stats[c][1] + len(g))
            box_stats[c] = (box_stats[c][0], box_stats[c][1] + len(g))
            if not d:
                continue
            if g:
                gm = np.stack([rle_decode(a['segmentation']).ravel() > 0 for a in g])
                dm = np.stack([x[3].ravel() for x in d])
                ious_m = mask_iou(dm, gm)
                gb = [[a['bbox'][0], a['bbox'][1], a['bbox'][0] + a['bbox'][2], a['bbox'][1] + a['bbox'][3]] for a in g]
                ious_b = box_iou_np([x[2] for x in d], gb)
            for stats, ious in ((mask_stats, ious_m if g else None), (box_stats, ious_b if g else None)):
                flags = np.zeros((len(d), len(IOU_THRESHOLDS)))
                if ious is not None:
                    for t, thr in enumerate(IOU_THRESHOLDS):
                        taken = np.zeros(len(g), bool)
                        for j in range(len(d)):  # d is sorted by score already
                            cand = np.where(~taken & (ious[j] >= thr), ious[j], -1)
                            if cand.max() >= thr:
                                k = int(cand.argmax())
                                taken[k] = True
                                flags[j, t] = 1
                stats[c][0].extend((x[1], flags[j]) for j, x in enumerate(d))
    m_ap = average_precision(mask_stats)
    b_ap = average_precision(box_stats)
    return {'images': n, 'size': size, 'mask_AP': float(m_ap.mean()), 'mask_AP50': float(m_ap[0]),
            'mask_AP75': float(m_ap[5]), 'box_AP': float(b_ap.mean()), 'box_AP50': float(b_ap[0])}


def palette(i: int) -> tuple[int, int, int]:
    rng = np.random.default_rng(i * 7919 + 13)
    return tuple(int(v) for v in rng.integers(60, 256, 3))


def predictions_picture(model: Yolact, data_root: str, size: int, out: str, count: int = 6,
                        score_thresh: float = 0.1, tile: int = 200):
    """Grid of val images with predicted masks, boxes and labels drawn with PIL."""
    from PIL import Image, ImageDraw
    ex = YolactExport(model, size).eval()
    ds = EmojiCoco(data_root, 'val', flip=False)
    names = [c['name'] for c in __import__('generate').load_categories()]
    tiles = []
    for i in range(count):
        im, rgb = ds.load(i + 1)
        rgb = np.ascontiguousarray(rgb)
        dets = [d for d in detect(ex, rgb, size) if d[1] >= score_thresh]
        canvas = rgb.astype(np.float32)
        for k, (c, s, box, m) in enumerate(dets):
            canvas[m] = canvas[m] * 0.45 + np.array(palette(k), np.float32) * 0.55
        img = Image.fromarray(canvas.astype(np.uint8))
        draw = ImageDraw.Draw(img)
        for k, (c, s, box, m) in enumerate(dets):
            draw.rectangle(box, outline=palette(k), width=2)
            draw.text((box[0] + 2, box[1] + 1), f'{names[c]} {s:.2f}', fill=(255, 255, 255))
        img.thumbnail((tile * 2, tile * 2))
        tiles.append(img.resize((tile * 2 * img.width // max(img.size), tile * 2 * img.height // max(img.size))))
    cols = 3
    rows = (len(tiles) + cols - 1) // cols
    grid = Image.new('RGB', (cols * tile * 2, rows * tile * 2), (30, 30, 30))
    for k, t in enumerate(tiles):
        grid.paste(t, ((k % cols) * tile * 2, (k // cols) * tile * 2))
    grid = grid.resize((grid.width // 2, grid.height // 2))
    grid.convert('P', palette=Image.ADAPTIVE, colors=128).save(out, optimize=True)  # small PNG


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--ckpt', default=os.path.join(HERE, 'checkpoints', 'latest.pt'))
    ap.add_argument('--data', default=os.path.join(HERE, '..', 'data', 'emoji-coco'))
    ap.add_argument('--size', type=int, default=550)
    ap.add_argument('--limit', type=int, default=None, help='first N images; 0 = no AP, picture only')
    ap.add_argument('--split', default='val', help="'dev' (generate.py --dev) for choosing between checkpoints")
    ap.add_argument('--weights', default='model', choices=['model', 'ema'],
                    help="a run's state.pt: its last weights or their moving average (train.py --ema)")
    ap.add_argument('--picture', default=None)
    args = ap.parse_args()
    torch.set_num_threads(2)
    from export import load_checkpoint
    model, ck = load_checkpoint(args.ckpt, args.weights)
    if args.picture:
        predictions_picture(model, args.data, args.size, args.picture)
        print('wrote', args.picture)
    if args.limit == 0:
        return
    res = evaluate(model, args.data, args.size, args.limit, split=args.split)
    res.update(step=ck.get('step'), split=args.split, weights=args.weights)
    print(json.dumps(res))


if __name__ == '__main__':
    main()
