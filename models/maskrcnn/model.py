"""Mask R-CNN (He et al., ICCV 2017) with an FPN (Lin et al., CVPR 2017), scaled down to
train on one or two CPU cores, and split for export into the three ONNX parts of the
`TwoStageConfig` contract (app/types.ts): backbone + RPN, box head, mask head.

Architecture (topology of torchvision's maskrcnn_resnet50_fpn, widths small):
- backbone: plain 3x3 convs (BN + ReLU6) up to stride 8, MobileNetV2 inverted residual
  blocks at strides 16 and 32. C2 (stride 4, 24 ch), C3 (8, 48), C4 (16, 96), C5 (32, 160).
  Every stride-2 conv is k3 s2 p1, so 512 → 256 → 128 → 64 → 32 → 16.
- FPN (64 channels): 1x1 laterals, nearest ×2 top-down + add, 3x3 output convs; P6 =
  max-pool(k1, s2) of P5 (torchvision LastLevelMaxPool). 512: P2..P6 = 128, 64, 32, 16, 8.
- RPN head shared by P2..P6: conv3x3 + ReLU, 1x1 → A objectness logits, 1x1 → 4A deltas
  (dx, dy, dw, dh), A = 3 anchors a location; flattened in (row, col, anchor) order.
- box head (TwoMLPHead + FastRCNNPredictor): flatten 64·7·7 → fc 256 + ReLU → fc 256 +
  ReLU → class logits 81, box deltas 81·4 (class-specific, weights 10, 10, 5, 5).
- mask head (MaskRCNNHeads + MaskRCNNPredictor): 4 × conv3x3 64 + ReLU on 14x14 RoI
  features, ConvTranspose 2x2 s2 + ReLU, 1x1 → 81 class-specific 28x28 mask logits
  (per-pixel sigmoid, decoupled from classification).

Anchors as shared/MODELS.md §3 (torchvision AnchorGenerator): per level one size, ratios
(0.5, 1, 2) in that order, h_r = √ar, w_r = 1/h_r, base = round([−w, −h, w, h] / 2),
shifted by (x·stride, y·stride) with no half-cell offset; locations row-major.
"""
from __future__ import annotations

import math

import torch
import torch.nn as nn
import torch.nn.functional as F

NUM_CLASSES = 81                       # background (0) + 80 COCO categories
CHANNELS = 64                          # FPN width C
STRIDES = (4, 8, 16, 32, 64)           # P2..P6
ANCHOR_SIZES = (16, 32, 64, 128, 256)  # one anchor size per level (input pixels)
ANCHOR_RATIOS = (0.5, 1.0, 2.0)        # h/w, anchors of a location in this order
NUM_ANCHORS = len(ANCHOR_RATIOS)
BOX_POOL = 7
MASK_POOL = 14
MASK_SIZE = 28
MEAN_RGB = (0.485, 0.456, 0.406)       # after x · 1/255
STD_RGB = (0.229, 0.224, 0.225)
BBOX_CLAMP = math.log(1000.0 / 16)     # torchvision BoxCoder bbox_xform_clip


def level_sizes(input_size: int) -> list[int]:
    """P2..P6 sides of a square input: k3 s2 p1 convs halve with ceil (P6: k1 s2 pool, also ceil)."""
    s, out = input_size, []
    for level in range(1, 7):
        s = (s + 1) // 2
        if level >= 2:
            out.append(s)
    return out


