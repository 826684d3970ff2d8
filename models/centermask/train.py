#!/usr/bin/python3
"""Train CenterMask-Lite on synthetic emoji-COCO, on the CPU (niced, in the background).

    mkdir -p models/centermask/runs && OMP_WAIT_POLICY=PASSIVE nohup nice -n 19 /usr/bin/python3 \
        models/centermask/train.py --run main --minutes 240 --backbone-init models/centermask/runs/backbone-pretrain.pt \
        > models/centermask/runs/main.log 2>&1 &
    ... the same with --resume and >> to continue

Every --ckpt-minutes (and once after --first-ckpt-steps steps, so that ONNX parts with the
right interface exist early): full state to models/centermask/runs/<run>/state.pt (weights,
optimiser, step, elapsed; gitignored), fp16 weights to models/centermask/checkpoints/latest.pt
(small, committed), the two ONNX parts + manifest exported from exactly those fp16 weights;
every --eval-every checkpoints a quick AP estimate on val; every --commit-every checkpoints a
git commit of the checkpoint, ONNX parts and manifest. Losses go to runs/<run>/losses.csv.
`--resume` continues from runs/<run>/state.pt, or from the fp16 checkpoint (weights only,
fresh optimiser) when the run folder is gone.

AdamW, linear warm-up, cosine decay over --minutes of training time down to 5 %
(models/common/training.py cosine_lr).
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import signal
import sys
import time

os.environ.setdefault('OMP_WAIT_POLICY', 'PASSIVE')

import numpy as np  # noqa: E402
import torch  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.normpath(os.path.join(HERE, '..', '..'))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, '..', 'common'))
from training import atomic_save, cosine_lr, git_commit, ignore_sigterm, optimiser_step, training_device  # noqa: E402
from emoji_coco import EmojiCoco, SizedBatchSampler, collate  # noqa: E402
from model import CenterMask  # noqa: E402
from loss import centermask_loss  # noqa: E402

LOSS_KEYS = ['cls', 'ctr', 'box', 'mask', 'maskiou']


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--data', default=os.path.join(HERE, '..', 'data', 'emoji-coco'))
    ap.add_argument('--split', default='train')
    ap.add_argument('--limit-images', type=int, default=0, help='train on the first N images only (overfit test)')
    ap.add_argument('--run', default='main')
    ap.add_argument('--resume', action='store_true')
    ap.add_argument('--init', default=None, help='start from these weights (fp16 checkpoint), fresh optimiser')
    ap.add_argument('--backbone-init', default=None, help='backbone weights from pretrain_backbone.py')
    ap.add_argument('--batch', type=int, default=4)
    ap.add_argument('--sizes', default='384,448,512')
    ap.add_argument('--size-weights', default='2,2,1')
    ap.add_argument('--lr', type=float, default=1e-3)
    ap.add_argument('--weight-decay', type=float, default=1e-4)
    ap.add_argument('--warmup', type=int, default=100)
    ap.add_argument('--minutes', type=float, default=240, help='cosine schedule length (training time)')
    ap.add_argument('--stop-minutes', type=float, default=1e9, help='stop after this much training time')
    ap.add_argument('--ckpt-minutes', type=float, default=10)
    ap.add_argument('--first-ckpt-steps', type=int, default=0, help='also checkpoint + export + commit at this step')
    ap.add_argument('--eval-every', type=int, default=3, help='checkpoints between AP estimates (0: never)')
    ap.add_argument('--eval-images', type=int, default=50)
    ap.add_argument('--commit-every', type=int, default=0, help='git-commit checkpoint + ONNX + manifest every N checkpoints')
    ap.add_argument('--no-export', action='store_true')
    ap.add_argument('--mask-rois', type=int, default=8, help='jittered GT boxes a image for the mask + MaskIoU losses')
    ap.add_argument('--threads', type=int, default=2)
    ap.add_argument('--workers', type=int, default=1)
    ap.add_argument('--max-steps', type=int, default=0, help='stop after this many steps (timing)')
    ap.add_argument('--seed', type=int, default=0)
    ap.add_argument('--device', default='cpu', help="'cuda' where a GPU is at hand (untested here: no GPU was lent)")
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    np.random.seed(args.seed)
    run_dir = os.path.join(HERE, 'runs', args.run)
    os.makedirs(run_dir, exist_ok=True)
    state_path = os.path.join(run_dir, 'state.pt')
    latest_path = os.path.join(HERE, 'checkpoints', 'latest.pt')
    csv_path = os.path.join(run_dir, 'losses.csv')
    eval_path = os.path.join(run_dir, 'eval.jsonl')

    device, on_device = training_device(args.device)
    model = CenterMask()
    step, elapsed, n_ckpt = 0, 0.0, 0

    def load_fp16(path):
        ck = torch.load(path, map_location='cpu', weights_only=False)
        model.load_state_dict({k: v.float() if v.is_floating_point() else v for k, v in ck['model'].items()})
        return ck

    fresh = not (args.resume and os.path.exists(state_path))
    if args.init and fresh:
        load_fp16(args.init)
        print(f'initialised from {args.init}')
    if args.backbone_init and fresh and not args.init:
        bb = torch.load(args.backbone_init, map_location='cpu', weights_only=False)
        model.backbone.load_state_dict({k: v.float() if v.is_floating_point() else v for k, v in bb['backbone'].items()})
        print(f'backbone from {args.backbone_init} ({bb.get("steps")} steps, val crop accuracy {bb.get("val_accuracy")})')
    model.to(device)
    params = list(model.parameters())
    opt = torch.optim.AdamW(params, lr=args.lr, weight_decay=args.weight_decay)
    if not fresh:
        st = torch.load(state_path, map_location=device, weights_only=False)
        model.load_state_dict(st['model'])
        opt.load_state_dict(st['opt'])
        step, elapsed, n_ckpt = st['step'], st['elapsed'], st.get('n_ckpt', 0)
        print(f'resumed {state_path}: step {step}, {elapsed / 60:.1f} min')
    elif args.resume and os.path.exists(latest_path):
        ck = load_fp16(latest_path)
        step, elapsed = ck.get('step', 0), ck.get('elapsed', 0.0)
        print(f'resumed weights only from {latest_path}: step {step}')
    # The warm-up counts the steps of this optimiser: a fresh one (weights-only resume) warms
    # up again instead of taking full-size Adam steps with empty moments.
    opt_start = 0 if not fresh else step

    ds = EmojiCoco(args.data, args.split)
    if args.limit_images:
        ds.images = ds.images[:args.limit_images]
    sizes = [int(s) for s in args.sizes.split(',')]
    weights = [float(w) for w in args.size_weights.split(',')] if args.size_weights else [1.0] * len(sizes)
    new_csv = not os.path.exists(csv_path) or not args.resume
    log = open(csv_path, 'w' if new_csv else 'a', newline='')
    writer = csv.writer(log)
    if new_csv:
        writer.writerow(['step', 'minutes', 'lr', 'size'] + LOSS_KEYS + ['total', 'pos', 'mask_rois', 'sec_per_step'])
    last_eval: dict = {}
    if args.resume and os.path.exists(eval_path):
        with open(eval_path) as f:
            lines = f.read().strip().splitlines()
        if lines:
            last_eval.update(json.loads(lines[-1]))

    def checkpoint(eval_now: bool, commit: bool):
        nonlocal n_ckpt
        import evaluate as evaluate_mod
        from export import export_all, load_checkpoint
        n_ckpt += 1
        atomic_save({'model': model.state_dict(), 'opt': opt.state_dict(), 'step': step, 'elapsed': elapsed,
                     'n_ckpt': n_ckpt, 'args': vars(args)}, state_path)
        notes = ('CenterMask-Lite: VoVNetV2-lite (OSA + eSE) + FPN P3-P7 (64 ch), FCOS head (2+2 tower convs), '
                 'SAG-Mask + MaskIoU heads, trained on synthetic emoji-COCO (train split'
                 + (', backbone pretrained on object crops' if args.backbone_init else '') + '): '
                 f'{step} steps of batch {args.batch} at {args.sizes} px ({elapsed / 60:.0f} min on shared CPU cores).')
        res = None
        if eval_now:
            t0 = time.time()
            model.eval()
            res = evaluate_mod.evaluate(model.cpu(), args.data, limit=args.eval_images)
            model.to(device)
            model.train()
            res.update(step=step, minutes=round(elapsed / 60, 1), eval_seconds=round(time.time() - t0))
            with open(eval_path, 'a') as f:
                f.write(json.dumps(res) + '\n')
            print('eval', json.dumps(res), flush=True)
            last_eval.clear()
            last_eval.update(res)
        if last_eval:
            e = last_eval
            notes += (f' Python estimate (evaluate.py) on {e["images"]} val images at step {e["step"]}:'
                      f' mask AP {e["mask_AP"]:.3f}, mask AP50 {e["mask_AP50"]:.3f}, box AP {e["box_AP"]:.3f}.')
        half = {k: v.half().cpu() if v.is_floating_point() else v.cpu() for k, v in model.state_dict().items()}
        atomic_save({'model': half, 'step': step, 'elapsed': elapsed, 'notes': notes, 'eval': res}, latest_path)
        paths = [os.path.relpath(latest_path, REPO)]
        if not args.no_export:
            saved, _ = load_checkpoint(latest_path)   # the fp16-rounded weights: ONNX == committed checkpoint
            paths += [os.path.relpath(p, REPO) for p in export_all(saved, HERE, notes)]
        print(f'checkpoint step {step} ({elapsed / 60:.1f} min) saved' + ('' if args.no_export else ' + exported'), flush=True)
        if commit:
            git_commit(REPO, paths, f'centermask: bundled model from training step {step} ({elapsed / 60:.0f} min)'
                       + (f', val mask AP ~{res["mask_AP"]:.3f} (Python estimate, {res["images"]} images)' if res else ''))

    model.train()
    last_ckpt = elapsed
    stop_signal: list[int] = []
    signal.signal(signal.SIGTERM, lambda *_: stop_signal.append(1))
    epoch = 0
    done = False
    while not done:
        sampler = SizedBatchSampler(len(ds), args.batch, sizes, weights, seed=args.seed * 1000 + epoch + step)
        loader = torch.utils.data.DataLoader(ds, batch_sampler=sampler, collate_fn=collate, num_workers=args.workers,
                                             persistent_workers=False, worker_init_fn=ignore_sigterm)
        for x, boxes, labels, masks in loader:
            x = x.to(device, non_blocking=True)
            boxes, labels, masks = ([t.to(device, non_blocking=True) for t in ts] for ts in (boxes, labels, masks))
            t0 = time.time()
            lr = cosine_lr(args.lr, args.warmup, args.minutes * 60, elapsed, step - opt_start)
            for g in opt.param_groups:
                g['lr'] = lr
            with on_device:
                losses, stats = centermask_loss(model, x, boxes, labels, masks, mask_rois=args.mask_rois)
                total = optimiser_step(opt, losses, params)
            step += 1
            dt = time.time() - t0
            elapsed += dt
            writer.writerow([step, f'{elapsed / 60:.2f}', f'{lr:.6f}', x.shape[-1]] +
                            [f'{losses[k].item():.4f}' for k in LOSS_KEYS] +
                            [f'{total.item():.4f}', stats['pos'], stats['mask_rois'], f'{dt:.2f}'])
            if step % 10 == 0 or step <= 3:
                log.flush()
                print(f'step {step} {elapsed / 60:.1f}min lr {lr:.5f} size {x.shape[-1]} ' +
                      ' '.join(f'{k} {v.item():.3f}' for k, v in losses.items()) +
                      f' pos {stats["pos"]} maskIoU {stats["mean_mask_iou"]:.2f} ({dt:.2f}s/step)', flush=True)
            stop = elapsed >= args.stop_minutes * 60 or (args.max_steps and step >= args.max_steps) or bool(stop_signal)
            first = args.first_ckpt_steps and step == args.first_ckpt_steps
            if first or (not args.max_steps and (elapsed - last_ckpt >= args.ckpt_minutes * 60 or stop)):
                last_ckpt = elapsed
                eval_now = (not first) and args.eval_every > 0 and (n_ckpt + 1) % args.eval_every == 0
                commit = bool(first) or bool(args.commit_every and (n_ckpt + 1) % args.commit_every == 0)
                checkpoint(eval_now, commit)
            if stop:
                done = True
                break
        epoch += 1
    log.close()


if __name__ == '__main__':
    main()
