#!/usr/bin/python3
"""The full Mask R-CNN inference of the TwoStageConfig contract in Python (torch ops on
the CPU), a quick COCO-style mask/box AP on emoji-COCO val, and a predictions picture.
The app's WGSL kernels implement the same steps; this is their Python counterpart.

    /usr/bin/python3 models/maskrcnn/evaluate.py [--ckpt models/maskrcnn/checkpoints/latest.pt]
        [--pooler align|pool] [--limit 300] [--picture models/maskrcnn/predictions.png]
    /usr/bin/python3 models/maskrcnn/evaluate.py --poolers align,pool --limit 300   # the paper's comparison

Steps (input 512x512 stretched; boxes in input pixels until the paste):
1. backbone → P2..P5, objectness [A_total] logits, rpn deltas [A_total, 4];
2. per level P2..P6: top 1000 by logit, decode (BoxCoder 1,1,1,1; dw, dh ≤ log(1000/16)),
   sigmoid, clip to the input, drop sides < 1e-3, NMS 0.7; then top 500 overall by score;
3. RoI level floor(4 + log2(√area/224 + 1e-6)) in [2, 5], RoIAlign 7x7 (aligned, sampling 2)
   or RoIPool 7x7; box head; decode per class (10, 10, 5, 5, same clamp); softmax; clip;
   drop background; score > 0.05; sides ≥ 0.01; per class top 200 then NMS 0.5; first 100;
4. RoIAlign/RoIPool 14x14 on the final boxes; mask head; the predicted class's 28x28
   logits, sigmoid; boxes scaled to the original image; paste with padding 1 exactly as
   torchvision's paste_masks_in_image; threshold 0.5.
COCO-style AP: IoU 0.50:0.05:0.95, 101 recall points, maxDets 100, all areas, per category
then averaged over categories with GT.
"""
from __future__ import annotations

import argparse
import json
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F
from torchvision.ops import batched_nms

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from model import MASK_POOL, BOX_POOL, BackboneExport, MaskRCNN, make_anchors  # noqa: E402
from loss import BOX_WEIGHTS, decode, level_counts_of, pool_rois, rpn_proposals  # noqa: E402
from data import EmojiCoco, class_index_of_category, preprocess, rle_decode, load_categories  # noqa: E402
sys.path.insert(0, os.path.join(HERE, '..', 'common'))
from coco_eval import (IOU_THRESHOLDS, RECALL_POINTS, CocoAP, average_precision, greedy_flags,  # noqa: E402,F401
                       mask_iou)

SIZE = 512
PRE_NMS, POST_NMS, RPN_NMS = 1000, 500, 0.7
SCORE_THRESH, MIN_SIDE, NMS_IOU, TOP_K, MAX_DET = 0.05, 0.01, 0.5, 200, 100
MASK_THRESH = 0.5


def paste_mask(mask: torch.Tensor, box: torch.Tensor, im_h: int, im_w: int) -> torch.Tensor:
    """One 28x28 probability map into the image, torchvision paste_masks_in_image (padding 1):
    pad to 30x30, expand the box about its centre by 30/28, truncate to int, w = x2 − x1 + 1,
    bilinear (align_corners False) to (h, w), write the inclusive region clipped to the image."""
    m = mask.shape[-1]
    padded = F.pad(mask[None, None], (1, 1, 1, 1))                      # [1, 1, 30, 30]
    scale = (m + 2) / m
    cx, cy = (box[0] + box[2]) * 0.5, (box[1] + box[3]) * 0.5
    hw, hh = (box[2] - box[0]) * 0.5 * scale, (box[3] - box[1]) * 0.5 * scale
    x1, y1, x2, y2 = (int(v) for v in torch.stack([cx - hw, cy - hh, cx + hw, cy + hh]).tolist())  # trunc toward 0
    w, h = max(x2 - x1 + 1, 1), max(y2 - y1 + 1, 1)
    res = F.interpolate(padded, size=(h, w), mode='bilinear', align_corners=False)[0, 0]
    out = torch.zeros(im_h, im_w)
    xa, xb = max(x1, 0), min(x2 + 1, im_w)
    ya, yb = max(y1, 0), min(y2 + 1, im_h)
    if xb > xa and yb > ya:
        out[ya:yb, xa:xb] = res[ya - y1:yb - y1, xa - x1:xb - x1]
    return out


