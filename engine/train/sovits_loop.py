"""The SoVITS (s2) fine-tune step (spec §6.2): discriminator first, then the generator.

AdamW (lr 1e-4, betas (0.8, 0.99), eps 1e-9) for both networks, the text embedding, text encoder and
MRTE at lr x 0.4, ExponentialLR (gamma 0.999875) stepped once per epoch. The frozen ``ssl_proj`` and
quantizer get no gradient (they are taken out of the optimiser; the reference keeps them in it, where
AdamW skips them because their gradient is None: the same updates).

A batch can be split into parts (after an out-of-memory error, or to match a DDP run part for part): the
discriminator's gradients are then summed over every part's generated slice before its step, and the
generator's over every part against the updated discriminator, the parts' forward passes being repeated
with the same seeds. With one part this is the reference's step.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field

import torch
from torch import nn

from engine.train.amp import Amp, seed_all, step_seed
from engine.train.batching import SoVITSBatch
from engine.train.config import TrainConfig
from engine.train.losses import discriminator_loss, generator_losses, real_slices

PHASE = "sovits"


def _unwrap(module: nn.Module) -> nn.Module:
    return getattr(module, "module", module)


@dataclass
class SoVITSTrainer:
    """Generator + discriminator with their optimisers and schedulers (``*_run`` may be DDP wrappers)."""

    net_g: nn.Module
    net_d: nn.Module
    config: TrainConfig
    amp: Amp
    rank: int = 0
    world: int = 1
    g_run: nn.Module | None = None
    d_run: nn.Module | None = None
    optim_g: torch.optim.Optimizer = field(init=False)
    optim_d: torch.optim.Optimizer = field(init=False)
    sched_g: torch.optim.lr_scheduler.LRScheduler = field(init=False)
    sched_d: torch.optim.lr_scheduler.LRScheduler = field(init=False)

    def __post_init__(self) -> None:
        c = self.config
        g = self.net_g
        for module in (g.ssl_proj, g.quantizer):  # frozen in the fine-tune: no gradient reaches them
            module.requires_grad_(False)
        groups = g.param_groups(c.sovits_lr)
        slow = c.sovits_lr * c.text_low_lr_rate
        for group in groups[1:]:
            group["lr"] = slow
        groups = [{**grp, "params": [p for p in grp["params"] if p.requires_grad]} for grp in groups]
        self.optim_g = torch.optim.AdamW(groups, c.sovits_lr, betas=c.sovits_betas, eps=c.sovits_eps)
        self.optim_d = torch.optim.AdamW(
            self.net_d.parameters(), c.sovits_lr, betas=c.sovits_betas, eps=c.sovits_eps
        )
        self.sched_g = torch.optim.lr_scheduler.ExponentialLR(self.optim_g, gamma=c.lr_decay)
        self.sched_d = torch.optim.lr_scheduler.ExponentialLR(self.optim_d, gamma=c.lr_decay)
        self.g_run = self.g_run or self.net_g
        self.d_run = self.d_run or self.net_d

    # ------------------------------------------------------------------ one step
    def _forward(self, part: SoVITSBatch, seed: int):
        gen = seed_all(seed)
        with self.amp.autocast():
            out = self.g_run(part.ssl, part.spec, part.spec_lens, part.phones, part.phone_lens, generator=gen)
        cfg = _unwrap(self.net_g).config
        real_mel, real_wav = real_slices(part.spec, part.wav, out.ids_slice, cfg.segment_size, cfg.hop_length)
        return out, real_mel, real_wav

    def _sync(self, module: nn.Module, last: bool):
        if last or not hasattr(module, "no_sync"):
            return contextlib.nullcontext()
        return module.no_sync()

    def step(self, batch: SoVITSBatch, step: int, parts: int = 1) -> dict[str, float]:
        """One optimiser step of both networks on ``batch`` (this rank's share); returns the losses."""
        self.net_g.train()
        self.net_d.train()
        pieces = batch.split(parts)
        n = len(batch)
        seeds = [step_seed(self.config.seed, PHASE, step, self.rank * parts + i) for i in range(len(pieces))]
        totals: dict[str, float] = {}
        self.optim_d.zero_grad(set_to_none=True)
        kept = None
        for i, (part, seed) in enumerate(zip(pieces, seeds, strict=True)):
            weight = len(part) / n
            if len(pieces) == 1:
                kept = self._forward(part, seed)  # one part: keep the graph for the generator step
                out, _, real_wav = kept
            else:
                with torch.no_grad():
                    out, _, real_wav = self._forward(part, seed)
            with self._sync(self.d_run, i == len(pieces) - 1):
                with self.amp.autocast():
                    d_loss = discriminator_loss(self.d_run, real_wav, out.audio)
                self.amp.backward(d_loss * weight)
            totals["d_total"] = totals.get("d_total", 0.0) + float(d_loss.detach()) * weight
        self.amp.step(self.optim_d)

        self.optim_g.zero_grad(set_to_none=True)
        disc = _unwrap(self.net_d)  # its gradients here are thrown away: no need to all-reduce them
        for i, (part, seed) in enumerate(zip(pieces, seeds, strict=True)):
            weight = len(part) / n
            with self._sync(self.g_run, i == len(pieces) - 1):
                out, real_mel, real_wav = kept if kept is not None else self._forward(part, seed)
                with self.amp.autocast():
                    losses = generator_losses(disc, out, real_mel, real_wav)
                self.amp.backward(losses.total * weight)
            for key, value in losses.floats().items():
                totals[key] = totals.get(key, 0.0) + value * weight
        self.amp.step(self.optim_g)
        self.amp.update()
        return totals

    def end_epoch(self) -> None:
        """Decay both learning rates (once per epoch, as the reference)."""
        self.sched_g.step()
        self.sched_d.step()

    @property
    def lr(self) -> float:
        """The generator's base learning rate now."""
        return float(self.optim_g.param_groups[0]["lr"])

    # ------------------------------------------------------------------ state
    def state_dict(self) -> dict:
        """Weights, optimisers, schedulers and scaler, for a checkpoint."""
        state = {
            "net_g": _unwrap(self.net_g).state_dict(),
            "net_d": _unwrap(self.net_d).state_dict(),
            "optim_g": self.optim_g.state_dict(),
            "optim_d": self.optim_d.state_dict(),
            "sched_g": self.sched_g.state_dict(),
            "sched_d": self.sched_d.state_dict(),
        }
        if self.amp.scaler is not None:
            state["scaler"] = self.amp.scaler.state_dict()
        return state

    def load_state_dict(self, state: dict) -> None:
        """Restore :meth:`state_dict` output."""
        _unwrap(self.net_g).load_state_dict(state["net_g"])
        _unwrap(self.net_d).load_state_dict(state["net_d"])
        self.optim_g.load_state_dict(state["optim_g"])
        self.optim_d.load_state_dict(state["optim_d"])
        self.sched_g.load_state_dict(state["sched_g"])
        self.sched_d.load_state_dict(state["sched_d"])
        if self.amp.scaler is not None and "scaler" in state:
            self.amp.scaler.load_state_dict(state["scaler"])
