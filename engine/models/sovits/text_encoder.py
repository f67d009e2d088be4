"""The prior encoder: semantic features + phones (+ speaker vector) -> mean and log-std of z_p.

:meth:`TextEncoder.enable_fast` turns on an opt-in CPU inference path: the transformer encoders' FFN
convolutions run in bfloat16 from cached weight copies (`Encoder.forward_fast`); the rest stays fp32.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from engine.models.sovits.attentions import Encoder
from engine.models.sovits.commons import length_mask
from engine.models.sovits.modules import FastSwitch
from engine.models.sovits.mrte import MRTE


class TextEncoder(FastSwitch, nn.Module):
    """ssl_proj -> encoder_ssl; text_embedding -> encoder_text; MRTE; encoder2; proj to (m, logs)."""

    def __init__(
        self,
        out_channels: int,
        hidden_channels: int,
        filter_channels: int,
        n_heads: int,
        n_layers: int,
        kernel_size: int,
        p_dropout: float,
        n_symbols: int = 732,
        ssl_dim: int = 768,
        mrte_hidden: int = 512,
        mrte_heads: int = 4,
        window_size: int = 4,
    ) -> None:
        super().__init__()
        self.out_channels = out_channels
        self.ssl_proj = nn.Conv1d(ssl_dim, hidden_channels, 1)
        self.encoder_ssl = Encoder(
            hidden_channels, filter_channels, n_heads, n_layers // 2, kernel_size, p_dropout, window_size
        )
        self.encoder_text = Encoder(
            hidden_channels, filter_channels, n_heads, n_layers, kernel_size, p_dropout, window_size
        )
        self.text_embedding = nn.Embedding(n_symbols, hidden_channels)
        self.mrte = MRTE(hidden_channels, mrte_hidden, hidden_channels, mrte_heads)
        self.encoder2 = Encoder(
            hidden_channels, filter_channels, n_heads, n_layers // 2, kernel_size, p_dropout, window_size
        )
        self.proj = nn.Conv1d(hidden_channels, out_channels * 2, 1)
        self._init_fast()

    def _encode(self, encoder: Encoder, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        return encoder.forward_fast(x, mask, self._weights) if self._use_fast(x) else encoder(x, mask)

    def forward(
        self,
        y: torch.Tensor,
        y_lengths: torch.Tensor,
        text: torch.Tensor,
        text_lengths: torch.Tensor,
        ge: torch.Tensor | None,
        speed: float = 1.0,
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        """y [B, ssl_dim, T] at 50 Hz, ids [B, L] -> (hidden, m, logs, mask); speed != 1 resamples time."""
        y_mask = length_mask(y_lengths, y.size(2), y.dtype)
        y = self.ssl_proj(y * y_mask) * y_mask
        y = self._encode(self.encoder_ssl, y * y_mask, y_mask)
        text_mask = length_mask(text_lengths, text.size(1), y.dtype)
        t = self.text_embedding(text).transpose(1, 2)
        t = self._encode(self.encoder_text, t * text_mask, text_mask)
        y = self.mrte(y, y_mask, t, text_mask, ge)
        y = self._encode(self.encoder2, y * y_mask, y_mask)
        if speed != 1:
            y = F.interpolate(y, size=int(y.shape[-1] / speed) + 1, mode="linear")
            y_mask = F.interpolate(y_mask, size=y.shape[-1], mode="nearest")
        stats = self.proj(y) * y_mask
        m, logs = torch.split(stats, self.out_channels, dim=1)
        return y, m, logs, y_mask
