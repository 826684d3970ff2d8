#!/usr/bin/python3
"""Pretrain the YOLACT backbone as a classifier of object crops (models/common/pretrain.py):
our stand-in for the paper's ImageNet-pretrained ResNet. After 1941 steps from scratch only
18 % of the positive priors ranked the right class first among the foreground classes; a
crop classifier gets one labelled example per object, so the backbone learns the class
features much sooner. Crops of 48 px; the classifier pools C3, C4 and C5.

    OMP_WAIT_POLICY=PASSIVE nice -n 10 /usr/bin/python3 models/yolact/pretrain_backbone.py --minutes 20
        → models/yolact/checkpoints/backbone-pretrain.pt (fp16 backbone state dict)

`train.py --backbone-init models/yolact/checkpoints/backbone-pretrain.pt` starts a
detector from it.
"""
from __future__ import annotations

import os
import sys

os.environ.setdefault('OMP_WAIT_POLICY', 'PASSIVE')

import torch  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(1, os.path.join(HERE, '..', 'common'))
from model import Backbone, MEAN_RGB, STD_RGB  # noqa: E402
from pretrain import CropClassifier, arguments, run, to_tensor  # noqa: E402

CROP = 48


def main():
    ap = arguments(__doc__.splitlines()[0], 20, os.path.join(HERE, 'checkpoints', 'backbone-pretrain.pt'))
    ap.set_defaults(data=os.path.join(HERE, '..', 'data', 'emoji-coco'))
    ap.add_argument('--init', default=os.path.join(HERE, 'checkpoints', 'latest.pt'),
                    help='start from this detector checkpoint\'s backbone if it exists ("" = random)')
    args = ap.parse_args()
    backbone = Backbone()
    if args.init and os.path.exists(args.init):
        ck = torch.load(args.init, map_location='cpu', weights_only=False)
        backbone.load_state_dict({k[len('backbone.'):]: v.float() for k, v in ck['model'].items() if k.startswith('backbone.')})
        print(f'backbone from {args.init} (step {ck.get("step")})', flush=True)
    run(args, CropClassifier(backbone, backbone.out_channels), CROP, lambda crops: to_tensor(crops, MEAN_RGB, STD_RGB, 1.0))


if __name__ == '__main__':
    main()
