#!/usr/bin/python3
"""Loss curves of a training run → small PNG.

    /usr/bin/python3 models/yolact/plot_losses.py models/yolact/runs/main/losses.csv models/yolact/loss_curve.png
"""
import csv
import sys

import matplotlib
matplotlib.use('Agg')
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402


def smooth(y, n):
    if len(y) < n:
        return np.asarray(y)
    k = np.ones(n) / n
    return np.convolve(y, k, mode='valid')


def main(src, out):
    with open(src) as f:
        rows = list(csv.DictReader(f))
    step = np.array([int(r['step']) for r in rows])
    fig, ax = plt.subplots(figsize=(6, 3.2), dpi=80)
    n = max(1, len(rows) // 50)
    for key, label in (('total', 'total'), ('B', 'box ×1.5'), ('C', 'class (OHEM) ×1'),
                       ('M', 'mask ×6.125'), ('S', 'semantic ×1')):
        y = np.array([float(r[key]) for r in rows])
        ys = smooth(y, n)
        ax.plot(step[len(step) - len(ys):], ys, label=label, lw=1.2)
    ax.set_xlabel('step (batch 8)')
    ax.set_ylabel('loss')
    ax.set_yscale('log')
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, ncol=2)
    ax.set_title(f'YOLACT emoji-COCO training ({float(rows[-1]["minutes"]):.0f} min, moving mean of {n})', fontsize=9)
    fig.tight_layout()
    fig.savefig(out)
    print('wrote', out)


if __name__ == '__main__':
    main(sys.argv[1], sys.argv[2])
