"""Mixed precision and per-step seeding for the training loops.

On CUDA: bf16 autocast where the GPU supports it, else fp16 autocast with a GradScaler; fp32 on the CPU.
Every micro-batch seeds torch from (seed, phase, step, part), so dropout, the posterior noise and the
slice offsets do not depend on what ran before: a resumed run repeats an uninterrupted one exactly, and a
DDP rank's part of a batch draws what the same part draws in one process.
"""

from __future__ import annotations

import contextlib
import hashlib
import random
from dataclasses import dataclass

import numpy as np
import torch


@dataclass
class Amp:
    """How a loop runs its forward passes and scales its losses."""

    device: torch.device
    dtype: torch.dtype | None  # autocast type, None: no autocast (fp32)
    scaler: torch.amp.GradScaler | None

    @property
    def name(self) -> str:
        """fp32, bf16 or fp16."""
        return {None: "fp32", torch.bfloat16: "bf16", torch.float16: "fp16"}[self.dtype]

    def autocast(self):
        """The autocast context of a forward pass."""
        if self.dtype is None:
            return contextlib.nullcontext()
        return torch.autocast(device_type=self.device.type, dtype=self.dtype)

    def backward(self, loss: torch.Tensor) -> None:
        """Back-propagate, scaled when fp16."""
        (self.scaler.scale(loss) if self.scaler is not None else loss).backward()

    def step(self, optimizer: torch.optim.Optimizer) -> None:
        """Optimiser step (skipped by the scaler on inf/NaN gradients in fp16)."""
        if self.scaler is not None:
            self.scaler.step(optimizer)
        else:
            optimizer.step()

    def update(self) -> None:
        """Update the loss scale after a step's optimisers have run."""
        if self.scaler is not None:
            self.scaler.update()


def make_amp(device: torch.device, precision: str = "auto") -> Amp:
    """The Amp for ``device``: ``precision`` auto | fp32 | bf16 | fp16 (the last two CUDA only)."""
    if device.type != "cuda" or precision == "fp32":
        return Amp(device, None, None)
    if precision == "bf16" or (precision == "auto" and torch.cuda.is_bf16_supported()):
        return Amp(device, torch.bfloat16, None)
    return Amp(device, torch.float16, torch.amp.GradScaler("cuda"))


def step_seed(seed: int, phase: str, step: int, part: int = 0) -> int:
    """A 63-bit seed for one micro-batch of one step."""
    digest = hashlib.sha256(f"{seed}/{phase}/{step}/{part}".encode()).digest()
    return int.from_bytes(digest[:8], "little") & (2**63 - 1)


def seed_all(seed: int) -> torch.Generator:
    """Seed torch (CPU and CUDA), Python and NumPy; return a CPU generator seeded the same way."""
    torch.manual_seed(seed)
    random.seed(seed)
    np.random.seed(seed % 2**32)
    return torch.Generator().manual_seed(seed)