@torch.no_grad()
def detect(model: MaskRCNN, rgb: np.ndarray, pooler: str = 'align', anchors: torch.Tensor | None = None):
    """RGB uint8 [H, W, 3] → list of (class 0-based, score, box xyxy original px, mask bool [H, W])."""
    h, w = rgb.shape[:2]
    x = preprocess(rgb, SIZE)[None]
    p2, p3, p4, p5, objectness, deltas = BackboneExport(model)(x)
    feats = [p2, p3, p4, p5]
    anchors = make_anchors(SIZE) if anchors is None else anchors
    boxes, _ = rpn_proposals(objectness, deltas, anchors, level_counts_of(SIZE), SIZE, PRE_NMS, POST_NMS, RPN_NMS)[0]
    if boxes.shape[0] == 0:
        return []
    class_logits, box_deltas = model.box_head(pool_rois(feats, [boxes], BOX_POOL, pooler))
    k = class_logits.shape[1]
    cand = decode(box_deltas.reshape(-1, k, 4).transpose(0, 1), boxes, BOX_WEIGHTS)   # [K+1, R, 4]
    cand = cand.clamp(0, SIZE)[1:]                                                     # drop background
    scores = F.softmax(class_logits, -1).t()[1:]                                       # [K, R]
    cls = torch.arange(k - 1)[:, None].expand_as(scores)
    keep = (scores > SCORE_THRESH) & ((cand[..., 2] - cand[..., 0]) >= MIN_SIDE) & ((cand[..., 3] - cand[..., 1]) >= MIN_SIDE)
    # per class top TOP_K by score (the app's per-class top-k), then per-class NMS
    sc = torch.where(keep, scores, torch.full_like(scores, -1.0))
    top, idx = sc.topk(min(TOP_K, sc.shape[1]), dim=1)
    ok = top > 0
    rows = cls[:, :idx.shape[1]][ok]
    b, s = cand[rows, idx[ok]], top[ok]
    if b.shape[0] == 0:
        return []
    kept = batched_nms(b, s, rows, NMS_IOU)[:MAX_DET]
    b, s, c = b[kept], s[kept], rows[kept]
    mask_logits = model.mask_head(pool_rois(feats, [b], MASK_POOL, pooler))            # [N, 81, 28, 28]
    probs = torch.sigmoid(mask_logits[torch.arange(b.shape[0]), c + 1])
    ob = b * torch.tensor([w / SIZE, h / SIZE, w / SIZE, h / SIZE])
    out = []
    for i in range(b.shape[0]):
        m = paste_mask(probs[i], ob[i], h, w) > MASK_THRESH
        out.append((int(c[i]), float(s[i]), ob[i].tolist(), m.numpy()))
    return out


def evaluate(model: MaskRCNN, data_root: str, limit: int | None = None, pooler: str = 'align',
             split: str = 'val') -> dict:
    model.eval()
    ds = EmojiCoco(data_root, split, flip=False)
    cls_of = class_index_of_category()
    anchors = make_anchors(SIZE)
    n = len(ds) if limit is None else min(limit, len(ds))
    acc = CocoAP()
    for i in range(n):
        im, rgb = ds.load(i)
        dets = detect(model, np.ascontiguousarray(rgb), pooler, anchors)
        anns = [a for a in ds.anns[im['id']] if a['iscrowd'] == 0]
        gts = [(cls_of[a['category_id']] - 1,
                [a['bbox'][0], a['bbox'][1], a['bbox'][0] + a['bbox'][2], a['bbox'][1] + a['bbox'][3]],
                rle_decode(a['segmentation']) > 0) for a in anns]
        acc.add([(c, s, b, m, s) for c, s, b, m in dets], gts)
    return {'size': SIZE, 'pooler': pooler, **acc.summary()}


