#!/usr/bin/python3
"""Loss curves of a model's training, over all its phases (CPU runs, then the GPU run) → PNG.

    /usr/bin/python3 models/plot_losses.py yolact models/yolact/loss_curve.png \\
        models/yolact/runs/main/losses.csv:8 models/yolact/runs/pre/losses.csv:8:4483 \\
        models/yolact/runs/gpu/losses.csv:32

Each phase is CSV:BATCH[:LAST_STEP]: the run's losses.csv, its batch size, and the last step
of it that the next phase started from (rows after it are left out). The x axis counts
training images seen, so phases of different batch sizes line up; a phase whose steps
restart at 1 (a run started with --init) continues where the previous one stopped.
"""
from __future__ import annotations

import csv
import sys

import matplotlib
matplotlib.use('Agg')
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

FAMILIES = {
    'yolact': ('YOLACT', (('total', 'total'), ('B', 'box ×1.5'), ('C', 'class (OHEM) ×1'),
                          ('M', 'mask ×6.125'), ('S', 'semantic ×1'))),
    'maskrcnn': ('Mask R-CNN', (('total', 'total'), ('rpn_cls', 'RPN objectness (BCE)'),
                                ('rpn_box', 'RPN box (smooth-L1)'), ('cls', 'box head class (CE)'),
                                ('box', 'box head box (smooth-L1)'), ('mask', 'mask (BCE)'))),
}


def moving_mean(y: np.ndarray, n: int) -> np.ndarray:
    return y if len(y) < n else np.convolve(y, np.ones(n) / n, mode='valid')


def read_phases(specs: list[str]) -> list[tuple[str, list[dict], np.ndarray]]:
    """→ per phase: label, its rows, images seen at each row (thousands, counted over all phases)."""
    phases = []
    seen_before, last_step_before = 0.0, 0
    for spec in specs:
        parts = spec.split(':')
        path, batch = parts[0], int(parts[1])
        last = int(parts[2]) if len(parts) > 2 else None
        with open(path) as f:
            rows = [r for r in csv.DictReader(f) if last is None or int(r['step']) <= last]
        if not rows:
            continue
        first = int(rows[0]['step'])
        offset = 0 if first > last_step_before else last_step_before  # --init runs restart at 1
        steps = np.array([int(r['step']) + offset for r in rows])
        seen = (seen_before + (steps - last_step_before) * batch) / 1000
        phases.append((f'batch {batch}', rows, seen))
        seen_before, last_step_before = seen[-1] * 1000, int(steps[-1])
    return phases


def main(family: str, out: str, specs: list[str]):
    name, curves = FAMILIES[family]
    phases = read_phases(specs)
    fig, ax = plt.subplots(figsize=(6.4, 3.4), dpi=80)
    n = max(1, sum(len(rows) for _, rows, _ in phases) // 60)
    for c, (key, label) in enumerate(curves):
        for p, (_, rows, seen) in enumerate(phases):  # smoothed per phase: batch sizes differ
            vals = [(x, float(r[key])) for x, r in zip(seen, rows) if r.get(key)]
            if not vals:
                continue
            x, y = np.array(vals).T
            ys = moving_mean(y, min(n, max(1, len(y) // 4)))
            ax.plot(x[len(x) - len(ys):], ys, color=f'C{c}', label=label if p == 0 else None, lw=1.2)
    for label, _, seen in phases[1:]:
        ax.axvline(seen[0], color='k', lw=0.8, ls='--', alpha=0.5)
        ax.text(seen[0], ax.get_ylim()[1], f' {label}', fontsize=7, va='top')
    ax.set_xlabel('training images seen (thousands)')
    ax.set_ylabel('loss')
    ax.set_yscale('log')
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, ncol=2, loc='lower left')
    ax.set_title(f'{name} emoji-COCO training, {len(phases)} phase(s), moving mean of {n} steps', fontsize=9)
    fig.tight_layout()
    fig.savefig(out)
    print('wrote', out)


if __name__ == '__main__':
    if len(sys.argv) < 4 or sys.argv[1] not in FAMILIES:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2], sys.argv[3:])
