"""CenterMask-Lite (Lee & Park, CVPR 2020) scaled down to train on a shared CPU, split for
export into the two ONNX parts the app runs (see README.md "Interface"):

- backbone: VoVNetV2, small. Stem conv3x3 s2 (16) + conv3x3 s2 (32) → stride 4. Stages 2–5
  of OSA modules (One-Shot Aggregation: `layers` sequential conv3x3-BN-ReLU, the input and
  every output concatenated, 1x1 conv-BN-ReLU aggregation to concat_ch, then eSE: global
  average pool → one 1x1 conv C→C → hard-sigmoid → multiply), the identity residual on
  every block of a stage but the first (the V2 change), max-pool 3x3 s2 (ceil) before
  stages 3–5. C3, C4, C5 (strides 8, 16, 32) feed the FPN.
- FPN (FPN_CHANNELS): 1x1 laterals on C3–C5, nearest ×2 top-down + add, 3x3 output convs;
  P6 = conv3x3 s2 (P5), P7 = conv3x3 s2 (ReLU(P6)) (FCOS's "P5" variant). 512: P3..P7 =
  64, 32, 16, 8, 4.
- FCOS head (Lite: 2 cls + 2 box tower convs), conv weights shared by the levels, one
  BatchNorm per level and tower conv (BN folds into the conv at export; GroupNorm would
  export as InstanceNormalization + reshapes). Per level: cls logits (K), box ltrb =
  ReLU(scale_l · x) · stride (input pixels), centerness logit (on the box tower).
- SAG-Mask on 14x14 RoI features (RoIAlign from P3–P5, Equation 2 level): 2 × conv3x3 +
  ReLU, spatial attention (channel mean ‖ channel max → conv3x3 2→1 no bias → sigmoid →
  multiply), ConvTranspose 2x2 s2 + ReLU, 1x1 → K class-specific 28x28 mask logits.
- MaskIoU head: cat(RoI features, maxpool2x2(sigmoid(mask logits))) → 3 conv3x3 + ReLU (the
  last stride 2, 14 → 7) → fc, fc → K mask IoUs. The exported mask head cannot know the
  detection's class, so the head sees the 28→14 pooled probabilities of ALL K classes (not
  only the predicted one, as in the paper); it is trained on the GT class's column, the app
  reads the detected class's column.
"""
from __future__ import annotations

import math

import torch
import torch.nn as nn
import torch.nn.functional as F

NUM_CLASSES = 80                        # FCOS: sigmoid classes, no background
FPN_CHANNELS = 64
STRIDES = (8, 16, 32, 64, 128)          # P3..P7
LEVELS = (3, 4, 5, 6, 7)
SIZES_OF_INTEREST = ((-1, 64), (64, 128), (128, 256), (256, 512), (512, 1e8))
POOL_SIZE = 14
MASK_SIZE = 28
ROI_MIN_LEVEL, ROI_MAX_LEVEL = 3, 5
MEAN_RGB = (0.485, 0.456, 0.406)        # after x · 1/255
STD_RGB = (0.229, 0.224, 0.225)

# VoVNetV2 stages 2..5: (stage_ch, concat_ch, blocks, layers a block)
STAGES = ((16, 48, 1, 3), (32, 64, 1, 3), (48, 112, 2, 3), (80, 160, 2, 3))
STEM = (16, 32)