def make_anchors(input_size: int) -> torch.Tensor:
    """Anchors [A_total, 4] xyxy in input pixels, order level P2..P6, then (row, col, anchor)."""
    out = []
    for side, stride, size in zip(level_sizes(input_size), STRIDES, ANCHOR_SIZES):
        ratios = torch.tensor(ANCHOR_RATIOS, dtype=torch.float32)
        h_r = torch.sqrt(ratios)
        w_r = 1.0 / h_r
        ws, hs = w_r * size, h_r * size
        base = torch.round(torch.stack([-ws, -hs, ws, hs], 1) / 2)          # [A, 4]
        shifts = torch.arange(side, dtype=torch.float32) * stride
        sy, sx = torch.meshgrid(shifts, shifts, indexing='ij')
        shift = torch.stack([sx, sy, sx, sy], -1).reshape(-1, 1, 4)          # [side², 1, 4]
        out.append((shift + base[None]).reshape(-1, 4))
    return torch.cat(out, 0)


def conv_bn(cin, cout, k=3, s=1, groups=1, act=True):
    layers = [nn.Conv2d(cin, cout, k, s, k // 2, groups=groups, bias=False), nn.BatchNorm2d(cout)]
    if act:
        layers.append(nn.ReLU6(inplace=True))
    return nn.Sequential(*layers)


class InvertedResidual(nn.Module):
    """MobileNetV2 block: 1x1 expand, 3x3 depthwise (stride s), 1x1 linear projection."""

    def __init__(self, cin, cout, stride, expand):
        super().__init__()
        hidden = cin * expand
        self.use_res = stride == 1 and cin == cout
        self.block = nn.Sequential(conv_bn(cin, hidden, 1), conv_bn(hidden, hidden, 3, stride, groups=hidden),
                                   conv_bn(hidden, cout, 1, act=False))

    def forward(self, x):
        y = self.block(x)
        return x + y if self.use_res else y


class Backbone(nn.Module):
    """C2..C5 at strides 4..32. Plain convs at high resolution (cheap on a CPU, where
    expanded depthwise blocks are slow), MobileNetV2 blocks at strides 16 and 32."""

    SETTINGS = [(4, 64, 3, 2), (4, 96, 2, 1), (4, 160, 2, 2)]  # (expand, out, blocks, first stride)

    def __init__(self):
        super().__init__()
        self.stem = nn.Sequential(conv_bn(3, 16, 3, 2), conv_bn(16, 24, 3, 2), conv_bn(24, 24, 3, 1))  # C2
        self.c3 = nn.Sequential(conv_bn(24, 48, 3, 2), conv_bn(48, 48, 3, 1))
        cin, stages = 48, []
        for t, c, n, s in self.SETTINGS:
            blocks = []
            for b in range(n):
                blocks.append(InvertedResidual(cin, c, s if b == 0 else 1, t))
                cin = c
            stages.append(nn.Sequential(*blocks))
        self.stages = nn.ModuleList(stages)
        self.out_channels = (24, 48, 96, 160)

    def forward(self, x):
        c2 = self.stem(x)                       # [B, 24, S/4, S/4]
        c3 = self.c3(c2)                        # [B, 48, S/8, S/8]
        c4 = self.stages[1](self.stages[0](c3))  # [B, 96, S/16, S/16]
        c5 = self.stages[2](c4)                 # [B, 160, S/32, S/32]
        return [c2, c3, c4, c5]


class FPN(nn.Module):
    """torchvision FeaturePyramidNetwork + LastLevelMaxPool: P2..P5, P6 = maxpool(k1, s2)(P5)."""

    def __init__(self, in_channels, width=CHANNELS):
        super().__init__()
        self.lateral = nn.ModuleList([nn.Conv2d(c, width, 1) for c in in_channels])
        self.output = nn.ModuleList([nn.Conv2d(width, width, 3, padding=1) for _ in in_channels])

    def forward(self, feats):
        inner = self.lateral[-1](feats[-1])
        outs = [self.output[-1](inner)]
        for i in range(len(feats) - 2, -1, -1):
            lat = self.lateral[i](feats[i])
            inner = lat + F.interpolate(inner, size=lat.shape[-2:], mode='nearest')
            outs.insert(0, self.output[i](inner))
        outs.append(F.max_pool2d(outs[-1], 1, 2))   # P6
        return outs                                  # [P2, P3, P4, P5, P6]


class RPNHead(nn.Module):
    def __init__(self, width=CHANNELS, num_anchors=NUM_ANCHORS):
        super().__init__()
        self.conv = nn.Conv2d(width, width, 3, padding=1)
        self.cls_logits = nn.Conv2d(width, num_anchors, 1)
        self.bbox_pred = nn.Conv2d(width, 4 * num_anchors, 1)
        for layer in (self.conv, self.cls_logits, self.bbox_pred):
            nn.init.normal_(layer.weight, std=0.01)
            nn.init.zeros_(layer.bias)

    def forward(self, feats):
        """→ objectness [B, A_total] logits, deltas [B, A_total, 4]; (level, row, col, anchor) order."""
        logits, deltas = [], []
        for f in feats:
            t = F.relu(self.conv(f))
            b = f.shape[0]
            logits.append(self.cls_logits(t).permute(0, 2, 3, 1).reshape(b, -1))
            deltas.append(self.bbox_pred(t).permute(0, 2, 3, 1).reshape(b, -1, 4))
        return torch.cat(logits, 1), torch.cat(deltas, 1)


class BoxHead(nn.Module):
    """box_features [R, C, 7, 7] → class_logits [R, 81], box_deltas [R, 81·4]."""

    def __init__(self, width=CHANNELS, hidden=256):
        super().__init__()
        self.fc6 = nn.Linear(width * BOX_POOL * BOX_POOL, hidden)
        self.fc7 = nn.Linear(hidden, hidden)
        self.cls_score = nn.Linear(hidden, NUM_CLASSES)
        self.bbox_pred = nn.Linear(hidden, NUM_CLASSES * 4)
        nn.init.normal_(self.cls_score.weight, std=0.01)
        nn.init.normal_(self.bbox_pred.weight, std=0.001)
        for layer in (self.cls_score, self.bbox_pred):
            nn.init.zeros_(layer.bias)

    def forward(self, x):
        x = F.relu(self.fc7(F.relu(self.fc6(x.flatten(1)))))
        return self.cls_score(x), self.bbox_pred(x)


class MaskHead(nn.Module):
    """mask_features [M, C, 14, 14] → mask_logits [M, 81, 28, 28]."""

    def __init__(self, width=CHANNELS, layers=4):
        super().__init__()
        convs = []
        for _ in range(layers):
            convs += [nn.Conv2d(width, width, 3, padding=1), nn.ReLU(inplace=True)]
        self.convs = nn.Sequential(*convs)
        self.deconv = nn.ConvTranspose2d(width, width, 2, 2)
        self.logits = nn.Conv2d(width, NUM_CLASSES, 1)
        for m in self.modules():
            if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)):
                nn.init.kaiming_normal_(m.weight, mode='fan_out', nonlinearity='relu')
                nn.init.zeros_(m.bias)

    def forward(self, x):
        return self.logits(F.relu(self.deconv(self.convs(x))))


class MaskRCNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.backbone = Backbone()
        self.fpn = FPN(self.backbone.out_channels)
        self.rpn = RPNHead()
        self.box_head = BoxHead()
        self.mask_head = MaskHead()

    def features(self, x):
        """x [B, 3, S, S] normalised → [P2..P6], objectness [B, A_total], rpn deltas [B, A_total, 4]."""
        feats = self.fpn(self.backbone(x))
        objectness, deltas = self.rpn(feats)
        return feats, objectness, deltas


class BackboneExport(nn.Module):
    """ONNX part 1: input [1, 3, S, S] → p2, p3, p4, p5, objectness [1, A_total], rpn_deltas [1, A_total, 4]."""

    def __init__(self, model: MaskRCNN):
        super().__init__()
        self.model = model

    def forward(self, x):
        feats, objectness, deltas = self.model.features(x)
        return feats[0], feats[1], feats[2], feats[3], objectness, deltas
