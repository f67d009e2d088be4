"""HiFi-GAN-style decoder from the 50 Hz latent to a 32 kHz waveform."""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from engine.models.sovits.commons import LRELU_SLOPE, remove_weight_norm, weight_norm
from engine.models.sovits.modules import ResBlock1


class Generator(nn.Module):
    """conv_pre (+ cond) -> per stage [lrelu, transposed conv, mean of ResBlock1s] -> conv_post, tanh."""

    def __init__(
        self,
        initial_channel: int,
        resblock_kernel_sizes: tuple[int, ...],
        resblock_dilation_sizes: tuple[tuple[int, ...], ...],
        upsample_rates: tuple[int, ...],
        upsample_initial_channel: int,
        upsample_kernel_sizes: tuple[int, ...],
        gin_channels: int = 0,
    ) -> None:
        super().__init__()
        self.num_kernels = len(resblock_kernel_sizes)
        self.num_upsamples = len(upsample_rates)
        self.conv_pre = nn.Conv1d(initial_channel, upsample_initial_channel, 7, 1, padding=3)
        self.ups = nn.ModuleList()
        for i, (u, k) in enumerate(zip(upsample_rates, upsample_kernel_sizes, strict=True)):
            conv = nn.ConvTranspose1d(
                upsample_initial_channel // 2**i,
                upsample_initial_channel // 2 ** (i + 1),
                k,
                u,
                padding=(k - u) // 2,
            )
            self.ups.append(weight_norm(conv))
        self.resblocks = nn.ModuleList()
        ch = upsample_initial_channel
        for i in range(self.num_upsamples):
            ch = upsample_initial_channel // 2 ** (i + 1)
            for k, d in zip(resblock_kernel_sizes, resblock_dilation_sizes, strict=True):
                self.resblocks.append(ResBlock1(ch, k, tuple(d)))
        self.conv_post = nn.Conv1d(ch, 1, 7, 1, padding=3, bias=False)
        if gin_channels:
            self.cond = nn.Conv1d(gin_channels, upsample_initial_channel, 1)

    def forward(self, x: torch.Tensor, g: torch.Tensor | None = None) -> torch.Tensor:
        """z [B, C, T] (+ g [B, gin, 1]) -> wav [B, 1, T * prod(upsample_rates)] in [-1, 1]."""
        x = self.conv_pre(x)
        if g is not None:
            x = x + self.cond(g)
        for i, up in enumerate(self.ups):
            x = up(F.leaky_relu(x, LRELU_SLOPE))
            blocks = self.resblocks[i * self.num_kernels : (i + 1) * self.num_kernels]
            xs = blocks[0](x)
            for block in blocks[1:]:
                xs = xs + block(x)
            x = xs / self.num_kernels
        x = self.conv_post(F.leaky_relu(x))
        return torch.tanh(x)

    def remove_weight_norm(self) -> None:
        """Fold weight norm into plain weights for inference."""
        for up in self.ups:
            remove_weight_norm(up)
        for block in self.resblocks:
            block.remove_weight_norm()
