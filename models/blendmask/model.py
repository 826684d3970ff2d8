"""BlendMask (Chen et al., CVPR 2020) and B2Inst (Kim et al., WACV 2021) scaled down to
train on a shared CPU, on CenterMask's detector (models/common/fcos.py: VoVNetV2-lite, FPN
P3..P7 at 64 channels, FCOS head with 2 + 2 tower convs). One class, `BlendMask(b2inst=...)`:

- top layer: conv3x3 on the FCOS box tower (shared by the levels) → K'·M·M attentions a
  location (M = 14; K' = K = 4 for BlendMask, K' = K + 1 = 5 for B2Inst: the boundary basis
  has its own attention map, like every other basis).
- bottom (basis module, MODELS.md §5 at reduced width BASIS_CH): conv3x3-BN-ReLU on each of
  P3, P4, P5 → P4, P5 bilinearly upsampled to P3's size and summed → 3 × conv3x3-BN-ReLU →
  bilinear ×2 (stride 4) → conv3x3-BN-ReLU → 1x1 → K bases (+1 boundary basis for B2Inst,
  the LAST channel: its sigmoid is the holistic boundary map of all instances).
- blender (`blend`): RoIAlign (aligned, sampling 1, scale 1/4) of the K' bases into the box
  → [N,K',R,R], R = 56; the instance's attention [N,K',M,M] bilinearly upsampled to R×R
  (align_corners=False); softmax over K'; Σ_K' basis·attention → mask logits [N,R,R].
- B2Inst scoring head (`ScoringHead`): cat(mask probabilities [N,1,R,R], their Laplacian
  boundary clamp(lap(p), 0) [N,1,R,R], the RoI'd bases [N,K',R,R]) → 4 shared conv3x3 stride 2
  + ReLU (56 → 28 → 14 → 7 → 4) → two FC branches (fc 128, ReLU, fc 1) → S_IoU, S_boundary (sigmoid) [N,2].

The exported parts keep the blender, decoding and NMS outside the graph (AdelaiDet's layout).
"""
from __future__ import annotations

import os
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F
from torchvision.ops import roi_align

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'common'))
from fcos import (FPN, FPN_CHANNELS, LEVELS, MEAN_RGB, NUM_CLASSES, STD_RGB, STRIDES, FCOSHead,  # noqa: E402,F401
                  SharedConvBN, VoVNetV2, conv_bn_relu, level_sizes, locations)

NUM_BASES = 4              # K
ATTN_SIZE = 14             # M
BLEND_SIZE = 56            # R
BASIS_STRIDE = 4
BASIS_CH = 48              # MODELS.md: 128 (reduced: ≤ 8 MB a part)
SCORE_CH = 32              # scoring head conv width
SCORE_FC = 128
LAPLACIAN = ((-1., -1., -1.), (-1., 8., -1.), (-1., -1., -1.))


def laplacian(m: torch.Tensor) -> torch.Tensor:
    """[N,1,H,W] → the 3x3 Laplacian [[-1,-1,-1],[-1,8,-1],[-1,-1,-1]] (zero padding), clamped ≥ 0."""
    k = torch.tensor(LAPLACIAN, dtype=m.dtype, device=m.device)[None, None]
    return F.conv2d(m, k, padding=1).clamp(min=0)


def boundary_target(m: torch.Tensor) -> torch.Tensor:
    """Binary masks [N,1,H,W] → binary boundaries: Laplacian, clamp ≥ 0, > 0.1 (BMask R-CNN)."""
    return (laplacian(m.float()) > 0.1).float()


def dice_score(bp: torch.Tensor, bg: torch.Tensor, eps: float = 1.0) -> torch.Tensor:
    """[N,...] → (2ΣBpBg + ε)/(ΣBp² + ΣBg² + ε) [N]."""
    bp, bg = bp.flatten(1), bg.flatten(1)
    return (2 * (bp * bg).sum(1) + eps) / ((bp * bp).sum(1) + (bg * bg).sum(1) + eps)


class BasisModule(nn.Module):
    """P3, P4, P5 → bases [B, n_out, H3·2, W3·2] (stride 4)."""

    def __init__(self, n_out: int, cin=FPN_CHANNELS, width=BASIS_CH):
        super().__init__()
        self.refine = nn.ModuleList([conv_bn_relu(cin, width) for _ in range(3)])
        self.tower = nn.Sequential(*[conv_bn_relu(width, width) for _ in range(3)])
        self.post = conv_bn_relu(width, width)
        self.out = nn.Conv2d(width, n_out, 1)

    def forward(self, feats):
        x = self.refine[0](feats[0])
        for i in (1, 2):
            x = x + F.interpolate(self.refine[i](feats[i]), size=x.shape[-2:], mode='bilinear', align_corners=False)
        x = self.tower(x)
        x = F.interpolate(x, scale_factor=2.0, mode='bilinear', align_corners=False)
        return self.out(self.post(x))


