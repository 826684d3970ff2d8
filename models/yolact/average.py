"""Average the weights of several checkpoints of one run (stochastic weight averaging over
the tail of a schedule) into a checkpoints/latest.pt-style file that export.py and
evaluate.py read.

    python3 models/yolact/average.py --out OUT.pt --weights ema SNAP1.pt SNAP2.pt ...

Each input is a run's state.pt (copied aside as the run wrote it) or a latest.pt; --weights
picks a state.pt's last weights ('model') or its moving average ('ema', train.py --ema).
Floating-point tensors (weights and BatchNorm statistics) are averaged with equal weight;
BatchNorm's batch counters are taken from the last input.
"""
import argparse
import os

import torch


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('inputs', nargs='+')
    ap.add_argument('--out', required=True)
    ap.add_argument('--weights', choices=['model', 'ema'], default='ema',
                    help="which weights of a state.pt (latest.pt files hold only 'model')")
    ap.add_argument('--notes', default=None, help='the notes the exports carry')
    args = ap.parse_args()

    total, last = None, None
    for path in args.inputs:
        ck = torch.load(path, map_location='cpu', weights_only=False)
        state = ck[args.weights] if args.weights in ck else ck['model']
        state = {k: v.float() if v.is_floating_point() else v for k, v in state.items()}
        if total is None:
            total = {k: v.clone() for k, v in state.items()}
        else:
            assert state.keys() == total.keys(), f'{path}: not the same model'
            for k, v in state.items():
                if v.is_floating_point():
                    total[k] += v
                else:
                    total[k] = v
        last = ck
    n = len(args.inputs)
    half = {k: (v / n).half() if v.is_floating_point() else v for k, v in total.items()}
    step = last.get('step')
    notes = args.notes or (f'{last.get("notes", "")} Weights: the mean of {n} checkpoints of the run.').strip()
    torch.save({'model': half, 'width': last.get('width', last.get('args', {}).get('width', 64)),
                'step': step, 'elapsed': last.get('elapsed'), 'prior_steps': last.get('prior_steps'),
                'notes': notes, 'averaged_from': [os.path.basename(p) for p in args.inputs]}, args.out)
    print(f'{args.out}: mean of {n} ({args.weights}), step {step}')


if __name__ == '__main__':
    main()
