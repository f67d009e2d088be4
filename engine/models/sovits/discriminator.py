"""HiFi-GAN multi-period discriminator (one scale discriminator + period discriminators), training only."""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from engine.models.sovits.commons import LRELU_SLOPE, get_padding, weight_norm

_S_CHANNELS = (16, 64, 256, 1024, 1024, 1024)
_S_GROUPS = (1, 4, 16, 64, 256, 1)
_P_CHANNELS = (32, 128, 512, 1024, 1024)


def _leaky_stack(
    convs: nn.ModuleList, post: nn.Module, x: torch.Tensor
) -> tuple[torch.Tensor, list[torch.Tensor]]:
    fmap = []
    for conv in convs:
        x = F.leaky_relu(conv(x), LRELU_SLOPE)
        fmap.append(x)
    x = post(x)
    fmap.append(x)
    return torch.flatten(x, 1, -1), fmap


class DiscriminatorP(nn.Module):
    """Reshapes the wave to [T/period, period] and applies 2-D (k x 1) convolutions."""

    def __init__(self, period: int, kernel_size: int = 5, stride: int = 3, width_div: int = 1) -> None:
        super().__init__()
        self.period = period
        chans = [1] + [max(1, c // width_div) for c in _P_CHANNELS]
        pad = (get_padding(kernel_size, 1), 0)
        self.convs = nn.ModuleList(
            weight_norm(
                nn.Conv2d(chans[i], chans[i + 1], (kernel_size, 1), (stride if i < 4 else 1, 1), padding=pad)
            )
            for i in range(5)
        )
        self.conv_post = weight_norm(nn.Conv2d(chans[-1], 1, (3, 1), 1, padding=(1, 0)))

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
        """wav [B, 1, T] -> (flattened scores, feature maps)."""
        b, c, t = x.shape
        if t % self.period:
            n_pad = self.period - t % self.period
            x = F.pad(x, (0, n_pad), "reflect")
            t += n_pad
        return _leaky_stack(self.convs, self.conv_post, x.view(b, c, t // self.period, self.period))


class DiscriminatorS(nn.Module):
    """Grouped strided 1-D convolutions over the raw wave."""

    def __init__(self, width_div: int = 1) -> None:
        super().__init__()
        chans = [1] + [max(1, c // width_div) for c in _S_CHANNELS]
        groups = [max(1, g // width_div) for g in _S_GROUPS]
        kernels = (15, 41, 41, 41, 41, 5)
        strides = (1, 4, 4, 4, 4, 1)
        self.convs = nn.ModuleList(
            weight_norm(
                nn.Conv1d(
                    chans[i],
                    chans[i + 1],
                    kernels[i],
                    strides[i],
                    groups=groups[i],
                    padding=(kernels[i] - 1) // 2,
                )
            )
            for i in range(6)
        )
        self.conv_post = weight_norm(nn.Conv1d(chans[-1], 1, 3, 1, padding=1))

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
        """wav [B, 1, T] -> (flattened scores, feature maps)."""
        return _leaky_stack(self.convs, self.conv_post, x)


class MultiPeriodDiscriminator(nn.Module):
    """DiscriminatorS followed by one DiscriminatorP per period (`discriminators.N.*` keys)."""

    def __init__(self, periods: tuple[int, ...] = (2, 3, 5, 7, 11), width_div: int = 1) -> None:
        super().__init__()
        discs: list[nn.Module] = [DiscriminatorS(width_div)]
        discs += [DiscriminatorP(p, width_div=width_div) for p in periods]
        self.discriminators = nn.ModuleList(discs)

    @classmethod
    def from_config(cls, config) -> MultiPeriodDiscriminator:
        """Build from a `SoVITSConfig`."""
        return cls(tuple(config.disc_periods), config.disc_width_div)

    def forward(
        self, y: torch.Tensor, y_hat: torch.Tensor
    ) -> tuple[list[torch.Tensor], list[torch.Tensor], list[list[torch.Tensor]], list[list[torch.Tensor]]]:
        """Real and generated waves [B, 1, T] -> (real scores, fake scores, real fmaps, fake fmaps)."""
        out: tuple[list, list, list, list] = ([], [], [], [])
        for disc in self.discriminators:
            r, fr = disc(y)
            g, fg = disc(y_hat)
            out[0].append(r)
            out[1].append(g)
            out[2].append(fr)
            out[3].append(fg)
        return out
