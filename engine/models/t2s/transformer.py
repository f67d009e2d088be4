"""Post-LN transformer blocks of the text-to-semantic GPT (``nn.MultiheadAttention`` weight layout)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from engine.models.t2s.config import T2SConfig
from engine.models.t2s.kvcache import KVCache


class SelfAttention(nn.Module):
    """Multi-head self-attention with a packed q,k,v projection (``in_proj_weight``/``in_proj_bias``)."""

    def __init__(self, dim: int, n_head: int, dropout: float) -> None:
        super().__init__()
        self.dim = dim
        self.n_head = n_head
        self.head_dim = dim // n_head
        self.dropout = dropout
        self.in_proj_weight = nn.Parameter(torch.empty(3 * dim, dim))
        self.in_proj_bias = nn.Parameter(torch.empty(3 * dim))
        self.out_proj = nn.Linear(dim, dim)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Initialise as ``nn.MultiheadAttention`` does."""
        if self.in_proj_weight.is_meta:
            return
        nn.init.xavier_uniform_(self.in_proj_weight)
        nn.init.zeros_(self.in_proj_bias)
        nn.init.zeros_(self.out_proj.bias)

    def project(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Return q, k, v of ``x`` [B, S, D], each [B, H, S, Dh]."""
        b, s, _ = x.shape
        qkv = F.linear(x, self.in_proj_weight, self.in_proj_bias)
        qkv = qkv.view(b, s, 3, self.n_head, self.head_dim).permute(2, 0, 3, 1, 4)
        return qkv[0], qkv[1], qkv[2]

    def merge(self, attn: torch.Tensor) -> torch.Tensor:
        """Join the heads [B, H, S, Dh] and apply the output projection."""
        b, _, s, _ = attn.shape
        return self.out_proj(attn.transpose(1, 2).reshape(b, s, self.dim))


def quantize_rows(weight: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Symmetric per-output-row int8 copy of a [N, K] weight: (int8 [N, K], bf16 scales [N])."""
    w = weight.detach().float()
    scale = w.abs().amax(dim=1).clamp(min=1e-8) / 127.0
    q = torch.round(w / scale[:, None]).clamp(-127, 127).to(torch.int8).contiguous()
    return q, scale.to(torch.bfloat16)


def int8_linear(
    x: torch.Tensor, packed: tuple[torch.Tensor, torch.Tensor], bias: torch.Tensor | None
) -> torch.Tensor:
    """x [M, K] @ (int8 weight * scale).T in bf16, returned as float32 (plus the float32 bias)."""
    out = torch._weight_int8pack_mm(x.to(torch.bfloat16), packed[0], packed[1]).float()
    return out if bias is None else out + bias


class T2SLayer(nn.Module):
    """x = LN1(x + SA(x)); x = LN2(x + W2 relu(W1 x)) with dropout as in ``nn.TransformerEncoderLayer``."""

    def __init__(self, config: T2SConfig) -> None:
        super().__init__()
        d, p = config.hidden_dim, config.layer_dropout
        self.self_attn = SelfAttention(d, config.n_head, p)
        self.linear1 = nn.Linear(d, config.ffn_dim)
        self.dropout = nn.Dropout(p)
        self.linear2 = nn.Linear(config.ffn_dim, d)
        self.norm1 = nn.LayerNorm(d, eps=config.layer_norm_eps)
        self.norm2 = nn.LayerNorm(d, eps=config.layer_norm_eps)
        self.dropout1 = nn.Dropout(p)
        self.dropout2 = nn.Dropout(p)
        # optional int8 copies of the four matrices for CPU decoding (not saved, not moved by .to())
        self.int8: tuple[tuple[torch.Tensor, torch.Tensor], ...] | None = None

    def quantize_int8(self) -> None:
        """Make int8 per-row copies of the matrices that :meth:`step` then uses (weights stay as they are)."""
        a = self.self_attn
        mats = (a.in_proj_weight, a.out_proj.weight, self.linear1.weight, self.linear2.weight)
        self.int8 = tuple(quantize_rows(w) for w in mats)

    def _finish(self, x: torch.Tensor, attn: torch.Tensor) -> torch.Tensor:
        x = self.norm1(x + self.dropout1(self.self_attn.merge(attn)))
        ff = self.linear2(self.dropout(F.relu(self.linear1(x))))
        return self.norm2(x + self.dropout2(ff))

    def forward(
        self, x: torch.Tensor, mask: torch.Tensor | None
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Run on a whole sequence; ``mask`` is boolean, True where a query may attend to a key.

        Returns the output and this layer's keys and values [B, H, S, Dh] (for a cache).
        """
        q, k, v = self.self_attn.project(x)
        p = self.self_attn.dropout if self.training else 0.0
        attn = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, dropout_p=p)
        return self._finish(x, attn), k, v

    def step(self, x: torch.Tensor, cache: KVCache, index: int) -> torch.Tensor:
        """Run one new position x [B, 1, D] against the cached keys/values of layer ``index``.

        Inference only (no dropout). Written with functional calls to keep per-token overhead low.
        """
        if self.int8 is not None:
            return self._step_int8(x, cache, index)
        a = self.self_attn
        b, d = x.shape[0], a.dim
        qkv = F.linear(x, a.in_proj_weight, a.in_proj_bias).view(b, 1, 3, a.n_head, a.head_dim)
        qkv = qkv.permute(2, 0, 3, 1, 4)  # [3, B, H, 1, Dh]
        keys, values = cache.append(index, qkv[1], qkv[2])
        attn = F.scaled_dot_product_attention(qkv[0], keys, values)  # [B, H, 1, Dh]
        # with one position, [B, H, 1, Dh] reshapes to [B, 1, D] without a transpose
        attn = F.linear(attn.reshape(b, 1, d), a.out_proj.weight, a.out_proj.bias)
        n1, n2 = self.norm1, self.norm2
        x = F.layer_norm(x + attn, n1.normalized_shape, n1.weight, n1.bias, n1.eps)
        ff = F.linear(
            F.relu(F.linear(x, self.linear1.weight, self.linear1.bias)),
            self.linear2.weight,
            self.linear2.bias,
        )
        return F.layer_norm(x + ff, n2.normalized_shape, n2.weight, n2.bias, n2.eps)

    def _step_int8(self, x: torch.Tensor, cache: KVCache, index: int) -> torch.Tensor:
        """:meth:`step` with int8 weights and bf16 matmuls; attention, norms and the cache stay float32."""
        a = self.self_attn
        b, d = x.shape[0], a.dim
        wqkv, wo, w1, w2 = self.int8
        x2 = x.reshape(b, d).float()
        qkv = int8_linear(x2, wqkv, a.in_proj_bias.float()).view(b, 1, 3, a.n_head, a.head_dim)
        qkv = qkv.permute(2, 0, 3, 1, 4)
        keys, values = cache.append(index, qkv[1], qkv[2])
        attn = F.scaled_dot_product_attention(qkv[0].to(keys.dtype), keys, values).reshape(b, d)
        attn = int8_linear(attn, wo, a.out_proj.bias.float())
        n1, n2 = self.norm1, self.norm2
        x2 = F.layer_norm(x2 + attn, n1.normalized_shape, n1.weight.float(), n1.bias.float(), n1.eps)
        ff = int8_linear(
            torch.relu(int8_linear(x2, w1, self.linear1.bias.float())), w2, self.linear2.bias.float()
        )
        x2 = F.layer_norm(x2 + ff, n2.normalized_shape, n2.weight.float(), n2.bias.float(), n2.eps)
        return x2.to(x.dtype).view(b, 1, d)


class T2SStack(nn.Module):
    """The layer stack (state-dict prefix ``layers.N``); post-LN, so there is no final norm."""

    def __init__(self, config: T2SConfig) -> None:
        super().__init__()
        self.layers = nn.ModuleList(T2SLayer(config) for _ in range(config.n_layer))

    def forward(
        self, x: torch.Tensor, mask: torch.Tensor | None, cache: KVCache | None = None
    ) -> torch.Tensor:
        """Run a whole sequence; with a ``cache``, store every layer's keys and values in it."""
        for i, layer in enumerate(self.layers):
            x, k, v = layer(x, mask)
            if cache is not None:
                cache.write_prefix(i, k, v)
        if cache is not None:
            cache.length = x.shape[1]
        return x

    def step(self, x: torch.Tensor, cache: KVCache) -> torch.Tensor:
        """Run one new position through every layer using (and extending) the cache."""
        for i, layer in enumerate(self.layers):
            x = layer.step(x, cache, i)
        cache.advance()
        return x
