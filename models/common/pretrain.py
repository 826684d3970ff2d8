"""Backbone pretraining as a classifier of object crops: our stand-in for the ImageNet
pretraining every paper starts from (none can be fetched on these machines).

Learning 80 classes through a detection loss alone is slow: a detector gets a few positive
anchors an image, a crop classifier one labelled example per object at a fraction of the
pixels. YOLACT's class branch, for one, went from 18 % of positives ranked right (1941
steps from scratch) to a usable detector once its backbone started from here.

Crops: models/common/crops.py (TRAIN split for training, val split held out). The
classifier averages each feature map the neck reads (global average pool), concatenates
them and applies one linear layer, so every level learns class features. Each recipe's
`pretrain_backbone.py` names its backbone, its crop size and its input normalisation, and
calls `run`.
"""
from __future__ import annotations

import argparse
import math
import os
import time
from typing import Callable, Sequence

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from crops import build_crops


class CropClassifier(nn.Module):
    """backbone(x) → feature maps; `features` picks the ones the detector's neck reads."""

    def __init__(self, backbone: nn.Module, channels: Sequence[int],
                 features: Callable[[nn.Module, torch.Tensor], Sequence[torch.Tensor]] | None = None,
                 num_classes: int = 80):
        super().__init__()
        self.backbone = backbone
        self.features = features or (lambda module, x: module(x))
        self.fc = nn.Linear(sum(channels), num_classes)

    def forward(self, x):
        return self.fc(torch.cat([f.mean((2, 3)) for f in self.features(self.backbone, x)], 1))


def to_tensor(crops: np.ndarray, mean: Sequence[float], std: Sequence[float], scale: float) -> torch.Tensor:
    """uint8 crops [n, h, w, 3] RGB → normalised float [n, 3, h, w]: (pixel · scale − mean) / std."""
    x = (crops.astype(np.float32) * scale - np.array(mean, np.float32)) / np.array(std, np.float32)
    return torch.from_numpy(x.transpose(0, 3, 1, 2).copy())


def arguments(description: str, default_minutes: float, default_out: str) -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(description=description)
    ap.add_argument('--data')
    ap.add_argument('--minutes', type=float, default=default_minutes)
    ap.add_argument('--batch', type=int, default=128)
    ap.add_argument('--lr', type=float, default=3e-3)
    ap.add_argument('--threads', type=int, default=2)
    ap.add_argument('--out', default=default_out)
    ap.add_argument('--seed', type=int, default=0)
    ap.add_argument('--images', type=int, default=None, help='crops of the first N images of each split only (a quick check)')
    return ap


def run(args, classifier: CropClassifier, crop: int, normalise: Callable[[np.ndarray], torch.Tensor],
        backbone_state: Callable[[], dict] | None = None) -> float:
    """Train `classifier` on crops for args.minutes of training time (AdamW, 50-step warm-up,
    cosine to 5 %, horizontal flips); save the backbone's fp16 state dict (or
    `backbone_state()`) with its held-out crop accuracy to args.out (also every 200 steps);
    return the final accuracy."""
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    t0 = time.time()
    train_x, train_y = build_crops(args.data, 'train', args.seed, crop, args.images)
    val_x, val_y = build_crops(args.data, 'val', args.seed + 1, crop, args.images)
    print(f'crops: train {len(train_y)}, val {len(val_y)} ({time.time() - t0:.0f} s)', flush=True)
    val_t = normalise(val_x)
    opt = torch.optim.AdamW(classifier.parameters(), lr=args.lr, weight_decay=5e-4)
    rng = np.random.default_rng(args.seed)

    def evaluate() -> float:
        classifier.eval()
        correct = 0
        with torch.no_grad():
            for i in range(0, len(val_y), 512):
                correct += int((classifier(val_t[i:i + 512]).argmax(1).numpy() == val_y[i:i + 512]).sum())
        classifier.train()
        return correct / len(val_y)

    def save(acc: float):
        state = backbone_state() if backbone_state else classifier.backbone.state_dict()
        half = {k: v.half() if v.is_floating_point() else v for k, v in state.items()}
        torch.save({'backbone': half, 'steps': step, 'minutes': round(elapsed / 60, 1), 'val_accuracy': acc,
                    'crop': crop}, args.out + '.tmp')
        os.replace(args.out + '.tmp', args.out)

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
            x, y = normalise(crops), torch.from_numpy(train_y[idx])
            progress = min(1.0, elapsed / budget)
            lr = args.lr * min(1.0, (step + 1) / 50) * (0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * progress)))
            for g in opt.param_groups:
                g['lr'] = lr
            loss = F.cross_entropy(classifier(x), y)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            step += 1
            elapsed += time.time() - t
            if step % 20 == 0:
                print(f'step {step} epoch {epoch} {elapsed / 60:.1f}min lr {lr:.5f} loss {loss.item():.3f}', flush=True)
            if step % 200 == 0:  # saved as it goes: a stopped run still leaves a backbone
                acc = evaluate()
                print(f'val accuracy {acc:.3f}', flush=True)
                save(acc)
            if elapsed >= budget:
                break
        epoch += 1
    acc = evaluate()
    print(f'final: {step} steps, {elapsed / 60:.1f} min, val crop accuracy {acc:.3f}', flush=True)
    save(acc)
    print('saved', args.out, flush=True)
    return acc
