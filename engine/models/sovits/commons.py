"""Small helpers shared by the SoVITS modules: masks, slicing, padding and legacy-style weight norm."""

from __future__ import annotations

import torch
from torch import nn

LRELU_SLOPE = 0.1


def get_padding(kernel_size: int, dilation: int = 1) -> int:
    """'Same' padding of an odd kernel with a dilation."""
    return (kernel_size * dilation - dilation) // 2


def sequence_mask(lengths: torch.Tensor, max_length: int | None = None) -> torch.Tensor:
    """Boolean [B, T] mask, True inside each sequence."""
    if max_length is None:
        max_length = int(lengths.max())
    positions = torch.arange(max_length, dtype=lengths.dtype, device=lengths.device)
    return positions.unsqueeze(0) < lengths.unsqueeze(1)


def length_mask(lengths: torch.Tensor, max_length: int, dtype: torch.dtype) -> torch.Tensor:
    """Float [B, 1, T] mask, 1 inside each sequence."""
    return sequence_mask(lengths, max_length).unsqueeze(1).to(dtype)


def gated_tanh(x: torch.Tensor, cond: torch.Tensor, n_channels: int) -> torch.Tensor:
    """WaveNet gate: tanh(first half of x+cond) * sigmoid(second half)."""
    summed = x + cond
    return torch.tanh(summed[:, :n_channels]) * torch.sigmoid(summed[:, n_channels:])


def slice_segments(x: torch.Tensor, starts: torch.Tensor, size: int) -> torch.Tensor:
    """Windows x[b, :, starts[b]:starts[b]+size] stacked into [B, C, size] (zero padded past the end)."""
    if x.size(2) < size:
        x = nn.functional.pad(x, (0, size - x.size(2)))
    return torch.stack([x[i, :, int(s) : int(s) + size] for i, s in enumerate(starts)])


def rand_slice_segments(
    x: torch.Tensor, lengths: torch.Tensor, size: int, generator: torch.Generator | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """A random window of `size` frames per item, starting inside its valid length."""
    max_start = (lengths - size + 1).clamp(min=1)
    uniform = torch.rand(x.size(0), generator=generator, device="cpu").to(x.device)
    starts = (uniform * max_start).to(torch.long)
    return slice_segments(x, starts, size), starts


def _norm_except_dim0(v: torch.Tensor) -> torch.Tensor:
    dims = tuple(range(1, v.dim()))
    return torch.linalg.vector_norm(v, ord=2, dim=dims, keepdim=True)


def _compute_weight(module: nn.Module) -> torch.Tensor:
    v = module.weight_v
    return v * (module.weight_g / _norm_except_dim0(v))


def _weight_norm_hook(module: nn.Module, _inputs) -> None:
    module.weight = _compute_weight(module)


def weight_norm(module: nn.Module) -> nn.Module:
    """Split `module.weight` into magnitude `weight_g` and direction `weight_v` (the legacy layout, dim 0)."""
    weight = module.weight
    del module._parameters["weight"]
    module.weight_g = nn.Parameter(_norm_except_dim0(weight.detach()).clone())
    module.weight_v = nn.Parameter(weight.detach().clone())
    with torch.no_grad():  # a detached placeholder (deepcopy-able); the hook recomputes it on every call
        module.weight = _compute_weight(module)
    module._timbre_wn_hook = module.register_forward_pre_hook(_weight_norm_hook)
    return module


def remove_weight_norm(module: nn.Module) -> nn.Module:
    """Fold `weight_g`/`weight_v` back into a plain `weight` parameter (same outputs, faster)."""
    if not hasattr(module, "_timbre_wn_hook"):
        return module
    with torch.no_grad():
        weight = _compute_weight(module).detach().clone()
    module._timbre_wn_hook.remove()
    del module._timbre_wn_hook
    del module._parameters["weight_g"]
    del module._parameters["weight_v"]
    if "weight" in module.__dict__:
        del module.__dict__["weight"]
    module.weight = nn.Parameter(weight)
    return module


def has_weight_norm(module: nn.Module) -> bool:
    """Whether `weight_norm` is applied to this module."""
    return hasattr(module, "_timbre_wn_hook")


def remove_all_weight_norm(root: nn.Module) -> int:
    """Remove weight norm from every sub-module of `root`; return how many were changed."""
    count = 0
    for module in list(root.modules()):
        if has_weight_norm(module):
            remove_weight_norm(module)
            count += 1
    return count


def randn_like(t: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    """Standard normal noise shaped like t, from `generator` when given (else the global RNG)."""
    if generator is None:
        return torch.randn_like(t)
    noise = torch.randn(t.shape, generator=generator, dtype=t.dtype, device=generator.device)
    return noise.to(t.device)
