#!/usr/bin/python3
"""Synthetic emoji-COCO: instance segmentation scenes made of Noto Color Emoji glyphs.

Every image is a cluttered background (gradients, noise textures, stripes, random
non-object shapes, crops of photos/illustrations installed by Debian packages) with 0-15
emoji objects pasted on top, each scaled (~12 px to most of the image), rotated, maybe
flipped and colour-jittered, possibly cut by the image border and partly hidden by the
objects (or non-object shapes) painted after it. Instance masks are exact: glyph alpha
> 127, minus whatever was painted above. Then the whole image is blurred / noised /
colour-jittered and saved as JPEG at a random quality.

Output (COCO instances format, compressed RLE masks, iscrowd 0):
    models/data/emoji-coco/{train,val}/*.jpg
    models/data/emoji-coco/annotations/instances_{train,val}.json

Commands (always /usr/bin/python3: it has numpy/Pillow/OpenCV):
    /usr/bin/python3 models/dataset/generate.py                 # 6000 train + 300 val
    /usr/bin/python3 models/dataset/generate.py --train 500 --val 50 --out /tmp/small
    /usr/bin/python3 models/dataset/generate.py --samples      # public/samples/ (4 images)

Everything is a pure function of (split seed, image index), so the output does not depend
on the number of workers.
"""
from __future__ import annotations

import argparse
import glob
import json
import math
import os
import sys
import time
from multiprocessing import get_context

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.normpath(os.path.join(HERE, '..', '..'))
CATEGORIES_JSON = os.path.normpath(os.path.join(REPO, '..', 'shared', 'emoji-coco.json'))
EMOJI_FONT = '/usr/share/fonts/truetype/noto/NotoColorEmoji.ttf'
# Noto Color Emoji is a bitmap font (CBDT): 109 is the only size it renders at; scale after.
EMOJI_BITMAP_SIZE = 109
ALPHA_ON = 127  # glyph alpha above this is object

# dev: a held-out split for choosing between checkpoints, so that val only reports
SPLIT_SEEDS = {'train': 1_000_003, 'val': 2_000_029, 'samples': 3_000_017, 'dev': 4_000_037}

# (width, height) of generated images: several sizes and aspect ratios.
IMAGE_SIZES = [(640, 480), (480, 640), (512, 512), (640, 360), (360, 640), (550, 550),
               (416, 416), (320, 240), (600, 400), (400, 600), (448, 336), (640, 640)]

MIN_SIDE_PX = 12        # smallest object's longest side
MIN_VISIBLE_AREA = 12   # instances with fewer visible pixels are dropped (not annotated)

PHOTO_GLOBS = ['/usr/share/desktop-base/**/*.jpg', '/usr/share/desktop-base/**/*.png',
               '/usr/share/backgrounds/**/*.jpg', '/usr/share/backgrounds/**/*.png',
               '/usr/share/wallpapers/**/*.jpg', '/usr/share/wallpapers/**/*.png',
               '/usr/share/matplotlib/mpl-data/sample_data/grace_hopper.jpg']


# ----------------------------------------------------------------------------- COCO RLE

def rle_counts(mask: np.ndarray) -> list[int]:
    """Uncompressed COCO RLE of a binary mask [H, W]: runs in column-major order,
    starting with a run of zeros (possibly empty)."""
    flat = np.asarray(mask, dtype=np.uint8).ravel(order='F')
    change = np.flatnonzero(flat[1:] != flat[:-1]) + 1
    bounds = np.concatenate([[0], change, [flat.size]])
    runs = np.diff(bounds).tolist()
    if flat.size and flat[0] == 1:
        runs = [0] + runs
    return runs


def rle_compress(counts: list[int]) -> str:
    """COCO's compressed string form of RLE counts (maskApi rleToString): each count,
    delta-coded against the count two back for i > 2, in 5-bit groups, little end first,
    bit 0x20 = more groups follow, each group + 48 as an ASCII char."""
    out = []
    for i, c in enumerate(counts):
        x = c - counts[i - 2] if i > 2 else c
        more = True
        while more:
            ch = x & 0x1F
            x >>= 5  # arithmetic shift, as in C for negative values
            more = not ((ch & 0x10) == 0 and x == 0 or (ch & 0x10) != 0 and x == -1)
            if more:
                ch |= 0x20
            out.append(chr(ch + 48))
    return ''.join(out)