def palette(i: int) -> tuple[int, int, int]:
    rng = np.random.default_rng(i * 7919 + 13)
    return tuple(int(v) for v in rng.integers(60, 256, 3))


def predictions_picture(model: MaskRCNN, data_root: str, out: str, pooler: str = 'align', count: int = 6,
                        score_thresh: float = 0.3, tile: int = 200, split: str = 'val', first: int = 1):
    """Grid of val images with predicted masks, boxes and labels (score ≥ score_thresh)."""
    from PIL import Image, ImageDraw
    ds = EmojiCoco(data_root, split, flip=False)
    names = [c['name'] for c in load_categories()]
    tiles = []
    for i in range(count):
        _, rgb = ds.load(i + first)
        rgb = np.ascontiguousarray(rgb)
        dets = [d for d in detect(model, rgb, pooler) if d[1] >= score_thresh]
        canvas = rgb.astype(np.float32)
        for k, (c, s, box, m) in enumerate(dets):
            canvas[m] = canvas[m] * 0.45 + np.array(palette(k), np.float32) * 0.55
        img = Image.fromarray(canvas.astype(np.uint8))
        draw = ImageDraw.Draw(img)
        for k, (c, s, box, m) in enumerate(dets):
            draw.rectangle(box, outline=palette(k), width=2)
            draw.text((box[0] + 2, box[1] + 1), f'{names[c]} {s:.2f}', fill=(255, 255, 255))
        scale = tile * 2 / max(img.size)
        tiles.append(img.resize((int(img.width * scale), int(img.height * scale))))
    cols = 3
    rows = (len(tiles) + cols - 1) // cols
    grid = Image.new('RGB', (cols * tile * 2, rows * tile * 2), (30, 30, 30))
    for k, t in enumerate(tiles):
        grid.paste(t, ((k % cols) * tile * 2, (k // cols) * tile * 2))
    grid = grid.resize((grid.width // 2, grid.height // 2))
    grid.convert('P', palette=Image.ADAPTIVE, colors=128).save(out, optimize=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--ckpt', default=os.path.join(HERE, 'checkpoints', 'latest.pt'))
    ap.add_argument('--pool-ckpt', default=None, help='weights for --pooler pool (default: --ckpt)')
    ap.add_argument('--data', default=os.path.join(HERE, '..', 'data', 'emoji-coco'))
    ap.add_argument('--poolers', '--pooler', default='align', help='align, pool or align,pool')
    ap.add_argument('--split', default='val')
    ap.add_argument('--limit', type=int, default=None, help='first N val images; 0 = picture only')
    ap.add_argument('--picture', default=None)
    ap.add_argument('--picture-score', type=float, default=0.3, help='drawn detections: score ≥ this')
    ap.add_argument('--threads', type=int, default=1)
    ap.add_argument('--out', default=None, help='append the JSON results to this file')
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    from export import load_checkpoint
    for pooler in args.poolers.split(','):
        path = args.pool_ckpt if pooler == 'pool' and args.pool_ckpt else args.ckpt
        model, ck = load_checkpoint(path)
        if args.picture and pooler == args.poolers.split(',')[0]:
            predictions_picture(model, args.data, args.picture, pooler, score_thresh=args.picture_score,
                                split=args.split, first=1 if args.split == 'val' else 0)
            print('wrote', args.picture)
        if args.limit == 0:
            continue
        res = evaluate(model, args.data, args.limit, pooler, args.split)
        res.update(ckpt=os.path.relpath(path), step=ck.get('step'), prior_steps=ck.get('prior_steps'))
        print(json.dumps(res), flush=True)
        if args.out:
            with open(args.out, 'a') as f:
                f.write(json.dumps(res) + '\n')


if __name__ == '__main__':
    main()
