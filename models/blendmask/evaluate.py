#!/usr/bin/python3
"""BlendMask / B2Inst inference of the exported interface in Python (torch ops, CPU) and a
quick COCO-style mask / box AP on emoji-COCO val (models/common/coco_eval.py). The app's
`npm run eval` is the measurement of record; this is its reference and a quick estimate.

    /usr/bin/python3 models/blendmask/evaluate.py --variant b2inst [--ckpt ...] [--limit 100]
        [--score sqrt|product|cls]

Steps (input 512x512 stretched; boxes in input pixels until the paste):
1. detector → bases [K',128,128], per level P3..P7 logits, bbox_reg (px), centerness, top_feats;
2. per level: sigmoid; candidates cls > 0.05; top min(#, 1000) by cls·ctr; box
   (lx − l, ly − t, lx + r, ly + b) clipped; s_cls = sqrt(cls·ctr); the location's top_feats row;
3. class-aware NMS 0.6, keep 100;
4. blender: RoIAlign (aligned, sampling 1, 1/4) of the bases → [N,K',56,56]; attention
   [N,K',14,14] bilinear → 56, softmax over K', Σ → logits; sigmoid;
5. B2Inst: scoring head on (probs, clamp(Laplacian(probs), 0), RoI'd bases) → S_IoU, S_boundary;
   mask score = s_cls·sqrt(S_IoU·S_boundary) ('sqrt'), s_cls·S_IoU·S_boundary ('product') or s_cls;
6. paste as detectron2 (models/common/paste.py), threshold ≥ 0.5.
Mask AP ranks by the mask score, box AP by s_cls.
"""
from __future__ import annotations

import argparse
import json
import os
import sys

import numpy as np
import torch
from torchvision.ops import batched_nms

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, '..', 'common'))
from coco_eval import CocoAP  # noqa: E402
from emoji_coco import EmojiCoco, class_index_of_category, preprocess, rle_decode  # noqa: E402
from paste import paste_mask  # noqa: E402
from model import ATTN_SIZE, STRIDES, BlendMask, blend, final_score, laplacian, roi_bases  # noqa: E402

SIZE = 512
CANDIDATE_THRESH, PRE_NMS, NMS_IOU, MAX_DET = 0.05, 1000, 0.6, 100
MASK_THRESH = 0.5