def rle_decompress(s: str) -> list[int]:
    """Inverse of rle_compress (maskApi rleFrString)."""
    counts: list[int] = []
    p = 0
    while p < len(s):
        x = 0
        k = 0
        more = True
        while more:
            ch = ord(s[p]) - 48
            x |= (ch & 0x1F) << (5 * k)
            more = bool(ch & 0x20)
            p += 1
            k += 1
            if not more and (ch & 0x10):
                x |= -1 << (5 * k)
        if len(counts) > 2:
            x += counts[-2]
        counts.append(x)
    return counts


def rle_decode_transposed(seg: dict, on: int = 1) -> np.ndarray:
    """COCO RLE {size: [h, w], counts: str | list} → the mask's transpose [w, h] uint8, `on`
    inside (COCO runs go down the columns, so this layout decodes contiguously)."""
    h, w = seg['size']
    counts = seg['counts']
    if isinstance(counts, str):
        counts = rle_decompress(counts)
    vals = np.zeros(len(counts), dtype=np.uint8)
    vals[1::2] = on
    return np.repeat(vals, counts).reshape(w, h)


def rle_decode(seg: dict) -> np.ndarray:
    """COCO RLE {size: [h, w], counts: str | list} → binary mask [h, w] uint8."""
    return rle_decode_transposed(seg).T


def mask_to_annotation(mask: np.ndarray) -> dict:
    ys, xs = np.nonzero(mask)
    x0, x1, y0, y1 = int(xs.min()), int(xs.max()), int(ys.min()), int(ys.max())
    h, w = mask.shape
    return {
        'segmentation': {'size': [h, w], 'counts': rle_compress(rle_counts(mask))},
        'area': int(mask.sum()),
        'bbox': [x0, y0, x1 - x0 + 1, y1 - y0 + 1],
        'iscrowd': 0,
    }


# ----------------------------------------------------------------------------- assets

def load_categories() -> list[dict]:
    with open(CATEGORIES_JSON, encoding='utf-8') as f:
        return json.load(f)['categories']


def render_glyphs(categories: list[dict]) -> list[tuple[int, np.ndarray]]:
    """[(category index, RGBA glyph cropped to its alpha box)] for every emoji."""
    font = ImageFont.truetype(EMOJI_FONT, EMOJI_BITMAP_SIZE)
    glyphs = []
    for ci, cat in enumerate(categories):
        for e in cat['emoji']:
            canvas = Image.new('RGBA', (200, 200), (0, 0, 0, 0))
            ImageDraw.Draw(canvas).text((20, 20), e, font=font, embedded_color=True)
            rgba = np.asarray(canvas)
            ys, xs = np.nonzero(rgba[..., 3] > ALPHA_ON)
            if len(xs) == 0:
                print(f'warning: emoji {e!r} of {cat["name"]} rendered empty', file=sys.stderr)
                continue
            crop = rgba[ys.min():ys.max() + 1, xs.min():xs.max() + 1].copy()
            glyphs.append((ci, crop))
    return glyphs


def load_photos(max_side: int = 800) -> list[np.ndarray]:
    paths = sorted({p for g in PHOTO_GLOBS for p in glob.glob(g, recursive=True)})
    photos = []
    for p in paths:
        if os.path.getsize(p) < 30_000:
            continue
        img = cv2.imread(p, cv2.IMREAD_COLOR)
        if img is None or min(img.shape[:2]) < 200:
            continue
        s = max_side / max(img.shape[:2])
        if s < 1:
            img = cv2.resize(img, None, fx=s, fy=s, interpolation=cv2.INTER_AREA)
        photos.append(img[..., ::-1].copy())  # RGB
    return photos


_ASSETS: dict = {}


def assets() -> dict:
    if not _ASSETS:
        cats = load_categories()
        glyphs = render_glyphs(cats)
        _ASSETS.update(categories=cats, glyphs=glyphs, photos=load_photos())
    return _ASSETS


