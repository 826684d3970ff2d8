"""What CenterMask and BlendMask / B2Inst share (moved here from models/centermask): the
VoVNetV2-lite backbone (OSA + eSE), the FPN (P3..P7), the FCOS head (shared tower convs with
one BatchNorm per level), the level geometry (sides, locations) and the FCOS training maths
(targets with centre sampling and scale ranges, centerness, GIoU, the three FCOS losses).
models/centermask/model.py and loss.py re-export these names; the descriptions of the
layers are in models/centermask/model.py's docstring.
"""
from __future__ import annotations

import math

import torch
import torch.nn as nn
import torch.nn.functional as F
from torchvision.ops import sigmoid_focal_loss

NUM_CLASSES = 80                        # FCOS: sigmoid classes, no background
FPN_CHANNELS = 64
STRIDES = (8, 16, 32, 64, 128)          # P3..P7
LEVELS = (3, 4, 5, 6, 7)
SIZES_OF_INTEREST = ((-1, 64), (64, 128), (128, 256), (256, 512), (512, 1e8))
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

    # True: in eval mode the BatchNorm is applied as an explicit per-channel scale and shift
    # after the shared conv, so an ONNX export keeps ONE copy of the conv weights instead of
    # one BN-folded copy per level (BlendMask's detector part needs the bytes; same numbers).
    explicit_bn = False

    def forward(self, x, level):
        if self.explicit_bn and not self.training:
            bn = self.bn[level]
            scale = bn.weight / torch.sqrt(bn.running_var + bn.eps)
            shift = bn.bias - bn.running_mean * scale
            return F.relu(self.conv(x) * scale[:, None, None] + shift[:, None, None])
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

    def forward(self, feats, with_box_tower: bool = False):
        """→ per level (cls logits [B,K,H,W], box ltrb px [B,4,H,W], ctr logits [B,1,H,W]), and
        with_box_tower: the box tower's output [B,C,H,W] as a 4th item (BlendMask's top layer
        reads it)."""
        out = []
        for lvl, f in enumerate(feats):
            c, b = f, f
            for layer in self.cls_tower:
                c = layer(c, lvl)
            for layer in self.box_tower:
                b = layer(b, lvl)
            box = F.relu(self.scales[lvl] * self.bbox_pred(b)) * STRIDES[lvl]
            out.append((self.cls_logits(c), box, self.ctrness(b)) + ((b,) if with_box_tower else ()))
        return out


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


CENTER_RADIUS = 1.5
FOCAL_ALPHA, FOCAL_GAMMA = 0.25, 2.0
INF = 1e8


def all_locations(sides: list[int]) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Every level's locations concatenated (level, row, col) → points [N, 2], stride [N],
    scale range [N, 2]."""
    pts, strides, ranges = [], [], []
    for side, s, r in zip(sides, STRIDES, SIZES_OF_INTEREST):
        p = locations(side, s)
        pts.append(p)
        strides.append(torch.full((p.shape[0],), float(s)))
        ranges.append(torch.tensor(r, dtype=torch.float32).expand(p.shape[0], 2))
    return torch.cat(pts), torch.cat(strides), torch.cat(ranges)


def fcos_targets(points, strides, ranges, boxes, labels, radius=CENTER_RADIUS):
    """One image. → class target [N] (0..79, −1 = background), ltrb target [N, 4] (px),
    matched GT index [N] (−1 = none). A location is positive for a GT box when it lies in the
    box's centre region (centre ± radius·stride, clipped to the box) and the box's largest
    ltrb distance from it is in the level's scale range; among several, the smallest box."""
    n = points.shape[0]
    if boxes.shape[0] == 0:
        return torch.full((n,), -1, dtype=torch.long), torch.zeros(n, 4), torch.full((n,), -1, dtype=torch.long)
    x, y = points[:, 0:1], points[:, 1:2]                                      # [N, 1]
    x1, y1, x2, y2 = (boxes[:, i][None] for i in range(4))                     # [1, G]
    ltrb = torch.stack([x - x1, y - y1, x2 - x, y2 - y], -1)                   # [N, G, 4]
    cx, cy = (x1 + x2) / 2, (y1 + y2) / 2
    rs = strides[:, None] * radius
    cx1, cy1 = torch.maximum(cx - rs, x1), torch.maximum(cy - rs, y1)
    cx2, cy2 = torch.minimum(cx + rs, x2), torch.minimum(cy + rs, y2)
    in_centre = (x > cx1) & (y > cy1) & (x < cx2) & (y < cy2)
    max_reg = ltrb.max(-1).values
    in_range = (max_reg >= ranges[:, 0:1]) & (max_reg <= ranges[:, 1:2])
    area = ((x2 - x1) * (y2 - y1)).expand(n, -1).clone()
    area[~(in_centre & in_range)] = INF
    best_area, best = area.min(1)
    matched = torch.where(best_area < INF, best, torch.full_like(best, -1))
    cls = torch.where(matched >= 0, labels[best.clamp(min=0)] - 1, torch.full_like(best, -1))
    reg = ltrb[torch.arange(n), best]
    return cls, reg, matched


