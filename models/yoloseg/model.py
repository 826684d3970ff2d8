"""A small YOLOv8-seg-like network for CPU training, with the Ultralytics ONNX interface.

Layout (widths for the default `width=(16, 32, 64, 96, 128)`):

  backbone   stem Conv3x3 s2 → 16 (S/2)
             Conv3x3 s2 → 32, C2fLite            (S/4, feeds nothing but the next stage)
             Conv3x3 s2 → 64, C2fLite   = C3     (S/8)
             Conv3x3 s2 → 96, C2fLite   = C4     (S/16)
             Conv3x3 s2 → 128, C2fLite, SPPF = C5 (S/32)
  neck       PAN/FPN: top-down (nearest ×2 + concat + C2fLite) to N3, then bottom-up
             (Conv3x3 s2 + concat + C2fLite) to N4, N5 — the three detection levels
             P3 (stride 8, 64 ch), P4 (16, 96 ch), P5 (32, 128 ch)
  head       decoupled, anchor-free, per level: box branch Conv3x3 → Conv1x1 → 4·reg_max
             (DFL, reg_max 16, like Ultralytics), class branch DWConv3x3 → Conv1x1 →
             Conv1x1 → nc logits (sigmoid scores, no objectness), coefficient branch
             Conv3x3 → Conv1x1 → 32 raw mask coefficients
  protos     on N3: Conv3x3 → nearest ×2 → Conv3x3 → Conv1x1 → 32 prototypes at stride 4

C2fLite = Ultralytics' C2f (split, n bottlenecks on one half, concat every intermediate,
1x1 fuse) with one bottleneck of a single 3x3 conv — the CPU step time matters most here.

Box decoding is in the graph (as in Ultralytics exports): per anchor (cell centre
(i + 0.5, j + 0.5) in stride units) the DFL expectation gives distances (l, t, r, b) in
strides; box = centre ∓ distances, times the stride, output as (cx, cy, w, h) input pixels.

  forward(x) (training)  → dict: box_dist [B, 4·reg_max, N] raw DFL logits,
                            cls [B, nc, N] logits, coef [B, 32, N], protos [B, 32, S/4, S/4]
  YoloSegExport(model)   → output0 [1, 4 + nc + 32, N] (cx, cy, w, h px, sigmoid scores,
                            coefficients), output1 [1, 32, S/4, S/4]
N = (S/8)² + (S/16)² + (S/32)², anchors row-major per level, levels P3, P4, P5.
"""
from __future__ import annotations

import math

import torch
import torch.nn as nn
import torch.nn.functional as F

STRIDES = (8, 16, 32)
NUM_PROTOS = 32
REG_MAX = 16
NUM_CLASSES = 80


class Conv(nn.Module):
    """Conv2d (no bias) + BatchNorm + SiLU."""

    def __init__(self, cin, cout, k=1, s=1, groups=1, act=True):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, k, s, k // 2, groups=groups, bias=False)
        self.bn = nn.BatchNorm2d(cout, eps=1e-3, momentum=0.03)
        self.act = nn.SiLU() if act else nn.Identity()

    def forward(self, x):
        return self.act(self.bn(self.conv(x)))


class C2fLite(nn.Module):
    """1x1 to 2h channels, split (a, b); b → n × (Conv3x3 + residual); concat [a, b, b1..bn] → 1x1."""

    def __init__(self, cin, cout, n=1, shortcut=True):
        super().__init__()
        h = cout // 2
        self.h = h
        self.cv1 = Conv(cin, 2 * h, 1)
        self.blocks = nn.ModuleList(Conv(h, h, 3) for _ in range(n))
        self.shortcut = shortcut
        self.cv2 = Conv((2 + n) * h, cout, 1)

    def forward(self, x):
        a, b = self.cv1(x).split(self.h, 1)
        parts = [a, b]
        for blk in self.blocks:
            y = blk(parts[-1])
            parts.append(parts[-1] + y if self.shortcut else y)
        return self.cv2(torch.cat(parts, 1))


class SPPF(nn.Module):
    """Spatial pyramid pooling, fast: three chained 5x5 max-pools, concatenated, 1x1."""

    def __init__(self, c):
        super().__init__()
        h = c // 2
        self.cv1 = Conv(c, h, 1)
        self.cv2 = Conv(4 * h, c, 1)

    def forward(self, x):
        x = self.cv1(x)
        y1 = F.max_pool2d(x, 5, 1, 2)
        y2 = F.max_pool2d(y1, 5, 1, 2)
        y3 = F.max_pool2d(y2, 5, 1, 2)
        return self.cv2(torch.cat([x, y1, y2, y3], 1))


class Proto(nn.Module):
    """N3 [B, c, S/8, S/8] → prototypes [B, 32, S/4, S/4] (SiLU like Ultralytics' Proto)."""

    def __init__(self, cin, c=32, k=NUM_PROTOS):
        super().__init__()
        self.cv1 = Conv(cin, c, 3)
        self.cv2 = Conv(c, c, 3)
        self.cv3 = Conv(c, k, 1)

    def forward(self, x):
        x = F.interpolate(self.cv1(x), scale_factor=2.0, mode='nearest')
        return self.cv3(self.cv2(x))


class LevelHead(nn.Module):
    """One level's decoupled branches → (box DFL logits [B, 4·reg_max, H, W], class logits, coefficients)."""

    def __init__(self, c, nc, reg_max, cb, cc, cm):
        super().__init__()
        self.box = nn.Sequential(Conv(c, cb, 3), nn.Conv2d(cb, 4 * reg_max, 1))
        self.cls = nn.Sequential(Conv(c, c, 3, groups=c), Conv(c, cc, 1), nn.Conv2d(cc, nc, 1))
        self.coef = nn.Sequential(Conv(c, cm, 3), nn.Conv2d(cm, NUM_PROTOS, 1))

    def forward(self, x):
        return self.box(x), self.cls(x), self.coef(x)


