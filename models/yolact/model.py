"""YOLACT (Bolya et al., ICCV 2019), scaled down to train on two CPU cores.

Architecture (widths are small, topology is the paper's):
- backbone: plain 3x3 convs (BN + ReLU6) up to stride 8, MobileNetV2 inverted residual
  blocks at strides 16 and 32; C3 (stride 8), C4 (16), C5 (32) feed the FPN. Every stride-2 conv is k3 s2 p1, so a
  side n becomes ceil(n / 2): 550 → 275 → 138 → 69 → 35 → 18, as in YOLACT's ResNet.
- FPN: lateral 1x1 on C3..C5, top-down bilinear upsampling + add, 3x3 smoothing; P6, P7 by
  3x3 stride-2 convs on P5 then P6 (550: P3..P7 = 69, 35, 18, 9, 5).
- protonet on P3: 3 × conv3x3 + ReLU, bilinear ×2, conv3x3 + ReLU, 1x1 → k = 32
  prototypes, ReLU (unbounded). Output NHWC [B, 2·S3, 2·S3, 32].
- prediction head shared across levels: conv3x3 + ReLU, then three conv3x3 branches:
  box 4·A, class 81·A, coefficients 32·A (tanh); A = 3 anchors a cell.
- semantic segmentation head (training only): 1x1 on P3 → 80 class logits.

Priors follow shared/MODELS.md §1 (dbolya/yolact make_priors): loop rows j, cols i,
aspect ratios, scales; cx = (i + .5)/W_l, cy = (j + .5)/H_l; w = scale·sqrt(ar)/input,
then use_square_anchors (h = w). Scales per level 24, 48, 96, 192, 384 px of the input.
"""
from __future__ import annotations

import math

import torch
import torch.nn as nn
import torch.nn.functional as F

NUM_CLASSES = 81          # background + 80 COCO categories
NUM_PROTOS = 32           # k prototypes
ASPECT_RATIOS = (1.0, 0.5, 2.0)
PRIOR_SCALES = (24, 48, 96, 192, 384)   # px of the input, P3..P7
VARIANCES = (0.1, 0.2)
MEAN_RGB = (123.68, 116.78, 103.94)
STD_RGB = (58.40, 57.12, 57.38)


def ceil_half(n: int) -> int:
    return (n + 1) // 2


def level_sizes(input_size: int) -> list[int]:
    """P3..P7 sides for a square input, YOLACT's ceil-halving: 550 → 69, 35, 18, 9, 5."""
    s = input_size
    sizes = []
    for level in range(1, 8):
        s = ceil_half(s)
        if level >= 3:
            sizes.append(s)
    return sizes


def make_priors(input_size: int) -> torch.Tensor:
    """Priors [N, 4] (cx, cy, w, h) relative to the input, YOLACT order."""
    out = []
    for size, scale in zip(level_sizes(input_size), PRIOR_SCALES):
        for j in range(size):
            for i in range(size):
                cx = (i + 0.5) / size
                cy = (j + 0.5) / size
                for ar in ASPECT_RATIOS:
                    ar = math.sqrt(ar)
                    w = scale * ar / input_size
                    h = w  # use_square_anchors (YOLACT base config): h = w
                    out.append((cx, cy, w, h))
    return torch.tensor(out, dtype=torch.float32)


