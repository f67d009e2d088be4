"""Posterior encoder q(z | linear spectrogram), used only in training."""

from __future__ import annotations

import torch
from torch import nn

from engine.models.sovits.commons import length_mask, randn_like
from engine.models.sovits.modules import WN


class PosteriorEncoder(nn.Module):
    """1x1 conv -> WN -> 1x1 conv to mean and log-std; samples z."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        hidden_channels: int,
        kernel_size: int,
        dilation_rate: int,
        n_layers: int,
        gin_channels: int = 0,
    ) -> None:
        super().__init__()
        self.out_channels = out_channels
        self.pre = nn.Conv1d(in_channels, hidden_channels, 1)
        self.enc = WN(hidden_channels, kernel_size, dilation_rate, n_layers, gin_channels=gin_channels)
        self.proj = nn.Conv1d(hidden_channels, out_channels * 2, 1)

    def forward(
        self,
        x: torch.Tensor,
        lengths: torch.Tensor,
        g: torch.Tensor | None = None,
        generator: torch.Generator | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        """spec [B, F, T] -> (z, m, logs, mask); the speaker embedding g is not trained through here."""
        if g is not None:
            g = g.detach()
        mask = length_mask(lengths, x.size(2), x.dtype)
        h = self.enc(self.pre(x) * mask, mask, g=g)
        stats = self.proj(h) * mask
        m, logs = torch.split(stats, self.out_channels, dim=1)
        z = (m + randn_like(m, generator) * torch.exp(logs)) * mask
        return z, m, logs, mask
