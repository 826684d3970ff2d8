#!/usr/bin/python3
"""Train BlendMask or B2Inst on synthetic emoji-COCO (CPU niced, or --device cuda).

    mkdir -p models/blendmask/runs && OMP_WAIT_POLICY=PASSIVE nohup nice -n 10 /usr/bin/python3 \
        models/blendmask/train.py --variant b2inst --minutes 240 --threads 1 \
        [--backbone-init models/centermask/runs/backbone-pretrain.pt] > models/blendmask/runs/b2inst.log 2>&1 &
    ... the same with --resume (and >> to the log) to continue

Every --ckpt-minutes and at the end: the full state to models/blendmask/runs/<run>/state.pt
(weights, optimiser, step, training time; gitignored) and fp16 weights to
models/blendmask/checkpoints/latest-<variant>.pt (small; commit it by hand). No export and
no commit here: export.py writes the ONNX parts from a checkpoint. Losses go to
runs/<run>/losses.csv. `--resume` continues from state.pt, or from the fp16 checkpoint
(weights only, fresh optimiser) when the run folder is gone.

AdamW, linear warm-up, cosine decay over --minutes of TRAINING time to 5 %
(models/common/training.py cosine_lr), so a resumed run continues the same schedule.
"""
from __future__ import annotations

import argparse
import csv
import os
import signal
import sys
import time

os.environ.setdefault('OMP_WAIT_POLICY', 'PASSIVE')

import numpy as np  # noqa: E402
import torch  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, '..', 'common'))
from training import atomic_save, cosine_lr, ignore_sigterm, optimiser_step, training_device  # noqa: E402
from emoji_coco import EmojiCoco, SizedBatchSampler, collate  # noqa: E402
from model import BlendMask  # noqa: E402
from loss import blendmask_loss  # noqa: E402

VARIANTS = {'blendmask': False, 'b2inst': True}


def loss_keys(b2inst: bool) -> list[str]:
    return ['cls', 'box', 'ctr', 'mask'] + (['boundary', 'score'] if b2inst else [])


def load_fp16(model, path):
    ck = torch.load(path, map_location='cpu', weights_only=False)
    model.load_state_dict({k: v.float() if v.is_floating_point() else v for k, v in ck['model'].items()})
    return ck


DETECTOR_PARTS = ('backbone', 'fpn', 'head')