def conv_bn_relu(cin, cout, k=3, s=1):
    return nn.Sequential(nn.Conv2d(cin, cout, k, s, k // 2, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True))


def hard_sigmoid(x):
    """relu6(x + 3) / 6 (VoVNetV2's Hsigmoid); exports as Clip, no HardSigmoid op needed."""
    return F.relu6(x + 3.0) / 6.0


class ESE(nn.Module):
    """effective Squeeze-Excitation: GAP → 1x1 C→C (one FC, no reduction) → hard-sigmoid → ×."""

    def __init__(self, c):
        super().__init__()
        self.fc = nn.Conv2d(c, c, 1)

    def forward(self, x):
        return x * hard_sigmoid(self.fc(F.adaptive_avg_pool2d(x, 1)))


class OSA(nn.Module):
    def __init__(self, cin, stage_ch, concat_ch, layers, identity):
        super().__init__()
        self.layers = nn.ModuleList([conv_bn_relu(cin if i == 0 else stage_ch, stage_ch) for i in range(layers)])
        self.concat = conv_bn_relu(cin + layers * stage_ch, concat_ch, 1)
        self.ese = ESE(concat_ch)
        self.identity = identity and cin == concat_ch

    def forward(self, x):
        outs, y = [x], x
        for layer in self.layers:
            y = layer(y)
            outs.append(y)
        y = self.ese(self.concat(torch.cat(outs, 1)))
        return y + x if self.identity else y


class VoVNetV2(nn.Module):
    """→ [C3, C4, C5] at strides 8, 16, 32."""

    def __init__(self, stages=STAGES, stem=STEM):
        super().__init__()
        self.stem = nn.Sequential(conv_bn_relu(3, stem[0], 3, 2), conv_bn_relu(stem[0], stem[1], 3, 2))
        cin, blocks = stem[1], []
        for i, (stage_ch, concat_ch, n_blocks, layers) in enumerate(stages):
            mods = [nn.MaxPool2d(3, 2, ceil_mode=True)] if i > 0 else []
            for b in range(n_blocks):
                mods.append(OSA(cin, stage_ch, concat_ch, layers, identity=b > 0))
                cin = concat_ch
            blocks.append(nn.Sequential(*mods))
        self.stages = nn.ModuleList(blocks)
        self.out_channels = tuple(s[1] for s in stages[1:])

    def forward(self, x):
        x = self.stages[0](self.stem(x))
        c3 = self.stages[1](x)
        c4 = self.stages[2](c3)
        c5 = self.stages[3](c4)
        return [c3, c4, c5]


class FPN(nn.Module):
    """C3..C5 → P3..P7 (P6, P7: stride-2 convs on P5, then on ReLU(P6))."""

    def __init__(self, in_channels, width=FPN_CHANNELS):
        super().__init__()
        self.lateral = nn.ModuleList([nn.Conv2d(c, width, 1) for c in in_channels])
        self.output = nn.ModuleList([nn.Conv2d(width, width, 3, padding=1) for _ in in_channels])
        self.p6 = nn.Conv2d(width, width, 3, 2, 1)
        self.p7 = nn.Conv2d(width, width, 3, 2, 1)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_uniform_(m.weight, a=1)
                nn.init.zeros_(m.bias)

    def forward(self, feats):
        inner = self.lateral[-1](feats[-1])
        outs = [self.output[-1](inner)]
        for i in range(len(feats) - 2, -1, -1):
            lat = self.lateral[i](feats[i])
            inner = lat + F.interpolate(inner, size=lat.shape[-2:], mode='nearest')
            outs.insert(0, self.output[i](inner))
        p6 = self.p6(outs[-1])
        p7 = self.p7(F.relu(p6))
        return outs + [p6, p7]                     # [P3, P4, P5, P6, P7]


class SharedConvBN(nn.Module):
    """conv3x3 shared by the levels, BatchNorm per level, ReLU."""

    def __init__(self, c, levels):
        super().__init__()
        self.conv = nn.Conv2d(c, c, 3, padding=1, bias=False)
        self.bn = nn.ModuleList([nn.BatchNorm2d(c) for _ in range(levels)])
        nn.init.normal_(self.conv.weight, std=0.01)

    def forward(self, x, level):
        return F.relu(self.bn[level](self.conv(x)))


class FCOSHead(nn.Module):
    def __init__(self, width=FPN_CHANNELS, num_classes=NUM_CLASSES, tower=2, levels=len(STRIDES)):
        super().__init__()
        self.cls_tower = nn.ModuleList([SharedConvBN(width, levels) for _ in range(tower)])
        self.box_tower = nn.ModuleList([SharedConvBN(width, levels) for _ in range(tower)])
        self.cls_logits = nn.Conv2d(width, num_classes, 3, padding=1)
        self.bbox_pred = nn.Conv2d(width, 4, 3, padding=1)
        self.ctrness = nn.Conv2d(width, 1, 3, padding=1)
        self.scales = nn.Parameter(torch.ones(levels))
        for m in (self.cls_logits, self.bbox_pred, self.ctrness):
            nn.init.normal_(m.weight, std=0.01)
            nn.init.zeros_(m.bias)
        nn.init.constant_(self.cls_logits.bias, -math.log((1 - 0.01) / 0.01))

    def forward(self, feats):
        """→ per level (cls logits [B,K,H,W], box ltrb px [B,4,H,W], ctr logits [B,1,H,W])."""
        out = []
        for lvl, f in enumerate(feats):
            c, b = f, f
            for layer in self.cls_tower:
                c = layer(c, lvl)
            for layer in self.box_tower:
                b = layer(b, lvl)
            box = F.relu(self.scales[lvl] * self.bbox_pred(b)) * STRIDES[lvl]
            out.append((self.cls_logits(c), box, self.ctrness(b)))
        return out


class SpatialAttention(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(2, 1, 3, padding=1, bias=False)

    def forward(self, x):
        a = torch.cat([x.mean(1, keepdim=True), x.amax(1, keepdim=True)], 1)
        return x * torch.sigmoid(self.conv(a))


class MaskIoUHead(nn.Module):
    """cat(RoI features [M,C,14,14], pooled mask probabilities [M,K,14,14]) → IoU [M,K]."""

    def __init__(self, width=FPN_CHANNELS, num_classes=NUM_CLASSES, hidden=256):
        super().__init__()
        self.convs = nn.Sequential(
            nn.Conv2d(width + num_classes, width, 3, padding=1), nn.ReLU(inplace=True),
            nn.Conv2d(width, width, 3, padding=1), nn.ReLU(inplace=True),
            nn.Conv2d(width, width, 3, 2, 1), nn.ReLU(inplace=True))
        self.fc1 = nn.Linear(width * (POOL_SIZE // 2) ** 2, hidden)
        self.fc2 = nn.Linear(hidden, hidden)
        self.iou = nn.Linear(hidden, num_classes)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode='fan_out', nonlinearity='relu')
                nn.init.zeros_(m.bias)
        nn.init.normal_(self.iou.weight, std=0.01)
        nn.init.constant_(self.iou.bias, 0.5)

    def forward(self, feats, mask_probs):
        x = torch.cat([feats, F.max_pool2d(mask_probs, 2, 2)], 1)
        x = self.convs(x).flatten(1)
        return self.iou(F.relu(self.fc2(F.relu(self.fc1(x)))))


class SAGMaskHead(nn.Module):
    """mask_features [M,C,14,14] → mask_logits [M,K,28,28], mask_iou [M,K]."""

    def __init__(self, width=FPN_CHANNELS, num_classes=NUM_CLASSES, convs=2):
        super().__init__()
        layers = []
        for _ in range(convs):
            layers += [nn.Conv2d(width, width, 3, padding=1), nn.ReLU(inplace=True)]
        self.convs = nn.Sequential(*layers)
        self.sam = SpatialAttention()
        self.deconv = nn.ConvTranspose2d(width, width, 2, 2)
        self.logits = nn.Conv2d(width, num_classes, 1)
        for m in [*self.convs, self.deconv, self.logits]:
            if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)):
                nn.init.kaiming_normal_(m.weight, mode='fan_out', nonlinearity='relu')
                nn.init.zeros_(m.bias)
        self.maskiou = MaskIoUHead(width, num_classes)

    def forward(self, x, detach_mask: bool = False):
        logits = self.logits(F.relu(self.deconv(self.sam(self.convs(x)))))
        probs = torch.sigmoid(logits.detach() if detach_mask else logits)
        return logits, self.maskiou(x, probs)


class CenterMask(nn.Module):
    def __init__(self):
        super().__init__()
        self.backbone = VoVNetV2()
        self.fpn = FPN(self.backbone.out_channels)
        self.head = FCOSHead()
        self.mask_head = SAGMaskHead()

    def features(self, x):
        """x [B,3,S,S] normalised → [P3..P7], per-level (cls, box, ctr)."""
        feats = self.fpn(self.backbone(x))
        return feats, self.head(feats)


class DetectorExport(nn.Module):
    """ONNX part 1: input [1,3,S,S] → p3, p4, p5, cls_p3..7, box_p3..7, ctr_p3..7."""

    OUTPUT_NAMES = (['p3', 'p4', 'p5'] + [f'cls_p{lv}' for lv in LEVELS] + [f'box_p{lv}' for lv in LEVELS]
                    + [f'ctr_p{lv}' for lv in LEVELS])

    def __init__(self, model: CenterMask):
        super().__init__()
        self.model = model

    def forward(self, x):
        feats, outs = self.model.features(x)
        return tuple(feats[:3]) + tuple(o[0] for o in outs) + tuple(o[1] for o in outs) + tuple(o[2] for o in outs)


class MaskHeadExport(nn.Module):
    """ONNX part 2: mask_features [M,C,14,14] → mask_logits [M,K,28,28], mask_iou [M,K]."""

    def __init__(self, model: CenterMask):
        super().__init__()
        self.head = model.mask_head

    def forward(self, x):
        return self.head(x)


def level_sizes(input_size: int) -> list[int]:
    """P3..P7 sides of a square input (stem: two k3 s2 p1 convs; max-pools k3 s2 ceil; P6, P7 k3 s2 p1)."""
    s = input_size
    for _ in range(2):
        s = (s + 1) // 2                   # stem convs
    out = []
    for _ in range(3):                     # pools before stages 3, 4, 5 (ceil mode: ceil((s − 3) / 2) + 1)
        n = -(-(s - 3) // 2) + 1
        s = n - 1 if (n - 1) * 2 >= s else n   # PyTorch: the last window must start inside the input
        out.append(s)
    for _ in range(2):
        s = (s + 1) // 2
        out.append(s)
    return out


def locations(side: int, stride: int) -> torch.Tensor:
    """Centres of a level's cells [side², 2] (x, y) in input pixels, row-major: (x·s + s//2, y·s + s//2)."""
    r = torch.arange(side, dtype=torch.float32) * stride + stride // 2
    yy, xx = torch.meshgrid(r, r, indexing='ij')
    return torch.stack([xx.reshape(-1), yy.reshape(-1)], 1)
