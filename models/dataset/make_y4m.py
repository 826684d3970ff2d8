#!/usr/bin/python3
"""A y4m video of a synthetic emoji-COCO scene with slowly moving objects, for Chromium's
fake webcam (`--use-file-for-fake-video-capture=OUT.y4m`), plus OUT.json with the ground
truth of every frame.

    /usr/bin/python3 models/dataset/make_y4m.py OUT.y4m --frames 60 --width 640 --height 480 --seed 1

y4m = the header `YUV4MPEG2 W640 H480 F15:1 Ip A1:1 C420jpeg`, then per frame `FRAME\\n`
and the raw I420 planes (Y full size, then Cb and Cr at half size, 2x2 averaged). Colours
are converted with BT.601 limited range (Y 16-235), what a decoder assumes by default.

OUT.json: {width, height, fps, categories: [{id, name}], frames: [{index, objects:
[{track, category_id, class_index (0-based, emoji-coco.json order), name, bbox [x, y, w, h]
(visible pixels), area, segmentation}]}]}, segmentation = the visible pixels as an
uncompressed COCO RLE {size: [h, w], counts: [...]} (column-major runs, 0s first), so a
test can score masks frame by frame (e2e/webcam.spec.ts). Objects move in straight lines
and bounce off the borders; the background is a still scene from the dataset generator;
objects may overlap (the later one is on top) and boxes are those of the visible pixels.
"""
from __future__ import annotations

import argparse
import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from generate import ALPHA_ON, assets, make_background, transform_glyph  # noqa: E402

FPS = 15


def rgb_to_i420(rgb: np.ndarray) -> bytes:
    """RGB uint8 [H, W, 3] (H, W even) → I420 bytes, BT.601 limited range."""
    f = rgb.astype(np.float32) / 255.0
    r, g, b = f[..., 0], f[..., 1], f[..., 2]
    y = 16 + 65.481 * r + 128.553 * g + 24.966 * b
    cb = 128 - 37.797 * r - 74.203 * g + 112.0 * b
    cr = 128 + 112.0 * r - 93.786 * g - 18.214 * b
    h, w = y.shape

    def half(c):
        return c.reshape(h // 2, 2, w // 2, 2).mean(axis=(1, 3))

    planes = [y, half(cb), half(cr)]
    return b''.join(np.clip(np.rint(p), 0, 255).astype(np.uint8).tobytes() for p in planes)


def mask_rle(mask: np.ndarray) -> dict:
    """Boolean [H, W] → uncompressed COCO RLE: run lengths in column-major order, 0s first."""
    flat = mask.flatten(order='F').astype(np.int8)
    edges = np.flatnonzero(np.diff(flat)) + 1
    bounds = np.concatenate([[0], edges, [flat.size]])
    runs = np.diff(bounds).tolist()
    if flat[0]:
        runs = [0] + runs  # the first run counts 0s
    return {'size': [int(mask.shape[0]), int(mask.shape[1])], 'counts': [int(r) for r in runs]}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('out')
    ap.add_argument('--frames', type=int, default=60)
    ap.add_argument('--width', type=int, default=640)
    ap.add_argument('--height', type=int, default=480)
    ap.add_argument('--seed', type=int, default=1)
    ap.add_argument('--objects', type=int, default=5)
    args = ap.parse_args()
    w, h = args.width, args.height
    if w % 2 or h % 2:
        ap.error('width and height must be even (4:2:0)')
    a = assets()
    rng = np.random.default_rng([4_000_037, args.seed])
    background = np.clip(make_background(rng, h, w, a['photos']), 0, 255).astype(np.float32)
    tracks = []
    for t in range(args.objects):
        ci, glyph = a['glyphs'][rng.integers(len(a['glyphs']))]
        side = float(rng.uniform(0.12, 0.3) * min(w, h))
        g = transform_glyph(rng, glyph, side)
        gh, gw = g.shape[:2]
        pos = np.array([rng.uniform(0, w - gw), rng.uniform(0, h - gh)])
        speed = rng.uniform(1.0, 3.0)
        ang = rng.uniform(0, 2 * np.pi)
        tracks.append({'ci': ci, 'g': g, 'pos': pos, 'vel': speed * np.array([np.cos(ang), np.sin(ang)])})
    cats = a['categories']
    meta = {'width': w, 'height': h, 'fps': FPS,
            'categories': [{'id': c['id'], 'name': c['name']} for c in cats], 'frames': []}
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, 'wb') as f:
        f.write(f'YUV4MPEG2 W{w} H{h} F{FPS}:1 Ip A1:1 C420jpeg\n'.encode())
        for n in range(args.frames):
            img = background.copy()
            ids = np.zeros((h, w), np.int32)
            for k, tr in enumerate(tracks, start=1):
                g = tr['g']
                gh, gw = g.shape[:2]
                x0, y0 = int(round(tr['pos'][0])), int(round(tr['pos'][1]))
                xa, ya, xb, yb = max(x0, 0), max(y0, 0), min(x0 + gw, w), min(y0 + gh, h)
                if xa < xb and ya < yb:
                    sub = g[ya - y0:yb - y0, xa - x0:xb - x0]
                    al = sub[..., 3:4] / 255.0
                    img[ya:yb, xa:xb] = img[ya:yb, xa:xb] * (1 - al) + sub[..., :3] * al
                    ids[ya:yb, xa:xb][sub[..., 3] > ALPHA_ON] = k
                # move, bouncing off the borders
                tr['pos'] += tr['vel']
                for d, lim in ((0, w - gw), (1, h - gh)):
                    if tr['pos'][d] < 0 or tr['pos'][d] > lim:
                        tr['vel'][d] = -tr['vel'][d]
                        tr['pos'][d] = min(max(tr['pos'][d], 0), max(lim, 0))
            objects = []
            for k, tr in enumerate(tracks, start=1):
                ys, xs = np.nonzero(ids == k)
                if len(xs) == 0:
                    continue
                objects.append({'track': k - 1, 'category_id': cats[tr['ci']]['id'], 'class_index': tr['ci'],
                                'name': cats[tr['ci']]['name'],
                                'bbox': [int(xs.min()), int(ys.min()), int(xs.max() - xs.min() + 1),
                                         int(ys.max() - ys.min() + 1)], 'area': int(len(xs)),
                                'segmentation': mask_rle(ids == k)})
            meta['frames'].append({'index': n, 'objects': objects})
            f.write(b'FRAME\n')
            f.write(rgb_to_i420(np.clip(img, 0, 255).astype(np.uint8)))
    json_path = os.path.splitext(args.out)[0] + '.json'
    with open(json_path, 'w') as jf:
        json.dump(meta, jf)
    print(f'{args.out}: {args.frames} frames {w}x{h}; ground truth {json_path}')


if __name__ == '__main__':
    main()
