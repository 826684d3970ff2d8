#!/usr/bin/python3
"""The numbers of a training run for the README: mean losses and step time per block of
steps (from runs/<run>/losses.csv), and optionally the curve as a PNG.

    /usr/bin/python3 models/centermask/loss_table.py [--run main] [--block 250] [--png models/centermask/loss_curve.png]
"""
from __future__ import annotations

import argparse
import csv
import os

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
KEYS = ['cls', 'ctr', 'box', 'mask', 'maskiou', 'total']


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--run', default='main')
    ap.add_argument('--block', type=int, default=250)
    ap.add_argument('--png', default=None)
    args = ap.parse_args()
    with open(os.path.join(HERE, 'runs', args.run, 'losses.csv')) as f:
        rows = list(csv.DictReader(f))
    by_step = {int(r['step']): r for r in rows}          # a resumed run rewrites steps after its checkpoint
    steps = sorted(by_step)
    data = {k: np.array([float(by_step[s][k]) for s in steps]) for k in KEYS + ['sec_per_step', 'minutes']}
    sizes = np.array([int(by_step[s]['size']) for s in steps])
    print('| steps | ' + ' | '.join(KEYS) + ' | s/step |')
    print('| --- |' + ' --- |' * (len(KEYS) + 1))
    for a in range(0, len(steps), args.block):
        sl = slice(a, a + args.block)
        print(f'| {steps[a]}–{steps[min(a + args.block, len(steps)) - 1]} | '
              + ' | '.join(f'{data[k][sl].mean():.3f}' for k in KEYS) + f' | {data["sec_per_step"][sl].mean():.2f} |')
    print('step time by input size (s, median): ' + ', '.join(
        f'{s}: {np.median(data["sec_per_step"][sizes == s]):.2f}' for s in sorted(set(sizes.tolist()))))
    print(f'{steps[-1]} steps, {data["minutes"][-1]:.1f} min of training time')
    if args.png:
        try:
            import matplotlib
        except ImportError:
            print('no matplotlib for this interpreter: no PNG')
            return
        matplotlib.use('Agg')
        import matplotlib.pyplot as plt
        fig, ax = plt.subplots(figsize=(8, 4.5))
        n = min(50, len(steps))
        for k in KEYS:
            ax.plot(steps[n - 1:], np.convolve(data[k], np.ones(n) / n, mode='valid'), label=k)
        ax.set_xlabel(f'step (batch 4); moving mean over {n} steps')
        ax.set_yscale('log')
        ax.grid(alpha=0.3)
        ax.legend()
        ax.set_title('CenterMask-Lite on emoji-COCO (CPU)')
        fig.tight_layout()
        fig.savefig(args.png, dpi=80)
        print('wrote', args.png)


if __name__ == '__main__':
    main()
