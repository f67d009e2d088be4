"""MelStyleEncoder: a global speaker/style vector `ge` from the reference linear spectrogram."""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn import functional as F


class _Linear(nn.Module):
    """A Linear under the attribute name `fc` (keeps the reference's state-dict keys)."""

    def __init__(self, in_features: int, out_features: int) -> None:
        super().__init__()
        self.fc = nn.Linear(in_features, out_features)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Apply the linear layer."""
        return self.fc(x)


class Mish(nn.Module):
    """x * tanh(softplus(x))."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Apply Mish."""
        return x * torch.tanh(F.softplus(x))


class _ConvNorm(nn.Module):
    """A 'same'-padded Conv1d under the attribute name `conv`."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int) -> None:
        super().__init__()
        self.conv = nn.Conv1d(in_channels, out_channels, kernel_size, padding=(kernel_size - 1) // 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Apply the convolution."""
        return self.conv(x)


class Conv1dGLU(nn.Module):
    """Conv to 2C channels, gated linear unit, dropout, residual."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, dropout: float) -> None:
        super().__init__()
        self.out_channels = out_channels
        self.conv1 = _ConvNorm(in_channels, 2 * out_channels, kernel_size)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x [B, C, T] -> [B, C, T]."""
        a, b = torch.split(self.conv1(x), self.out_channels, dim=1)
        return x + self.dropout(a * torch.sigmoid(b))


class StyleAttention(nn.Module):
    """Self-attention with linear projections, temperature sqrt(d_model), -inf masking and a residual."""

    def __init__(self, n_heads: int, d_model: int, dropout: float) -> None:
        super().__init__()
        self.n_heads = n_heads
        self.d_k = d_model // n_heads
        self.temperature = math.sqrt(d_model)
        self.w_qs = nn.Linear(d_model, n_heads * self.d_k)
        self.w_ks = nn.Linear(d_model, n_heads * self.d_k)
        self.w_vs = nn.Linear(d_model, n_heads * self.d_k)
        self.fc = nn.Linear(n_heads * self.d_k, d_model)
        self.attn_dropout = nn.Dropout(dropout)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor, pad: torch.Tensor | None = None) -> torch.Tensor:
        """x [B, T, D]; pad [B, T] True at padded frames (blocked as keys)."""
        b, t, _ = x.shape
        h, d = self.n_heads, self.d_k
        # heads lead the batch axis ([H, B, T, T]) so a dropout mask lands where the reference's does
        q = self.w_qs(x).view(b, t, h, d).permute(2, 0, 1, 3)
        k = self.w_ks(x).view(b, t, h, d).permute(2, 0, 1, 3)
        v = self.w_vs(x).view(b, t, h, d).permute(2, 0, 1, 3)
        scores = torch.matmul(q, k.transpose(-2, -1)) / self.temperature
        if pad is not None:
            scores = scores.masked_fill(pad[None, :, None, :], float("-inf"))
        p = self.attn_dropout(torch.softmax(scores, dim=-1))
        out = torch.matmul(p, v).permute(1, 2, 0, 3).reshape(b, t, h * d)
        return self.dropout(self.fc(out)) + x


class MelStyleEncoder(nn.Module):
    """Two Linear+Mish, two Conv1dGLU, self-attention, Linear, then a masked mean over time -> [B, out, 1]."""

    def __init__(
        self,
        n_mel_channels: int = 704,
        style_hidden: int = 128,
        style_vector_dim: int = 512,
        style_kernel_size: int = 5,
        style_head: int = 2,
        dropout: float = 0.1,
    ) -> None:
        super().__init__()
        self.spectral = nn.Sequential(
            _Linear(n_mel_channels, style_hidden),
            Mish(),
            nn.Dropout(dropout),
            _Linear(style_hidden, style_hidden),
            Mish(),
            nn.Dropout(dropout),
        )
        self.temporal = nn.Sequential(
            Conv1dGLU(style_hidden, style_hidden, style_kernel_size, dropout),
            Conv1dGLU(style_hidden, style_hidden, style_kernel_size, dropout),
        )
        self.slf_attn = StyleAttention(style_head, style_hidden, dropout)
        self.fc = _Linear(style_hidden, style_vector_dim)

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        """x [B, F, T], mask [B, 1, T] (1 = valid) -> style vector [B, out, 1]."""
        x = x.transpose(1, 2)
        pad = (mask.int() == 0).squeeze(1) if mask is not None else None
        x = self.spectral(x)
        x = self.temporal(x.transpose(1, 2)).transpose(1, 2)
        if pad is not None:
            x = x.masked_fill(pad.unsqueeze(-1), 0)
        x = self.fc(self.slf_attn(x, pad))
        if pad is None:
            return x.mean(dim=1).unsqueeze(-1)
        count = (~pad).sum(dim=1, keepdim=True).unsqueeze(1)
        pooled = (x.masked_fill(pad.unsqueeze(-1), 0).float() / count).sum(dim=1).to(x.dtype)
        return pooled.unsqueeze(-1)
