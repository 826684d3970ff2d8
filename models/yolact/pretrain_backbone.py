#!/usr/bin/python3
"""Pretrain the YOLACT backbone as a classifier of object crops (our stand-in for the
paper's ImageNet-pretrained ResNet).

YOLACT starts from a backbone pretrained on ImageNet classification; none can be fetched
here, and learning 80 classes through the detection loss alone is slow (after 1941 steps
from scratch only 18 % of the positive priors ranked the right class first among the
foreground classes). A crop classifier gets one labelled example per object instead of a
few positive priors per image, at a fraction of the pixels, so the backbone learns the
class features much sooner.

Crops come from the TRAIN split only: each object's box, widened so the object fills a
random 35–90 % of the crop side (the detector sees objects with context, at many scales),
jittered, resized to CROP x CROP. The classifier pools C3, C4 and C5 (global average) and
has one linear layer, so all three levels the FPN reads learn class features. Held-out
accuracy is measured on crops of the val split.

    OMP_WAIT_POLICY=PASSIVE nice -n 10 /usr/bin/python3 models/yolact/pretrain_backbone.py --minutes 20
        → models/yolact/checkpoints/backbone-pretrain.pt (fp16 backbone state dict)

`train.py --backbone-init models/yolact/checkpoints/backbone-pretrain.pt` starts a
detector from it.
"""
from __future__ import annotations

import argparse
import math
import os
import sys
import time

os.environ.setdefault('OMP_WAIT_POLICY', 'PASSIVE')

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from model import Backbone, MEAN_RGB, STD_RGB  # noqa: E402
sys.path.insert(0, os.path.join(HERE, '..', 'common'))
from crops import build_crops as common_build_crops  # noqa: E402

CROP = 48


def build_crops(root: str, split: str, seed: int, limit: int | None = None):
    return common_build_crops(root, split, seed, CROP, limit)


class CropClassifier(nn.Module):
    def __init__(self):
        super().__init__()
        self.backbone = Backbone()
        self.fc = nn.Linear(sum(self.backbone.out_channels), 80)

    def forward(self, x):
        feats = self.backbone(x)
        return self.fc(torch.cat([f.mean((2, 3)) for f in feats], 1))


def to_tensor(crops: np.ndarray) -> torch.Tensor:
    x = (crops.astype(np.float32) - np.array(MEAN_RGB, np.float32)) / np.array(STD_RGB, np.float32)
    return torch.from_numpy(x.transpose(0, 3, 1, 2).copy())


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--data', default=os.path.join(HERE, '..', 'data', 'emoji-coco'))
    ap.add_argument('--minutes', type=float, default=20)
    ap.add_argument('--batch', type=int, default=128)
    ap.add_argument('--lr', type=float, default=3e-3)
    ap.add_argument('--threads', type=int, default=2)
    ap.add_argument('--init', default=os.path.join(HERE, 'checkpoints', 'latest.pt'),
                    help='start from this detector checkpoint\'s backbone if it exists ("" = random)')
    ap.add_argument('--out', default=os.path.join(HERE, 'checkpoints', 'backbone-pretrain.pt'))
    ap.add_argument('--seed', type=int, default=0)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)

    t0 = time.time()
    train_x, train_y = build_crops(args.data, 'train', seed=args.seed)
    val_x, val_y = build_crops(args.data, 'val', seed=args.seed + 1)
    print(f'crops: train {len(train_y)}, val {len(val_y)} ({time.time() - t0:.0f} s)', flush=True)
    val_t = to_tensor(val_x)

    model = CropClassifier()
    if args.init and os.path.exists(args.init):
        ck = torch.load(args.init, map_location='cpu', weights_only=False)
        bb = {k[len('backbone.'):]: v.float() for k, v in ck['model'].items() if k.startswith('backbone.')}
        model.backbone.load_state_dict(bb)
        print(f'backbone from {args.init} (step {ck.get("step")})', flush=True)
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=5e-4)
    rng = np.random.default_rng(args.seed)

    def evaluate() -> float:
        model.eval()
        correct = 0
        with torch.no_grad():
            for i in range(0, len(val_y), 512):
                correct += int((model(val_t[i:i + 512]).argmax(1).numpy() == val_y[i:i + 512]).sum())
        model.train()
        return correct / len(val_y)

    step, elapsed, epoch = 0, 0.0, 0
    budget = args.minutes * 60
    while elapsed < budget:
        order = rng.permutation(len(train_y))
        for b in range(0, len(order) - args.batch + 1, args.batch):
            t = time.time()
            idx = order[b:b + args.batch]
            crops = train_x[idx]
            flip = rng.random(len(idx)) < 0.5
            crops[flip] = crops[flip, :, ::-1]
            x, y = to_tensor(crops), torch.from_numpy(train_y[idx])
            lr = args.lr * min(1.0, (step + 1) / 50) * (0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * min(1.0, elapsed / budget))))
            for g in opt.param_groups:
                g['lr'] = lr
            loss = F.cross_entropy(model(x), y)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            step += 1
            elapsed += time.time() - t
            if step % 20 == 0:
                print(f'step {step} epoch {epoch} {elapsed / 60:.1f}min lr {lr:.5f} loss {loss.item():.3f}', flush=True)
            if step % 200 == 0:
                print(f'val accuracy {evaluate():.3f}', flush=True)
            if elapsed >= budget:
                break
        epoch += 1
    acc = evaluate()
    print(f'final: {step} steps, {elapsed / 60:.1f} min, val crop accuracy {acc:.3f}', flush=True)
    half = {k: v.half() if v.is_floating_point() else v for k, v in model.backbone.state_dict().items()}
    torch.save({'backbone': half, 'steps': step, 'minutes': round(elapsed / 60, 1), 'val_accuracy': acc,
                'crop': CROP}, args.out)
    print('saved', args.out, flush=True)


if __name__ == '__main__':
    main()
