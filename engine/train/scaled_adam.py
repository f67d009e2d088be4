"""ScaledAdam, the optimiser of the official GPT fine-tune (icefall's, as GPT-SoVITS configures it).

Written from its description (spec §6.3): an Adam direction whose step is scaled by each tensor's RMS
(so the learning rate is a *relative* change), plus a learned overall scale per tensor (updated every
``size_update_period`` steps, kept between ``param_min_rms`` and ``param_max_rms``), plain Adam for
scalars at ``lr * scalar_lr_scale``, momentum kept as a decayed parameter change ``delta`` (no first
bias correction), and gradient clipping to ``clipping_scale`` x the median norm of the last
``clipping_update_period`` steps (none before that many steps: the fine-tune never reaches 1000).

The reference stacks same-shaped tensors to save kernel launches; every operation is per tensor except
the clipping norm, so this per-tensor version computes the same updates.
"""

from __future__ import annotations

import torch
from torch.optim import Optimizer


class ScaledAdam(Optimizer):
    """Scaled Adam (lr 0.01 initial, betas (0.9, 0.95), clipping 2.0 / 1000 steps in the s1 fine-tune)."""

    def __init__(
        self,
        params,
        lr: float = 3e-2,
        clipping_scale: float | None = None,
        betas: tuple[float, float] = (0.9, 0.98),
        scalar_lr_scale: float = 0.1,
        eps: float = 1e-8,
        param_min_rms: float = 1e-5,
        param_max_rms: float = 3.0,
        scalar_max: float = 10.0,
        size_update_period: int = 4,
        clipping_update_period: int = 100,
    ) -> None:
        defaults = dict(
            lr=lr,
            clipping_scale=clipping_scale,
            betas=betas,
            scalar_lr_scale=scalar_lr_scale,
            eps=eps,
            param_min_rms=param_min_rms,
            param_max_rms=param_max_rms,
            scalar_max=scalar_max,
            size_update_period=size_update_period,
            clipping_update_period=clipping_update_period,
        )
        super().__init__(params, defaults)

    @torch.no_grad()
    def step(self, closure=None):  # noqa: D102 - the Optimizer API
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            params = list(group["params"])
            if not params:
                continue
            for p in params:
                if not self.state[p]:
                    self._init_state(group, p)
            scale = self._clipping_scale(group, params)
            for p in params:
                self._step_one(group, p, scale)
        return loss

    def _init_state(self, group: dict, p: torch.Tensor) -> None:
        state = self.state[p]
        state["step"] = 0
        state["delta"] = torch.zeros_like(p)
        state["exp_avg_sq"] = torch.zeros_like(p)
        if p.numel() > 1:
            rms = p.detach().pow(2).mean().sqrt().reshape(())
            state["param_rms"] = rms.clone()
            state["scale_exp_avg_sq"] = torch.zeros_like(rms)
            state["scale_grads"] = torch.zeros(group["size_update_period"], dtype=p.dtype, device=p.device)

    @staticmethod
    def _grad(p: torch.Tensor) -> torch.Tensor:
        return torch.zeros_like(p) if p.grad is None else p.grad

    def _clipping_scale(self, group: dict, params: list[torch.Tensor]) -> float:
        first = self.state[params[0]]
        step = first["step"]
        clipping = group["clipping_scale"]
        if clipping is None or step == 0:
            return 1.0
        period = group["clipping_update_period"]
        total = torch.zeros((), device=params[0].device)
        for p in params:
            g = self._grad(p)
            if p.numel() == 1:
                total += (g.float() ** 2).sum()
            else:
                total += ((g.float() * self.state[p]["param_rms"]) ** 2).sum()
        norm = total.sqrt()
        if "model_norms" not in first:
            first["model_norms"] = torch.zeros(period, device=norm.device)
        first["model_norms"][step % period] = norm
        if step % period == 0:
            ordered = first["model_norms"].sort()[0]
            median = float(ordered[min(period - 1, (period // 4) * 2)])
            first["model_norm_threshold"] = clipping * median
        if step < period or "model_norm_threshold" not in first:
            return 1.0
        return min(1.0, float(first["model_norm_threshold"] / (norm + 1e-20)))

    def _step_one(self, group: dict, p: torch.Tensor, clip: float) -> None:
        state = self.state[p]
        beta1, beta2 = group["betas"]
        eps = group["eps"]
        period = group["size_update_period"]
        step = state["step"]
        grad = self._grad(p)
        if clip != 1.0:
            grad = grad * clip
        delta = state["delta"]
        delta.mul_(beta1)
        if p.numel() == 1:
            lr = group["lr"] * group["scalar_lr_scale"]
            exp_avg_sq = state["exp_avg_sq"]
            exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
            denom = (exp_avg_sq / (1 - beta2 ** (step + 1))).sqrt() + eps
            delta.add_(grad / denom, alpha=-lr * (1 - beta1))
            p.clamp_(min=-group["scalar_max"], max=group["scalar_max"])
            p.add_(delta)
            state["step"] = step + 1
            return
        state["scale_grads"][step % period] = (p * grad).sum()
        if step % period == period - 1:
            state["param_rms"].copy_(p.detach().pow(2).mean().sqrt())
            if step > 0:
                self._size_update(group, p, state)
        exp_avg_sq = state["exp_avg_sq"]
        exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
        correction = 1 - beta2 ** (step + 1)
        used = exp_avg_sq * (1.0 / correction) if correction < 0.99 else exp_avg_sq
        direction = grad / (used.sqrt() + eps)
        alpha = -group["lr"] * (1 - beta1) * state["param_rms"].clamp(min=group["param_min_rms"])
        delta.add_(direction * alpha)
        p.add_(delta)
        state["step"] = step + 1

    @staticmethod
    def _size_update(group: dict, p: torch.Tensor, state: dict) -> None:
        beta1, beta2 = group["betas"]
        size_lr = group["lr"] * group["scalar_lr_scale"]
        grads = state["scale_grads"]
        period = grads.shape[0]
        beta2_corr = beta2**period
        avg = state["scale_exp_avg_sq"]
        avg.mul_(beta2_corr).add_((grads**2).mean(), alpha=1 - beta2_corr)
        size_step = (state["step"] + 1) // period
        correction = 1 - beta2_corr**size_step
        scale_step = -size_lr * (correction**0.5) * grads.sum() / (avg.sqrt() + group["eps"])
        rms = state["param_rms"]
        if rms < group["param_min_rms"]:
            scale_step = torch.zeros_like(scale_step)
        elif rms > group["param_max_rms"]:
            scale_step = torch.full_like(scale_step, -size_lr * period)
        state["delta"].add_(p * scale_step, alpha=1 - beta1)
