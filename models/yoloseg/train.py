#!/usr/bin/python3
"""Train the small YOLO-seg on synthetic emoji-COCO, on the CPU.

    nohup /usr/bin/python3 models/yoloseg/train.py --run main --minutes 240 > models/yoloseg/runs/main.log 2>&1 &
    /usr/bin/python3 models/yoloseg/train.py --run main --resume --minutes 240   # continue

Every --ckpt-minutes of training time: the full state (weights, optimiser, step, elapsed)
to models/yoloseg/runs/<run>/state.pt (gitignored), fp16 weights to
models/yoloseg/checkpoints/latest.pt (small, committed), then the ONNX + manifest of every
--sizes-export size written atomically; every --eval-every checkpoints a quick Python AP
estimate (evaluate.py) on the first --eval-images val images. Losses (one row a step) go to
runs/<run>/losses.csv. `--resume` continues from runs/<run>/state.pt, or from
checkpoints/latest.pt (weights only, fresh optimiser, warmed up again) when the run folder is
gone. SIGTERM checkpoints after the current step and stops.

Schedule: AdamW, linear warm-up over --warmup steps, then cosine over --minutes of training
time (time-based, so it fits the CPU budget whatever the speed) down to 5 %, then flat.
Multi-scale: one input size a batch from --sizes (multiples of 32, 256–416).
"""
from __future__ import annotations

import argparse
import csv
import json
import math
import os
import signal
import subprocess
import sys
import time

# Spinning OpenMP threads slow everyone down on 2 shared cores; wait passively.
os.environ.setdefault('OMP_WAIT_POLICY', 'PASSIVE')

import numpy as np  # noqa: E402
import torch  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(1, os.path.join(HERE, '..', 'common'))
from training import ignore_sigterm, optimiser_step  # noqa: E402
from model import YoloSeg, count_parameters  # noqa: E402
from loss import yoloseg_loss  # noqa: E402
from data import EmojiCoco, SizedBatchSampler, collate  # noqa: E402
from export import export_size  # noqa: E402
import evaluate as evaluate_mod  # noqa: E402

LOSS_KEYS = ('box', 'cls', 'dfl', 'mask')


def atomic_save(obj, path):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    torch.save(obj, path + '.tmp')
    os.replace(path + '.tmp', path)


def git_commit(paths: list[str], message: str):
    """`git commit --only <paths>`: only these files, others' staged work stays out; retried on index.lock."""
    repo = os.path.normpath(os.path.join(HERE, '..', '..'))
    for attempt in range(10):
        r = subprocess.run(['git', 'commit', '--only', '-m', message, '--'] + paths, cwd=repo,
                           capture_output=True, text=True)
        text = r.stdout + r.stderr
        if r.returncode == 0 or 'nothing to commit' in text or 'no changes added' in text:
            print('git:', text.strip().splitlines()[:1], flush=True)
            return
        if 'index.lock' not in text:
            print('git commit failed:', text.strip(), flush=True)
            return
        time.sleep(5 + 5 * attempt)
    print('git commit gave up (index.lock)', flush=True)


