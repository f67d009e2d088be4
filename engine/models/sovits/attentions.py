"""VITS-style transformer encoder: post-LN, 1x1-conv attention with windowed relative positions.

`Encoder.forward_fast` is an opt-in inference path (see `TextEncoder.enable_fast`): the FFNs' k-wide
convolutions, most of the encoder's work, run in bfloat16 channels-last; attention and norms stay fp32.
"""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn import functional as F

from engine.models.sovits.modules import LayerNorm, WeightCache


class MultiHeadAttention(nn.Module):
    """Multi-head attention over [B, C, T]; with `window_size`, shared relative key/value embeddings."""

    def __init__(
        self,
        channels: int,
        out_channels: int,
        n_heads: int,
        p_dropout: float = 0.0,
        window_size: int | None = None,
    ) -> None:
        super().__init__()
        if channels % n_heads:
            raise ValueError("channels must be divisible by n_heads")
        self.n_heads = n_heads
        self.k_channels = channels // n_heads
        self.window_size = window_size
        self.conv_q = nn.Conv1d(channels, channels, 1)
        self.conv_k = nn.Conv1d(channels, channels, 1)
        self.conv_v = nn.Conv1d(channels, channels, 1)
        self.conv_o = nn.Conv1d(channels, out_channels, 1)
        self.drop = nn.Dropout(p_dropout)
        if window_size is not None:
            std = self.k_channels**-0.5
            self.emb_rel_k = nn.Parameter(torch.randn(1, 2 * window_size + 1, self.k_channels) * std)
            self.emb_rel_v = nn.Parameter(torch.randn(1, 2 * window_size + 1, self.k_channels) * std)
        for conv in (self.conv_q, self.conv_k, self.conv_v):
            nn.init.xavier_uniform_(conv.weight)

    def forward(
        self, x: torch.Tensor, context: torch.Tensor, mask: torch.Tensor | None = None
    ) -> torch.Tensor:
        """Attend from x [B, C, Tq] to context [B, C, Tk]; mask [B, 1, Tq, Tk] (0 = blocked)."""
        b, _, t_q = x.shape
        t_k = context.size(2)
        h, d = self.n_heads, self.k_channels
        q = self.conv_q(x).view(b, h, d, t_q).transpose(2, 3) / math.sqrt(d)
        k = self.conv_k(context).view(b, h, d, t_k).transpose(2, 3)
        v = self.conv_v(context).view(b, h, d, t_k).transpose(2, 3)
        scores = torch.matmul(q, k.transpose(-2, -1))
        if self.window_size is not None:
            if t_q != t_k:
                raise ValueError("relative attention needs self-attention")
            scores = scores + self._relative_key_logits(q)
        if mask is not None:
            scores = scores.masked_fill(mask == 0, -1e4)
        p = self.drop(F.softmax(scores, dim=-1))
        out = torch.matmul(p, v)
        if self.window_size is not None:
            out = out + torch.matmul(self._relative_weights(p), self.emb_rel_v.unsqueeze(0))
        out = out.transpose(2, 3).reshape(b, h * d, t_q)
        return self.conv_o(out)

    def _band_index(self, length: int, device: torch.device) -> torch.Tensor:
        """For each (i, j): the relative slot j-i+w when |j-i| <= w, else the zero slot 2w+1."""
        w = self.window_size
        pos = torch.arange(length, device=device)
        rel = pos.unsqueeze(0) - pos.unsqueeze(1) + w
        return torch.where((rel >= 0) & (rel <= 2 * w), rel, torch.full_like(rel, 2 * w + 1))

    def _relative_key_logits(self, q: torch.Tensor) -> torch.Tensor:
        """Scores q_i . e_k[j-i] inside the window, 0 outside: [B, H, T, T]."""
        b, h, t, _ = q.shape
        rel = torch.matmul(q, self.emb_rel_k.transpose(1, 2).unsqueeze(0))  # [B, H, T, 2w+1]
        rel = F.pad(rel, (0, 1))
        index = self._band_index(t, q.device).expand(b, h, t, t)
        return torch.gather(rel, 3, index)

    def _relative_weights(self, p: torch.Tensor) -> torch.Tensor:
        """Attention weight given to each relative offset: [B, H, T, 2w+1]."""
        b, h, t, _ = p.shape
        w = self.window_size
        padded = F.pad(p, (w, w))  # column j of p sits at j + w
        offsets = torch.arange(2 * w + 1, device=p.device)
        index = (torch.arange(t, device=p.device).unsqueeze(1) + offsets.unsqueeze(0)).expand(
            b, h, t, 2 * w + 1
        )
        return torch.gather(padded, 3, index)


