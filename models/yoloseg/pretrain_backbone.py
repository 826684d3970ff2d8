#!/usr/bin/python3
"""Pretrain the YOLO-seg backbone (stem, C3, C4, C5 with SPPF) as a classifier of object
crops (models/common/pretrain.py): our stand-in for Ultralytics' ImageNet-pretrained
backbone, and the cure for the class branch of the first runs (100 training minutes from
scratch: boxes and masks found, classes mostly wrong, mask AP 0.031).

    OMP_WAIT_POLICY=PASSIVE nice -n 10 /usr/bin/python3 models/yoloseg/pretrain_backbone.py --minutes 15
        → models/yoloseg/runs/backbone-pretrain.pt (fp16 state dict of the backbone's modules)

By default it starts from the backbone of checkpoints/latest.pt (what the detector already
learnt); `train.py --backbone-init models/yoloseg/runs/backbone-pretrain.pt` loads it over a
detector's weights. Input as the ONNX input: RGB / 255, no mean or std.
"""
from __future__ import annotations

import os
import sys

os.environ.setdefault('OMP_WAIT_POLICY', 'PASSIVE')

import torch  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(1, os.path.join(HERE, '..', 'common'))
from model import YoloSeg  # noqa: E402
from pretrain import CropClassifier, arguments, run, to_tensor  # noqa: E402

CROP = 48
BACKBONE = ('stem', 's4', 's8', 's16', 's32')


def backbone_features(model: YoloSeg, x: torch.Tensor):
    """C3, C4, C5: the maps the PAN neck reads."""
    c3 = model.s8(model.s4(model.stem(x)))
    c4 = model.s16(c3)
    return c3, c4, model.s32(c4)


def backbone_state(model: YoloSeg) -> dict:
    return {k: v for k, v in model.state_dict().items() if k.split('.')[0] in BACKBONE}


def main():
    ap = arguments(__doc__.splitlines()[0], 15, os.path.join(HERE, 'runs', 'backbone-pretrain.pt'))
    ap.set_defaults(data=os.path.join(HERE, '..', 'data', 'emoji-coco'))
    ap.add_argument('--init', default=os.path.join(HERE, 'checkpoints', 'latest.pt'),
                    help='start from this detector checkpoint\'s backbone if it exists ("" = random)')
    args = ap.parse_args()
    model = YoloSeg()
    if args.init and os.path.exists(args.init):
        ck = torch.load(args.init, map_location='cpu', weights_only=False)
        model.load_state_dict({k: v.float() if v.is_floating_point() else v for k, v in ck['model'].items()})
        print(f'backbone from {args.init} (step {ck.get("step")})', flush=True)
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    classifier = CropClassifier(model, model.width[2:], backbone_features)
    run(args, classifier, CROP, lambda crops: to_tensor(crops, (0, 0, 0), (1, 1, 1), 1 / 255),
        lambda: backbone_state(model))


if __name__ == '__main__':
    main()
