#!/usr/bin/python3
"""B2Inst: the boundary-aware scoring head trained again, alone, on the detector's OWN detections.

Why: in `train.py` the scoring head learns on ground-truth boxes (the blender's RoIs there),
so its IoU targets are optimistic and hardly vary; at inference it scores predicted boxes,
and after 477 steps its rescoring cost −0.04 mask AP (README, "The paper's claim"). Here
the whole detector, basis module and top layer are frozen; each training image goes through
the same inference as `evaluate.py` (decode, class-aware NMS, top 100) and the head learns
what it will be asked at inference, on the first `--per-image` detections by score:

- S_IoU target: the IoU, in the input frame, of the detection's binarised mask (pasted as
  detectron2, p ≥ 0.5) with the mask of the ground-truth instance its box overlaps most
  (class-agnostic: the class score already judges the class); 0 when it overlaps none;
- S_boundary target: the Dice of the Laplacian boundaries of the predicted mask and that
  ground-truth mask, both in the detection's box at R×R (the GT RoIAligned there, as
  `loss.mask_targets` does for GT boxes); 0 when it overlaps none.
L2 on the sigmoids, as in `loss.py`. AdamW, cosine over `--minutes` of training time.

    OMP_WAIT_POLICY=PASSIVE nohup nice -n 10 /usr/bin/python3 models/blendmask/score_tune.py \
        --minutes 30 --threads 1 > models/blendmask/runs/score-tune.log 2>&1 &

Writes fp16 weights (the whole model, detector unchanged) to --out every --ckpt-minutes and
at the end; compare with `evaluate.py --variant b2inst --ckpt <out> --limit 100 --score sqrt`
against the same with `--score cls`, then copy over checkpoints/latest-b2inst.pt and export.
"""
from __future__ import annotations

import argparse
import math
import os
import signal
import sys
import time

os.environ.setdefault('OMP_WAIT_POLICY', 'PASSIVE')

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from torchvision.ops import box_iou  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, '..', 'common'))
from training import atomic_save, cosine_lr, ignore_sigterm  # noqa: E402
from emoji_coco import EmojiCoco, SizedBatchSampler, collate  # noqa: E402
from model import ATTN_SIZE, blend, boundary_target, dice_score, laplacian, roi_bases  # noqa: E402
from loss import mask_targets  # noqa: E402
from evaluate import MASK_THRESH, SIZE, decode  # noqa: E402
from export import load_checkpoint  # noqa: E402


def paste_batch(probs: torch.Tensor, boxes: torch.Tensor, side: int) -> torch.Tensor:
    """detectron2's paste (models/common/paste.py) for N masks at once: probs [N,R,R] in boxes
    [N,4] (input px) → [N,side,side] probabilities."""
    px = torch.arange(side, dtype=torch.float32) + 0.5
    w = (boxes[:, 2] - boxes[:, 0]).clamp(min=1e-6)
    h = (boxes[:, 3] - boxes[:, 1]).clamp(min=1e-6)
    gx = (px[None] - boxes[:, 0:1]) / w[:, None] * 2 - 1                     # [N, side]
    gy = (px[None] - boxes[:, 1:2]) / h[:, None] * 2 - 1
    grid = torch.stack([gx[:, None, :].expand(-1, side, -1), gy[:, :, None].expand(-1, -1, side)], -1)
    return F.grid_sample(probs[:, None], grid, mode='bilinear', padding_mode='zeros', align_corners=False)[:, 0]


