"""Post-LN transformer blocks of the text-to-semantic GPT (``nn.MultiheadAttention`` weight layout)."""

from __future__ import annotations

import math
from dataclasses import dataclass

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


@dataclass(frozen=True)
class FastCopies:
    """One layer's weights for the fast CPU path (see :meth:`T2SLayer.make_fast`); not in the state dict.

    Decode steps use the int8 matrices (``qkv``, ``out``, ``ff1``, ``ff2``: int8 + bf16 row scales) with
    float32 biases; the query rows of ``qkv`` and ``qkv_bias`` carry the 1/sqrt(head_dim) attention scale.
    The prefill uses the bf16 matrices and biases (``p_*``, unscaled).
    """

    qkv: tuple[torch.Tensor, torch.Tensor]
    qkv_bias: torch.Tensor
    out: tuple[torch.Tensor, torch.Tensor]
    out_bias: torch.Tensor
    ff1: tuple[torch.Tensor, torch.Tensor]
    ff1_bias: torch.Tensor
    ff2: tuple[torch.Tensor, torch.Tensor]
    ff2_bias: torch.Tensor
    norm1: tuple[torch.Tensor, torch.Tensor]
    norm2: tuple[torch.Tensor, torch.Tensor]
    p_qkv: tuple[torch.Tensor, torch.Tensor]
    p_out: tuple[torch.Tensor, torch.Tensor]
    p_ff1: tuple[torch.Tensor, torch.Tensor]
    p_ff2: tuple[torch.Tensor, torch.Tensor]


def _bf16(linear_weight: torch.Tensor, bias: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    return linear_weight.detach().to(torch.bfloat16).contiguous(), bias.detach().to(torch.bfloat16)


def _f32(t: torch.Tensor) -> torch.Tensor:
    return t.detach().float().contiguous()


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
        # optional copies for the fast CPU path (int8 decode + bf16 prefill), see make_fast
        self.fast: FastCopies | None = None

    def quantize_int8(self) -> None:
        """Make int8 per-row copies of the matrices that :meth:`step` then uses (weights stay as they are)."""
        a = self.self_attn
        mats = (a.in_proj_weight, a.out_proj.weight, self.linear1.weight, self.linear2.weight)
        self.int8 = tuple(quantize_rows(w) for w in mats)

    def make_fast(self) -> None:
        """Build :class:`FastCopies` from the current weights (the parameters stay as they are)."""
        a = self.self_attn
        d, scale = a.dim, 1.0 / math.sqrt(a.head_dim)
        w = a.in_proj_weight.detach().float().clone()
        b = _f32(a.in_proj_bias).clone()
        w[:d] *= scale  # fold the attention scale into the query rows (decode only)
        b[:d] *= scale
        n1, n2 = self.norm1, self.norm2
        self.fast = FastCopies(
            qkv=quantize_rows(w),
            qkv_bias=b,
            out=quantize_rows(a.out_proj.weight),
            out_bias=_f32(a.out_proj.bias),
            ff1=quantize_rows(self.linear1.weight),
            ff1_bias=_f32(self.linear1.bias),
            ff2=quantize_rows(self.linear2.weight),
            ff2_bias=_f32(self.linear2.bias),
            norm1=(_f32(n1.weight), _f32(n1.bias)),
            norm2=(_f32(n2.weight), _f32(n2.bias)),
            p_qkv=_bf16(a.in_proj_weight, a.in_proj_bias),
            p_out=_bf16(a.out_proj.weight, a.out_proj.bias),
            p_ff1=_bf16(self.linear1.weight, self.linear1.bias),
            p_ff2=_bf16(self.linear2.weight, self.linear2.bias),
        )

    def forward_fast(
        self, x: torch.Tensor, mask: torch.Tensor | None
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """:meth:`forward` (inference) with bf16 matmuls and attention; residuals and norms stay float32.

        ``x`` [B, S, D] float32; returns float32 output and bf16 keys and values [B, H, S, Dh].
        """
        f, a = self.fast, self.self_attn
        b, s, d = x.shape
        qkv = F.linear(x.to(torch.bfloat16), *f.p_qkv).view(b, s, 3, a.n_head, a.head_dim)
        q, k, v = qkv.permute(2, 0, 3, 1, 4)
        attn = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
        attn = F.linear(attn.transpose(1, 2).reshape(b, s, d), *f.p_out)
        eps = self.norm1.eps
        x = F.layer_norm(torch.add(x, attn), (d,), *f.norm1, eps)
        ff = F.linear(F.relu(F.linear(x.to(torch.bfloat16), *f.p_ff1)), *f.p_ff2)
        return F.layer_norm(torch.add(x, ff), (d,), *f.norm2, self.norm2.eps), k, v

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

    @property
    def fast(self) -> bool:
        """Whether every layer holds :class:`FastCopies` (see :meth:`T2SLayer.make_fast`)."""
        return all(layer.fast is not None for layer in self.layers)

    def forward_fast(self, x: torch.Tensor, mask: torch.Tensor | None, cache: KVCache) -> torch.Tensor:
        """The prefill of the fast CPU path: :meth:`forward` with each layer's ``forward_fast``."""
        for i, layer in enumerate(self.layers):
            x, k, v = layer.forward_fast(x, mask)
            cache.write_prefix(i, k, v)
        cache.length = x.shape[1]
        return x

    def step_fast(self, x: torch.Tensor, cache: KVCache) -> torch.Tensor:
        """A decode step of the fast CPU path: x [B, 1, D] float32 -> [B, 1, D] float32.

        Int8 weights with bf16 matmuls (``torch._weight_int8pack_mm``), float32 biases, residuals, norms
        and cache; single-query attention as two batched matmuls and a softmax; one copy per layer writes
        the new key and value.
        """
        b, _, d = x.shape
        first = self.layers[0].self_attn
        h, dh = first.n_head, first.head_dim
        pos = cache.length
        if pos >= cache.capacity:
            raise ValueError(f"the cache is full ({cache.capacity} positions)")
        kv = cache.kv  # [L, 2, B, H, capacity, Dh]
        slots = kv[:, :, :, :, pos]  # [L, 2, B, H, Dh]: where this step's keys and values go
        span = kv[:, :, :, :, : pos + 1].flatten(2, 3)  # [L, 2, B*H, pos+1, Dh], a view
        all_keys, all_values = span[:, 0].transpose(2, 3), span[:, 1]
        bf16, mm = torch.bfloat16, torch._weight_int8pack_mm
        x = x.reshape(b, d)
        for i, layer in enumerate(self.layers):
            f = layer.fast
            qkv = torch.add(mm(x.to(bf16), *f.qkv), f.qkv_bias)  # float32 [B, 3D]
            slots[i].copy_(qkv[:, d:].view(b, 2, h, dh).transpose(0, 1))
            scores = torch.bmm(qkv[:, :d].reshape(b * h, 1, dh), all_keys[i])
            attn = torch.bmm(torch.softmax(scores, dim=-1), all_values[i]).view(b, d)
            x = F.layer_norm(
                torch.add(x, mm(attn.to(bf16), *f.out)).add_(f.out_bias), (d,), *f.norm1, layer.norm1.eps
            )
            ff = torch.add(mm(x.to(bf16), *f.ff1), f.ff1_bias).relu_()
            x = F.layer_norm(
                torch.add(x, mm(ff.to(bf16), *f.ff2)).add_(f.ff2_bias), (d,), *f.norm2, layer.norm2.eps
            )
        cache.advance()
        return x.view(b, 1, d)