# ----------------------------------------------------------------------------- backgrounds

def rand_color(rng: np.random.Generator) -> np.ndarray:
    return rng.uniform(0, 255, 3).astype(np.float32)


def bg_gradient(rng, h, w):
    a = rng.uniform(0, 2 * math.pi)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    t = (xx * math.cos(a) + yy * math.sin(a))
    t = (t - t.min()) / max(float(t.max() - t.min()), 1e-6)
    c0, c1 = rand_color(rng), rand_color(rng)
    img = c0 + (c1 - c0) * t[..., None]
    if rng.random() < 0.5:  # radial vignette / glow
        cx, cy = rng.uniform(0, w), rng.uniform(0, h)
        r = np.sqrt((xx - cx) ** 2 + (yy - cy) ** 2) / max(h, w)
        img = img + (rand_color(rng) - img) * np.clip(1 - r * rng.uniform(1, 3), 0, 1)[..., None] * 0.6
    return img


def bg_noise(rng, h, w):
    img = np.zeros((h, w, 3), np.float32)
    base = rng.uniform(40, 215, 3).astype(np.float32)
    for octave in range(rng.integers(2, 5)):
        cells = int(rng.integers(2, 8) * 2 ** octave)
        small = rng.normal(0, 1, (cells, cells, 3)).astype(np.float32)
        img += cv2.resize(small, (w, h), interpolation=cv2.INTER_CUBIC) * (60 / (octave + 1))
    if rng.random() < 0.5:  # colour-correlated texture
        img = img.mean(axis=2, keepdims=True) * rand_color(rng) / 128.0
    return base + img


def bg_pattern(rng, h, w):
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    a = rng.uniform(0, math.pi)
    period = rng.uniform(6, 80)
    u = xx * math.cos(a) + yy * math.sin(a)
    c0, c1 = rand_color(rng), rand_color(rng)
    kind = rng.integers(3)
    if kind == 0:    # stripes
        t = (np.sin(u * 2 * math.pi / period) > 0).astype(np.float32)
    elif kind == 1:  # checker
        v = -xx * math.sin(a) + yy * math.cos(a)
        t = ((np.floor(u / period) + np.floor(v / period)) % 2).astype(np.float32)
    else:            # smooth waves
        t = 0.5 + 0.5 * np.sin(u * 2 * math.pi / period) * np.cos(yy / rng.uniform(10, 90))
    return c0 + (c1 - c0) * t[..., None]


def bg_photo(rng, h, w, photos):
    p = photos[rng.integers(len(photos))]
    ph, pw = p.shape[:2]
    s = rng.uniform(0.3, 1.0)
    ch, cw = max(16, int(ph * s)), max(16, int(pw * s))
    y0, x0 = rng.integers(0, ph - ch + 1), rng.integers(0, pw - cw + 1)
    crop = p[y0:y0 + ch, x0:x0 + cw]
    if rng.random() < 0.5:
        crop = crop[:, ::-1]
    img = cv2.resize(crop, (w, h), interpolation=cv2.INTER_LINEAR).astype(np.float32)
    if rng.random() < 0.6:  # hue/colour shift so the few photos give more looks
        img = img[..., rng.permutation(3)]
    return img * rng.uniform(0.6, 1.3) + rng.uniform(-30, 30, 3)


