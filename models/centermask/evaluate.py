#!/usr/bin/python3
"""The CenterMask inference of the app's interface in Python (torch ops on the CPU), a quick
COCO-style mask/box AP on emoji-COCO val (models/common/coco_eval.py) and a predictions
picture. The app's WGSL kernels implement the same steps; this is their reference.

    /usr/bin/python3 models/centermask/evaluate.py [--ckpt models/centermask/checkpoints/latest.pt]
        [--limit 100] [--picture models/centermask/predictions.png] [--out results.jsonl]

Steps (input 512x512 stretched; boxes in input pixels until the paste):
1. detector → p3, p4, p5, per level P3..P7 cls logits [K,H,W], box ltrb px [4,H,W], ctr logits [1,H,W];
2. per level: sigmoid of cls and ctr; candidates cls > 0.05; top min(#, 1000) by cls·ctr;
   location (x·s + s//2, y·s + s//2); box (lx − l, ly − t, lx + r, ly + b) clipped to [0, 512];
   score sqrt(cls·ctr);
3. all levels together: class-aware NMS IoU 0.6 (greedy, by score), keep the first 50;
4. RoI level (Equation 2) k = ceil(5 − log2(512·512 / box area)) in [3, 5]; RoIAlign 14x14
   (aligned=True, sampling 2) on P_k; mask head → mask logits [K,28,28] and mask IoU [K];
   the detected class's 28x28 sigmoid; mask score = score · maskiou[class];
5. boxes scaled to the original image; paste as detectron2 (pixel centre (px + 0.5 − x0) /
   (x1 − x0) · 28 − 0.5, bilinear, zero outside the 28x28 grid); threshold ≥ 0.5.
Mask AP ranks by the mask score, box AP by the detector's score.
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
from paste import paste_mask  # noqa: E402,F401
from emoji_coco import EmojiCoco, class_index_of_category, load_categories, preprocess, rle_decode  # noqa: E402
from loss import pool_rois  # noqa: E402
from model import STRIDES, CenterMask, DetectorExport  # noqa: E402

SIZE = 512
CANDIDATE_THRESH, PRE_NMS, NMS_IOU, MAX_DET = 0.05, 1000, 0.6, 50
MASK_THRESH = 0.5


def decode(cls_l: list, box_l: list, ctr_l: list, size: int = SIZE):
    """Per-level outputs of one image (cls [K,H,W] logits, box [4,H,W] px, ctr [1,H,W] logits)
    → boxes [D,4], scores [D], classes [D] after NMS, score-sorted."""
    boxes, scores, classes = [], [], []
    for cls, box, ctr, s in zip(cls_l, box_l, ctr_l, STRIDES):
        k, h, w = cls.shape
        p = torch.sigmoid(cls).reshape(k, -1)                                # [K, HW]
        c = torch.sigmoid(ctr).reshape(-1)                                   # [HW]
        cand = p > CANDIDATE_THRESH
        if not cand.any():
            continue
        cl, loc = torch.where(cand)
        rank = p[cl, loc] * c[loc]
        top = rank.topk(min(PRE_NMS, rank.numel())).indices
        cl, loc, rank = cl[top], loc[top], rank[top]
        pts = torch.stack([(loc % w) * s + s // 2, torch.div(loc, w, rounding_mode='floor') * s + s // 2], 1).float()
        ltrb = box.reshape(4, -1)[:, loc].t()
        b = torch.stack([pts[:, 0] - ltrb[:, 0], pts[:, 1] - ltrb[:, 1], pts[:, 0] + ltrb[:, 2], pts[:, 1] + ltrb[:, 3]], 1)
        boxes.append(b.clamp(0, size))
        scores.append(torch.sqrt(rank))
        classes.append(cl)
    if not boxes:
        return torch.zeros(0, 4), torch.zeros(0), torch.zeros(0, dtype=torch.long)
    boxes, scores, classes = torch.cat(boxes), torch.cat(scores), torch.cat(classes)
    keep = batched_nms(boxes, scores, classes, NMS_IOU)[:MAX_DET]
    return boxes[keep], scores[keep], classes[keep]


@torch.no_grad()
def detect(model: CenterMask, rgb: np.ndarray):
    """RGB uint8 [H, W, 3] → list of (class 0-based, score, box xyxy original px, mask bool [H, W], mask score)."""
    h, w = rgb.shape[:2]
    x = preprocess(rgb, SIZE)[None]
    outs = DetectorExport(model)(x)
    feats = list(outs[:3])
    n = len(STRIDES)
    cls_l = [o[0] for o in outs[3:3 + n]]
    box_l = [o[0] for o in outs[3 + n:3 + 2 * n]]
    ctr_l = [o[0] for o in outs[3 + 2 * n:]]
    boxes, scores, classes = decode(cls_l, box_l, ctr_l)
    if boxes.shape[0] == 0:
        return []
    mask_logits, mask_iou = model.mask_head(pool_rois(feats, [boxes], float(SIZE * SIZE)))
    idx = torch.arange(boxes.shape[0])
    probs = torch.sigmoid(mask_logits[idx, classes])
    mask_scores = scores * mask_iou[idx, classes]
    ob = boxes * torch.tensor([w / SIZE, h / SIZE, w / SIZE, h / SIZE])
    out = []
    for i in range(boxes.shape[0]):
        m = paste_mask(probs[i], ob[i], h, w) >= MASK_THRESH
        out.append((int(classes[i]), float(scores[i]), ob[i].tolist(), m.numpy(), float(mask_scores[i])))
    return out


def evaluate(model: CenterMask, data_root: str, limit: int | None = None, split: str = 'val') -> dict:
    model.eval()
    ds = EmojiCoco(data_root, split, flip=False)
    cls_of = class_index_of_category()
    n = len(ds) if limit is None else min(limit, len(ds))
    acc = CocoAP()
    for i in range(n):
        im, rgb = ds.load(i)
        dets = detect(model, np.ascontiguousarray(rgb))
        anns = [a for a in ds.anns[im['id']] if a['iscrowd'] == 0]
        gts = [(cls_of[a['category_id']] - 1,
                [a['bbox'][0], a['bbox'][1], a['bbox'][0] + a['bbox'][2], a['bbox'][1] + a['bbox'][3]],
                rle_decode(a['segmentation']) > 0) for a in anns]
        acc.add(dets, gts)
    return {'size': SIZE, 'split': split, **acc.summary()}


def predictions_picture(model: CenterMask, data_root: str, out: str, count: int = 6, score_thresh: float = 0.3,
                        tile: int = 200, split: str = 'val', first: int = 1):
    from PIL import Image, ImageDraw
    ds = EmojiCoco(data_root, split, flip=False)
    names = [c['name'] for c in load_categories()]
    tiles = []
    for i in range(count):
        _, rgb = ds.load(i + first)
        rgb = np.ascontiguousarray(rgb)
        dets = [d for d in detect(model, rgb) if d[1] >= score_thresh]
        canvas = rgb.astype(np.float32)
        for k, d in enumerate(dets):
            rng = np.random.default_rng(k * 7919 + 13)
            canvas[d[3]] = canvas[d[3]] * 0.45 + rng.integers(60, 256, 3).astype(np.float32) * 0.55
        img = Image.fromarray(canvas.astype(np.uint8))
        draw = ImageDraw.Draw(img)
        for c, s, box, _, ms in dets:
            draw.rectangle(box, outline=(255, 255, 0), width=2)
            draw.text((box[0] + 2, box[1] + 1), f'{names[c]} {s:.2f}/{ms:.2f}', fill=(255, 255, 255))
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
    ap.add_argument('--data', default=os.path.join(HERE, '..', 'data', 'emoji-coco'))
    ap.add_argument('--split', default='val')
    ap.add_argument('--limit', type=int, default=None, help='first N images; 0 = picture only')
    ap.add_argument('--picture', default=None)
    ap.add_argument('--threads', type=int, default=1)
    ap.add_argument('--out', default=None, help='append the JSON results to this file')
    ap.add_argument('--record', action='store_true',
                    help='write accuracy.json (keyed by the ONNX parts\' sha256s; the checkpoint must be the one exported)')
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    from export import load_checkpoint
    model, ck = load_checkpoint(args.ckpt)
    if args.picture:
        predictions_picture(model, args.data, args.picture, split=args.split)
        print('wrote', args.picture)
    if args.limit == 0:
        return
    res = evaluate(model, args.data, args.limit, args.split)
    res.update(ckpt=os.path.relpath(args.ckpt), step=ck.get('step'))
    print(json.dumps(res), flush=True)
    if args.out:
        with open(args.out, 'a') as f:
            f.write(json.dumps(res) + '\n')
    if args.record:
        record(model, res, ' '.join(['/usr/bin/python3', 'models/centermask/evaluate.py'] + sys.argv[1:]))


def record(model: CenterMask, res: dict, command: str):
    """accuracy.json in the format of scripts/eval.ts --record: onnxSha256 = sha256 of the parts'
    hex digests joined (detector, mask head), partsSha256 by url. Only when the ONNX files on
    disk are exactly this checkpoint's export."""
    import datetime
    import hashlib
    from export import STEM, export_parts
    parts = export_parts(model)
    urls = [f'models/centermask/{STEM}.onnx', f'models/centermask/{STEM}-mask-head.onnx']
    digests = {}
    for url, data in zip(urls, (parts['detector'], parts['mask'])):
        with open(os.path.join(HERE, os.path.basename(url)), 'rb') as f:
            on_disk = hashlib.sha256(f.read()).hexdigest()
        if on_disk != hashlib.sha256(data).hexdigest():
            raise SystemExit(f'{url} is not the export of this checkpoint: run export.py first')
        digests[url] = on_disk
    entry = {
        'onnxSha256': hashlib.sha256(''.join(digests.values()).encode()).hexdigest(),
        'partsSha256': digests,
        'split': res['split'], 'images': res['images'],
        'maskAP': res['mask_AP'], 'maskAP50': res['mask_AP50'], 'maskAP75': res['mask_AP75'], 'boxAP': res['box_AP'],
        'nms': 'greedy', 'scoreThreshold': CANDIDATE_THRESH,
        'evaluator': 'models/centermask/evaluate.py (Python reference of the interface, torch ops)',
        'step': res.get('step'),
        'command': command,
        'date': datetime.datetime.utcnow().isoformat(timespec='milliseconds') + 'Z',
    }
    with open(os.path.join(HERE, 'accuracy.json'), 'w') as f:
        json.dump({STEM: entry}, f, indent=1)
        f.write('\n')
    print('wrote', os.path.join(HERE, 'accuracy.json'))


if __name__ == '__main__':
    main()
