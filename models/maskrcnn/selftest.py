#!/usr/bin/python3
"""Self-checks of the Mask R-CNN recipe against hand-computed values and against
torchvision's own implementations (AnchorGenerator, paste_masks_in_image, BoxCoder).

    /usr/bin/python3 models/maskrcnn/selftest.py
"""
import os
import sys

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from model import ANCHOR_RATIOS, ANCHOR_SIZES, STRIDES, MaskRCNN, BackboneExport, level_sizes, make_anchors  # noqa: E402
from loss import BOX_WEIGHTS, decode, encode, match, roi_levels, rpn_proposals, level_counts_of  # noqa: E402
from evaluate import IOU_THRESHOLDS, average_precision, greedy_flags, paste_mask  # noqa: E402


def check(cond, what):
    if not cond:
        raise AssertionError(what)
    print('ok ', what)


def main():
    torch.set_num_threads(1)
    torch.manual_seed(0)
    check(level_sizes(512) == [128, 64, 32, 16, 8], 'P2..P6 sides at 512')
    check(level_sizes(384) == [96, 48, 24, 12, 6], 'P2..P6 sides at 384')
    a = make_anchors(512)
    check(a.shape == (65472, 4), '65472 anchors at 512 (3 · (128² + 64² + 32² + 16² + 8²))')
    # size 16, ratio 0.5: h = 16·√.5 = 11.31, w = 16/√.5 = 22.63 → round(±11.31, ±5.66) = (−11, −6, 11, 6)
    check(a[:3].tolist() == [[-11, -6, 11, 6], [-8, -8, 8, 8], [-6, -11, 6, 11]], 'first P2 location anchors (hand)')
    # P3 (stride 8, size 32), row 1, col 2, ratio 1: (−16, −16, 16, 16) + (16, 8)
    check(a[3 * 128 * 128 + (1 * 64 + 2) * 3 + 1].tolist() == [0, -8, 32, 24], 'P3 row 1 col 2 ratio 1 (hand)')
    # torchvision's AnchorGenerator (an independent implementation) on the same grid
    from torchvision.models.detection.anchor_utils import AnchorGenerator
    from torchvision.models.detection.image_list import ImageList
    gen = AnchorGenerator(tuple((s,) for s in ANCHOR_SIZES), (ANCHOR_RATIOS,) * len(ANCHOR_SIZES))
    feats = [torch.zeros(1, 1, s, s) for s in level_sizes(512)]
    tv = gen(ImageList(torch.zeros(1, 3, 512, 512), [(512, 512)]), feats)[0]
    check(torch.equal(tv, a), 'anchors equal torchvision AnchorGenerator at 512 (strides %s)' % (STRIDES,))

    # box coder: round trip; torchvision BoxCoder agrees; clamp of dw
    from torchvision.models.detection._utils import BoxCoder
    ref = torch.tensor([[0., 0., 10., 20.], [5., 5., 25., 15.], [100., 50., 180., 90.]])
    gt = torch.tensor([[1., 2., 12., 18.], [0., 0., 40., 30.], [90., 60., 200., 80.]])
    check(torch.allclose(decode(encode(gt, ref, BOX_WEIGHTS), ref, BOX_WEIGHTS), gt, atol=1e-4), 'encode/decode round trip')
    d = torch.randn(3, 4) * 3
    tvd = BoxCoder(BOX_WEIGHTS).decode_single(d, ref)
    check(torch.allclose(decode(d, ref, BOX_WEIGHTS), tvd, atol=1e-4), 'decode equals torchvision BoxCoder (10,10,5,5)')
    big = decode(torch.tensor([[0., 0., 50., 0.]]), ref[:1])
    check(abs(float(big[0, 2] - big[0, 0]) - 10 * 1000 / 16) < 1e-2, 'dw clamped to log(1000/16)')

    # FPN level: floor(4 + log2(√area/224 + 1e-6)) in [2, 5]
    lv = roi_levels(torch.tensor([[0., 0., 224., 224.], [0., 0., 111., 111.], [0., 0., 112., 112.],
                                  [0., 0., 10., 10.], [0., 0., 448., 448.], [0., 0., 2000., 2000.]])).tolist()
    check(lv == [4, 2, 3, 2, 5, 5], f'RoI levels {lv}')

    # matcher: IoU ≥ .7 positive, < .3 negative, between ignored; low-quality best match kept
    iou = torch.tensor([[0.8, 0.5, 0.1, 0.2], [0.1, 0.2, 0.25, 0.0]])
    check(match(iou, 0.7, 0.3, True).tolist() == [0, -2, 1, -1], 'RPN matcher with low-quality matches')
    check(match(iou, 0.5, 0.5, False).tolist() == [0, 0, -1, -1], 'RoI matcher 0.5')

    # paste with padding 1 equals torchvision paste_masks_in_image
    from torchvision.models.detection.roi_heads import paste_masks_in_image
    worst = 0.0
    for trial in range(20):
        h, w = int(torch.randint(40, 120, ())), int(torch.randint(40, 120, ()))
        m = torch.rand(28, 28)
        # boxes that cross the borders but meet the image (torchvision fails on boxes fully outside)
        x1, y1 = float(torch.rand(()) * (w - 5) - 10), float(torch.rand(()) * (h - 5) - 10)
        box = torch.tensor([x1, y1, x1 + float(torch.rand(()) * 60 + 12), y1 + float(torch.rand(()) * 60 + 12)])
        want = paste_masks_in_image(m[None, None], box[None], (h, w), padding=1)[0, 0]
        worst = max(worst, float((paste_mask(m, box, h, w) - want).abs().max()))
    check(worst < 1e-6, f'paste_mask equals torchvision paste_masks_in_image (max abs diff {worst:.1e})')

    # AP: perfect detections → 1; a higher-scored false positive → known precision curve
    ious = np.eye(3)
    flags = greedy_flags(ious, 3)
    check(np.allclose(average_precision({0: ([(0.9 - 0.1 * j, flags[j]) for j in range(3)], 3)}), 1), 'AP of perfect detections = 1')
    fp = [(0.95, np.zeros(len(IOU_THRESHOLDS)))] + [(0.9, np.ones(len(IOU_THRESHOLDS)))]
    # recall 1 reached at precision 1/2 → interpolated precision 0.5 at every recall point
    check(np.allclose(average_precision({0: (fp, 1)}), 0.5), 'AP with one higher false positive = 0.5')

    # proposals: per level top-n, sorted by score, inside the image
    obj = torch.randn(1, a.shape[0])
    props, scores = rpn_proposals(obj, torch.zeros(1, a.shape[0], 4), a, level_counts_of(512), 512, 1000, 500)[0]
    check(props.shape[0] <= 500 and bool((scores[:-1] >= scores[1:]).all()), 'proposals ≤ 500 sorted by score')
    check(bool((props >= 0).all() and (props <= 512).all()), 'proposals clipped to the input')

    # export wrapper shapes
    m = MaskRCNN().eval()
    with torch.no_grad():
        outs = BackboneExport(m)(torch.zeros(1, 3, 512, 512))
        cl, bd = m.box_head(torch.zeros(5, 64, 7, 7))
        ml = m.mask_head(torch.zeros(3, 64, 14, 14))
    shapes = [tuple(o.shape) for o in outs] + [tuple(cl.shape), tuple(bd.shape), tuple(ml.shape)]
    check(shapes == [(1, 64, 128, 128), (1, 64, 64, 64), (1, 64, 32, 32), (1, 64, 16, 16), (1, 65472), (1, 65472, 4),
                     (5, 81), (5, 324), (3, 81, 28, 28)], f'part shapes {shapes}')
    print(f'    {sum(p.numel() for p in m.parameters()) / 1e6:.2f} M parameters')
    data_checks()