class ScoringHead(nn.Module):
    """B2Inst boundary-aware mask scoring: (mask probs [N,1,R,R], boundary [N,1,R,R], RoI'd
    bases [N,K',R,R]) → logits of (S_IoU, S_boundary) [N,2] (sigmoid gives the scores)."""

    def __init__(self, n_bases: int, width=SCORE_CH, hidden=SCORE_FC):
        super().__init__()
        self.convs = nn.Sequential(
            nn.Conv2d(2 + n_bases, width, 3, 2, 1), nn.ReLU(inplace=True),           # 56 → 28
            nn.Conv2d(width, width, 3, 2, 1), nn.ReLU(inplace=True),                 # 28 → 14
            nn.Conv2d(width, 2 * width, 3, 2, 1), nn.ReLU(inplace=True),             # 14 → 7
            nn.Conv2d(2 * width, 2 * width, 3, 2, 1), nn.ReLU(inplace=True))         # 7 → 4
        flat = 2 * width * 4 * 4
        self.iou = nn.Sequential(nn.Linear(flat, hidden), nn.ReLU(inplace=True), nn.Linear(hidden, 1))
        self.boundary = nn.Sequential(nn.Linear(flat, hidden), nn.ReLU(inplace=True), nn.Linear(hidden, 1))

    def forward(self, mask_probs, mask_boundary, roi_bases):
        x = self.convs(torch.cat([mask_probs, mask_boundary, roi_bases], 1)).flatten(1)
        return torch.cat([self.iou(x), self.boundary(x)], 1)


def roi_bases(bases: torch.Tensor, rois: torch.Tensor, size: int = BLEND_SIZE,
              scale: float = 1.0 / BASIS_STRIDE) -> torch.Tensor:
    """RoIAlign (aligned, sampling 1) of the bases: rois [N,5] (batch index, x1, y1, x2, y2 in
    input pixels) → [N,K',size,size]."""
    return roi_align(bases, rois, (size, size), scale, 1, aligned=True)


def blend(pooled: torch.Tensor, attn: torch.Tensor) -> torch.Tensor:
    """RoI'd bases [N,K',R,R], attentions [N,K',M,M] → mask logits [N,R,R]: attention
    bilinearly upsampled to R×R (align_corners=False), softmax over K', Σ basis·attention."""
    r = pooled.shape[-1]
    a = F.interpolate(attn, size=(r, r), mode='bilinear', align_corners=False).softmax(1)
    return (pooled * a).sum(1)


class BlendMask(nn.Module):
    def __init__(self, b2inst: bool = False):
        super().__init__()
        self.b2inst = b2inst
        self.n_bases = NUM_BASES + (1 if b2inst else 0)
        self.backbone = VoVNetV2()
        self.fpn = FPN(self.backbone.out_channels)
        self.head = FCOSHead()
        for m in self.head.modules():          # eval: one copy of each tower conv in the ONNX part
            if isinstance(m, SharedConvBN):
                m.explicit_bn = True
        self.top_layer = nn.Conv2d(FPN_CHANNELS, self.n_bases * ATTN_SIZE * ATTN_SIZE, 3, padding=1)
        nn.init.normal_(self.top_layer.weight, std=0.01)
        nn.init.zeros_(self.top_layer.bias)
        self.bottom = BasisModule(self.n_bases)
        self.scoring = ScoringHead(self.n_bases) if b2inst else None

    def forward(self, x):
        """x [B,3,S,S] normalised → (bases [B,K',S/4,S/4], per level (cls, box, ctr, top_feats))."""
        feats = self.fpn(self.backbone(x))
        outs = [(c, b, t, self.top_layer(tower)) for c, b, t, tower in self.head(feats, with_box_tower=True)]
        return self.bottom(feats[:3]), outs

    def score(self, mask_logits: torch.Tensor, pooled: torch.Tensor) -> torch.Tensor:
        """B2Inst: blended mask logits [N,R,R] (detached here) + RoI'd bases → (S_IoU, S_boundary) logits [N,2]."""
        p = torch.sigmoid(mask_logits.detach())[:, None]
        return self.scoring(p, laplacian(p), pooled.detach())


def final_score(s_cls: torch.Tensor, s_iou: torch.Tensor, s_boundary: torch.Tensor, mode: str = 'sqrt') -> torch.Tensor:
    """'sqrt': s_cls·sqrt(S_IoU·S_boundary) (default); 'product': s_cls·S_IoU·S_boundary; 'cls': s_cls."""
    if mode == 'sqrt':
        return s_cls * torch.sqrt(s_iou * s_boundary)
    if mode == 'product':
        return s_cls * s_iou * s_boundary
    if mode == 'cls':
        return s_cls
    raise ValueError(mode)


def output_names() -> list[str]:
    """The detector part's outputs, AdelaiDet's export names (onnx/export_model_to_onnx.py:
    'P{l}/logits', 'P{l}/bbox_reg', 'P{l}/centerness'; + 'P{l}/top_feats' and 'bases')."""
    return ['bases'] + [f'P{lv}/{k}' for lv in LEVELS for k in ('logits', 'bbox_reg', 'centerness', 'top_feats')]


class DetectorExport(nn.Module):
    """ONNX part 1: input [1,3,S,S] → bases, then per level logits, bbox_reg (px), centerness, top_feats."""

    def __init__(self, model: BlendMask):
        super().__init__()
        self.model = model

    def forward(self, x):
        bases, outs = self.model(x)
        return (bases,) + tuple(t for o in outs for t in o)


class ScoringExport(nn.Module):
    """ONNX part 2 (B2Inst): mask_probs [N,1,R,R], mask_boundary [N,1,R,R], roi_bases [N,K',R,R]
    → scores [N,2] = sigmoid(S_IoU, S_boundary)."""

    def __init__(self, model: BlendMask):
        super().__init__()
        self.head = model.scoring

    def forward(self, mask_probs, mask_boundary, roi_bases):
        return torch.sigmoid(self.head(mask_probs, mask_boundary, roi_bases))