def learning_rate(args, elapsed_s: float, step: int) -> float:
    warm = min(1.0, (step + 1) / args.warmup)
    t = min(1.0, elapsed_s / (args.minutes * 60))
    return args.lr * warm * (0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * t)))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--data', default=os.path.join(HERE, '..', 'data', 'emoji-coco'))
    ap.add_argument('--split', default='train')
    ap.add_argument('--run', default='main')
    ap.add_argument('--resume', action='store_true')
    ap.add_argument('--width', default='16,32,64,96,128', help='channels at strides 2, 4, 8, 16, 32')
    ap.add_argument('--batch', type=int, default=8)
    ap.add_argument('--sizes', default='256,288,320,352,384,416', help='input sizes drawn per batch')
    ap.add_argument('--size-weights', default='2,2,2,2,1,1')
    ap.add_argument('--lr', type=float, default=2e-3)
    ap.add_argument('--weight-decay', type=float, default=5e-4)
    ap.add_argument('--warmup', type=int, default=200)
    ap.add_argument('--minutes', type=float, default=240, help='cosine schedule length (training time)')
    ap.add_argument('--stop-minutes', type=float, default=1e9, help='stop after this much training time')
    ap.add_argument('--ckpt-minutes', type=float, default=10)
    ap.add_argument('--eval-every', type=int, default=3, help='checkpoints between AP estimates (0: never)')
    ap.add_argument('--eval-images', type=int, default=60)
    ap.add_argument('--export-sizes', default='416')
    ap.add_argument('--no-export', action='store_true')
    ap.add_argument('--commit-every', type=int, default=0,
                    help='git-commit latest.pt + ONNX + manifests every N checkpoints (0: never)')
    ap.add_argument('--threads', type=int, default=1)
    ap.add_argument('--workers', type=int, default=1)
    ap.add_argument('--seed', type=int, default=0)
    ap.add_argument('--backbone-init', default='',
                    help='backbone weights from pretrain_backbone.py, loaded over whatever else was loaded')
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    np.random.seed(args.seed)
    run_dir = os.path.join(HERE, 'runs', args.run)
    os.makedirs(run_dir, exist_ok=True)
    state_path = os.path.join(run_dir, 'state.pt')
    latest_path = os.path.join(HERE, 'checkpoints', 'latest.pt')
    csv_path = os.path.join(run_dir, 'losses.csv')
    width = tuple(int(w) for w in args.width.split(','))
    export_sizes = [int(s) for s in args.export_sizes.split(',')]

    model = YoloSeg(width=width)
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=args.weight_decay)
    step, elapsed, n_ckpt = 0, 0.0, 0
    if args.resume and os.path.exists(state_path):
        st = torch.load(state_path, map_location='cpu', weights_only=False)
        model.load_state_dict(st['model'])
        opt.load_state_dict(st['opt'])
        step, elapsed, n_ckpt = st['step'], st['elapsed'], st.get('n_ckpt', 0)
        print(f'resumed {state_path}: step {step}, {elapsed / 60:.1f} min', flush=True)
    elif args.resume and os.path.exists(latest_path):
        ck = torch.load(latest_path, map_location='cpu', weights_only=False)
        model.load_state_dict({k: v.float() if v.is_floating_point() else v for k, v in ck['model'].items()})
        step, elapsed = ck.get('step', 0), ck.get('elapsed', 0.0)
        print(f'resumed weights only from {latest_path}: step {step}', flush=True)
    # The warm-up counts the steps of this optimiser: a fresh one (weights-only resume) warms
    # up again instead of taking full-size Adam steps with empty moments.
    opt_start = step if not (args.resume and os.path.exists(state_path)) else 0
    if args.backbone_init:
        bb = torch.load(args.backbone_init, map_location='cpu', weights_only=False)
        missing, unexpected = model.load_state_dict(
            {k: v.float() if v.is_floating_point() else v for k, v in bb['backbone'].items()}, strict=False)
        assert not unexpected and all(k.split('.')[0] not in ('stem', 's4', 's8', 's16', 's32') for k in missing)
        print(f'backbone from {args.backbone_init} (crop accuracy {bb.get("val_accuracy")})', flush=True)
    print(f'YoloSeg width {width}: {count_parameters(model)} parameters, {args.threads} thread(s)', flush=True)

    ds = EmojiCoco(args.data, args.split)
    sizes = [int(s) for s in args.sizes.split(',')]
    weights = [float(w) for w in args.size_weights.split(',')]
    assert len(sizes) == len(weights) and all(s % 32 == 0 for s in sizes)
    new_csv = not (args.resume and os.path.exists(csv_path))
    log = open(csv_path, 'w' if new_csv else 'a', newline='')
    writer = csv.writer(log)
    if new_csv:
        writer.writerow(['step', 'minutes', 'lr', 'size', *LOSS_KEYS, 'total', 'num_pos', 'sec_per_step'])

    def checkpoint(eval_now: bool):
        nonlocal n_ckpt
        n_ckpt += 1
        atomic_save({'model': model.state_dict(), 'opt': opt.state_dict(), 'step': step, 'elapsed': elapsed,
                     'n_ckpt': n_ckpt, 'args': vars(args)}, state_path)
        notes = (f'YOLOv8-seg-like (C2f-lite + PAN, DFL head, 32 protos at stride 4), trained from scratch '
                 f'on synthetic emoji-COCO ({args.split} split) for {step} steps of batch {args.batch} '
                 f'({elapsed / 60:.0f} min, 1 shared CPU core).')
        res = None
        if eval_now:
            t0 = time.time()
            res = evaluate_mod.evaluate(model, args.data, export_sizes[0], limit=args.eval_images)
            model.train()
            res.update(step=step, minutes=round(elapsed / 60, 1), eval_seconds=round(time.time() - t0))
            with open(os.path.join(run_dir, 'eval.jsonl'), 'a') as f:
                f.write(json.dumps(res) + '\n')
            print('eval', json.dumps(res), flush=True)
            notes += (f' Python estimate on {res["images"]} val images: mask AP {res["mask_AP"]:.3f}, '
                      f'AP50 {res["mask_AP50"]:.3f}, box AP {res["box_AP"]:.3f}.')
        half = {k: v.half() if v.is_floating_point() else v for k, v in model.state_dict().items()}
        atomic_save({'model': half, 'width': width, 'step': step, 'elapsed': elapsed, 'notes': notes,
                     'eval': res}, latest_path)
        paths = ['models/yoloseg/checkpoints/latest.pt']
        if not args.no_export:
            model.eval()
            for s in export_sizes:
                export_size(model, s, HERE, notes)
                paths += [f'models/yoloseg/yoloseg-{s}.onnx', f'models/yoloseg/yoloseg-{s}.json']
            model.train()
        print(f'checkpoint step {step} ({elapsed / 60:.1f} min) saved' + ('' if args.no_export else ' + exported'), flush=True)
        if args.commit_every and n_ckpt % args.commit_every == 0:
            git_commit(paths, f'yoloseg: bundled model from training step {step} ({elapsed / 60:.0f} min)'
                       + (f', val mask AP50 ~{res["mask_AP50"]:.2f} (Python estimate)' if res else ''))

    model.train()
    last_ckpt = elapsed
    epoch = 0
    done = elapsed >= args.stop_minutes * 60
    # SIGTERM: checkpoint after the current step, then stop (nothing trained is lost).
    stop_signal: list[int] = []
    signal.signal(signal.SIGTERM, lambda *_: stop_signal.append(1))
    while not done:
        sampler = SizedBatchSampler(len(ds), args.batch, sizes, weights, seed=args.seed * 1000 + epoch + step)
        loader = torch.utils.data.DataLoader(ds, batch_sampler=sampler, collate_fn=collate,
                                             num_workers=args.workers, persistent_workers=False,
                                             worker_init_fn=ignore_sigterm)
        for x, gt_boxes, gt_labels, gt_masks in loader:
            t0 = time.time()
            lr = learning_rate(args, elapsed, step - opt_start)
            for g in opt.param_groups:
                g['lr'] = lr
            size = x.shape[-1]
            losses, num_pos = yoloseg_loss(model(x), gt_boxes, gt_labels, gt_masks, size, model.reg_max)
            total = optimiser_step(opt, losses, model.parameters())
            step += 1
            dt = time.time() - t0
            elapsed += dt
            writer.writerow([step, f'{elapsed / 60:.2f}', f'{lr:.6f}', size] +
                            [f'{losses[k].item():.4f}' for k in LOSS_KEYS] + [f'{total.item():.4f}', num_pos, f'{dt:.2f}'])
            if step % 10 == 0:
                log.flush()
                print(f'step {step} {elapsed / 60:.1f}min lr {lr:.5f} size {size} ' +
                      ' '.join(f'{k} {losses[k].item():.3f}' for k in LOSS_KEYS) + f' pos {num_pos} ({dt:.2f}s/step)',
                      flush=True)
            stop = elapsed >= args.stop_minutes * 60 or bool(stop_signal)
            if elapsed - last_ckpt >= args.ckpt_minutes * 60 or stop:
                last_ckpt = elapsed
                checkpoint(args.eval_every > 0 and n_ckpt % args.eval_every == args.eval_every - 1)
            if stop:
                done = True
                break
        epoch += 1
    log.close()


if __name__ == '__main__':
    main()