def centerness_target(reg: torch.Tensor) -> torch.Tensor:
    lr, tb = reg[:, [0, 2]], reg[:, [1, 3]]
    return torch.sqrt((lr.min(1).values / lr.max(1).values.clamp(min=1e-6)).clamp(min=0)
                      * (tb.min(1).values / tb.max(1).values.clamp(min=1e-6)).clamp(min=0))


def giou_loss(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """ltrb distances from the same point [P, 4] → 1 − GIoU [P]."""
    pl, pt, pr, pb = pred.unbind(1)
    tl, tt, tr, tb = target.unbind(1)
    pa, ta = (pl + pr) * (pt + pb), (tl + tr) * (tt + tb)
    iw, ih = torch.min(pl, tl) + torch.min(pr, tr), torch.min(pt, tt) + torch.min(pb, tb)
    inter = iw.clamp(min=0) * ih.clamp(min=0)
    union = pa + ta - inter
    iou = (inter + 1) / (union + 1)
    enclose = (torch.max(pl, tl) + torch.max(pr, tr)) * (torch.max(pt, tt) + torch.max(pb, tb)) + 1e-7
    return 1 - (iou - (enclose - union) / enclose)



def fcos_losses(outs: list, gt_boxes: list, gt_labels: list) -> tuple[dict, torch.Tensor, torch.Tensor]:
    """The FCOS losses of a batch from the head's per-level outputs (cls, box, ctr[, ...]):
    sigmoid focal loss / #positives, GIoU weighted by the centerness target, centerness BCE
    / #positives. → (losses {'cls', 'box', 'ctr'}, class targets [B, N] (−1 background),
    matched GT index [B, N] (−1 none)), locations in (level, row, col) order."""
    sides = [o[0].shape[-1] for o in outs]
    points, strides, ranges = all_locations(sides)
    # flatten predictions in (level, row, col) order: [B, N, K], [B, N, 4], [B, N]
    cls_p = torch.cat([o[0].flatten(2) for o in outs], 2).transpose(1, 2)
    box_p = torch.cat([o[1].flatten(2) for o in outs], 2).transpose(1, 2)
    ctr_p = torch.cat([o[2].flatten(2) for o in outs], 2)[:, 0]
    cls_t, reg_t, idx_t = [], [], []
    for b in range(cls_p.shape[0]):
        c, r, m = fcos_targets(points, strides, ranges, gt_boxes[b], gt_labels[b])
        cls_t.append(c)
        reg_t.append(r)
        idx_t.append(m)
    cls_t, reg_t, idx_t = torch.stack(cls_t), torch.stack(reg_t), torch.stack(idx_t)   # [B, N], [B, N, 4], [B, N]
    pos = cls_t >= 0
    n_pos = max(1.0, float(pos.sum()))
    onehot = torch.zeros_like(cls_p)
    onehot[pos, cls_t[pos]] = 1.0
    losses = {'cls': sigmoid_focal_loss(cls_p, onehot, FOCAL_ALPHA, FOCAL_GAMMA, reduction='sum') / n_pos}
    if pos.any():
        ctr_t = centerness_target(reg_t[pos])
        losses['box'] = (giou_loss(box_p[pos], reg_t[pos]) * ctr_t).sum() / ctr_t.sum().clamp(min=1e-6)
        losses['ctr'] = F.binary_cross_entropy_with_logits(ctr_p[pos], ctr_t, reduction='sum') / n_pos
    else:
        losses['box'] = box_p.sum() * 0
        losses['ctr'] = ctr_p.sum() * 0
    return losses, cls_t, idx_t