def make_anchors(size: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Anchor centres [N, 2] (x, y) in stride units and strides [N], levels P3..P5, row-major."""
    points, strides = [], []
    for s in STRIDES:
        g = math.ceil(size / s)
        ys, xs = torch.meshgrid(torch.arange(g, dtype=torch.float32) + 0.5,
                                torch.arange(g, dtype=torch.float32) + 0.5, indexing='ij')
        points.append(torch.stack([xs.flatten(), ys.flatten()], 1))
        strides.append(torch.full((g * g,), float(s)))
    return torch.cat(points), torch.cat(strides)


def dfl_expectation(box_dist: torch.Tensor, reg_max: int = REG_MAX) -> torch.Tensor:
    """[B, 4·reg_max, N] DFL logits → distances (l, t, r, b) [B, 4, N] in stride units."""
    b, _, n = box_dist.shape
    prob = box_dist.view(b, 4, reg_max, n).softmax(2)
    bins = torch.arange(reg_max, dtype=prob.dtype, device=prob.device).view(1, 1, reg_max, 1)
    return (prob * bins).sum(2)


class YoloSeg(nn.Module):
    def __init__(self, nc=NUM_CLASSES, width=(16, 32, 64, 96, 128), reg_max=REG_MAX):
        super().__init__()
        self.nc, self.reg_max, self.width = nc, reg_max, tuple(width)
        w0, w1, w2, w3, w4 = width
        self.stem = Conv(3, w0, 3, 2)
        self.s4 = nn.Sequential(Conv(w0, w1, 3, 2), C2fLite(w1, w1))
        self.s8 = nn.Sequential(Conv(w1, w2, 3, 2), C2fLite(w2, w2))
        self.s16 = nn.Sequential(Conv(w2, w3, 3, 2), C2fLite(w3, w3))
        self.s32 = nn.Sequential(Conv(w3, w4, 3, 2), C2fLite(w4, w4), SPPF(w4))
        # top-down
        self.td4 = C2fLite(w4 + w3, w3, shortcut=False)
        self.td3 = C2fLite(w3 + w2, w2, shortcut=False)
        # bottom-up
        self.down3 = Conv(w2, w2, 3, 2)
        self.bu4 = C2fLite(w2 + w3, w3, shortcut=False)
        self.down4 = Conv(w3, w3, 3, 2)
        self.bu5 = C2fLite(w3 + w4, w4, shortcut=False)
        chans = (w2, w3, w4)
        # branch widths as Ultralytics: box max(16, c/4, 4·reg_max) → here ≤ 64; cls min(nc, 100) capped by c
        self.heads = nn.ModuleList(
            LevelHead(c, nc, reg_max, cb=max(16, min(c // 2, 4 * reg_max)), cc=max(c, min(nc, 64)),
                      cm=max(c // 4, NUM_PROTOS)) for c in chans)
        self.proto = Proto(w2)
        self.init_biases()

    def init_biases(self, ref_size: int = 416):
        """Ultralytics' bias start: box DFL logits 1.0; class logits log(5 / nc / (S/s)²),
        i.e. ~5 objects per image spread over the level's cells."""
        for head, s in zip(self.heads, STRIDES):
            head.box[-1].bias.data.fill_(1.0)
            head.cls[-1].bias.data.fill_(math.log(5 / self.nc / (ref_size / s) ** 2))

    def features(self, x):
        c3 = self.s8(self.s4(self.stem(x)))
        c4 = self.s16(c3)
        c5 = self.s32(c4)
        t4 = self.td4(torch.cat([F.interpolate(c5, scale_factor=2.0, mode='nearest'), c4], 1))
        n3 = self.td3(torch.cat([F.interpolate(t4, scale_factor=2.0, mode='nearest'), c3], 1))
        n4 = self.bu4(torch.cat([self.down3(n3), t4], 1))
        n5 = self.bu5(torch.cat([self.down4(n4), c5], 1))
        return n3, n4, n5

    def forward(self, x):
        feats = self.features(x)
        box, cls, coef = [], [], []
        for head, f in zip(self.heads, feats):
            b, c, m = head(f)
            box.append(b.flatten(2))
            cls.append(c.flatten(2))
            coef.append(m.flatten(2))
        return {'box_dist': torch.cat(box, 2), 'cls': torch.cat(cls, 2), 'coef': torch.cat(coef, 2),
                'protos': self.proto(feats[0])}


class YoloSegExport(nn.Module):
    """The Ultralytics ONNX interface at one input size: images [1, 3, S, S] (RGB 0–1,
    letterboxed) → output0 [1, 4 + nc + 32, N], output1 [1, 32, S/4, S/4]."""

    def __init__(self, model: YoloSeg, size: int):
        super().__init__()
        self.model = model
        points, strides = make_anchors(size)
        self.register_buffer('points', points.t().unsqueeze(0).contiguous())    # [1, 2, N]
        self.register_buffer('strides', strides.view(1, 1, -1))                  # [1, 1, N]

    def forward(self, images):
        out = self.model(images)
        ltrb = dfl_expectation(out['box_dist'], self.model.reg_max)               # [1, 4, N]
        xy1 = self.points - ltrb[:, :2]
        xy2 = self.points + ltrb[:, 2:]
        xywh = torch.cat([(xy1 + xy2) / 2, xy2 - xy1], 1) * self.strides          # [1, 4, N] px
        return torch.cat([xywh, out['cls'].sigmoid(), out['coef']], 1), out['protos']


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())
