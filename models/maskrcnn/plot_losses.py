#!/usr/bin/python3
"""Loss curves of a Mask R-CNN training run → small PNG.

    /usr/bin/python3 models/maskrcnn/plot_losses.py models/maskrcnn/runs/main/losses.csv models/maskrcnn/loss_curve.png
"""
import csv
import sys

import matplotlib
matplotlib.use('Agg')
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

CURVES = (('total', 'total'), ('rpn_cls', 'RPN objectness (BCE)'), ('rpn_box', 'RPN box (smooth-L1)'),
          ('cls', 'box head class (CE)'), ('box', 'box head box (smooth-L1)'), ('mask', 'mask (BCE)'))


def moving_mean(y: np.ndarray, n: int) -> np.ndarray:
    return y if len(y) < n else np.convolve(y, np.ones(n) / n, mode='valid')


def main(src, out):
    with open(src) as f:
        rows = list(csv.DictReader(f))
    step = np.array([int(r['step']) for r in rows])
    fig, ax = plt.subplots(figsize=(6, 3.2), dpi=80)
    n = max(1, len(rows) // 50)
    for key, label in CURVES:
        vals = [(s, float(r[key])) for s, r in zip(step, rows) if r.get(key)]
        if not vals:
            continue  # heads-only runs have no RPN losses
        s, y = np.array(vals).T
        ys = moving_mean(y, n)
        ax.plot(s[len(s) - len(ys):], ys, label=label, lw=1.2)
    ax.set_xlabel('step (batch 4)')
    ax.set_ylabel('loss')
    ax.set_yscale('log')
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, ncol=2)
    ax.set_title(f'Mask R-CNN emoji-COCO training ({float(rows[-1]["minutes"]):.0f} min, moving mean of {n})', fontsize=9)
    fig.tight_layout()
    fig.savefig(out)
    print('wrote', out)


if __name__ == '__main__':
    main(sys.argv[1], sys.argv[2])
