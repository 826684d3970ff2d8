#!/usr/bin/python3
"""Train the small YOLACT on synthetic emoji-COCO, on the CPU.

    nohup /usr/bin/python3 models/yolact/train.py --run main --minutes 120 > models/yolact/runs/main.log 2>&1 &
    /usr/bin/python3 models/yolact/train.py --run main --resume        # continue a run

Every --ckpt-minutes: full state to models/yolact/runs/<run>/state.pt (weights, optimiser,
step, elapsed time; gitignored), fp16 weights to models/yolact/checkpoints/latest.pt
(small, committed), then ONNX + manifest of every variant exported (atomically) and,
every --eval-every checkpoints, a quick mask AP estimate on val. Losses go to
models/yolact/runs/<run>/losses.csv. `--resume` continues from runs/<run>/state.pt, or
from checkpoints/latest.pt (weights only, fresh optimiser) when the run folder is gone.

`--backbone-init checkpoints/backbone-pretrain.pt`: the backbone from
pretrain_backbone.py (crop classification, our stand-in for ImageNet pretraining).

Learning rate: AdamW, linear warm-up, then cosine decay over --minutes of training time
down to 5 % (time-based, so it fits the CPU budget whatever the speed); it then stays at
5 % if the job keeps running.
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

# Passive OpenMP waiting: on a 2-core machine shared with other jobs, spinning OpenMP
# threads made a training step 3-5x slower (measured); passive waiting avoids that.
os.environ.setdefault('OMP_WAIT_POLICY', 'PASSIVE')

import numpy as np  # noqa: E402
import torch  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, '..', 'common'))
from training import WeightAverage, ignore_sigterm, optimiser_step, training_device  # noqa: E402
from model import Yolact, make_priors  # noqa: E402
from loss import yolact_loss  # noqa: E402
from data import EmojiCoco, SizedBatchSampler, collate  # noqa: E402
from export import export_variant  # noqa: E402
import evaluate as evaluate_mod  # noqa: E402


def atomic_save(obj, path):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    torch.save(obj, path + '.tmp')
    os.replace(path + '.tmp', path)


COMMIT_PATHS = ['models/yolact/checkpoints/latest.pt', 'models/yolact/yolact-550.onnx',
                'models/yolact/yolact-550.json', 'models/yolact/yolact-384.onnx',
                'models/yolact/yolact-384.json']


def git_commit_models(message: str):
    """Commit only the bundled model files (`git commit --only <paths>`: other people's
    staged changes stay staged and out of the commit); retried while index.lock is held."""
    repo = os.path.normpath(os.path.join(HERE, '..', '..'))
    for attempt in range(10):
        r = subprocess.run(['git', 'commit', '--only', '-m', message, '--'] + COMMIT_PATHS,
                           cwd=repo, capture_output=True, text=True)
        if r.returncode == 0 or 'nothing to commit' in r.stdout + r.stderr or 'no changes added' in r.stdout:
            print('git:', (r.stdout + r.stderr).strip().splitlines()[:1], flush=True)
            return
        if 'index.lock' not in r.stderr:
            print('git commit failed:', r.stderr.strip(), flush=True)
            return
        time.sleep(5 + 5 * attempt)
    print('git commit gave up (index.lock)', flush=True)


def lr_at(args, elapsed_s: float, step: int) -> float:
    warm = min(1.0, (step + 1) / args.warmup)
    t = min(1.0, elapsed_s / (args.minutes * 60))
    cos = 0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * t))
    return args.lr * warm * cos


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--data', default=os.path.join(HERE, '..', 'data', 'emoji-coco'))
    ap.add_argument('--split', default='train')
    ap.add_argument('--images', type=int, default=0,
                    help="train on the split's first N images only (0: all); the second GPU phase used 2150, "
                         'the most that fit in a device call\'s 64 MiB of carried files')
    ap.add_argument('--run', default='main')
    ap.add_argument('--resume', action='store_true')
    ap.add_argument('--width', type=int, default=64)
    ap.add_argument('--batch', type=int, default=8)
    ap.add_argument('--sizes', default='320,384,448', help='input sizes drawn per batch')
    ap.add_argument('--size-weights', default=None, help='default: equal')
    ap.add_argument('--lr', type=float, default=2e-3)
    ap.add_argument('--weight-decay', type=float, default=5e-4)
    ap.add_argument('--warmup', type=int, default=200)
    ap.add_argument('--minutes', type=float, default=120, help='cosine schedule length (training time)')
    ap.add_argument('--stop-minutes', type=float, default=1e9, help='stop after this much training time')
    ap.add_argument('--ckpt-minutes', type=float, default=10)
    ap.add_argument('--eval-every', type=int, default=3, help='checkpoints between AP estimates (0: never)')
    ap.add_argument('--eval-images', type=int, default=100)
    ap.add_argument('--variants', default='550,384')
    ap.add_argument('--commit-every', type=int, default=0,
                    help='git-commit checkpoints/latest.pt + ONNX + manifests every N checkpoints (0: never)')
    ap.add_argument('--no-export', action='store_true')
    ap.add_argument('--threads', type=int, default=2)
    ap.add_argument('--workers', type=int, default=1)
    ap.add_argument('--seed', type=int, default=0)
    ap.add_argument('--wall-minutes', type=float, default=0,
                    help='stop (after a checkpoint) once this process has run this long (0: no limit)')
    ap.add_argument('--ema', type=float, default=0,
                    help='decay of a moving average of the weights, updated every step (0: none); where set, '
                         'checkpoints/latest.pt, the exports and the AP estimates hold the average')
    ap.add_argument('--device', default='cpu', help="'cuda' where a GPU is at hand (models/train_gpu.sh)")
    ap.add_argument('--init', default='',
                    help='start a new run from these fp16 weights (checkpoints/latest.pt): fresh optimiser, '
                         'step count and learning-rate schedule')
    ap.add_argument('--backbone-init', default='',
                    help='backbone weights from pretrain_backbone.py, loaded over whatever else was loaded '
                         '(a new run; the other parts keep their initial or resumed weights)')
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    np.random.seed(args.seed)
    run_dir = os.path.join(HERE, 'runs', args.run)
    os.makedirs(run_dir, exist_ok=True)
    state_path = os.path.join(run_dir, 'state.pt')
    latest_path = os.path.join(HERE, 'checkpoints', 'latest.pt')
    csv_path = os.path.join(run_dir, 'losses.csv')

    device, on_device = training_device(args.device)
    model = Yolact(width=args.width).to(device)
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=args.weight_decay)
    step, elapsed, n_ckpt = 0, 0.0, 0
    prior_steps = 0  # steps of the run whose weights --init started from
    where = 'one GPU' if device.type == 'cuda' else '2 shared CPU cores'
    resumed_average = None  # a resumed run's moving average (--ema), where it kept one
    if args.resume and os.path.exists(state_path):
        st = torch.load(state_path, map_location='cpu', weights_only=False)
        model.load_state_dict(st['model'])
        resumed_average = st.get('ema')
        opt.load_state_dict(st['opt'])
        step, elapsed, n_ckpt = st['step'], st['elapsed'], st.get('n_ckpt', 0)
        prior_steps = st.get('prior_steps', 0)
        print(f'resumed {state_path}: step {step}, {elapsed / 60:.1f} min')
    elif args.resume and os.path.exists(latest_path):
        ck = torch.load(latest_path, map_location='cpu', weights_only=False)
        model.load_state_dict({k: v.float() if v.is_floating_point() else v for k, v in ck['model'].items()})
        step, elapsed = ck.get('step', 0), ck.get('elapsed', 0.0)
        print(f'resumed weights only from {latest_path}: step {step}')
    elif args.init:
        ck = torch.load(args.init, map_location='cpu', weights_only=False)
        model.load_state_dict({k: v.float() if v.is_floating_point() else v for k, v in ck['model'].items()})
        prior_steps = ck.get('step', 0) + ck.get('prior_steps', 0)
        print(f'initialised from {args.init} (step {ck.get("step", 0)}); new schedule', flush=True)

    if args.backbone_init:
        bb = torch.load(args.backbone_init, map_location='cpu', weights_only=False)
        model.backbone.load_state_dict({k: v.float() if v.is_floating_point() else v for k, v in bb['backbone'].items()})
        print(f'backbone from {args.backbone_init} (crop accuracy {bb.get("val_accuracy")})', flush=True)

    # made after every load above, so that it starts from the weights the run starts from
    average = WeightAverage(model, args.ema) if args.ema else None
    if average and resumed_average is not None:
        average.model.load_state_dict(resumed_average)

    ds = EmojiCoco(args.data, args.split, limit=args.images)
    sizes = [int(s) for s in args.sizes.split(',')]
    weights = [float(w) for w in args.size_weights.split(',')] if args.size_weights else [1.0] * len(sizes)
    priors = {s: make_priors(s).to(device) for s in sizes}
    columns = ['step', 'minutes', 'lr', 'size', 'B', 'C', 'M', 'S', 'total', 'num_pos', 'sec_per_step',
               'data_wait_s']
    new_csv = not os.path.exists(csv_path) or not args.resume
    if not new_csv:  # a run's CSV keeps its header (older runs have no data_wait_s)
        with open(csv_path) as f:
            columns = f.readline().strip().split(',')
    log = open(csv_path, 'w' if new_csv else 'a', newline='')
    writer = csv.writer(log)
    if new_csv:
        writer.writerow(columns)

    def checkpoint(eval_now: bool):
        nonlocal n_ckpt
        n_ckpt += 1
        atomic_save({'model': model.state_dict(), 'opt': opt.state_dict(), 'step': step,
                     'elapsed': elapsed, 'n_ckpt': n_ckpt, 'prior_steps': prior_steps, 'args': vars(args),
                     **({'ema': average.model.state_dict()} if average else {})}, state_path)
        shipped = average.model if average else model  # what latest.pt, the exports and the estimate hold
        notes = (f'YOLACT, MobileNetV2-lite + FPN (width {args.width}), k=32 prototypes, trained from '
                 f'scratch on synthetic emoji-COCO ('
                 + (f'the first {args.images} images of the {args.split} split' if args.images else f'{args.split} split')
                 + '): '
                 + (f'{prior_steps} steps of earlier runs, then ' if prior_steps else '')
                 + f'{step} steps of batch {args.batch} ({elapsed / 60:.0f} min on {where})'
                 + (f', weights averaged over the steps (decay {args.ema}).' if average else '.'))
        res = None
        if eval_now:
            t0 = time.time()
            res = evaluate_mod.evaluate(shipped.cpu(), args.data, 550, limit=args.eval_images)
            shipped.to(device)
            model.train()
            res.update(step=step, minutes=round(elapsed / 60, 1), eval_seconds=round(time.time() - t0))
            with open(os.path.join(run_dir, 'eval.jsonl'), 'a') as f:
                f.write(json.dumps(res) + '\n')
            print('eval', json.dumps(res), flush=True)
            notes += (f' Python estimate on {res["images"]} val images at 550: mask AP {res["mask_AP"]:.3f},'
                      f' mask AP50 {res["mask_AP50"]:.3f}, box AP {res["box_AP"]:.3f}.')
        half = {k: v.half().cpu() if v.is_floating_point() else v.cpu() for k, v in shipped.state_dict().items()}
        atomic_save({'model': half, 'width': args.width, 'step': step, 'elapsed': elapsed, 'prior_steps': prior_steps,
                     'notes': notes, 'eval': res}, latest_path)
        if not args.no_export:
            shipped.cpu().eval()
            for v in args.variants.split(','):
                export_variant(shipped, int(v), HERE, notes)
            shipped.to(device)
            model.train()
        print(f'checkpoint step {step} ({elapsed / 60:.1f} min) saved' + ('' if args.no_export else ' + exported'), flush=True)
        if args.commit_every and not args.no_export and n_ckpt % args.commit_every == 0:
            git_commit_models(f'yolact: bundled models from training step {step} ({elapsed / 60:.0f} min)'
                              + (f', val mask AP50 ~{res["mask_AP50"]:.2f} (Python estimate)' if res else ''))

    model.train()
    last_ckpt = elapsed
    # SIGTERM (`timeout`, a lease running out): checkpoint after the current step, then stop
    stop_signal: list[int] = []
    signal.signal(signal.SIGTERM, lambda *_: stop_signal.append(1))
    wall_end = time.time() + args.wall_minutes * 60 if args.wall_minutes else float('inf')
    # one loader for the whole run: its sampler goes on epoch after epoch, so the workers
    # are not restarted (and their prefetched batches lost) at each epoch's end
    sampler = SizedBatchSampler(len(ds), args.batch, sizes, weights, seed=args.seed * 1000 + step, repeat=True)
    loader = torch.utils.data.DataLoader(ds, batch_sampler=sampler, collate_fn=collate, num_workers=args.workers,
                                         pin_memory=device.type == 'cuda', worker_init_fn=ignore_sigterm)
    t_ready = time.time()
    for x, boxes, labels, masks, valid, semantic in loader:
        t0 = time.time()
        wait = t0 - t_ready  # time the step waited for this batch (data loading)
        lr = lr_at(args, elapsed, step)
        for g in opt.param_groups:
            g['lr'] = lr
        size = x.shape[-1]
        x, boxes, labels, masks, valid, semantic = (t.to(device, non_blocking=True)
                                                    for t in (x, boxes, labels, masks, valid, semantic))
        with on_device:
            out = model(x)
            losses, num_pos = yolact_loss(out, priors[size], boxes, labels, masks, valid, semantic)
            optimiser_step(opt, losses, model.parameters())
            if average:
                average.update(model)
        step += 1
        values = {k: v.item() for k, v in losses.items()}  # waits for the step to finish
        dt = time.time() - t0
        elapsed += dt
        row = ([step, f'{elapsed / 60:.2f}', f'{lr:.6f}', size] + [f'{values[k]:.4f}' for k in 'BCMS']
               + [f'{sum(values.values()):.4f}', num_pos, f'{dt:.3f}', f'{wait:.3f}'])
        writer.writerow(row[:len(columns)])
        if step % 10 == 0:
            log.flush()
            print(f'step {step} {elapsed / 60:.1f}min lr {lr:.5f} size {size} ' +
                  ' '.join(f'{k} {v:.3f}' for k, v in values.items()) + f' ({dt:.2f}s/step, waited {wait:.2f}s)',
                  flush=True)
        stop = elapsed >= args.stop_minutes * 60 or bool(stop_signal) or time.time() >= wall_end
        if elapsed - last_ckpt >= args.ckpt_minutes * 60 or stop:
            last_ckpt = elapsed
            checkpoint(args.eval_every > 0 and (n_ckpt + 1) % args.eval_every == 0)
        if stop:
            break
        t_ready = time.time()
    log.close()


if __name__ == '__main__':
    main()