def draw_shape(rng, img: np.ndarray, h: int, w: int, scale: float, mask: np.ndarray | None = None):
    """One random non-object shape (circle, ellipse, rectangle, polygon, line, blob) drawn on
    img (float32 RGB); if mask is given, the shape's pixels are also set to 1 there."""
    color = tuple(float(c) for c in rand_color(rng))
    cx, cy = int(rng.uniform(0, w)), int(rng.uniform(0, h))
    r = max(3, int(scale * rng.uniform(0.02, 0.25)))
    kind = rng.integers(6)
    layer = np.zeros((h, w), np.uint8)
    if kind == 0:
        cv2.circle(layer, (cx, cy), r, 255, -1 if rng.random() < 0.7 else int(rng.integers(1, 6)))
    elif kind == 1:
        cv2.ellipse(layer, (cx, cy), (r, max(2, int(r * rng.uniform(0.2, 1)))),
                    float(rng.uniform(0, 180)), 0, 360, 255, -1)
    elif kind == 2:
        pts = cv2.boxPoints(((cx, cy), (2 * r, 2 * r * rng.uniform(0.2, 1.5)), rng.uniform(0, 180)))
        cv2.fillPoly(layer, [pts.astype(np.int32)], 255)
    elif kind == 3:
        n = int(rng.integers(3, 8))
        ang = np.sort(rng.uniform(0, 2 * math.pi, n))
        rad = r * rng.uniform(0.4, 1.2, n)
        pts = np.stack([cx + rad * np.cos(ang), cy + rad * np.sin(ang)], 1).astype(np.int32)
        cv2.fillPoly(layer, [pts], 255)
    elif kind == 4:
        x2, y2 = int(cx + rng.uniform(-3, 3) * r), int(cy + rng.uniform(-3, 3) * r)
        cv2.line(layer, (cx, cy), (x2, y2), 255, int(rng.integers(1, 8)))
    else:  # smooth blob from thresholded noise
        size = 2 * r + 1
        small = rng.normal(0, 1, (5, 5)).astype(np.float32)
        blob = cv2.resize(small, (size, size), interpolation=cv2.INTER_CUBIC)
        yy, xx = np.mgrid[0:size, 0:size]
        blob = blob - ((xx - r) ** 2 + (yy - r) ** 2) / (r * r) * 1.5
        m = (blob > 0).astype(np.uint8) * 255
        x0, y0 = cx - r, cy - r
        xa, ya, xb, yb = max(x0, 0), max(y0, 0), min(x0 + size, w), min(y0 + size, h)
        if xa < xb and ya < yb:
            layer[ya:yb, xa:xb] = m[ya - y0:yb - y0, xa - x0:xb - x0]
    on = layer > 0
    if rng.random() < 0.5:
        img[on] = color
    else:  # shaded fill so shapes are not flat like most emoji colours
        shade = np.linspace(rng.uniform(0.5, 1), rng.uniform(0.5, 1.3), h, dtype=np.float32)[:, None]
        img[on] = (np.array(color, np.float32)[None, None] * shade[..., None] * np.ones((1, w, 1), np.float32))[on]
    if mask is not None:
        mask[on] = 1


def make_background(rng, h, w, photos):
    r = rng.random()
    if r < 0.3 and photos:
        img = bg_photo(rng, h, w, photos)
    elif r < 0.5:
        img = bg_noise(rng, h, w)
    elif r < 0.7:
        img = bg_pattern(rng, h, w)
    else:
        img = bg_gradient(rng, h, w)
    n_clutter = int(rng.choice([0, 0, 3, 8, 20, 40]))
    for _ in range(n_clutter):
        draw_shape(rng, img, h, w, max(h, w))
    if rng.random() < 0.3:
        img = cv2.GaussianBlur(img, (0, 0), rng.uniform(1, 4))
    return img


# ----------------------------------------------------------------------------- objects

