"""Building blocks: channel-first LayerNorm, the WaveNet-style WN stack and HiFi-GAN's ResBlock1."""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn
from torch.nn import functional as F

from engine.models.sovits.commons import (
    LRELU_SLOPE,
    _compute_weight,
    gated_tanh,
    get_padding,
    has_weight_norm,
    remove_weight_norm,
    weight_norm,
)


class WeightCache:
    """Conv weights/biases in a given dtype (weight norm folded), rebuilt when the parameters change."""

    def __init__(self) -> None:
        self._cache: dict[tuple[int, torch.dtype, bool], tuple[tuple, torch.Tensor, torch.Tensor | None]] = {}

    def clear(self) -> None:
        self._cache.clear()

    def get(
        self, conv: nn.Module, dtype: torch.dtype, four_d: bool = False
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """`conv`'s (weight, bias) in `dtype`; `four_d`: weight as [O, I, 1, K] in channels-last."""
        if not four_d and not has_weight_norm(conv) and conv.weight.dtype == dtype:
            return conv.weight, conv.bias
        params = tuple(p for p in conv._parameters.values() if p is not None)
        # inference tensors (made under inference_mode) keep no version counter: assumed fixed
        key = tuple((p.data_ptr(), -1 if p.is_inference() else p._version) for p in params)
        hit = self._cache.get((id(conv), dtype, four_d))
        if hit is not None and hit[0] == key:
            return hit[1], hit[2]
        with torch.no_grad():
            weight = _compute_weight(conv) if has_weight_norm(conv) else conv.weight
            weight = weight.detach().to(dtype)
            if four_d:
                weight = weight.unsqueeze(2).contiguous(memory_format=torch.channels_last)
            else:
                weight = weight.contiguous()
            bias = conv.bias.detach().to(dtype) if conv.bias is not None else None
        self._cache[(id(conv), dtype, four_d)] = (key, weight, bias)
        return weight, bias


def fast_path_applies(module: nn.Module, x: torch.Tensor) -> bool:
    """The bf16 CPU paths run for inference only: eval mode, no grad, an fp32 input on the CPU."""
    return (
        not module.training
        and not torch.is_grad_enabled()
        and x.device.type == "cpu"
        and x.dtype == torch.float32
    )


class FastSwitch:
    """Mixed into a module with a bf16 CPU path: the on/off switch and the path's weight copies.

    Call :meth:`_init_fast` in ``__init__``; the forward asks :meth:`_use_fast` which path to take.
    """

    _fast: bool
    _weights: WeightCache

    def _init_fast(self) -> None:
        self._fast = False
        self._weights = WeightCache()

    @property
    def fast(self) -> bool:
        """Whether the bf16 path (:meth:`enable_fast`) is on."""
        return self._fast

    def enable_fast(self) -> None:
        """Use the bf16 path in eval mode, on the CPU, in fp32, without grad (else fp32 runs)."""
        self._fast = True
        self._weights.clear()

    def disable_fast(self) -> None:
        """Back to the fp32 path; drops the weight copies."""
        self._fast = False
        self._weights.clear()

    def _use_fast(self, x: torch.Tensor) -> bool:
        return self._fast and fast_path_applies(self, x)  # type: ignore[arg-type]


class LayerNorm(nn.Module):
    """LayerNorm over the channel axis of [B, C, T], with `gamma`/`beta` parameters."""

    def __init__(self, channels: int, eps: float = 1e-5) -> None:
        super().__init__()
        self.channels = channels
        self.eps = eps
        self.gamma = nn.Parameter(torch.ones(channels))
        self.beta = nn.Parameter(torch.zeros(channels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Normalise each time step over channels."""
        x = F.layer_norm(x.transpose(1, -1), (self.channels,), self.gamma, self.beta, self.eps)
        return x.transpose(1, -1)


class WN(nn.Module):
    """Non-causal WaveNet stack with gated tanh units, optional global conditioning, weight-normed convs."""

    def __init__(
        self,
        hidden_channels: int,
        kernel_size: int,
        dilation_rate: int,
        n_layers: int,
        gin_channels: int = 0,
        p_dropout: float = 0.0,
    ) -> None:
        super().__init__()
        if kernel_size % 2 != 1:
            raise ValueError("WN needs an odd kernel size")
        self.hidden_channels = hidden_channels
        self.n_layers = n_layers
        self.gin_channels = gin_channels
        self.in_layers = nn.ModuleList()
        self.res_skip_layers = nn.ModuleList()
        self.drop = nn.Dropout(p_dropout)
        if gin_channels:
            self.cond_layer = weight_norm(nn.Conv1d(gin_channels, 2 * hidden_channels * n_layers, 1))
        for i in range(n_layers):
            dilation = dilation_rate**i
            self.in_layers.append(
                weight_norm(
                    nn.Conv1d(
                        hidden_channels,
                        2 * hidden_channels,
                        kernel_size,
                        dilation=dilation,
                        padding=get_padding(kernel_size, dilation),
                    )
                )
            )
            out = 2 * hidden_channels if i < n_layers - 1 else hidden_channels
            self.res_skip_layers.append(weight_norm(nn.Conv1d(hidden_channels, out, 1)))

    def forward(self, x: torch.Tensor, mask: torch.Tensor, g: torch.Tensor | None = None) -> torch.Tensor:
        """x [B, H, T], mask [B, 1, T], g [B, gin, 1] -> skip sum [B, H, T]."""
        hc = self.hidden_channels
        output = torch.zeros_like(x)
        cond = self.cond_layer(g) if g is not None else None
        for i, (in_layer, res_skip) in enumerate(zip(self.in_layers, self.res_skip_layers, strict=True)):
            x_in = in_layer(x)
            g_l = cond[:, i * 2 * hc : (i + 1) * 2 * hc] if cond is not None else torch.zeros_like(x_in)
            acts = self.drop(gated_tanh(x_in, g_l, hc))
            rs = res_skip(acts)
            if i < self.n_layers - 1:
                x = (x + rs[:, :hc]) * mask
                output = output + rs[:, hc:]
            else:
                output = output + rs
        return output * mask

    def forward_fast(
        self, x: torch.Tensor, mask: torch.Tensor, g: torch.Tensor | None, weights: WeightCache
    ) -> torch.Tensor:
        """Inference-only :meth:`forward` (no dropout) with the dilated and 1x1 convs in bfloat16.

        The convolutions run channels-last on [B, C, 1, T] from `weights`' bf16 copies; the residual
        stream, the skip sum and the gate (tanh/sigmoid) stay fp32. Returns [B, H, T] fp32.
        `weights` is the owner's :class:`WeightCache`.
        """
        hc = self.hidden_channels
        bf16 = torch.bfloat16
        x = x.unsqueeze(2).contiguous(memory_format=torch.channels_last)
        mask = mask.unsqueeze(2)
        cond = None
        if g is not None:  # a matmul: a [B, gin, 1] conv input takes oneDNN's slow path
            w, b = weights.get(self.cond_layer, torch.float32)
            cond = F.linear(g.transpose(1, 2), w[:, :, 0], b).transpose(1, 2).unsqueeze(2)
        output = None
        for i, (in_layer, res_skip) in enumerate(zip(self.in_layers, self.res_skip_layers, strict=True)):
            w, b = weights.get(in_layer, bf16, True)
            x_in = conv_any(x.to(bf16), w, b, in_layer).float()
            if cond is not None:
                x_in.add_(cond[:, i * 2 * hc : (i + 1) * 2 * hc])
            # tanh(a) = 2 sigmoid(2a) - 1: torch.tanh is several times slower on CPU here
            acts = torch.sigmoid(x_in[:, :hc] * 2).mul_(2).sub_(1).mul_(torch.sigmoid(x_in[:, hc:]))
            w, b = weights.get(res_skip, bf16, True)
            rs = conv_any(acts.to(bf16), w, b, res_skip).float()
            skip = rs[:, hc:] if i < self.n_layers - 1 else rs
            output = skip if output is None else output.add_(skip)
            if i < self.n_layers - 1:
                x = (x + rs[:, :hc]).mul_(mask)
        assert output is not None
        return output.mul_(mask).squeeze(2)


def conv_any(
    x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None, conv: nn.Conv1d
) -> torch.Tensor:
    """`conv`'s convolution with the given weight: 1-D on [B, C, T], or 2-D on [B, C, 1, T] (1 x K kernel)."""
    if x.dim() == 3:
        return F.conv1d(x, weight, bias, conv.stride, conv.padding, conv.dilation, conv.groups)
    return F.conv2d(
        x, weight, bias, (1, conv.stride[0]), (0, conv.padding[0]), (1, conv.dilation[0]), conv.groups
    )


class ResBlock1(nn.Module):
    """HiFi-GAN ResBlock1: per dilation, lrelu -> dilated conv -> lrelu -> conv, residual."""

    def __init__(self, channels: int, kernel_size: int = 3, dilation: tuple[int, ...] = (1, 3, 5)) -> None:
        super().__init__()
        self.convs1 = nn.ModuleList(
            weight_norm(
                nn.Conv1d(channels, channels, kernel_size, 1, dilation=d, padding=get_padding(kernel_size, d))
            )
            for d in dilation
        )
        self.convs2 = nn.ModuleList(
            weight_norm(
                nn.Conv1d(channels, channels, kernel_size, 1, dilation=1, padding=get_padding(kernel_size))
            )
            for _ in dilation
        )

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        """x [B, C, T] -> [B, C, T]."""
        for c1, c2 in zip(self.convs1, self.convs2, strict=True):
            xt = F.leaky_relu(x, LRELU_SLOPE)
            if mask is not None:
                xt = xt * mask
            xt = F.leaky_relu(c1(xt), LRELU_SLOPE)
            if mask is not None:
                xt = xt * mask
            x = c2(xt) + x
        if mask is not None:
            x = x * mask
        return x

    def forward_fast(
        self,
        x: torch.Tensor,
        weights: Callable[[nn.Module, torch.dtype, bool], tuple[torch.Tensor, torch.Tensor | None]],
        conv_dtype: torch.dtype,
    ) -> torch.Tensor:
        """Inference-only forward, no mask, fewer temporaries: convolutions in `conv_dtype`.

        `weights(conv, dtype, four_d)` gives each conv's weight and bias; a 4-D x ([B, C, 1, T], e.g.
        channels-last) runs the convolutions as 2-D ones with [O, I, 1, K] weights. The residual stream
        stays in x's dtype (bf16 convolutions on an fp32 x only cast the conv inputs). Returns a fresh
        tensor, never x.
        """
        cast = x.dtype != conv_dtype
        fresh = False
        for c1, c2 in zip(self.convs1, self.convs2, strict=True):
            w1, b1 = weights(c1, conv_dtype, x.dim() == 4)
            w2, b2 = weights(c2, conv_dtype, x.dim() == 4)
            xt = F.leaky_relu(x.to(conv_dtype), LRELU_SLOPE)
            xt = F.leaky_relu_(conv_any(xt, w1, b1, c1), LRELU_SLOPE)
            y = conv_any(xt, w2, b2, c2)
            if not cast:
                x = y.add_(x)
            elif fresh:
                x = x.add_(y)
            else:
                x = y.to(x.dtype).add_(x)
            fresh = True
        return x

    def remove_weight_norm(self) -> None:
        """Fold weight norm into plain weights."""
        for conv in [*self.convs1, *self.convs2]:
            remove_weight_norm(conv)
