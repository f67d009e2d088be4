"""HiFi-GAN-style decoder from the 50 Hz latent to a 32 kHz waveform.

Besides the fp32 forward (the reference math, unchanged), :meth:`Generator.enable_fast` turns on an
opt-in CPU inference path laid out by a :class:`FastPlan`. The default plan (about 2x the fp32 decode
at 1-2 threads, rel-L2 0.004 of the fp32 audio on V2 random weights; bench/bench_sovits.py):

- every upsample stage but the last runs its convolutions in bfloat16 from cached bf16 copies of the
  weights (the fp32 parameters and the state dict are never touched; the copies are rebuilt when a
  parameter changes in place, e.g. by ``load_state_dict``); the last stage and ``conv_post`` run fp32;
- activations are kept as channels-last [B, C, 1, T] and the convolutions run as 1 x K 2-D ones, which
  spares oneDNN its layout reorders around every call (bf16 convs about 2x faster than on [B, C, T]);
- the last two stages and ``conv_post`` run on overlapping time tiles (a halo covering the receptive
  field, so tiles change nothing but rounding), which keeps their long, narrow signals in cache.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import torch
from torch import nn
from torch.nn import functional as F

from engine.models.sovits.commons import LRELU_SLOPE, remove_weight_norm, weight_norm
from engine.models.sovits.modules import FastSwitch, ResBlock1, conv_any

StageMode = Literal["bf16", "mixed", "fp32"]


@dataclass(frozen=True)
class FastPlan:
    """How the fast path runs each upsample stage.

    `modes[i]`: "bf16" = bf16 convolutions and a bf16 residual stream; "mixed" = bf16 convolutions
    with an fp32 residual stream; "fp32" = fp32 throughout. Stages from `tile_from` on run, together
    with conv_post, on overlapping time tiles of `tile_samples` output samples (plus a halo that
    covers the receptive field, so tiling changes nothing but the cache traffic); None = no tiling.
    """

    modes: tuple[StageMode, ...]
    tile_from: int | None = None
    tile_samples: int = 8192
    # stages [0, channels_last) run their convolutions as channels-last 2-D ones on [B, C, 1, T]
    # (no layout reorders around each oneDNN call); later stages use plain [B, C, T]
    channels_last: int = 99


# Chosen on V2 random weights (noise 0, 5 s) at 1-2 threads; bench/bench_sovits.py prints the numbers.
# The bf16 error grows with the stage and is worst in the last one (16 channels at 32 kHz), which
# therefore stays fp32: rel-L2 0.0044 vs fp32 (bf16 there too: 0.0166; bf16 convs with an fp32
# residual stream there: 0.0113; the gate is 1e-2). Measured and dropped (the bf16 convs run near
# oneDNN's peak, ~800 GFLOP/s at 2 threads): leaky_relu / residual add fused into the conv through
# mkldnn._convolution_pointwise (lrelu -2%, add +15%), dilated convs as (K x 1) convs on a
# [B, C, T/d, d] view (slower), tile sizes 8k-64k and tiling from stage 2 (within noise or slower),
# the k == stride upsamplers as one matmul (no faster).
def default_fast_plan(num_upsamples: int) -> FastPlan:
    """bf16 for all but the last upsample stage, channels-last throughout, the last two stages tiled."""
    modes: tuple[StageMode, ...] = ("bf16",) * (num_upsamples - 1) + ("fp32",)
    return FastPlan(modes=modes, tile_from=max(0, num_upsamples - 2), tile_samples=32768)


def _resblock_radius(block: ResBlock1) -> int:
    """How far (samples) a ResBlock1 output depends on its input to either side."""
    return sum(c1.padding[0] + c2.padding[0] for c1, c2 in zip(block.convs1, block.convs2, strict=True))


class Generator(FastSwitch, nn.Module):
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
        self._init_fast()
        self._plan: FastPlan | None = None  # the fast path's plan while it is on

    # ---------------------------------------------------------------------------------- fast CPU path
    @property
    def fast_plan(self) -> FastPlan | None:
        """The fast path's plan, or None when it is off."""
        return self._plan if self._fast else None

    def enable_fast(self, plan: FastPlan | None = None) -> None:
        """Use the bf16/tiled inference path (CPU, fp32 model, no grad, eval mode); default plan if None."""
        plan = plan or default_fast_plan(self.num_upsamples)
        if len(plan.modes) != self.num_upsamples or any(
            m not in ("bf16", "mixed", "fp32") for m in plan.modes
        ):
            raise ValueError(f"need one of 'bf16', 'mixed', 'fp32' for each of {self.num_upsamples} stages")
        if plan.tile_from is not None and not 0 <= plan.tile_from < self.num_upsamples:
            raise ValueError(f"tile_from must be in [0, {self.num_upsamples})")
        self._plan = plan
        super().enable_fast()

    def _stage_fast(self, i: int, x: torch.Tensor, mode: StageMode) -> torch.Tensor:
        assert self._plan is not None
        if x.dim() == 4 and i >= self._plan.channels_last:
            x = x.squeeze(2).contiguous()
        conv_dtype = torch.float32 if mode == "fp32" else torch.bfloat16
        res_dtype = torch.bfloat16 if mode == "bf16" else torch.float32
        up = self.ups[i]
        w, b = self._weights.get(up, conv_dtype, x.dim() == 4)
        xt = F.leaky_relu(x.to(conv_dtype), LRELU_SLOPE)
        if x.dim() == 4:
            x = F.conv_transpose2d(
                xt,
                w,
                b,
                (1, up.stride[0]),
                (0, up.padding[0]),
                (0, up.output_padding[0]),
                up.groups,
                (1, up.dilation[0]),
            )
        else:
            x = F.conv_transpose1d(xt, w, b, up.stride, up.padding, up.output_padding, up.groups, up.dilation)
        x = x.to(res_dtype)
        blocks = self.resblocks[i * self.num_kernels : (i + 1) * self.num_kernels]
        xs = blocks[0].forward_fast(x, self._weights.get, conv_dtype)
        for block in blocks[1:]:
            xs.add_(block.forward_fast(x, self._weights.get, conv_dtype))
        return xs.div_(self.num_kernels)

    def _tail(self, x: torch.Tensor, start: int) -> torch.Tensor:
        assert self._plan is not None
        for i in range(start, self.num_upsamples):
            x = self._stage_fast(i, x, self._plan.modes[i])
        xt = F.leaky_relu(x.float())
        w, b = self._weights.get(self.conv_post, torch.float32, x.dim() == 4)
        return torch.tanh(conv_any(xt, w, b, self.conv_post))

    def _tail_halo(self, start: int) -> int:
        """Input frames of stage `start` needed beyond a tile's edges for exact tile outputs."""
        r = self.conv_post.padding[0]
        for i in range(self.num_upsamples - 1, start - 1, -1):
            blocks = self.resblocks[i * self.num_kernels : (i + 1) * self.num_kernels]
            r += max(_resblock_radius(b) for b in blocks)
            up = self.ups[i]
            r = (r + up.kernel_size[0]) // up.stride[0] + 2
        return r

    def _tail_tiled(self, x: torch.Tensor, start: int, tile_samples: int) -> torch.Tensor:
        scale = 1
        for up in self.ups[start:]:
            scale *= up.stride[0]
        frames = x.size(-1)
        tile = max(1, tile_samples // scale)
        if frames <= tile:
            return self._tail(x, start)
        halo = self._tail_halo(start)
        pieces = []
        for s in range(0, frames, tile):
            e = min(frames, s + tile)
            a, b = max(0, s - halo), min(frames, e + halo)
            y = self._tail(x[..., a:b], start)
            pieces.append(y[..., (s - a) * scale : (e - a) * scale])
        return torch.cat(pieces, dim=-1)

    def _forward_fast(self, x: torch.Tensor, g: torch.Tensor | None) -> torch.Tensor:
        plan = self._plan
        assert plan is not None
        x = self.conv_pre(x)
        if g is not None:  # a matmul: a [B, gin, 1] conv input takes oneDNN's slow path
            w, b = self._weights.get(self.cond, torch.float32)
            x = x + F.linear(g.transpose(1, 2), w[:, :, 0], b).transpose(1, 2)
        if plan.channels_last > 0:
            x = x.unsqueeze(2).contiguous(memory_format=torch.channels_last)
        start = self.num_upsamples if plan.tile_from is None else plan.tile_from
        for i in range(start):
            x = self._stage_fast(i, x, plan.modes[i])
        if plan.tile_from is None:
            x = self._tail(x, self.num_upsamples)
        else:
            x = self._tail_tiled(x, start, plan.tile_samples)
        return x.squeeze(2).contiguous() if x.dim() == 4 else x

    # ---------------------------------------------------------------------------------- reference path
    def forward(self, x: torch.Tensor, g: torch.Tensor | None = None) -> torch.Tensor:
        """z [B, C, T] (+ g [B, gin, 1]) -> wav [B, 1, T * prod(upsample_rates)] in [-1, 1]."""
        if self._use_fast(x):
            return self._forward_fast(x, g)
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
