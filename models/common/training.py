"""What the training scripts share (models/yolact/train.py, models/maskrcnn/train.py)."""
from __future__ import annotations

import contextlib
import copy
import signal

import torch


def training_device(name: str):
    """'cpu' or 'cuda' → (device, context). On CUDA: TF32 matrix products and cuDNN
    autotuning (a few input sizes only). Inside the context, the tensors the losses make
    (zeros, aranges, random samples) are made on the device; torch.device is a context
    manager from torch 2.0 on, and the CPU needs none."""
    device = torch.device(name)
    if device.type == 'cuda':
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True
        torch.backends.cudnn.benchmark = True
    return device, (device if device.type != 'cpu' else contextlib.nullcontext())


def ignore_sigterm(_worker_id: int):
    """DataLoader workers leave SIGTERM to the main process, which checkpoints and stops."""
    signal.signal(signal.SIGTERM, signal.SIG_IGN)


def optimiser_step(opt, losses: dict, params, max_grad_norm: float = 10.0):
    """One step on the sum of the losses, gradients clipped to max_grad_norm (every training
    script here uses 10). Returns the total (a tensor)."""
    total = sum(losses.values())
    opt.zero_grad(set_to_none=True)
    total.backward()
    torch.nn.utils.clip_grad_norm_(params, max_grad_norm)
    opt.step()
    return total


class WeightAverage:
    """An exponential moving average of a model's weights and BatchNorm statistics, updated
    after every optimiser step: avg = decay * avg + (1 - decay) * weights. Late in a
    schedule it smooths out the last steps' noise; `decay` 0.998 averages over the last
    ≈500 steps. The average is a second copy of the model (`.model`), kept in eval mode."""

    def __init__(self, model: torch.nn.Module, decay: float):
        self.decay = decay
        self.model = copy.deepcopy(model).eval()
        for p in self.model.parameters():
            p.requires_grad_(False)

    @torch.no_grad()
    def update(self, model: torch.nn.Module):
        for avg, now in zip(self.model.state_dict().values(), model.state_dict().values()):
            if avg.is_floating_point():
                avg.mul_(self.decay).add_(now.detach(), alpha=1 - self.decay)
            else:  # BatchNorm's batch counter
                avg.copy_(now)


def atomic_save(obj, path: str):
    """torch.save to path + '.tmp', then rename: a reader never sees half a checkpoint."""
    import os
    os.makedirs(os.path.dirname(path), exist_ok=True)
    torch.save(obj, path + '.tmp')
    os.replace(path + '.tmp', path)


def git_commit(repo: str, paths: list[str], message: str):
    """Commit only the given files (`git commit --only`), retried while index.lock is held."""
    import subprocess
    import time
    for attempt in range(10):
        subprocess.run(['git', 'add', '--'] + paths, cwd=repo, capture_output=True, text=True)
        r = subprocess.run(['git', 'commit', '--only', '-m', message, '--'] + paths, cwd=repo, capture_output=True, text=True)
        if r.returncode == 0 or 'nothing to commit' in r.stdout + r.stderr or 'no changes added' in r.stdout:
            print('git:', (r.stdout + r.stderr).strip().splitlines()[:1], flush=True)
            return
        if 'index.lock' not in r.stderr:
            print('git commit failed:', r.stderr.strip(), flush=True)
            return
        time.sleep(5 + 5 * attempt)
    print('git commit gave up (index.lock)', flush=True)


def cosine_lr(base_lr: float, warmup_steps: int, schedule_s: float, elapsed_s: float, step: int) -> float:
    """Linear warm-up over warmup_steps, then cosine decay over schedule_s seconds of
    training time down to 5 % of base_lr."""
    import math
    warm = min(1.0, (step + 1) / warmup_steps)
    t = min(1.0, elapsed_s / schedule_s)
    return base_lr * warm * (0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * t)))