def data_checks():
    """Training targets vs inference conventions, on real val images (skipped without the data):
    GT boxes follow the (flipped) masks; a GT mask RoIAligned to 28x28 as the mask loss's
    target, then pasted back as at inference, gives the GT mask again (up to 28x28 detail)."""
    root = os.path.join(HERE, '..', 'data', 'emoji-coco')
    if not os.path.exists(os.path.join(root, 'annotations', 'instances_val.json')):
        print('skip data checks (no models/data/emoji-coco)')
        return
    from torchvision.ops import roi_align
    from data import EmojiCoco, rle_decode
    from evaluate import mask_iou
    ds = EmojiCoco(root, 'val', flip=True)
    np.random.seed(3)
    worst = 0.0
    for i in range(6):
        _, boxes, _, masks = ds[(i, 384)]
        for b, mk in zip(boxes, masks):
            ys, xs = np.nonzero(mk.numpy())
            if len(xs) < 50:
                continue
            worst = max(worst, float(np.abs(np.array([xs.min(), ys.min(), xs.max() + 1, ys.max() + 1]) - b.numpy()).max()))
    check(worst <= 3.0, f'GT boxes follow their (randomly flipped) masks at 384 (max corner gap {worst:.1f} px)')
    ds = EmojiCoco(root, 'val', flip=False)
    ious, areas = [], []
    for i in range(10):
        _, boxes, _, masks = ds[(i, 512)]
        im = ds.images[i]
        h, w = im['height'], im['width']
        anns = [a for a in ds.anns[im['id']] if a['iscrowd'] == 0]
        rois = torch.cat([torch.arange(len(boxes))[:, None].float(), boxes], 1)
        targets = roi_align(masks[:, None].float(), rois, (28, 28), 1.0, 2, aligned=True)[:, 0]
        for k, a in enumerate(anns):
            pasted = paste_mask(targets[k], boxes[k] * torch.tensor([w / 512, h / 512, w / 512, h / 512]), h, w) > 0.5
            g = rle_decode(a['segmentation']) > 0
            ious.append(mask_iou(pasted.numpy().ravel()[None], g.ravel()[None])[0, 0])
            areas.append(g.sum())
    ious, areas = np.array(ious), np.array(areas)
    big = ious[areas > 1000].mean()
    check(big > 0.9, f'mask target → paste round trip: mean IoU {ious.mean():.3f} ({len(ious)} instances), {big:.3f} for area > 1000 px')


if __name__ == '__main__':
    main()