def transform_glyph(rng, glyph: np.ndarray, side: float) -> np.ndarray:
    """Scale so the longest side is `side` px, flip, rotate, jitter colours. RGBA float32."""
    g = glyph.astype(np.float32)
    if rng.random() < 0.5:
        g = g[:, ::-1]
    gh, gw = g.shape[:2]
    s = side / max(gh, gw)
    # anisotropic squash now and then (mild)
    sx, sy = s, s * (rng.uniform(0.8, 1.25) if rng.random() < 0.3 else 1.0)
    angle = float(rng.uniform(-180, 180) if rng.random() < 0.15 else rng.normal(0, 15))
    c, si = math.cos(math.radians(angle)), math.sin(math.radians(angle))
    # output size: rotated box of the scaled glyph
    ow = int(math.ceil(abs(gw * sx * c) + abs(gh * sy * si))) + 2
    oh = int(math.ceil(abs(gw * sx * si) + abs(gh * sy * c))) + 2
    A = np.array([[sx * c, -sy * si], [sx * si, sy * c]], np.float32)
    centre_in = np.array([gw / 2, gh / 2], np.float32)
    centre_out = np.array([ow / 2, oh / 2], np.float32)
    M = np.concatenate([A, (centre_out - A @ centre_in)[:, None]], 1)
    # premultiply alpha so edges do not pick up the transparent pixels' black colour
    pm = g.copy()
    pm[..., :3] *= g[..., 3:4] / 255.0
    interp = cv2.INTER_AREA if s < 1 and abs(angle) < 1e-3 else cv2.INTER_LINEAR
    if s < 0.5:  # pre-shrink with area filtering to avoid aliasing, then warp
        pre = cv2.resize(pm, (max(1, int(round(gw * s * 2))), max(1, int(round(gh * s * 2)))),
                         interpolation=cv2.INTER_AREA)
        ratio_x, ratio_y = pre.shape[1] / gw, pre.shape[0] / gh
        A2 = A @ np.diag([1 / ratio_x, 1 / ratio_y]).astype(np.float32)
        M = np.concatenate([A2, (centre_out - A2 @ np.array([pre.shape[1] / 2, pre.shape[0] / 2], np.float32))[:, None]], 1)
        pm = pre
        interp = cv2.INTER_LINEAR
    out = cv2.warpAffine(pm, M, (ow, oh), flags=interp, borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    a = out[..., 3:4]
    rgb = np.where(a > 1e-3, out[..., :3] / np.maximum(a, 1e-3) * 255.0, 0)
    # per-object colour jitter: brightness, contrast, channel gains
    rgb = (rgb - 128) * rng.uniform(0.8, 1.2) + 128 + rng.uniform(-25, 25)
    rgb = rgb * rng.uniform(0.85, 1.15, 3)
    return np.concatenate([np.clip(rgb, 0, 255), a], axis=2)


def sample_side(rng, w, h, small_bias: float = 0.25) -> float:
    lo, hi = MIN_SIDE_PX, 0.9 * min(w, h)
    if rng.random() < small_bias:
        hi = min(hi, 80)
    return float(math.exp(rng.uniform(math.log(lo), math.log(hi))))


def make_scene(rng: np.random.Generator, w: int, h: int, n_objects: int, a: dict,
               side_range: tuple[float, float] | None = None, allow_occluders: bool = True):
    """Returns (RGB uint8 image [h, w, 3], [(category index, mask [h, w] uint8)])."""
    img = make_background(rng, h, w, a['photos'])
    ids = np.zeros((h, w), np.int32)  # 0 = no object; k = k-th placed object
    cats = []
    glyphs = a['glyphs']
    for k in range(1, n_objects + 1):
        ci, glyph = glyphs[rng.integers(len(glyphs))]
        side = sample_side(rng, w, h) if side_range is None else float(rng.uniform(*side_range))
        g = transform_glyph(rng, glyph, side)
        gh, gw = g.shape[:2]
        if side_range is None:  # centres anywhere: objects may be cut by the border
            x0 = int(rng.uniform(-gw * 0.4, w - gw * 0.6))
            y0 = int(rng.uniform(-gh * 0.4, h - gh * 0.6))
        else:
            x0 = int(rng.uniform(0, max(1, w - gw)))
            y0 = int(rng.uniform(0, max(1, h - gh)))
        xa, ya, xb, yb = max(x0, 0), max(y0, 0), min(x0 + gw, w), min(y0 + gh, h)
        if xa >= xb or ya >= yb:
            cats.append(ci)
            continue
        sub = g[ya - y0:yb - y0, xa - x0:xb - x0]
        alpha = sub[..., 3:4] / 255.0
        img[ya:yb, xa:xb] = img[ya:yb, xa:xb] * (1 - alpha) + sub[..., :3] * alpha
        ids[ya:yb, xa:xb][sub[..., 3] > ALPHA_ON] = k
        cats.append(ci)
    if allow_occluders and n_objects and rng.random() < 0.25:  # non-object occluders on top
        occ = np.zeros((h, w), np.uint8)
        for _ in range(int(rng.integers(1, 4))):
            draw_shape(rng, img, h, w, max(h, w) * 0.5, occ)
        ids[occ > 0] = 0
    instances = []
    for k, ci in enumerate(cats, start=1):
        m = (ids == k).astype(np.uint8)
        if int(m.sum()) >= MIN_VISIBLE_AREA:
            instances.append((ci, m))
    return img, instances


def photometric(rng, img: np.ndarray) -> np.ndarray:
    """Whole-image colour jitter, blur, noise (float32 RGB in, uint8 out)."""
    img = (img - 128) * rng.uniform(0.7, 1.3) + 128 + rng.uniform(-30, 30)
    gray = img.mean(axis=2, keepdims=True)
    img = gray + (img - gray) * rng.uniform(0.5, 1.4)  # saturation
    img = img * rng.uniform(0.9, 1.1, 3)
    if rng.random() < 0.3:
        img = cv2.GaussianBlur(img, (0, 0), rng.uniform(0.4, 1.6))
    if rng.random() < 0.4:
        img = img + rng.normal(0, rng.uniform(2, 10), img.shape).astype(np.float32)
    return np.clip(img, 0, 255).astype(np.uint8)


def encode_jpeg(rng, rgb: np.ndarray, quality: int | None = None) -> bytes:
    q = int(rng.integers(35, 96)) if quality is None else quality
    ok, buf = cv2.imencode('.jpg', rgb[..., ::-1], [cv2.IMWRITE_JPEG_QUALITY, q])
    assert ok
    return buf.tobytes()


# ----------------------------------------------------------------------------- splits

def make_image(job):
    split, index, seed, out_dir = job
    a = assets()
    rng = np.random.default_rng([seed, index])
    w, h = IMAGE_SIZES[rng.integers(len(IMAGE_SIZES))]
    n = 0 if rng.random() < 0.05 else int(rng.integers(1, 16))
    img, instances = make_scene(rng, w, h, n, a)
    rgb = photometric(rng, img)
    name = f'{split}_{index:06d}.jpg'
    with open(os.path.join(out_dir, split, name), 'wb') as f:
        f.write(encode_jpeg(rng, rgb))
    anns = []
    for ci, m in instances:
        ann = mask_to_annotation(m)
        ann['category_id'] = a['categories'][ci]['id']
        anns.append(ann)
    return {'file_name': name, 'width': w, 'height': h}, anns


def coco_json(images, anns_per_image, categories, description):
    out_images, out_anns = [], []
    next_ann = 1
    for image_id, (im, anns) in enumerate(zip(images, anns_per_image), start=1):
        out_images.append({'id': image_id, **im})
        for ann in anns:
            out_anns.append({'id': next_ann, 'image_id': image_id, **ann})
            next_ann += 1
    return {
        'info': {'description': description, 'version': '1.0'},
        'licenses': [],
        'images': out_images,
        'annotations': out_anns,
        'categories': [{'id': c['id'], 'name': c['name'], 'supercategory': 'emoji'} for c in categories],
    }


def single_threaded_opencv():
    """A worker's set-up: one OpenCV thread, not one a core in each of the workers. The
    workers are spawned, not forked: a forked worker inherits the parent's OpenCV thread
    pool, and on the 16-core GPU machine (OpenCV 5.0) setting the thread count in such a
    worker hung."""
    cv2.setNumThreads(1)


def generate_split(split: str, count: int, out_dir: str, workers: int):
    """Images 0..count-1 of the split. Where out_dir already holds the split's first K
    images (a smaller run of the same generator), only K..count-1 are rendered: every image
    is a pure function of (seed, index), so the result is the same as a run from scratch."""
    os.makedirs(os.path.join(out_dir, split), exist_ok=True)
    os.makedirs(os.path.join(out_dir, 'annotations'), exist_ok=True)
    path = os.path.join(out_dir, 'annotations', f'instances_{split}.json')
    images, anns = kept_records(path, split, count)
    jobs = [(split, i, SPLIT_SEEDS[split], out_dir) for i in range(len(images), count)]
    t0 = time.time()
    if workers > 1 and jobs:
        with get_context('spawn').Pool(workers, initializer=single_threaded_opencv) as pool:
            results = pool.map(make_image, jobs, chunksize=16)
    else:
        results = [make_image(j) for j in jobs]
    images += [r[0] for r in results]
    anns += [r[1] for r in results]
    coco = coco_json(images, anns, assets()['categories'], f'synthetic emoji-COCO {split}')
    with open(path + '.tmp', 'w') as f:
        json.dump(coco, f)
    os.replace(path + '.tmp', path)
    n_inst = sum(len(x) for x in anns)
    print(f'{split}: {count} images ({len(jobs)} rendered now), {n_inst} instances, {time.time() - t0:.1f}s -> {path}')


def kept_records(path: str, split: str, count: int) -> tuple[list, list]:
    """The (image, annotations) records of an earlier run's first images that this run
    keeps: all of them up to `count`, or none where the file is not such a run's output."""
    if not os.path.exists(path):
        return [], []
    with open(path) as f:
        old = json.load(f)
    names = [im['file_name'] for im in old['images']]
    if names != [f'{split}_{i:06d}.jpg' for i in range(len(names))]:
        return [], []
    by_image: dict[int, list] = {im['id']: [] for im in old['images']}
    for a in old['annotations']:
        by_image[a['image_id']].append({k: v for k, v in a.items() if k not in ('id', 'image_id')})
    kept = old['images'][:count]
    return ([{k: v for k, v in im.items() if k != 'id'} for im in kept],
            [by_image[im['id']] for im in kept])


def generate_samples(out_dir: str):
    """4 small val-style demo images with a few well-visible objects each + COCO GT."""
    a = assets()
    os.makedirs(out_dir, exist_ok=True)
    sizes = [(640, 480), (480, 360), (512, 512), (640, 400)]
    images, anns_per_image = [], []
    for i, (w, h) in enumerate(sizes):
        rng = np.random.default_rng([SPLIT_SEEDS['samples'], i])
        n = int(rng.integers(3, 7))
        img, instances = make_scene(rng, w, h, n, a, side_range=(0.15 * min(w, h), 0.4 * min(w, h)),
                                    allow_occluders=False)
        rgb = photometric(rng, img)
        name = f'sample-{i + 1}.jpg'
        with open(os.path.join(out_dir, name), 'wb') as f:
            f.write(encode_jpeg(rng, rgb, quality=90))
        anns = []
        for ci, m in instances:
            ann = mask_to_annotation(m)
            ann['category_id'] = a['categories'][ci]['id']
            anns.append(ann)
        images.append({'file_name': name, 'width': w, 'height': h})
        anns_per_image.append(anns)
    coco = coco_json(images, anns_per_image, a['categories'], 'SegArena demo samples (synthetic emoji-COCO)')
    with open(os.path.join(out_dir, 'annotations.json'), 'w') as f:
        json.dump(coco, f, indent=1)
    print(f'samples: {len(images)} images, {sum(len(x) for x in anns_per_image)} instances -> {out_dir}')


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--out', default=os.path.join(REPO, 'models', 'data', 'emoji-coco'))
    ap.add_argument('--train', type=int, default=6000)
    ap.add_argument('--val', type=int, default=300)
    ap.add_argument('--dev', type=int, default=0, help='images of the dev split (held out for choosing checkpoints)')
    ap.add_argument('--workers', type=int, default=2,
                    help='processes (default 2: the shared CPU machine has 2 cores); at most the core count')
    ap.add_argument('--samples', action='store_true', help='write public/samples/ instead')
    ap.add_argument('--samples-out', default=os.path.join(REPO, 'public', 'samples'))
    args = ap.parse_args()
    if args.samples:
        generate_samples(args.samples_out)
        return
    workers = max(1, min(args.workers, os.cpu_count() or 1))
    if args.val:
        generate_split('val', args.val, args.out, workers)
    if args.dev:
        generate_split('dev', args.dev, args.out, workers)
    if args.train:
        generate_split('train', args.train, args.out, workers)


if __name__ == '__main__':
    main()