class FFN(nn.Module):
    """Two convolutions with 'same' padding and a ReLU between them, masked."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        filter_channels: int,
        kernel_size: int,
        p_dropout: float = 0.0,
    ) -> None:
        super().__init__()
        self.kernel_size = kernel_size
        self.conv_1 = nn.Conv1d(in_channels, filter_channels, kernel_size)
        self.conv_2 = nn.Conv1d(filter_channels, out_channels, kernel_size)
        self.drop = nn.Dropout(p_dropout)

    def _pad(self, x: torch.Tensor) -> torch.Tensor:
        if self.kernel_size == 1:
            return x
        return F.pad(x, ((self.kernel_size - 1) // 2, self.kernel_size // 2))

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """x [B, C, T], mask [B, 1, T]."""
        x = torch.relu(self.conv_1(self._pad(x * mask)))
        x = self.conv_2(self._pad(self.drop(x) * mask))
        return x * mask

    def forward_fast(self, x: torch.Tensor, mask: torch.Tensor, weights: WeightCache) -> torch.Tensor:
        """Inference-only :meth:`forward` with both convolutions in bfloat16 (channels-last); fp32 out."""
        bf16 = torch.bfloat16
        x = (x * mask).unsqueeze(2).contiguous(memory_format=torch.channels_last).to(bf16)
        mask4 = mask.unsqueeze(2).to(bf16)
        w, b = weights.get(self.conv_1, bf16, True)
        x = torch.relu_(self._conv_same(x, w, b, self.conv_1)).mul_(mask4)
        w, b = weights.get(self.conv_2, bf16, True)
        return self._conv_same(x, w, b, self.conv_2).float().mul_(mask.unsqueeze(2)).squeeze(2)

    def _conv_same(
        self, x: torch.Tensor, w: torch.Tensor, b: torch.Tensor | None, conv: nn.Conv1d
    ) -> torch.Tensor:
        left, right = (self.kernel_size - 1) // 2, self.kernel_size // 2
        if left != right:  # even kernels pad one more on the right
            x = F.pad(x, (left, right))
            left = 0
        return F.conv2d(x, w, b, 1, (0, left), 1, conv.groups)


class Encoder(nn.Module):
    """Stack of (relative self-attention, LayerNorm, FFN, LayerNorm) layers, post-LN."""

    def __init__(
        self,
        hidden_channels: int,
        filter_channels: int,
        n_heads: int,
        n_layers: int,
        kernel_size: int = 1,
        p_dropout: float = 0.0,
        window_size: int = 4,
    ) -> None:
        super().__init__()
        self.n_layers = n_layers
        self.drop = nn.Dropout(p_dropout)
        self.attn_layers = nn.ModuleList()
        self.norm_layers_1 = nn.ModuleList()
        self.ffn_layers = nn.ModuleList()
        self.norm_layers_2 = nn.ModuleList()
        for _ in range(n_layers):
            self.attn_layers.append(
                MultiHeadAttention(hidden_channels, hidden_channels, n_heads, p_dropout, window_size)
            )
            self.norm_layers_1.append(LayerNorm(hidden_channels))
            self.ffn_layers.append(
                FFN(hidden_channels, hidden_channels, filter_channels, kernel_size, p_dropout)
            )
            self.norm_layers_2.append(LayerNorm(hidden_channels))

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """x [B, C, T], mask [B, 1, T]."""
        attn_mask = mask.unsqueeze(2) * mask.unsqueeze(-1)
        x = x * mask
        for attn, norm_1, ffn, norm_2 in zip(
            self.attn_layers, self.norm_layers_1, self.ffn_layers, self.norm_layers_2, strict=True
        ):
            x = norm_1(x + self.drop(attn(x, x, attn_mask)))
            x = norm_2(x + self.drop(ffn(x, mask)))
        return x * mask

    def forward_fast(self, x: torch.Tensor, mask: torch.Tensor, weights: WeightCache) -> torch.Tensor:
        """Inference-only :meth:`forward` with the FFNs in bfloat16 (`FFN.forward_fast`)."""
        attn_mask = mask.unsqueeze(2) * mask.unsqueeze(-1)
        x = x * mask
        for attn, norm_1, ffn, norm_2 in zip(
            self.attn_layers, self.norm_layers_1, self.ffn_layers, self.norm_layers_2, strict=True
        ):
            x = norm_1(x + attn(x, x, attn_mask))
            x = norm_2(x + ffn.forward_fast(x, mask, weights))
        return x * mask