def decode(outs: list, size: int = SIZE):
    """Per level (logits [1,K,H,W], bbox_reg [1,4,H,W], centerness [1,1,H,W], top_feats [1,A,H,W])
    → boxes [D,4], s_cls [D], classes [D], attentions [D,A] after NMS, score-sorted."""
    boxes, scores, classes, attns = [], [], [], []
    for (cls, box, ctr, top), s in zip(outs, STRIDES):
        k, h, w = cls.shape[1:]
        p = torch.sigmoid(cls[0]).reshape(k, -1)
        c = torch.sigmoid(ctr[0]).reshape(-1)
        cl, loc = torch.where(p > CANDIDATE_THRESH)
        if cl.numel() == 0:
            continue
        rank = p[cl, loc] * c[loc]
        top_i = rank.topk(min(PRE_NMS, rank.numel())).indices
        cl, loc, rank = cl[top_i], loc[top_i], rank[top_i]
        pts = torch.stack([(loc % w) * s + s // 2, torch.div(loc, w, rounding_mode='floor') * s + s // 2], 1).float()
        ltrb = box[0].reshape(4, -1)[:, loc].t()
        b = torch.stack([pts[:, 0] - ltrb[:, 0], pts[:, 1] - ltrb[:, 1], pts[:, 0] + ltrb[:, 2], pts[:, 1] + ltrb[:, 3]], 1)
        boxes.append(b.clamp(0, size))
        scores.append(torch.sqrt(rank))
        classes.append(cl)
        attns.append(top[0].reshape(top.shape[1], -1)[:, loc].t())
    if not boxes:
        return torch.zeros(0, 4), torch.zeros(0), torch.zeros(0, dtype=torch.long), torch.zeros(0, 1)
    boxes, scores, classes, attns = torch.cat(boxes), torch.cat(scores), torch.cat(classes), torch.cat(attns)
    keep = batched_nms(boxes, scores, classes, NMS_IOU)[:MAX_DET]
    return boxes[keep], scores[keep], classes[keep], attns[keep]


@torch.no_grad()
def detect(model: BlendMask, rgb: np.ndarray, score_mode: str = 'sqrt'):
    """RGB uint8 [H, W, 3] → list of (class 0-based, s_cls, box xyxy original px, mask bool [H, W], mask score)."""
    h, w = rgb.shape[:2]
    bases, outs = model(preprocess(rgb, SIZE)[None])
    boxes, scores, classes, attns = decode(outs)
    if boxes.shape[0] == 0:
        return []
    k = model.n_bases
    pooled = roi_bases(bases, torch.cat([torch.zeros(boxes.shape[0], 1), boxes], 1))
    probs = torch.sigmoid(blend(pooled, attns.reshape(-1, k, ATTN_SIZE, ATTN_SIZE)))
    if model.b2inst:
        q = torch.sigmoid(model.scoring(probs[:, None], laplacian(probs[:, None]), pooled))
        mask_scores = final_score(scores, q[:, 0], q[:, 1], score_mode)
    else:
        mask_scores = scores
    ob = boxes * torch.tensor([w / SIZE, h / SIZE, w / SIZE, h / SIZE])
    return [(int(classes[i]), float(scores[i]), ob[i].tolist(), (paste_mask(probs[i], ob[i], h, w) >= MASK_THRESH).numpy(),
             float(mask_scores[i])) for i in range(boxes.shape[0])]


def evaluate(model: BlendMask, data_root: str, limit: int | None = None, split: str = 'val',
             score_mode: str = 'sqrt') -> dict:
    model.eval()
    ds = EmojiCoco(data_root, split, flip=False)
    cls_of = class_index_of_category()
    n = len(ds) if limit is None else min(limit, len(ds))
    acc = CocoAP()
    for i in range(n):
        im, rgb = ds.load(i)
        dets = detect(model, np.ascontiguousarray(rgb), score_mode)
        gts = [(cls_of[a['category_id']] - 1,
                [a['bbox'][0], a['bbox'][1], a['bbox'][0] + a['bbox'][2], a['bbox'][1] + a['bbox'][3]],
                rle_decode(a['segmentation']) > 0) for a in ds.anns[im['id']] if a['iscrowd'] == 0]
        acc.add(dets, gts)
    return {'size': SIZE, 'split': split, 'score': score_mode if model.b2inst else 'cls', **acc.summary()}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--variant', choices=('blendmask', 'b2inst'), required=True)
    ap.add_argument('--ckpt', default=None)
    ap.add_argument('--data', default=os.path.join(HERE, '..', 'data', 'emoji-coco'))
    ap.add_argument('--split', default='val')
    ap.add_argument('--limit', type=int, default=None)
    ap.add_argument('--score', choices=('sqrt', 'product', 'cls'), default='sqrt')
    ap.add_argument('--threads', type=int, default=1)
    ap.add_argument('--out', default=None, help='append the JSON results to this file')
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    from export import load_checkpoint
    ckpt = args.ckpt or os.path.join(HERE, 'checkpoints', f'latest-{args.variant}.pt')
    model, ck = load_checkpoint(ckpt)
    res = evaluate(model, args.data, args.limit, args.split, args.score)
    res.update(ckpt=os.path.relpath(ckpt), step=ck.get('step'))
    print(json.dumps(res), flush=True)
    if args.out:
        with open(args.out, 'a') as f:
            f.write(json.dumps(res) + '\n')


if __name__ == '__main__':
    main()