def load_detector(model, path):
    """Copy the parts BlendMask shares with CenterMask (models/common/fcos.py) from a CenterMask
    checkpoint; every one of their tensors must be present with the same shape (strict per part)."""
    theirs = torch.load(path, map_location='cpu', weights_only=False)['model']
    for part in DETECTOR_PARTS:
        prefix = part + '.'
        sub = {k[len(prefix):]: (v.float() if v.is_floating_point() else v) for k, v in theirs.items() if k.startswith(prefix)}
        getattr(model, part).load_state_dict(sub, strict=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--variant', choices=sorted(VARIANTS), required=True)
    ap.add_argument('--data', default=os.path.join(HERE, '..', 'data', 'emoji-coco'))
    ap.add_argument('--split', default='train')
    ap.add_argument('--limit-images', type=int, default=0, help='train on the first N images only (overfit test)')
    ap.add_argument('--run', default=None, help='runs/<run> (default: the variant)')
    ap.add_argument('--resume', action='store_true')
    ap.add_argument('--init', default=None, help='start from these weights (fp16 checkpoint), fresh optimiser')
    ap.add_argument('--backbone-init', default=None, help='backbone weights (models/centermask/pretrain_backbone.py)')
    ap.add_argument('--detector-init', default=None,
                    help='backbone + FPN + FCOS head from a CenterMask checkpoint (models/centermask/checkpoints/latest.pt): '
                         'the detector code is shared (models/common/fcos.py), so the names and shapes match')
    ap.add_argument('--batch', type=int, default=4)
    ap.add_argument('--sizes', default='384,448,512')
    ap.add_argument('--size-weights', default='2,2,1')
    ap.add_argument('--lr', type=float, default=1e-3)
    ap.add_argument('--weight-decay', type=float, default=1e-4)
    ap.add_argument('--warmup', type=int, default=100)
    ap.add_argument('--minutes', type=float, default=240, help='cosine schedule length (training time)')
    ap.add_argument('--stop-minutes', type=float, default=None, help='stop after this much training time (default --minutes)')
    ap.add_argument('--ckpt-minutes', type=float, default=10)
    ap.add_argument('--mask-rois', type=int, default=16, help='FCOS positives a image that train the blender')
    ap.add_argument('--boundary-weight', type=float, default=1.0)
    ap.add_argument('--score-weight', type=float, default=1.0)
    ap.add_argument('--threads', type=int, default=1)
    ap.add_argument('--workers', type=int, default=1)
    ap.add_argument('--max-steps', type=int, default=0)
    ap.add_argument('--seed', type=int, default=0)
    ap.add_argument('--device', default='cpu')
    args = ap.parse_args()
    b2inst = VARIANTS[args.variant]
    run = args.run or args.variant
    stop_minutes = args.minutes if args.stop_minutes is None else args.stop_minutes

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    np.random.seed(args.seed)
    run_dir = os.path.join(HERE, 'runs', run)
    os.makedirs(run_dir, exist_ok=True)
    state_path = os.path.join(run_dir, 'state.pt')
    latest_path = os.path.join(HERE, 'checkpoints', f'latest-{args.variant}.pt')
    csv_path = os.path.join(run_dir, 'losses.csv')

    device, on_device = training_device(args.device)
    model = BlendMask(b2inst)
    step, elapsed = 0, 0.0
    fresh = not (args.resume and os.path.exists(state_path))
    if args.init and fresh:
        load_fp16(model, args.init)
        print(f'initialised from {args.init}')
    if args.detector_init and fresh and not args.init:
        load_detector(model, args.detector_init)
        print(f'detector (backbone, FPN, FCOS head) from {args.detector_init}')
    if args.backbone_init and fresh and not args.init and not args.detector_init:
        bb = torch.load(args.backbone_init, map_location='cpu', weights_only=False)
        model.backbone.load_state_dict({k: v.float() if v.is_floating_point() else v for k, v in bb['backbone'].items()})
        print(f'backbone from {args.backbone_init}')
    model.to(device)
    params = list(model.parameters())
    opt = torch.optim.AdamW(params, lr=args.lr, weight_decay=args.weight_decay)
    if not fresh:
        st = torch.load(state_path, map_location=device, weights_only=False)
        model.load_state_dict(st['model'])
        opt.load_state_dict(st['opt'])
        step, elapsed = st['step'], st['elapsed']
        print(f'resumed {state_path}: step {step}, {elapsed / 60:.1f} min')
    elif args.resume and os.path.exists(latest_path):
        ck = load_fp16(model, latest_path)
        step, elapsed = ck.get('step', 0), ck.get('elapsed', 0.0)
        print(f'resumed weights only from {latest_path}: step {step}')

    ds = EmojiCoco(args.data, args.split)
    if args.limit_images:
        ds.images = ds.images[:args.limit_images]
    sizes = [int(s) for s in args.sizes.split(',')]
    weights = [float(w) for w in args.size_weights.split(',')] if args.size_weights else [1.0] * len(sizes)
    keys = loss_keys(b2inst)
    new_csv = not os.path.exists(csv_path) or fresh
    log = open(csv_path, 'w' if new_csv else 'a', newline='')
    writer = csv.writer(log)
    if new_csv:
        writer.writerow(['step', 'minutes', 'lr', 'size'] + keys + ['total', 'pos', 'mask_rois', 'sec_per_step'])

    def checkpoint():
        atomic_save({'model': model.state_dict(), 'opt': opt.state_dict(), 'step': step, 'elapsed': elapsed,
                     'args': vars(args)}, state_path)
        notes = (f'{"B2Inst" if b2inst else "BlendMask"} on VoVNetV2-lite + FPN P3-P7 (64 ch), FCOS (2+2 tower convs), '
                 f'{model.n_bases} bases at stride 4, trained on synthetic emoji-COCO: {step} steps of batch '
                 f'{args.batch} at {args.sizes} px ({elapsed / 60:.0f} min training time, device {args.device}).')
        half = {k: v.half().cpu() if v.is_floating_point() else v.cpu() for k, v in model.state_dict().items()}
        atomic_save({'model': half, 'variant': args.variant, 'step': step, 'elapsed': elapsed, 'notes': notes},
                    latest_path)
        print(f'checkpoint step {step} ({elapsed / 60:.1f} min) → {os.path.relpath(latest_path)}', flush=True)

    model.train()
    last_ckpt = elapsed
    stop_signal: list[int] = []
    signal.signal(signal.SIGTERM, lambda *_: stop_signal.append(1))
    epoch, done = 0, False
    while not done:
        sampler = SizedBatchSampler(len(ds), args.batch, sizes, weights, seed=args.seed * 1000 + epoch + step)
        loader = torch.utils.data.DataLoader(ds, batch_sampler=sampler, collate_fn=collate, num_workers=args.workers,
                                             persistent_workers=False, worker_init_fn=ignore_sigterm)
        for x, boxes, labels, masks in loader:
            x = x.to(device, non_blocking=True)
            boxes, labels, masks = ([t.to(device, non_blocking=True) for t in ts] for ts in (boxes, labels, masks))
            t0 = time.time()
            lr = cosine_lr(args.lr, args.warmup, args.minutes * 60, elapsed, step)
            for g in opt.param_groups:
                g['lr'] = lr
            with on_device:
                losses, stats = blendmask_loss(model, x, boxes, labels, masks, mask_rois=args.mask_rois,
                                               boundary_weight=args.boundary_weight, score_weight=args.score_weight)
                total = optimiser_step(opt, losses, params)
            step += 1
            dt = time.time() - t0
            elapsed += dt
            writer.writerow([step, f'{elapsed / 60:.2f}', f'{lr:.6f}', x.shape[-1]]
                            + [f'{losses[k].item():.4f}' for k in keys]
                            + [f'{total.item():.4f}', stats['pos'], stats['mask_rois'], f'{dt:.2f}'])
            if step % 10 == 0 or step <= 3:
                log.flush()
                print(f'step {step} {elapsed / 60:.1f}min lr {lr:.5f} size {x.shape[-1]} '
                      + ' '.join(f'{k} {losses[k].item():.3f}' for k in keys)
                      + f' pos {stats["pos"]} rois {stats["mask_rois"]} ({dt:.2f}s/step)', flush=True)
            stop = elapsed >= stop_minutes * 60 or (args.max_steps and step >= args.max_steps) or bool(stop_signal)
            if elapsed - last_ckpt >= args.ckpt_minutes * 60 or stop:
                last_ckpt = elapsed
                checkpoint()
            if stop:
                done = True
                break
        epoch += 1
    log.close()


if __name__ == '__main__':
    main()
