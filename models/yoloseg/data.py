"""emoji-COCO loader for the YOLO-seg recipe: COCO JSON + JPEGs → letterboxed input
(RGB 0–1, pad 114, MODELS.md §2), GT boxes xyxy in input pixels, class indices 0..79
(order of shared/emoji-coco.json) and GT masks at prototype resolution (S/4)."""
from __future__ import annotations

import json
import os
import sys

import cv2
import numpy as np
import torch

cv2.setNumThreads(1)  # the loader shares 2 cores with training and the rest of the team

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', 'dataset'))
from generate import load_categories, rle_decode  # noqa: E402

PAD_VALUE = 114
PROTO_STRIDE = 4


def class_of_category() -> dict[int, int]:
    """COCO category id → class index 0..79 (shared/emoji-coco.json order)."""
    return {c['id']: i for i, c in enumerate(load_categories())}


def letterbox_geometry(h0: int, w0: int, size: int) -> tuple[float, int, int, int, int]:
    """Ultralytics' letterbox (MODELS.md §2): gain r, resized (w, h), pad left, top."""
    r = min(size / h0, size / w0)
    w, h = int(round(w0 * r)), int(round(h0 * r))
    dw, dh = (size - w) / 2, (size - h) / 2
    left, top = int(round(dw - 0.1)), int(round(dh - 0.1))
    return r, w, h, left, top


def letterbox(rgb: np.ndarray, size: int) -> tuple[np.ndarray, tuple[float, int, int]]:
    """RGB uint8 [H0, W0, 3] → uint8 [size, size, 3] and (gain, pad left, pad top)."""
    h0, w0 = rgb.shape[:2]
    r, w, h, left, top = letterbox_geometry(h0, w0, size)
    out = np.full((size, size, 3), PAD_VALUE, np.uint8)
    out[top:top + h, left:left + w] = cv2.resize(rgb, (w, h), interpolation=cv2.INTER_LINEAR) if (w, h) != (w0, h0) else rgb
    return out, (r, left, top)


def to_tensor(img: np.ndarray) -> torch.Tensor:
    """uint8 [S, S, 3] RGB → float [3, S, S] in 0–1 (the ONNX `images` tensor)."""
    return torch.from_numpy(np.ascontiguousarray(img.transpose(2, 0, 1))).float().div_(255)


class EmojiCoco(torch.utils.data.Dataset):
    def __init__(self, root: str, split: str, flip: bool = True):
        with open(os.path.join(root, 'annotations', f'instances_{split}.json')) as f:
            coco = json.load(f)
        self.dir = os.path.join(root, split)
        self.images = coco['images']
        self.anns: dict[int, list] = {im['id']: [] for im in self.images}
        for a in coco['annotations']:
            if a['iscrowd'] == 0:
                self.anns[a['image_id']].append(a)
        self.cls = class_of_category()
        self.flip = flip

    def __len__(self):
        return len(self.images)

    def load(self, idx: int):
        im = self.images[idx]
        bgr = cv2.imread(os.path.join(self.dir, im['file_name']), cv2.IMREAD_COLOR)
        return im, np.ascontiguousarray(bgr[..., ::-1])

    def __getitem__(self, item):
        idx, size = item
        im, rgb = self.load(idx)
        anns = self.anns[im['id']]
        flip = self.flip and np.random.random() < 0.5
        if flip:
            rgb = np.ascontiguousarray(rgb[:, ::-1])
        h0, w0 = rgb.shape[:2]
        img, (r, left, top) = letterbox(rgb, size)
        p = size // PROTO_STRIDE
        n = len(anns)
        boxes = np.zeros((n, 4), np.float32)        # [n, 4] xyxy, letterboxed input px
        labels = np.zeros((n,), np.int64)           # [n] 0..79
        masks = np.zeros((n, p, p), np.uint8)       # [n, S/4, S/4]
        canvas = np.zeros((size, size), np.float32)
        _, w, h, _, _ = letterbox_geometry(h0, w0, size)
        for k, a in enumerate(anns):
            m = rle_decode(a['segmentation'])
            bx, by, bw, bh = a['bbox']
            x1, x2 = bx, bx + bw
            if flip:
                m = m[:, ::-1]
                x1, x2 = w0 - x2, w0 - x1
            boxes[k] = (x1 * r + left, by * r + top, x2 * r + left, (by + bh) * r + top)
            labels[k] = self.cls[a['category_id']]
            canvas[:] = 0
            canvas[top:top + h, left:left + w] = cv2.resize(m.astype(np.float32), (w, h), interpolation=cv2.INTER_LINEAR)
            masks[k] = cv2.resize(canvas, (p, p), interpolation=cv2.INTER_AREA) > 0.5
        return to_tensor(img), torch.from_numpy(boxes), torch.from_numpy(labels), torch.from_numpy(masks)


class SizedBatchSampler(torch.utils.data.Sampler):
    """Shuffled batches, one input size drawn per batch (multi-scale training)."""

    def __init__(self, n: int, batch: int, sizes: list[int], weights: list[float], seed: int):
        self.n, self.batch, self.sizes = n, batch, sizes
        self.p = np.asarray(weights, np.float64) / sum(weights)
        self.rng = np.random.default_rng(seed)

    def __iter__(self):
        order = self.rng.permutation(self.n)
        for b in range(len(self)):
            size = int(self.rng.choice(self.sizes, p=self.p))
            yield [(int(i), size) for i in order[b * self.batch:(b + 1) * self.batch]]

    def __len__(self):
        return self.n // self.batch


def collate(batch):
    """→ images [B, 3, S, S], and padded targets: boxes [B, M, 4], labels [B, M] (−1 = none),
    masks list of [n_b, S/4, S/4]."""
    xs, boxes, labels, masks = zip(*batch)
    m = max(1, max(len(l) for l in labels))
    bb = torch.zeros(len(xs), m, 4)
    ll = torch.full((len(xs), m), -1, dtype=torch.long)
    for i, (b, l) in enumerate(zip(boxes, labels)):
        bb[i, :len(l)] = b
        ll[i, :len(l)] = l
    return torch.stack(xs), bb, ll, list(masks)
