"""emoji-COCO loader shared by the two-stage recipes (models/maskrcnn, models/centermask):
COCO JSON + JPEGs → stretched square input (x/255, then (x − mean)/std with ImageNet's
mean/std, as the manifests say), GT boxes xyxy in input pixels, class labels 1..80 (order of
shared/emoji-coco.json, 0 = background), GT masks at input resolution; a multi-scale batch
sampler and the collate function."""
from __future__ import annotations

import json
import os
import sys

import cv2
import numpy as np
import torch

cv2.setNumThreads(1)  # data loading runs beside training on 2 shared cores

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', 'dataset'))
from generate import load_categories, rle_decode  # noqa: E402,F401

MEAN_RGB = (0.485, 0.456, 0.406)       # after x · 1/255
STD_RGB = (0.229, 0.224, 0.225)
MEAN = np.array(MEAN_RGB, np.float32)
STD = np.array(STD_RGB, np.float32)


def class_index_of_category() -> dict[int, int]:
    """COCO category id → class index 1..80 (0 is background)."""
    return {c['id']: i + 1 for i, c in enumerate(load_categories())}


def preprocess(rgb: np.ndarray, size: int) -> torch.Tensor:
    """RGB uint8 [H, W, 3] → [3, size, size] float: stretched, x/255, (x − mean)/std."""
    x = cv2.resize(rgb, (size, size), interpolation=cv2.INTER_LINEAR).astype(np.float32) / 255.0
    x = (x - MEAN) / STD
    return torch.from_numpy(x.transpose(2, 0, 1).copy())


class EmojiCoco(torch.utils.data.Dataset):
    def __init__(self, root: str, split: str, flip: bool = True):
        with open(os.path.join(root, 'annotations', f'instances_{split}.json')) as f:
            coco = json.load(f)
        self.dir = os.path.join(root, split)
        self.images = coco['images']
        self.anns: dict[int, list] = {im['id']: [] for im in self.images}
        for a in coco['annotations']:
            self.anns[a['image_id']].append(a)
        self.cls = class_index_of_category()
        self.flip = flip
        self.size = 384

    def __len__(self):
        return len(self.images)

    def load(self, idx: int):
        im = self.images[idx]
        bgr = cv2.imread(os.path.join(self.dir, im['file_name']), cv2.IMREAD_COLOR)
        return im, bgr[..., ::-1]

    def __getitem__(self, item):
        """→ x [3,S,S], boxes [n,4] xyxy input px, labels [n] 1..80, masks [n,S,S] uint8."""
        idx, size = item if isinstance(item, tuple) else (item, self.size)
        im, rgb = self.load(idx)
        h, w = rgb.shape[:2]
        anns = [a for a in self.anns[im['id']] if a['iscrowd'] == 0]
        flip = self.flip and np.random.random() < 0.5
        if flip:
            rgb = rgb[:, ::-1]
        x = preprocess(np.ascontiguousarray(rgb), size)
        sx, sy = size / w, size / h
        n = len(anns)
        boxes = np.zeros((n, 4), np.float32)
        labels = np.zeros((n,), np.int64)
        masks = np.zeros((n, size, size), np.uint8)
        for k, a in enumerate(anns):
            m = rle_decode(a['segmentation'])
            bx, by, bw, bh = a['bbox']
            x1, x2 = bx, bx + bw
            if flip:
                m = m[:, ::-1]
                x1, x2 = w - x2, w - x1
            boxes[k] = (x1 * sx, by * sy, x2 * sx, (by + bh) * sy)
            labels[k] = self.cls[a['category_id']]
            masks[k] = cv2.resize(np.ascontiguousarray(m).astype(np.uint8), (size, size), interpolation=cv2.INTER_NEAREST)
        return x, torch.from_numpy(boxes), torch.from_numpy(labels), torch.from_numpy(masks)


class SizedBatchSampler(torch.utils.data.Sampler):
    """Shuffled batches; every batch draws one input size (multi-scale training)."""

    def __init__(self, n: int, batch: int, sizes: list[int], weights: list[float], seed: int):
        self.n, self.batch, self.sizes = n, batch, sizes
        self.p = np.array(weights, np.float64) / sum(weights)
        self.rng = np.random.default_rng(seed)

    def __iter__(self):
        order = self.rng.permutation(self.n)
        for b in range(len(self)):
            size = int(self.rng.choice(self.sizes, p=self.p))
            yield [(int(i), size) for i in order[b * self.batch:(b + 1) * self.batch]]

    def __len__(self):
        return self.n // self.batch


def collate(batch):
    xs, boxes, labels, masks = zip(*batch)
    return torch.stack(xs), list(boxes), list(labels), list(masks)
