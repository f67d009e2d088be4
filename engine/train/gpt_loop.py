"""The GPT (s1) fine-tune (spec §6.3): summed cross-entropy, ScaledAdam, a step every 4 batches.

The official recipe: ScaledAdam with betas (0.9, 0.95) and clipping scale 2.0 (period 1000); its scheduler
hard-codes a constant lr of 0.002, after a very first step at the optimiser's initial 0.01; the
optimiser steps once every 4 batches, the summed losses not divided by 4. Gradients of batches after the
last full group of an epoch are flushed at the epoch's end (the reference carries them into the next
epoch's first group instead). ``gpt_optimizer="adamw"`` swaps in AdamW at the same learning rates, for
comparisons.

DDP averages gradients over ranks, so each rank's summed loss is multiplied by the world size: the
gradient is then that of the global batch's sum, as in one process.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field

import torch
from torch import nn

from engine.train.amp import Amp, seed_all, step_seed
from engine.train.batching import GPTBatch
from engine.train.config import TrainConfig
from engine.train.scaled_adam import ScaledAdam

PHASE = "gpt"


class GPTLoss(nn.Module):
    """Wraps Text2Semantic so that DDP sees the training loss as the module's forward."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, phone_ids, phone_lens, bert, codes, code_lens) -> tuple[torch.Tensor, float, int]:
        """Summed CE, accuracy, counted targets."""
        out = self.model.training_loss(phone_ids, phone_lens, bert, codes, code_lens)
        return out.loss, out.accuracy, out.num_targets


def make_optimizer(model: nn.Module, config: TrainConfig) -> torch.optim.Optimizer:
    """The GPT optimiser the config names (ScaledAdam as official, or AdamW)."""
    params = [p for p in model.parameters() if p.requires_grad]
    if config.gpt_optimizer == "adamw":
        return torch.optim.AdamW(params, lr=config.gpt_first_lr, betas=config.gpt_betas)
    return ScaledAdam(
        params,
        lr=config.gpt_first_lr,
        betas=config.gpt_betas,
        clipping_scale=2.0,
        clipping_update_period=1000,
    )


@dataclass
class GPTTrainer:
    """The GPT with its optimiser; ``run`` may be a DDP wrapper of ``GPTLoss(model)``."""

    model: nn.Module
    config: TrainConfig
    amp: Amp
    rank: int = 0
    world: int = 1
    run: nn.Module | None = None
    optimizer: torch.optim.Optimizer = field(init=False)
    updates: int = 0  # optimiser steps taken
    pending: int = 0  # batches whose gradients wait for the next optimiser step

    def __post_init__(self) -> None:
        self.optimizer = make_optimizer(self.model, self.config)
        self.run = self.run or GPTLoss(self.model)

    def _lr(self) -> float:
        return self.config.gpt_first_lr if self.updates == 0 else self.config.gpt_lr

    @property
    def lr(self) -> float:
        """The learning rate of the next optimiser step."""
        return self._lr()

    def step(self, batch: GPTBatch, step: int, parts: int = 1) -> dict[str, float]:
        """Accumulate one batch's gradients (this rank's share); step the optimiser every N batches."""
        self.model.train()
        pieces = batch.split(parts)
        total, correct, counted = 0.0, 0.0, 0
        will_step = self.pending + 1 >= self.config.gpt_accumulate
        for i, part in enumerate(pieces):
            seed_all(step_seed(self.config.seed, PHASE, step, self.rank * parts + i))
            last = i == len(pieces) - 1  # every batch ends synced: a flush may come after any of them
            sync = (
                self.run.no_sync() if hasattr(self.run, "no_sync") and not last else contextlib.nullcontext()
            )
            with sync:
                with self.amp.autocast():
                    loss, acc, n = self.run(
                        part.phone_ids, part.phone_lens, part.bert, part.codes, part.code_lens
                    )
                self.amp.backward(loss * self.world)
            total += float(loss.detach())
            correct += acc * n
            counted += n
        self.pending += 1
        if will_step:
            self.flush()
        return {
            "loss": total,
            "loss_per_token": total / max(counted, 1),
            "accuracy": correct / max(counted, 1),
        }

    def flush(self) -> None:
        """Take the optimiser step for the accumulated batches (if any)."""
        if self.pending == 0:
            return
        for group in self.optimizer.param_groups:
            group["lr"] = self._lr()
        self.amp.step(self.optimizer)
        self.amp.update()
        self.optimizer.zero_grad(set_to_none=True)
        self.updates += 1
        self.pending = 0

    def end_epoch(self) -> None:
        """Flush the last, partial group of batches."""
        self.flush()

    # ------------------------------------------------------------------ state
    def state_dict(self) -> dict:
        """Weights, optimiser, counters and any accumulated gradients, for a checkpoint."""
        state = {
            "model": self.model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "updates": self.updates,
            "pending": self.pending,
        }
        if self.pending:
            state["grads"] = {
                k: p.grad.detach().clone() for k, p in self.model.named_parameters() if p.grad is not None
            }
        if self.amp.scaler is not None:
            state["scaler"] = self.amp.scaler.state_dict()
        return state

    def load_state_dict(self, state: dict) -> None:
        """Restore :meth:`state_dict` output."""
        self.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.updates = int(state["updates"])
        self.pending = int(state["pending"])
        grads = state.get("grads") or {}
        for k, p in self.model.named_parameters():
            p.grad = grads[k].to(p.device).clone() if k in grads else None
        if self.amp.scaler is not None and "scaler" in state:
            self.amp.scaler.load_state_dict(state["scaler"])
