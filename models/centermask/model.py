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

import os
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'common'))
from fcos import (FPN, FPN_CHANNELS, LEVELS, MEAN_RGB, NUM_CLASSES, SIZES_OF_INTEREST, STAGES, STEM,  # noqa: E402,F401
                  STD_RGB, STRIDES, ESE, OSA, FCOSHead, SharedConvBN, VoVNetV2, conv_bn_relu, hard_sigmoid,
                  level_sizes, locations)

POOL_SIZE = 14
MASK_SIZE = 28
ROI_MIN_LEVEL, ROI_MAX_LEVEL = 3, 5


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
