"""emoji-COCO loader for YOLACT training: COCO JSON + JPEGs → stretched square input,
relative xyxy GT boxes, class labels 1..80, GT masks at prototype resolution, and the
semantic segmentation target at P3 resolution."""
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
from generate import load_categories, rle_decode_transposed  # noqa: E402

from model import MEAN_RGB, STD_RGB, level_sizes  # noqa: E402

MEAN = np.array(MEAN_RGB, np.float32)
STD = np.array(STD_RGB, np.float32)


def class_index_of_category() -> dict[int, int]:
    """COCO category id → class index 1..80 (0 is background), order of emoji-coco.json."""
    return {c['id']: i + 1 for i, c in enumerate(load_categories())}


def preprocess(rgb: np.ndarray, size: int) -> torch.Tensor:
    """RGB uint8 [H, W, 3] → [3, size, size] float, stretched (no aspect kept), normalised."""
    x = cv2.resize(rgb, (size, size), interpolation=cv2.INTER_LINEAR).astype(np.float32)
    x = (x - MEAN) / STD
    return torch.from_numpy(x.transpose(2, 0, 1).copy())


class EmojiCoco(torch.utils.data.Dataset):
    def __init__(self, root: str, split: str, flip: bool = True, limit: int = 0):
        """limit: only the split's first `limit` images (0: all)."""
        with open(os.path.join(root, 'annotations', f'instances_{split}.json')) as f:
            coco = json.load(f)
        self.dir = os.path.join(root, split)
        self.images = coco['images'][:limit] if limit else coco['images']
        self.anns: dict[int, list] = {im['id']: [] for im in self.images}
        for a in coco['annotations']:
            if a['image_id'] in self.anns:
                self.anns[a['image_id']].append(a)
        self.cls = class_index_of_category()
        self.flip = flip
        self.size = 384  # set per batch by the sampler (see SizedBatchSampler)

    def __len__(self):
        return len(self.images)

    def load(self, idx: int):
        im = self.images[idx]
        bgr = cv2.imread(os.path.join(self.dir, im['file_name']), cv2.IMREAD_COLOR)
        return im, bgr[..., ::-1]

    def __getitem__(self, item):
        idx, size = item if isinstance(item, tuple) else (item, self.size)
        im, rgb = self.load(idx)
        h, w = rgb.shape[:2]
        anns = [a for a in self.anns[im['id']] if a['iscrowd'] == 0]
        flip = self.flip and np.random.random() < 0.5
        if flip:
            rgb = rgb[:, ::-1]
        x = preprocess(np.ascontiguousarray(rgb), size)
        p3 = level_sizes(size)[0]
        proto = 2 * p3
        n = len(anns)
        boxes = np.zeros((n, 4), np.float32)
        labels = np.zeros((n,), np.int64)
        for k, a in enumerate(anns):
            bx, by, bw, bh = a['bbox']
            x1, x2 = bx / w, (bx + bw) / w
            if flip:
                x1, x2 = 1 - x2, 1 - x1
            boxes[k] = (x1, by / h, x2, (by + bh) / h)
            labels[k] = self.cls[a['category_id']]
        masks = np.zeros((n, proto, proto), np.uint8)
        semantic = np.zeros((80, p3, p3), np.uint8)
        for k, a in enumerate(anns):
            # COCO RLE runs down the columns, so the mask decodes contiguously as its
            # transpose; area resizing commutes with transposing and with flipping, so both
            # are done on the small masks
            m_t = rle_decode_transposed(a['segmentation'], on=255)
            mk = cv2.resize(m_t, (proto, proto), interpolation=cv2.INTER_AREA).T > 127
            sk = cv2.resize(m_t, (p3, p3), interpolation=cv2.INTER_AREA).T > 127
            if flip:
                mk, sk = mk[:, ::-1], sk[:, ::-1]
            masks[k] = mk
            semantic[labels[k] - 1] |= sk
        return (x, torch.from_numpy(boxes), torch.from_numpy(labels), torch.from_numpy(masks),
                torch.from_numpy(semantic))


class SizedBatchSampler(torch.utils.data.Sampler):
    """Shuffled batches; every batch draws one input size (multi-scale training). With
    repeat, epoch after epoch without end (one DataLoader for a whole run)."""

    def __init__(self, n: int, batch: int, sizes: list[int], weights: list[float], seed: int,
                 repeat: bool = False):
        self.n, self.batch, self.sizes, self.repeat = n, batch, sizes, repeat
        self.p = np.array(weights, np.float64) / sum(weights)
        self.rng = np.random.default_rng(seed)

    def __iter__(self):
        while True:
            order = self.rng.permutation(self.n)
            for b in range(self.n // self.batch):
                size = int(self.rng.choice(self.sizes, p=self.p))
                yield [(int(i), size) for i in order[b * self.batch:(b + 1) * self.batch]]
            if not self.repeat:
                return

    def __len__(self):
        return self.n // self.batch


def collate(batch):
    """→ x [B, 3, S, S], then the ground truth padded to the most objects G of an image in
    the batch: boxes [B, G, 4], labels [B, G] (0 on padding), masks [B, G, P, P],
    valid [B, G]; and semantic [B, 80, S3, S3]."""
    xs, boxes, labels, masks, semantic = zip(*batch)
    B, G, P = len(batch), max(len(b) for b in boxes), masks[0].shape[-1]
    box_t = torch.zeros(B, G, 4)
    label_t = torch.zeros(B, G, dtype=torch.long)
    mask_t = torch.zeros(B, G, P, P, dtype=torch.uint8)
    valid = torch.zeros(B, G, dtype=torch.bool)
    for b, n in enumerate(len(x) for x in boxes):
        box_t[b, :n], label_t[b, :n], mask_t[b, :n], valid[b, :n] = boxes[b], labels[b], masks[b], True
    return torch.stack(xs), box_t, label_t, mask_t, valid, torch.stack(semantic)
