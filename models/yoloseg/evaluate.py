#!/usr/bin/python3
"""Quick Python estimate of mask / box AP on emoji-COCO val for a YOLO-seg checkpoint, and a
predictions picture. Training logs use it; the official figures come from the TypeScript
evaluator (`npm run eval -- --model models/yoloseg/yoloseg-416.json --limit 100 --record`).

    /usr/bin/python3 models/yoloseg/evaluate.py [--ckpt ...] [--size 416] [--limit 100]
        [--picture models/yoloseg/predictions.png] [--picture-score 0.2]

Post-processing the Ultralytics way (MODELS.md §2): candidates with best class score >
conf (0.05 here, the manifest's candidate threshold), best class only, class-aware NMS at
IoU 0.7 (torchvision batched_nms), first 100 by score; masks = coefficients · protos,
cropped in proto space (x1 ≤ c < x2 with boxes × P/S), bilinear to the input size, > 0,
then the letterbox pad removed and resized to the original image (> 0.5).
AP: COCO-style, IoU 0.50:0.05:0.95, 101 recall points, per category then averaged over the
categories with ground truth, greedy matching by score.
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
import torchvision

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from model import YoloSeg, YoloSegExport  # noqa: E402
from data import (EmojiCoco, class_of_category, letterbox, letterbox_geometry, load_categories,  # noqa: E402
                  rle_decode, to_tensor)

CONF = 0.05
NMS_IOU = 0.7
MAX_DET = 100
THRESHOLDS = np.linspace(0.5, 0.95, 10)
RECALLS = np.linspace(0, 1, 101)


@torch.no_grad()
def detect(ex: YoloSegExport, rgb: np.ndarray, size: int, conf: float = CONF):
    """RGB uint8 [H, W, 3] → list of (class, score, box xyxy original px, mask bool [H, W])."""
    h0, w0 = rgb.shape[:2]
    img, (r, left, top) = letterbox(rgb, size)
    out0, protos = ex(to_tensor(img)[None])
    out0, protos = out0[0].t(), protos[0]                               # [N, 4+C+32], [32, P, P]
    nc = out0.shape[1] - 4 - protos.shape[0]
    score, cls = out0[:, 4:4 + nc].max(1)
    keep = score > conf
    if not keep.any():
        return []
    out0, score, cls = out0[keep], score[keep], cls[keep]
    xy, wh = out0[:, :2], out0[:, 2:4]
    boxes = torch.cat([xy - wh / 2, xy + wh / 2], 1)                    # [n, 4] input px
    k = torchvision.ops.batched_nms(boxes, score, cls, NMS_IOU)[:MAX_DET]
    boxes, score, cls, coef = boxes[k], score[k], cls[k], out0[k, 4 + nc:]
    p = protos.shape[-1]
    m = (coef @ protos.view(protos.shape[0], -1)).view(-1, p, p)        # [n, P, P] logits
    bp = boxes * (p / size)
    rr = torch.arange(p, dtype=torch.float32)
    crop = ((rr[None, None, :] >= bp[:, None, 0:1]) & (rr[None, None, :] < bp[:, None, 2:3]) &
            (rr[None, :, None] >= bp[:, None, 1:2]) & (rr[None, :, None] < bp[:, None, 3:4]))
    m = F.interpolate((m * crop)[None], size=(size, size), mode='bilinear', align_corners=False)[0] > 0
    _, w, h, _, _ = letterbox_geometry(h0, w0, size)
    m = m[:, top:top + h, left:left + w].float()
    m = F.interpolate(m[None], size=(h0, w0), mode='bilinear', align_corners=False)[0] > 0.5
    ob = boxes.clone()
    ob[:, 0::2] = ((ob[:, 0::2] - left) / r).clamp(0, w0)
    ob[:, 1::2] = ((ob[:, 1::2] - top) / r).clamp(0, h0)
    return [(int(cls[i]), float(score[i]), ob[i].tolist(), m[i].numpy()) for i in range(len(k))]


def iou_matrix_masks(d: np.ndarray, g: np.ndarray) -> np.ndarray:
    d, g = d.astype(np.float32), g.astype(np.float32)
    inter = d @ g.T
    return inter / np.maximum(d.sum(1)[:, None] + g.sum(1)[None] - inter, 1)


def iou_matrix_boxes(d, g) -> np.ndarray:
    return torchvision.ops.box_iou(torch.tensor(d, dtype=torch.float32).view(-1, 4),
                                   torch.tensor(g, dtype=torch.float32).view(-1, 4)).numpy()


def match_flags(ious: np.ndarray | None, nd: int) -> np.ndarray:
    """Greedy matching, detections in score order: [nd, T] true-positive flags."""
    flags = np.zeros((nd, len(THRESHOLDS)))
    if ious is None:
        return flags
    for t, thr in enumerate(THRESHOLDS):
        used = np.zeros(ious.shape[1], bool)
        for j in range(nd):
            cand = np.where(used, -1.0, ious[j])
            g = int(cand.argmax())
            if cand[g] >= thr:
                used[g] = True
                flags[j, t] = 1
    return flags


def ap_over_categories(stats: dict) -> np.ndarray:
    """stats[c] = [list of (score, flags [T]), n_gt] → mean AP over categories with GT, per threshold."""
    per_cat = []
    for dets, n_gt in stats.values():
        if n_gt == 0:
            continue
        ap = np.zeros(len(THRESHOLDS))
        if dets:
            dets.sort(key=lambda d: -d[0])
            tp = np.array([d[1] for d in dets])
            ctp, cfp = np.cumsum(tp, 0), np.cumsum(1 - tp, 0)
            for t in range(len(THRESHOLDS)):
                recall = ctp[:, t] / n_gt
                precision = np.maximum.accumulate((ctp[:, t] / (ctp[:, t] + cfp[:, t]))[::-1])[::-1]
                at = np.searchsorted(recall, RECALLS, side='left')
                ap[t] = np.where(at < len(precision), precision[np.minimum(at, len(precision) - 1)], 0).mean()
        per_cat.append(ap)
    return np.mean(per_cat, 0) if per_cat else np.zeros(len(THRESHOLDS))


def evaluate(model: YoloSeg, data_root: str, size: int, limit: int | None = None, split: str = 'val') -> dict:
    model.eval()
    ex = YoloSegExport(model, size).eval()
    ds = EmojiCoco(data_root, split, flip=False)
    cls_of = class_of_category()
    n = len(ds) if limit is None else min(limit, len(ds))
    mask_stats = {c: [[], 0] for c in range(80)}
    box_stats = {c: [[], 0] for c in range(80)}
    for i in range(n):
        im, rgb = ds.load(i)
        dets = detect(ex, rgb, size)
        anns = ds.anns[im['id']]
        for c in range(80):
            g = [a for a in anns if cls_of[a['category_id']] == c]
            d = [x for x in dets if x[0] == c]                         # already in score order
            mask_stats[c][1] += len(g)
            box_stats[c][1] += len(g)
            if not d:
                continue
            im_m = im_b = None
            if g:
                im_m = iou_matrix_masks(np.stack([x[3].ravel() for x in d]),
                                        np.stack([rle_decode(a['segmentation']).ravel() > 0 for a in g]))
                im_b = iou_matrix_boxes([x[2] for x in d], [[a['bbox'][0], a['bbox'][1], a['bbox'][0] + a['bbox'][2],
                                                             a['bbox'][1] + a['bbox'][3]] for a in g])
            fm, fb = match_flags(im_m, len(d)), match_flags(im_b, len(d))
            mask_stats[c][0].extend((x[1], fm[j]) for j, x in enumerate(d))
            box_stats[c][0].extend((x[1], fb[j]) for j, x in enumerate(d))
    m_ap, b_ap = ap_over_categories(mask_stats), ap_over_categories(box_stats)
    return {'images': n, 'size': size, 'mask_AP': float(m_ap.mean()), 'mask_AP50': float(m_ap[0]),
            'mask_AP75': float(m_ap[5]), 'box_AP': float(b_ap.mean()), 'box_AP50': float(b_ap[0])}


def colour(i: int) -> np.ndarray:
    return np.random.default_rng(1000 + 37 * i).integers(70, 256, 3).astype(np.float32)


def predictions_picture(model: YoloSeg, data_root: str, size: int, out: str, count: int = 6,
                        score_thresh: float = 0.1, side: int = 320):
    """A 3-column grid of val images with predicted masks, boxes and labels."""
    from PIL import Image, ImageDraw
    model.eval()
    ex = YoloSegExport(model, size).eval()
    ds = EmojiCoco(data_root, 'val', flip=False)
    names = [c['name'] for c in load_categories()]
    tiles = []
    for i in range(count):
        _, rgb = ds.load(i + 1)
        dets = [d for d in detect(ex, rgb, size) if d[1] >= score_thresh]
        canvas = rgb.astype(np.float32)
        for k, (_, _, _, m) in enumerate(dets):
            canvas[m] = canvas[m] * 0.4 + colour(k) * 0.6
        img = Image.fromarray(canvas.astype(np.uint8))
        draw = ImageDraw.Draw(img)
        for k, (c, s, box, _) in enumerate(dets):
            draw.rectangle(box, outline=tuple(int(v) for v in colour(k)), width=2)
            draw.text((box[0] + 2, box[1] + 1), f'{names[c]} {s:.2f}', fill=(255, 255, 255))
        img.thumbnail((side, side))
        tiles.append(img)
    cols = 3
    rows = (len(tiles) + cols - 1) // cols
    grid = Image.new('RGB', (cols * side, rows * side), (30, 30, 30))
    for k, t in enumerate(tiles):
        grid.paste(t, ((k % cols) * side, (k // cols) * side))
    grid.convert('P', palette=Image.ADAPTIVE, colors=128).save(out, optimize=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--ckpt', default=os.path.join(HERE, 'checkpoints', 'latest.pt'))
    ap.add_argument('--data', default=os.path.join(HERE, '..', 'data', 'emoji-coco'))
    ap.add_argument('--size', type=int, default=416)
    ap.add_argument('--limit', type=int, default=None, help='first N val images; 0 = picture only')
    ap.add_argument('--picture', default=None)
    ap.add_argument('--picture-score', type=float, default=0.1)
    args = ap.parse_args()
    torch.set_num_threads(1)
    from export import load_checkpoint
    model, ck = load_checkpoint(args.ckpt)
    if args.picture:
        predictions_picture(model, args.data, args.size, args.picture, score_thresh=args.picture_score)
        print('wrote', args.picture)
    if args.limit == 0:
        return
    res = evaluate(model, args.data, args.size, args.limit)
    res['step'] = ck.get('step')
    print(json.dumps(res))


if __name__ == '__main__':
    main()
