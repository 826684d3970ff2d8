#!/usr/bin/python3
"""Train the small Mask R-CNN on synthetic emoji-COCO, on the CPU.

    nohup nice -n 10 /usr/bin/python3 models/maskrcnn/train.py --run main --minutes 120 --threads 1 \
        > models/maskrcnn/runs/main.log 2>&1 &
    /usr/bin/python3 models/maskrcnn/train.py --run main --resume           # continue a run
    # RoIPool variant: fine-tune the heads only from the RoIAlign weights
    /usr/bin/python3 models/maskrcnn/train.py --run pool --pooler pool --init models/maskrcnn/checkpoints/latest.pt \
        --heads-only --minutes 30

Every --ckpt-minutes: full state to models/maskrcnn/runs/<run>/state.pt (weights,
optimiser, step, elapsed; gitignored), fp16 weights to models/maskrcnn/checkpoints/<ckpt
name>.pt (small, committed), then the three ONNX parts + both manifests exported
(atomically) and, every --eval-every checkpoints, a quick mask AP estimate on val.
Losses go to runs/<run>/losses.csv. `--resume` continues from runs/<run>/state.pt, or from
the fp16 checkpoint (weights only, fresh optimiser) when the run folder is gone.

Learning rate: SGD momentum 0.9 would need many epochs; like the YOLACT recipe we use
AdamW with linear warm-up, then cosine decay over --minutes of training time down to 5 %.
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
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, '..', 'common'))
from training import atomic_save, cosine_lr, ignore_sigterm, optimiser_step, training_device  # noqa: E402
from training import git_commit as common_git_commit  # noqa: E402
from model import MaskRCNN, make_anchors  # noqa: E402
from loss import level_counts_of, maskrcnn_loss  # noqa: E402
from data import EmojiCoco, SizedBatchSampler, collate  # noqa: E402

LOSS_KEYS = ['rpn_cls', 'rpn_box', 'cls', 'box', 'mask']


def git_commit(paths: list[str], message: str):
    common_git_commit(os.path.normpath(os.path.join(HERE, '..', '..')), paths, message)


def lr_at(args, elapsed_s: float, step: int) -> float:
    return cosine_lr(args.lr, args.warmup, args.minutes * 60, elapsed_s, step)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--data', default=os.path.join(HERE, '..', 'data', 'emoji-coco'))
    ap.add_argument('--split', default='train')
    ap.add_argument('--limit-images', type=int, default=0, help='train on the first N images only (overfit test)')
    ap.add_argument('--run', default='main')
    ap.add_argument('--resume', action='store_true')
    ap.add_argument('--init', default=None, help='start from these weights (fp16 checkpoint), fresh optimiser')
    ap.add_argument('--pooler', choices=['align', 'pool'], default='align')
    ap.add_argument('--heads-only', action='store_true', help='train box + mask heads only (RoIPool fine-tune)')
    ap.add_argument('--batch', type=int, default=4)
    ap.add_argument('--sizes', default='352,384,416,448', help='input sizes drawn per batch, e.g. 384,448,512')
    ap.add_argument('--size-weights', default=None)
    ap.add_argument('--lr', type=float, default=2e-3)
    ap.add_argument('--weight-decay', type=float, default=1e-4)
    ap.add_argument('--warmup', type=int, default=100)
    ap.add_argument('--minutes', type=float, default=120, help='cosine schedule length (training time)')
    ap.add_argument('--stop-minutes', type=float, default=1e9, help='stop after this much training time')
    ap.add_argument('--ckpt-minutes', type=float, default=10)
    ap.add_argument('--eval-every', type=int, default=3, help='checkpoints between AP estimates (0: never)')
    ap.add_argument('--eval-images', type=int, default=50)
    ap.add_argument('--commit-every', type=int, default=0,
                    help='git-commit the checkpoint + ONNX + manifests every N checkpoints (0: never)')
    ap.add_argument('--no-export', action='store_true')
    ap.add_argument('--ckpt-name', default=None, help='checkpoints/<name>.pt (default latest, or roipool for --pooler pool)')
    ap.add_argument('--rpn-pre-nms', type=int, default=1000)
    ap.add_argument('--rpn-post-nms', type=int, default=500)
    ap.add_argument('--roi-batch', type=int, default=128)
    ap.add_argument('--mask-rois', type=int, default=8, help='positive RoIs a image that get the mask loss')
    ap.add_argument('--threads', type=int, default=1)
    ap.add_argument('--workers', type=int, default=1)
    ap.add_argument('--max-steps', type=int, default=0, help='stop after this many steps (timing)')
    ap.add_argument('--seed', type=int, default=0)
    ap.add_argument('--wall-minutes', type=float, default=0,
                    help='stop (after a checkpoint) once this process has run this long (0: no limit)')
    ap.add_argument('--device', default='cpu', help="'cuda' where a GPU is at hand (models/train_gpu.sh)")
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    np.random.seed(args.seed)
    run_dir = os.path.join(HERE, 'runs', args.run)
    os.makedirs(run_dir, exist_ok=True)
    state_path = os.path.join(run_dir, 'state.pt')
    ckpt_name = args.ckpt_name or ('latest' if args.pooler == 'align' else 'roipool')
    latest_path = os.path.join(HERE, 'checkpoints', f'{ckpt_name}.pt')
    csv_path = os.path.join(run_dir, 'losses.csv')

    device, on_device = training_device(args.device)
    where = 'one GPU' if device.type == 'cuda' else 'a shared CPU core'
    model = MaskRCNN().to(device)
    step, elapsed, n_ckpt = 0, 0.0, 0
    prior_steps = 0  # steps of the RoIAlign run a RoIPool fine-tune starts from

    def load_fp16(path):
        ck = torch.load(path, map_location='cpu', weights_only=False)
        model.load_state_dict({k: v.float() if v.is_floating_point() else v for k, v in ck['model'].items()})
        return ck

    if args.init and not (args.resume and os.path.exists(state_path)):
        ck = load_fp16(args.init)
        prior_steps = ck.get('step', 0)
        print(f'initialised from {args.init} (step {prior_steps})')
    params = [p for n, p in model.named_parameters()
              if not args.heads_only or n.startswith(('box_head.', 'mask_head.'))]
    opt = torch.optim.AdamW(params, lr=args.lr, weight_decay=args.weight_decay)
    if args.resume and os.path.exists(state_path):
        st = torch.load(state_path, map_location='cpu', weights_only=False)
        model.load_state_dict(st['model'])
        opt.load_state_dict(st['opt'])
        step, elapsed, n_ckpt = st['step'], st['elapsed'], st.get('n_ckpt', 0)
        prior_steps = st.get('prior_steps', 0)
        print(f'resumed {state_path}: step {step}, {elapsed / 60:.1f} min')
    elif args.resume and os.path.exists(latest_path):
        ck = load_fp16(latest_path)
        step, elapsed = ck.get('step', 0), ck.get('elapsed', 0.0)
        print(f'resumed weights only from {latest_path}: step {step}')

    ds = EmojiCoco(args.data, args.split)
    if args.limit_images:
        ds.images = ds.images[:args.limit_images]
    sizes = [int(s) for s in args.sizes.split(',')]
    weights = [float(w) for w in args.size_weights.split(',')] if args.size_weights else [1.0] * len(sizes)
    anchors = {s: make_anchors(s).to(device) for s in sizes}
    counts = {s: level_counts_of(s) for s in sizes}
    new_csv = not os.path.exists(csv_path) or not args.resume
    log = open(csv_path, 'w' if new_csv else 'a', newline='')
    writer = csv.writer(log)
    if new_csv:
        writer.writerow(['step', 'minutes', 'lr', 'size'] + LOSS_KEYS + ['total', 'fg_rois', 'mask_rois', 'sec_per_step'])

    last_eval: dict = {}
    eval_path = os.path.join(run_dir, 'eval.jsonl')
    if args.resume and os.path.exists(eval_path):
        with open(eval_path) as f:
            lines = f.read().strip().splitlines()
        if lines:
            last_eval.update(json.loads(lines[-1]))

    def checkpoint(eval_now: bool):
        nonlocal n_ckpt
        import evaluate as evaluate_mod
        from export import export_all
        n_ckpt += 1
        atomic_save({'model': model.state_dict(), 'opt': opt.state_dict(), 'step': step, 'elapsed': elapsed,
                     'n_ckpt': n_ckpt, 'prior_steps': prior_steps, 'args': vars(args)}, state_path)
        if args.pooler == 'align':
            notes = (f'Mask R-CNN, MobileNetV2-lite + FPN P2-P6 (64 ch), RPN 3 anchors/location, RoIAlign heads, '
                     f'trained from scratch on synthetic emoji-COCO ({args.split} split): '
                     + (f'{prior_steps} steps of earlier runs, then ' if prior_steps else '')
                     + f'{step} steps of batch {args.batch} at {args.sizes} px ({elapsed / 60:.0f} min on {where}).')
        else:
            notes = (f'Mask R-CNN with RoIPool heads: the RoIAlign model ({prior_steps} steps), box and mask heads '
                     f'fine-tuned {step} steps with RoIPool features ({elapsed / 60:.0f} min).')
        res = None
        if eval_now:
            t0 = time.time()
            model.eval()
            res = evaluate_mod.evaluate(model.cpu(), args.data, limit=args.eval_images, pooler=args.pooler)
            model.to(device)
            train_mode()
            res.update(step=step, minutes=round(elapsed / 60, 1), eval_seconds=round(time.time() - t0))
            with open(eval_path, 'a') as f:
                f.write(json.dumps(res) + '\n')
            print('eval', json.dumps(res), flush=True)
            last_eval.clear()
            last_eval.update(res)
        if last_eval:  # the latest estimate, maybe from an earlier checkpoint
            e = last_eval
            notes += (f' Python estimate (evaluate.py) on {e["images"]} val images at step {e["step"]} ({args.pooler}):'
                      f' mask AP {e["mask_AP"]:.3f}, mask AP50 {e["mask_AP50"]:.3f}, box AP {e["box_AP"]:.3f}.')
        half = {k: v.half().cpu() if v.is_floating_point() else v.cpu() for k, v in model.state_dict().items()}
        atomic_save({'model': half, 'step': step, 'elapsed': elapsed, 'prior_steps': prior_steps,
                     'pooler': args.pooler, 'notes': notes, 'eval': res}, latest_path)
        paths = [os.path.relpath(latest_path, os.path.join(HERE, '..', '..'))]
        if not args.no_export:
            # export the fp16-rounded weights, so the ONNX files equal the committed checkpoint
            from export import load_checkpoint
            saved, _ = load_checkpoint(latest_path)
            if args.pooler == 'align':
                written = export_all(saved, HERE, notes)
            else:
                align_model, align_ck = load_checkpoint(args.init or os.path.join(HERE, 'checkpoints', 'latest.pt'))
                written = export_all(align_model, HERE, align_ck.get('notes', ''), pool_model=saved, pool_notes=notes)
            paths += [os.path.relpath(p, os.path.join(HERE, '..', '..')) for p in written]
        print(f'checkpoint step {step} ({elapsed / 60:.1f} min) saved' + ('' if args.no_export else ' + exported'), flush=True)
        if args.commit_every and n_ckpt % args.commit_every == 0:
            git_commit(paths, f'maskrcnn ({args.pooler}): bundled models from training step {step} ({elapsed / 60:.0f} min)'
                       + (f', val mask AP50 ~{res["mask_AP50"]:.2f} (Python estimate)' if res else ''))

    def train_mode():
        model.train()
        if args.heads_only:  # frozen backbone, FPN and RPN: BN statistics stay as trained
            model.backbone.eval()
            model.fpn.eval()
            model.rpn.eval()

    train_mode()
    last_ckpt = elapsed
    # SIGTERM (`timeout`, a lease running out): checkpoint after the current step, then stop
    stop_signal: list[int] = []
    signal.signal(signal.SIGTERM, lambda *_: stop_signal.append(1))
    wall_end = time.time() + args.wall_minutes * 60 if args.wall_minutes else float('inf')
    epoch = 0
    done = False
    while not done:
        sampler = SizedBatchSampler(len(ds), args.batch, sizes, weights, seed=args.seed * 1000 + epoch + step)
        loader = torch.utils.data.DataLoader(ds, batch_sampler=sampler, collate_fn=collate,
                                             num_workers=args.workers, persistent_workers=False,
                                             pin_memory=device.type == 'cuda', worker_init_fn=ignore_sigterm)
        for x, boxes, labels, masks in loader:
            x = x.to(device, non_blocking=True)
            boxes, labels, masks = ([t.to(device, non_blocking=True) for t in ts] for ts in (boxes, labels, masks))
            t0 = time.time()
            lr = lr_at(args, elapsed, step)
            for g in opt.param_groups:
                g['lr'] = lr
            size = x.shape[-1]
            with on_device:
                losses, stats = maskrcnn_loss(model, x, anchors[size], counts[size], boxes, labels, masks,
                                              pooler=args.pooler, pre_nms=args.rpn_pre_nms,
                                              post_nms=args.rpn_post_nms, roi_batch=args.roi_batch,
                                              mask_rois=args.mask_rois, heads_only=args.heads_only)
                total = optimiser_step(opt, losses, params)
            step += 1
            dt = time.time() - t0
            elapsed += dt
            writer.writerow([step, f'{elapsed / 60:.2f}', f'{lr:.6f}', size] +
                            [f'{losses[k].item():.4f}' if k in losses else '' for k in LOSS_KEYS] +
                            [f'{total.item():.4f}', stats['fg_rois'], stats['mask_rois'], f'{dt:.2f}'])
            if step % 10 == 0 or step <= 3:
                log.flush()
                print(f'step {step} {elapsed / 60:.1f}min lr {lr:.5f} size {size} ' +
                      ' '.join(f'{k} {v.item():.3f}' for k, v in losses.items()) +
                      f' fg {stats["fg_rois"]} props {stats["proposals"]:.0f} ({dt:.2f}s/step)', flush=True)
            stop = elapsed >= args.stop_minutes * 60 or (args.max_steps and step >= args.max_steps) or bool(stop_signal) or time.time() >= wall_end
            if not args.max_steps and (elapsed - last_ckpt >= args.ckpt_minutes * 60 or stop):
                last_ckpt = elapsed
                checkpoint(args.eval_every > 0 and (n_ckpt + 1) % args.eval_every == 0)
            if stop:
                done = True
                break
        epoch += 1
    log.close()


if __name__ == '__main__':
    main()
