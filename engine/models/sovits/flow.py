"""The normalizing flow between the prior and posterior latents: mean-only residual couplings and flips.

:meth:`ResidualCouplingBlock.enable_fast` turns on an opt-in CPU inference path for the reverse pass
(the one decoding uses): each coupling's WN stack runs its convolutions in bfloat16 from cached copies
of the weights (``pre``/``post``, the gate and all sums stay fp32; see ``WN.forward_fast``).
"""

from __future__ import annotations

import torch
from torch import nn

from engine.models.sovits.modules import WN, FastSwitch, WeightCache


class ResidualCouplingLayer(nn.Module):
    """Affine coupling: the second half of the channels is shifted by a WN of the first half."""

    def __init__(
        self,
        channels: int,
        hidden_channels: int,
        kernel_size: int,
        dilation_rate: int,
        n_layers: int,
        p_dropout: float = 0.0,
        gin_channels: int = 0,
        mean_only: bool = False,
    ) -> None:
        super().__init__()
        if channels % 2:
            raise ValueError("channels must be even")
        self.half_channels = channels // 2
        self.mean_only = mean_only
        self.pre = nn.Conv1d(self.half_channels, hidden_channels, 1)
        self.enc = WN(hidden_channels, kernel_size, dilation_rate, n_layers, gin_channels, p_dropout)
        self.post = nn.Conv1d(hidden_channels, self.half_channels * (2 - int(mean_only)), 1)
        nn.init.zeros_(self.post.weight)
        nn.init.zeros_(self.post.bias)

    def forward(
        self, x: torch.Tensor, mask: torch.Tensor, g: torch.Tensor | None = None, reverse: bool = False
    ) -> tuple[torch.Tensor, torch.Tensor] | torch.Tensor:
        """Forward returns (y, logdet); reverse returns the inverse only."""
        x0, x1 = torch.split(x, [self.half_channels] * 2, 1)
        h = self.enc(self.pre(x0) * mask, mask, g=g)
        stats = self.post(h) * mask
        if self.mean_only:
            m, logs = stats, torch.zeros_like(stats)
        else:
            m, logs = torch.split(stats, [self.half_channels] * 2, 1)
        if not reverse:
            x1 = m + x1 * torch.exp(logs) * mask
            return torch.cat([x0, x1], 1), torch.sum(logs, [1, 2])
        x1 = (x1 - m) * torch.exp(-logs) * mask
        return torch.cat([x0, x1], 1)

    def reverse_fast(
        self, x: torch.Tensor, mask: torch.Tensor, g: torch.Tensor | None, weights: WeightCache
    ) -> torch.Tensor:
        """The reverse pass with the WN stack in bfloat16 (inference only; mean-only couplings)."""
        if not self.mean_only:
            raise ValueError("the fast reverse pass handles mean-only couplings")
        x0, x1 = torch.split(x, [self.half_channels] * 2, 1)
        h = self.enc.forward_fast(self.pre(x0) * mask, mask, g, weights)
        m = self.post(h) * mask
        return torch.cat([x0, (x1 - m) * mask], 1)


class Flip(nn.Module):
    """Reverse the channel order (parameter-free; keeps module indices of the reference)."""

    def forward(
        self, x: torch.Tensor, *args, reverse: bool = False, **kwargs
    ) -> tuple[torch.Tensor, torch.Tensor] | torch.Tensor:
        """Flip channels; forward also returns a zero logdet."""
        x = torch.flip(x, [1])
        if reverse:
            return x
        return x, torch.zeros(x.size(0), dtype=x.dtype, device=x.device)


class ResidualCouplingBlock(FastSwitch, nn.Module):
    """n_flows x (mean-only coupling + flip): couplings sit at even indices of `flows`."""

    def __init__(
        self,
        channels: int,
        hidden_channels: int,
        kernel_size: int,
        dilation_rate: int,
        n_layers: int,
        n_flows: int = 4,
        gin_channels: int = 0,
    ) -> None:
        super().__init__()
        self.flows = nn.ModuleList()
        for _ in range(n_flows):
            self.flows.append(
                ResidualCouplingLayer(
                    channels, hidden_channels, kernel_size, dilation_rate, n_layers,
                    gin_channels=gin_channels, mean_only=True,
                )
            )  # fmt: skip
            self.flows.append(Flip())
        self._init_fast()

    def forward(
        self, x: torch.Tensor, mask: torch.Tensor, g: torch.Tensor | None = None, reverse: bool = False
    ) -> torch.Tensor:
        """Posterior -> prior space (forward) or prior -> posterior (reverse)."""
        if not reverse:
            for flow in self.flows:
                x, _ = flow(x, mask, g=g, reverse=False)
        elif self._use_fast(x):
            for flow in reversed(self.flows):
                if isinstance(flow, ResidualCouplingLayer):
                    x = flow.reverse_fast(x, mask, g, self._weights)
                else:
                    x = flow(x, mask, g=g, reverse=True)
        else:
            for flow in reversed(self.flows):
                x = flow(x, mask, g=g, reverse=True)
        return x
