"""detectron2's mask paste, shared by the recipes' Python references (models/centermask,
models/blendmask): an S×S mask map in a box → probabilities at image resolution."""
from __future__ import annotations

import torch
import torch.nn.functional as F


def paste_mask(prob: torch.Tensor, box, im_h: int, im_w: int) -> torch.Tensor:
    """detectron2 paste: pixel (px, py) samples the S×S map at
    ((px + 0.5 − x0) / (x1 − x0) · S − 0.5, same in y), bilinear, zero outside → [H, W] probabilities."""
    x0, y0, x1, y1 = (float(v) for v in box)
    xs = (torch.arange(im_w, dtype=torch.float32) + 0.5 - x0) / max(x1 - x0, 1e-6) * 2 - 1   # grid_sample coords
    ys = (torch.arange(im_h, dtype=torch.float32) + 0.5 - y0) / max(y1 - y0, 1e-6) * 2 - 1
    gy, gx = torch.meshgrid(ys, xs, indexing='ij')
    grid = torch.stack([gx, gy], -1)[None]
    # align_corners=False: normalised −1..1 spans the S cells' outer edges, i.e. src = (g + 1)/2·S − 0.5
    return F.grid_sample(prob[None, None], grid, mode='bilinear', padding_mode='zeros', align_corners=False)[0, 0]
