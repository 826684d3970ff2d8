"""What the training scripts share (models/yolact/train.py, models/maskrcnn/train.py)."""
from __future__ import annotations

import contextlib
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
