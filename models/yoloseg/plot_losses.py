#!/usr/bin/python3
"""Loss curves of a YOLO-seg training run (runs/<run>/losses.csv) → small PNG.

    /usr/bin/python3 models/yoloseg/plot_losses.py models/yoloseg/runs/main/losses.csv models/yoloseg/loss_curve.png
"""
import csv
import sys

import matplotlib
matplotlib.use('Agg')
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

CURVES = (('total', 'total'), ('box', 'box (1 − CIoU) ×7.5'), ('cls', 'class BCE ×0.5'),
          ('dfl', 'DFL ×1.5'), ('mask', 'mask BCE ×7.5'))


def moving_mean(y: np.ndarray, n: int) -> np.ndarray:
    return y if len(y) < n else np.convolve(y, np.ones(n) / n, mode='valid')


def main(src: str, out: str):
    with open(src) as f:
        rows = list(csv.DictReader(f))
    step = np.array([int(r['step']) for r in rows])
    n = max(1, len(rows) // 50)
    fig, ax = plt.subplots(figsize=(6, 3.2), dpi=80)
    for key, label in CURVES:
        y = moving_mean(np.array([float(r[key]) for r in rows]), n)
        ax.plot(step[len(step) - len(y):], y, label=label, lw=1.2)
    ax.set_xlabel('step (batch 8)')
    ax.set_ylabel('loss')
    ax.set_yscale('log')
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, ncol=2)
    ax.set_title(f'YOLO-seg emoji-COCO training ({float(rows[-1]["minutes"]):.0f} min, moving mean of {n})', fontsize=9)
    fig.tight_layout()
    fig.savefig(out)
    print('wrote', out)


if __name__ == '__main__':
    main(sys.argv[1], sys.argv[2])
