#!/usr/bin/python3
"""Pretrain the VoVNetV2 backbone as a classifier of object crops (models/common/pretrain.py):
our stand-in for the paper's ImageNet-pretrained VoVNet. Crops of 64 px; the classifier
pools C3, C4 and C5, the levels the FPN reads.

    OMP_WAIT_POLICY=PASSIVE nice -n 19 /usr/bin/python3 models/centermask/pretrain_backbone.py --minutes 10
        → models/centermask/runs/backbone-pretrain.pt (fp16 backbone state dict)

`train.py --backbone-init models/centermask/runs/backbone-pretrain.pt` starts a detector from it.
"""
from __future__ import annotations

import os
import sys

os.environ.setdefault('OMP_WAIT_POLICY', 'PASSIVE')

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(1, os.path.join(HERE, '..', 'common'))
from model import MEAN_RGB, STD_RGB, VoVNetV2  # noqa: E402
from pretrain import CropClassifier, arguments, run, to_tensor  # noqa: E402

CROP = 64


def main():
    ap = arguments(__doc__.splitlines()[0], 10, os.path.join(HERE, 'runs', 'backbone-pretrain.pt'))
    ap.set_defaults(data=os.path.join(HERE, '..', 'data', 'emoji-coco'))
    args = ap.parse_args()
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    backbone = VoVNetV2()
    run(args, CropClassifier(backbone, backbone.out_channels), CROP, lambda crops: to_tensor(crops, MEAN_RGB, STD_RGB, 1 / 255))


if __name__ == '__main__':
    main()
