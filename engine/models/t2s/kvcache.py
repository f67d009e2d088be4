"""A pre-allocated key/value cache for decoding the text-to-semantic GPT one token at a time."""

from __future__ import annotations

import torch


class KVCache:
    """Keys and values of every layer: ``k`` and ``v`` [n_layer, B, n_head, capacity, head_dim].

    Both are views of one tensor ``kv`` [n_layer, 2, B, n_head, capacity, head_dim], so that a decode step
    can write a position's key and value with one copy. ``length`` positions are filled. The prefill
    writes positions 0..S-1 of each layer; each decode step writes position ``length`` of each layer and
    then calls :meth:`advance`. Nothing is reallocated while decoding, so a step costs no copies of the
    history.
    """

    def __init__(
        self,
        n_layer: int,
        batch: int,
        n_head: int,
        head_dim: int,
        capacity: int,
        *,
        dtype: torch.dtype = torch.float32,
        device: torch.device | str | None = None,
    ) -> None:
        shape = (n_layer, 2, batch, n_head, capacity, head_dim)
        self.kv = torch.empty(shape, dtype=dtype, device=device)
        self.k = self.kv[:, 0]
        self.v = self.kv[:, 1]
        self.capacity = capacity
        self.length = 0

    def write_prefix(self, layer: int, k: torch.Tensor, v: torch.Tensor) -> None:
        """Store the prefill's keys and values [B, H, S, Dh] of one layer at positions 0..S-1."""
        s = k.shape[2]
        if s > self.capacity:
            raise ValueError(f"prefill of {s} positions exceeds the cache capacity {self.capacity}")
        self.k[layer, :, :, :s].copy_(k)
        self.v[layer, :, :, :s].copy_(v)

    def append(self, layer: int, k: torch.Tensor, v: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Store one new position [B, H, 1, Dh] of one layer; return that layer's keys and values so far."""
        pos = self.length
        if pos >= self.capacity:
            raise ValueError(f"the cache is full ({self.capacity} positions)")
        self.k[layer, :, :, pos : pos + 1].copy_(k)
        self.v[layer, :, :, pos : pos + 1].copy_(v)
        return self.k[layer, :, :, : pos + 1], self.v[layer, :, :, : pos + 1]

    def advance(self, n: int = 1) -> None:
        """Mark ``n`` more positions as filled (after every layer has written them)."""
        self.length += n
