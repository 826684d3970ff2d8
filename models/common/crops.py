"""Object crops for pretraining a backbone as a classifier (our stand-in for ImageNet
pretraining; models/yolact/pretrain_backbone.py, models/centermask/pretrain_backbone.py).

Crops come from one split: each object's box, widened so the object fills a random 35–90 %
of the crop side (the detector sees objects with context, at many scales), jittered,
resized to crop x crop, padded with the image's mean colour outside the image."""
from __future__ import annotations

import json
import os

import cv2
import numpy as np

from emoji_coco import class_index_of_category


def build_crops(root: str, split: str, seed: int, crop: int, limit: int | None = None):
    """All non-crowd objects of a split → uint8 crops [n, crop, crop, 3] RGB, labels 0..79."""
    with open(os.path.join(root, 'annotations', f'instances_{split}.json')) as f:
        coco = json.load(f)
    cls = class_index_of_category()
    by_image: dict[int, list] = {}
    for a in coco['annotations']:
        if not a['iscrowd']:
            by_image.setdefault(a['image_id'], []).append(a)
    rng = np.random.default_rng(seed)
    crops, labels = [], []
    images = coco['images'][:limit] if limit else coco['images']
    for im in images:
        anns = by_image.get(im['id'], [])
        if not anns:
            continue
        bgr = cv2.imread(os.path.join(root, split, im['file_name']), cv2.IMREAD_COLOR)
        rgb = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
        h, w = rgb.shape[:2]
        mean_colour = np.array(cv2.mean(rgb)[:3]).astype(np.uint8)  # once an image, not once an object
        for a in anns:
            bx, by, bw, bh = a['bbox']
            side = max(bw, bh) / rng.uniform(0.35, 0.9)
            cx = bx + bw / 2 + rng.uniform(-0.15, 0.15) * side
            cy = by + bh / 2 + rng.uniform(-0.15, 0.15) * side
            x1, y1 = int(round(cx - side / 2)), int(round(cy - side / 2))
            s = max(2, int(round(side)))
            # pad with the image's mean colour where the crop leaves the image
            canvas = np.empty((s, s, 3), np.uint8)
            canvas[:] = mean_colour
            sx1, sy1, sx2, sy2 = max(0, x1), max(0, y1), min(w, x1 + s), min(h, y1 + s)
            if sx2 > sx1 and sy2 > sy1:
                canvas[sy1 - y1:sy2 - y1, sx1 - x1:sx2 - x1] = rgb[sy1:sy2, sx1:sx2]
            interp = cv2.INTER_AREA if s > crop else cv2.INTER_LINEAR
            crops.append(cv2.resize(canvas, (crop, crop), interpolation=interp))
            labels.append(cls[a['category_id']] - 1)
    return np.stack(crops), np.array(labels, np.int64)