def detection_targets(probs: torch.Tensor, boxes: torch.Tensor, gt_boxes: torch.Tensor,
                      gt_masks: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """One image: detections' mask probs [N,R,R] in boxes [N,4], GT boxes [G,4] and masks
    [G,S,S] (all in input px) → S_IoU and S_boundary targets [N] (module docstring)."""
    n = boxes.shape[0]
    iou_t, bd_t = torch.zeros(n), torch.zeros(n)
    if n == 0 or gt_boxes.shape[0] == 0:
        return iou_t, bd_t
    overlap, g = box_iou(boxes, gt_boxes).max(1)
    hit = overlap > 0
    if not hit.any():
        return iou_t, bd_t
    side = gt_masks.shape[-1]
    pred = (paste_batch(probs[hit], boxes[hit], side) >= MASK_THRESH).flatten(1).float()
    gt = gt_masks[g[hit]].flatten(1).float()
    inter = (pred * gt).sum(1)
    iou_t[hit] = inter / (pred.sum(1) + gt.sum(1) - inter).clamp(min=1)
    rois = torch.cat([g[hit, None].float(), boxes[hit]], 1)
    gt_in_box = mask_targets(gt_masks, rois, probs.shape[-1])
    pred_in_box = (probs[hit] >= MASK_THRESH).float()
    bd_t[hit] = dice_score(boundary_target(pred_in_box[:, None]), boundary_target(gt_in_box[:, None]))
    return iou_t, bd_t


@torch.no_grad()
def head_inputs(model, x: torch.Tensor, gt_boxes: list, gt_masks: list, per_image: int):
    """The frozen model's inference on a batch → the scoring head's inputs (probs, pooled
    bases) and targets for up to `per_image` detections an image, concatenated."""
    bases, outs = model(x)
    k = model.n_bases
    probs, pooled, iou_t, bd_t = [], [], [], []
    for b in range(x.shape[0]):
        boxes, _, _, attns = decode([tuple(t[b:b + 1] for t in level) for level in outs], x.shape[-1])
        boxes, attns = boxes[:per_image], attns[:per_image]
        if boxes.shape[0] == 0:
            continue
        pb = roi_bases(bases[b:b + 1], torch.cat([torch.zeros(boxes.shape[0], 1), boxes], 1))
        p = torch.sigmoid(blend(pb, attns.reshape(-1, k, ATTN_SIZE, ATTN_SIZE)))
        it, bt = detection_targets(p, boxes, gt_boxes[b], gt_masks[b])
        probs.append(p)
        pooled.append(pb)
        iou_t.append(it)
        bd_t.append(bt)
    if not probs:
        return None
    return torch.cat(probs), torch.cat(pooled), torch.cat(iou_t), torch.cat(bd_t)


def endless_batches(ds: EmojiCoco, batch: int, seed: int):
    """Shuffled batches of `batch` images at the inference size, epoch after epoch."""
    epoch = 0
    while True:
        sampler = SizedBatchSampler(len(ds), batch, [SIZE], [1.0], seed=seed * 1000 + epoch)
        yield from torch.utils.data.DataLoader(ds, batch_sampler=sampler, collate_fn=collate, num_workers=1,
                                               worker_init_fn=ignore_sigterm)
        epoch += 1


def correlation(a: torch.Tensor, b: torch.Tensor) -> float:
    a, b = a - a.mean(), b - b.mean()
    d = float(a.norm() * b.norm())
    return float((a * b).sum()) / d if d > 0 else math.nan


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--ckpt', default=os.path.join(HERE, 'checkpoints', 'latest-b2inst.pt'))
    ap.add_argument('--out', default=os.path.join(HERE, 'runs', 'score-tune', 'latest-b2inst.pt'))
    ap.add_argument('--data', default=os.path.join(HERE, '..', 'data', 'emoji-coco'))
    ap.add_argument('--batch', type=int, default=2, help='images a step')
    ap.add_argument('--per-image', type=int, default=32, help='detections an image (highest scores)')
    ap.add_argument('--lr', type=float, default=1e-3)
    ap.add_argument('--warmup', type=int, default=20)
    ap.add_argument('--minutes', type=float, default=30, help='cosine schedule length and stop (training time)')
    ap.add_argument('--ckpt-minutes', type=float, default=10)
    ap.add_argument('--threads', type=int, default=1)
    ap.add_argument('--seed', type=int, default=0)
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    np.random.seed(args.seed)
    model, ck = load_checkpoint(args.ckpt)
    assert model.b2inst, f'{args.ckpt} has no scoring head'
    for p in model.parameters():
        p.requires_grad_(False)
    params = list(model.scoring.parameters())
    for p in params:
        p.requires_grad_(True)
    model.eval()
    model.scoring.train()
    opt = torch.optim.AdamW(params, lr=args.lr, weight_decay=1e-4)
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    print(f'scoring head of {args.ckpt} (step {ck.get("step")}): {sum(p.numel() for p in params)} parameters, '
          f'detector frozen; {args.per_image} detections an image, batch {args.batch}', flush=True)

    step, elapsed, last_ckpt = 0, 0.0, 0.0

    def checkpoint():
        half = {k: v.half() if v.is_floating_point() else v for k, v in model.state_dict().items()}
        notes = (ck.get('notes', '') + f' Scoring head then trained alone on its own detections for {step} steps '
                 f'({elapsed / 60:.0f} min, models/blendmask/score_tune.py), detector frozen.')
        atomic_save({'model': half, 'variant': 'b2inst', 'step': ck.get('step'), 'elapsed': ck.get('elapsed'),
                     'notes': notes, 'score_tune': {'steps': step, 'minutes': round(elapsed / 60, 1), 'args': vars(args)}},
                    args.out)
        print(f'checkpoint: score-tune step {step} ({elapsed / 60:.1f} min) → {os.path.relpath(args.out)}', flush=True)

    stop_signal: list[int] = []
    signal.signal(signal.SIGTERM, lambda *_: stop_signal.append(1))
    ds = EmojiCoco(args.data, 'train')
    window: list[tuple[torch.Tensor, ...]] = []
    for x, boxes, _labels, masks in endless_batches(ds, args.batch, args.seed):
        t0 = time.time()
        got = head_inputs(model, x, boxes, masks, args.per_image)
        if got is None:
            continue
        probs, pooled, iou_t, bd_t = got
        lr = cosine_lr(args.lr, args.warmup, args.minutes * 60, elapsed, step)
        for group in opt.param_groups:
            group['lr'] = lr
        q = torch.sigmoid(model.scoring(probs[:, None], laplacian(probs[:, None]), pooled))
        loss = F.mse_loss(q[:, 0], iou_t) + F.mse_loss(q[:, 1], bd_t)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        step += 1
        dt = time.time() - t0
        elapsed += dt
        window = (window + [(q.detach(), iou_t, bd_t)])[-20:]
        if step % 10 == 0 or step <= 3:
            qs, its, bts = (torch.cat([w[i] for w in window]) for i in range(3))
            print(f'step {step} {elapsed / 60:.1f}min lr {lr:.5f} loss {loss.item():.4f} dets {probs.shape[0]} '
                  f'targets IoU {float(its.mean()):.3f} boundary {float(bts.mean()):.3f}, predicted '
                  f'{float(qs[:, 0].mean()):.3f} / {float(qs[:, 1].mean()):.3f}, correlation '
                  f'{correlation(qs[:, 0], its):.3f} / {correlation(qs[:, 1], bts):.3f} ({dt:.2f}s/step)', flush=True)
        if elapsed >= args.minutes * 60 or stop_signal:
            checkpoint()
            break
        if elapsed - last_ckpt >= args.ckpt_minutes * 60:
            last_ckpt = elapsed
            checkpoint()


if __name__ == '__main__':
    main()
