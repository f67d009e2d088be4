"""Token embeddings and the VALL-E style sine position encoding with a learned scale."""

from __future__ import annotations

import math

import torch
from torch import nn


class TokenEmbedding(nn.Module):
    """An embedding table (state-dict key ``word_embeddings.weight``) followed by dropout."""

    def __init__(self, vocab_size: int, dim: int, dropout: float = 0.0) -> None:
        super().__init__()
        self.word_embeddings = nn.Embedding(vocab_size, dim)
        self.dropout = nn.Dropout(dropout)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        """Look up ``ids`` [..., T] and return [..., T, dim]."""
        return self.dropout(self.word_embeddings(ids))


def sine_table(rows: int, dim: int, device: torch.device | str | None = None) -> torch.Tensor:
    """The [rows, dim] table: even columns sin(pos*w_i), odd columns cos(pos*w_i), w_i = 10000^(-2i/dim)."""
    pos = torch.arange(rows, dtype=torch.float32, device=device).unsqueeze(1)
    freq = torch.exp(torch.arange(0, dim, 2, dtype=torch.float32, device=device) * (-math.log(10000.0) / dim))
    table = torch.zeros(rows, dim, dtype=torch.float32, device=device)
    table[:, 0::2] = torch.sin(pos * freq)
    table[:, 1::2] = torch.cos(pos * freq)
    return table


class SinePositionalEncoding(nn.Module):
    """out = x + alpha * pe[offset : offset + T]; alpha is a learned scalar (key ``alpha``), x is not scaled.

    The table is a non-persistent buffer (absent from the state dict, as in the official files) and grows
    when a longer sequence arrives.
    """

    def __init__(self, dim: int, rows: int = 4000, dropout: float = 0.1) -> None:
        super().__init__()
        self.dim = dim
        self.alpha = nn.Parameter(torch.ones(1))
        self.dropout = nn.Dropout(dropout)
        with torch.inference_mode(False):  # a normal tensor even when built under inference mode
            self.register_buffer("pe", sine_table(rows, dim), persistent=False)

    def ensure(self, rows: int) -> None:
        """Make sure the table holds at least ``rows`` positions."""
        if self.pe.shape[0] < rows:
            with torch.inference_mode(False):  # usable by training after growing during inference
                table = sine_table(max(rows, 2 * self.pe.shape[0]), self.dim, device=self.pe.device)
                self.pe = table.to(self.pe.dtype)

    def forward(self, x: torch.Tensor, offset: int = 0) -> torch.Tensor:
        """Add the encoding of positions ``offset .. offset+T-1`` to ``x`` [B, T, dim]."""
        t = x.shape[1]
        self.ensure(offset + t)
        pe = self.pe[offset : offset + t].to(x.dtype)
        return self.dropout(x + self.alpha * pe)