def conv_bn(cin, cout, k=3, s=1, groups=1, act=True):
    layers = [nn.Conv2d(cin, cout, k, s, k // 2, groups=groups, bias=False), nn.BatchNorm2d(cout)]  # k3 s2 p1: ceil(n/2)
    if act:
        layers.append(nn.ReLU6(inplace=True))
    return nn.Sequential(*layers)


class InvertedResidual(nn.Module):
    """MobileNetV2 block: 1x1 expand, 3x3 depthwise (stride s), 1x1 project (linear)."""

    def __init__(self, cin, cout, stride, expand):
        super().__init__()
        hidden = cin * expand
        self.use_res = stride == 1 and cin == cout
        layers = []
        if expand != 1:
            layers.append(conv_bn(cin, hidden, 1))
        layers += [conv_bn(hidden, hidden, 3, stride, groups=hidden), conv_bn(hidden, cout, 1, act=False)]
        self.block = nn.Sequential(*layers)

    def forward(self, x):
        y = self.block(x)
        return x + y if self.use_res else y


class Backbone(nn.Module):
    """Small CPU-friendly backbone. Returns C3, C4, C5 (strides 8, 16, 32).

    Strides 2-8 use plain 3x3 convs (BN + ReLU): on a CPU, MobileNetV2's expanded depthwise
    blocks at high resolution cost most of the step time (measured 2.4 s of 3.5 s at
    256x256, batch 8) for few FLOPs. Strides 16 and 32 use MobileNetV2 inverted residual
    blocks (expand x4, depthwise 3x3, linear projection)."""

    # inverted residual stages after C3: (expand, out channels, blocks, first stride)
    SETTINGS = [(4, 64, 3, 2), (4, 96, 2, 1), (4, 160, 2, 2)]

    def __init__(self):
        super().__init__()
        self.stem = nn.Sequential(conv_bn(3, 16, 3, 2), conv_bn(16, 32, 3, 2), conv_bn(32, 32, 3, 1),
                                  conv_bn(32, 48, 3, 2), conv_bn(48, 48, 3, 1))
        cin = 48
        stages = []
        for t, c, n, s in self.SETTINGS:
            blocks = []
            for b in range(n):
                blocks.append(InvertedResidual(cin, c, s if b == 0 else 1, t))
                cin = c
            stages.append(nn.Sequential(*blocks))
        self.stages = nn.ModuleList(stages)
        self.out_channels = (48, 96, 160)

    def forward(self, x):
        c3 = self.stem(x)                        # [B, 48, S/8, S/8]
        x = self.stages[0](c3)
        c4 = self.stages[1](x)                   # [B, 96, S/16, S/16]
        c5 = self.stages[2](c4)                  # [B, 160, S/32, S/32]
        return [c3, c4, c5]


class FPN(nn.Module):
    def __init__(self, in_channels, width):
        super().__init__()
        self.lateral = nn.ModuleList([nn.Conv2d(c, width, 1) for c in in_channels])
        self.smooth = nn.ModuleList([nn.Conv2d(width, width, 3, padding=1) for _ in in_channels])
        self.down = nn.ModuleList([nn.Conv2d(width, width, 3, 2, 1) for _ in range(2)])

    def forward(self, feats):
        c3, c4, c5 = feats
        p5 = self.lateral[2](c5)
        p4 = self.lateral[1](c4) + F.interpolate(p5, size=c4.shape[-2:], mode='bilinear', align_corners=False)
        p3 = self.lateral[0](c3) + F.interpolate(p4, size=c3.shape[-2:], mode='bilinear', align_corners=False)
        p3, p4, p5 = [F.relu(s(p)) for s, p in zip(self.smooth, (p3, p4, p5))]
        p6 = self.down[0](p5)
        p7 = self.down[1](p6)
        return [p3, p4, p5, p6, p7]


class ProtoNet(nn.Module):
    def __init__(self, width, k=NUM_PROTOS):
        super().__init__()
        self.pre = nn.Sequential(*[m for _ in range(3) for m in (nn.Conv2d(width, width, 3, padding=1), nn.ReLU(inplace=True))])
        self.post = nn.Sequential(nn.Conv2d(width, width, 3, padding=1), nn.ReLU(inplace=True), nn.Conv2d(width, k, 1))

    def forward(self, p3):
        x = self.pre(p3)
        x = F.interpolate(x, scale_factor=2, mode='bilinear', align_corners=False)
        return F.relu(self.post(x))  # [B, 32, 2·S3, 2·S3], unbounded ReLU prototypes


class PredictionHead(nn.Module):
    def __init__(self, width, num_anchors=len(ASPECT_RATIOS)):
        super().__init__()
        self.A = num_anchors
        self.upfront = nn.Sequential(nn.Conv2d(width, width, 3, padding=1), nn.ReLU(inplace=True))
        self.bbox = nn.Conv2d(width, 4 * num_anchors, 3, padding=1)
        self.conf = nn.Conv2d(width, NUM_CLASSES * num_anchors, 3, padding=1)
        self.coef = nn.Conv2d(width, NUM_PROTOS * num_anchors, 3, padding=1)

    @staticmethod
    def _flat(x, d):
        # NCHW [B, A·d, H, W] → NHWC → [B, H·W·A, d]: order (row j, col i, anchor a)
        return x.permute(0, 2, 3, 1).reshape(x.shape[0], -1, d)

    def forward(self, x):
        x = self.upfront(x)
        return (self._flat(self.bbox(x), 4), self._flat(self.conf(x), NUM_CLASSES),
                torch.tanh(self._flat(self.coef(x), NUM_PROTOS)))


class Yolact(nn.Module):
    def __init__(self, width: int = 64):
        super().__init__()
        self.width = width
        self.backbone = Backbone()
        self.fpn = FPN(self.backbone.out_channels, width)
        self.protonet = ProtoNet(width)
        self.head = PredictionHead(width)
        self.semantic = nn.Conv2d(width, NUM_CLASSES - 1, 1)
        self._init_head()

    def _init_head(self):
        # Start-up priors (ours, not YOLACT's; they only shorten the first minutes on a CPU):
        # background logit log(80) so the first softmax says "background, p ≈ 0.5", and the
        # semantic logits at −4.6 (sigmoid ≈ 0.01, about the share of a class's pixels).
        nn.init.zeros_(self.head.conf.bias)
        nn.init.constant_(self.semantic.bias, -4.6)
        with torch.no_grad():
            self.head.conf.bias.view(self.head.A, NUM_CLASSES)[:, 0] = math.log(80.0)

    def forward(self, x):
        """x [B, 3, S, S] normalised. Returns loc [B,N,4], conf logits [B,N,81],
        coefficients [B,N,32] (tanh), proto [B,P,P,32] NHWC, semantic logits [B,80,S3,S3]."""
        feats = self.fpn(self.backbone(x))
        proto = self.protonet(feats[0]).permute(0, 2, 3, 1).contiguous()
        locs, confs, coefs = zip(*[self.head(p) for p in feats])
        return (torch.cat(locs, 1), torch.cat(confs, 1), torch.cat(coefs, 1), proto,
                self.semantic(feats[0]))


class YolactExport(nn.Module):
    """The public ONNX layout: input 0-255 RGB normalised outside; outputs loc, conf
    (softmax), mask (tanh coefficients), priors (constant), proto (NHWC)."""

    def __init__(self, model: Yolact, input_size: int):
        super().__init__()
        self.model = model
        self.register_buffer('priors', make_priors(input_size))

    def forward(self, x):
        feats = self.model.fpn(self.model.backbone(x))
        proto = self.model.protonet(feats[0]).permute(0, 2, 3, 1).contiguous()
        locs, confs, coefs = zip(*[self.model.head(p) for p in feats])
        conf = F.softmax(torch.cat(confs, 1), dim=-1)
        return torch.cat(locs, 1), conf, torch.cat(coefs, 1), self.priors, proto
