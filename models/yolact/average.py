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


def mean_state(states: list[dict]) -> dict:
    """Equal-weight mean of state dicts of one model, in fp32: floating-point tensors averaged,
    the others (BatchNorm's batch counters) taken from the last."""
    total = {}
    for i, state in enumerate(states):
        if i and state.keys() != total.keys():
            raise ValueError(f'state {i}: not the same model')
        for k, v in state.items():
            if not v.is_floating_point():
                total[k] = v.clone()
            elif k in total:
                total[k] += v.float()
            else:
                total[k] = v.float().clone()
    return {k: v / len(states) if v.is_floating_point() else v for k, v in total.items()}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('inputs', nargs='+')
    ap.add_argument('--out', required=True)
    ap.add_argument('--weights', choices=['model', 'ema'], default='ema',
                    help="which weights of a state.pt (a latest.pt holds only 'model')")
    ap.add_argument('--notes', default=None, help='the notes the exports carry')
    args = ap.parse_args()

    checkpoints = [torch.load(p, map_location='cpu', weights_only=False) for p in args.inputs]
    for path, ck in zip(args.inputs, checkpoints):
        if args.weights not in ck:
            raise SystemExit(f"{path} holds no '{args.weights}' weights (a latest.pt holds 'model' only)")
    mean = mean_state([ck[args.weights] for ck in checkpoints])
    last, n = checkpoints[-1], len(checkpoints)
    half = {k: v.half() if v.is_floating_point() else v for k, v in mean.items()}
    notes = args.notes or last.get('notes', '')
    if n > 1 and not args.notes:
        notes = f'{notes} Weights: the mean of {n} checkpoints of the run.'.strip()
    torch.save({'model': half, 'width': last.get('width', last.get('args', {}).get('width', 64)),
                'step': last.get('step'), 'elapsed': last.get('elapsed'), 'prior_steps': last.get('prior_steps'),
                'notes': notes, 'averaged_from': [os.path.basename(p) for p in args.inputs]}, args.out)
    print(f'{args.out}: mean of {n} ({args.weights}), step {last.get("step")}')


if __name__ == '__main__':
    main()
