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
