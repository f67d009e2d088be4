"""A fixed-shape decode step of the GPT, and its CUDA-graph replay (the default decode on CUDA).

The eager step (``T2SStack.step``) slices the KV cache to the filled length, a shape that changes every
token, so it cannot be captured. :class:`StaticStep` runs the same weights with the token, the cache
slot and the audio position held in tensors: keys and values are written with ``index_copy_`` and the
attention reads a fixed span of the cache (a length *bucket*: the filled length rounded up to
``BUCKET``) with the unfilled slots masked. Every call of one bucket has the same shapes and addresses,
so :class:`GraphStep` captures one CUDA graph per bucket and replays it. The cache must be zero-filled
beyond what is written (a masked slot gets weight 0, and 0 x NaN would still be NaN).

Fallback chain (:func:`make_step`): CUDA graph -> static step run eagerly -> the plain eager step; any
failure to capture is logged and the next one is used. On the CPU the static step is only for tests
(it must give the eager step's tokens); the eager step is faster there.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import torch
import torch.nn.functional as F

from engine.models.t2s.kvcache import KVCache

log = logging.getLogger(__name__)

BUCKET = 256  # cache positions per attention span bucket


def bucket_of(length: int, capacity: int) -> int:
    """The attention span for a cache filled to ``length`` (a multiple of BUCKET, at most ``capacity``)."""
    return min(capacity, -(-length // BUCKET) * BUCKET)


class StaticStep:
    """One decode step with fixed shapes per span; ``token`` in, float32 logits [1, V] out."""

    def __init__(self, model, cache: KVCache, audio_pos: int) -> None:
        device = cache.k.device
        self.model = model
        self.cache = cache
        self.token = torch.zeros(1, 1, dtype=torch.long, device=device)
        self.slot = torch.tensor([cache.length], dtype=torch.long, device=device)
        self.audio_pos = torch.tensor([audio_pos], dtype=torch.long, device=device)
        self.slots = torch.arange(cache.capacity, device=device)
        model.ar_audio_position.ensure(audio_pos + cache.capacity)  # no table growth inside a graph

    def set_position(self, slot: int, audio_pos: int) -> None:
        """Point the next call at cache ``slot`` and audio position ``audio_pos``."""
        self.slot.fill_(slot)
        self.audio_pos.fill_(audio_pos)

    def __call__(self, span: int | None = None) -> torch.Tensor:
        """Run ``self.token`` through every layer attending to the first ``span`` slots; advance."""
        m, cache = self.model, self.cache
        span = cache.capacity if span is None else span
        pos = m.ar_audio_position
        x = m.ar_audio_embedding.word_embeddings(self.token)  # [1, 1, D]
        x = x + pos.alpha * pos.pe.index_select(0, self.audio_pos).to(x.dtype)
        mask = (self.slots[:span] <= self.slot).view(1, 1, 1, -1)
        for i, layer in enumerate(m.h.layers):
            a = layer.self_attn
            qkv = F.linear(x, a.in_proj_weight, a.in_proj_bias).view(1, 1, 3, a.n_head, a.head_dim)
            qkv = qkv.permute(2, 0, 3, 1, 4)  # [3, 1, H, 1, Dh]
            cache.k[i].index_copy_(2, self.slot, qkv[1])
            cache.v[i].index_copy_(2, self.slot, qkv[2])
            keys, values = cache.k[i, :, :, :span], cache.v[i, :, :, :span]
            attn = F.scaled_dot_product_attention(qkv[0], keys, values, attn_mask=mask)
            attn = F.linear(attn.reshape(1, 1, a.dim), a.out_proj.weight, a.out_proj.bias)
            n1, n2 = layer.norm1, layer.norm2
            x = F.layer_norm(x + attn, n1.normalized_shape, n1.weight, n1.bias, n1.eps)
            ff = F.linear(
                F.relu(F.linear(x, layer.linear1.weight, layer.linear1.bias)),
                layer.linear2.weight,
                layer.linear2.bias,
            )
            x = F.layer_norm(x + ff, n2.normalized_shape, n2.weight, n2.bias, n2.eps)
        logits = m.ar_predict_layer(x[:, -1]).float()
        self.slot.add_(1)
        self.audio_pos.add_(1)
        return logits


class GraphStep:
    """:class:`StaticStep` captured as one CUDA graph per span bucket and replayed (CUDA only)."""

    def __init__(self, step: StaticStep) -> None:
        self.step = step
        self.graphs: dict[int, tuple[torch.cuda.CUDAGraph, torch.Tensor]] = {}

    def _capture(self, span: int) -> tuple[torch.cuda.CUDAGraph, torch.Tensor]:
        step = self.step
        device = step.cache.k.device
        slot, audio_pos = int(step.slot), int(step.audio_pos)
        side = torch.cuda.Stream(device)
        side.wait_stream(torch.cuda.current_stream(device))
        with torch.cuda.stream(side):  # warm up outside the capture (allocator, kernel choice)
            for _ in range(2):
                step(span)
        torch.cuda.current_stream(device).wait_stream(side)
        step.set_position(slot, audio_pos)  # the warm-up wrote masked slots that later steps overwrite
        graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(graph):
            out = step(span)
        step.set_position(slot, audio_pos)  # capturing advanced the counters once more
        return graph, out

    def __call__(self, span: int) -> torch.Tensor:
        """Replay the graph of ``span`` (capturing it the first time); returns the static logits."""
        if span not in self.graphs:
            self.graphs[span] = self._capture(span)
        graph, out = self.graphs[span]
        graph.replay()
        return out


def make_step(
    model, cache: KVCache, audio_pos: int, mode: str
) -> Callable[[torch.Tensor], torch.Tensor] | None:
    """A function token [1, 1] -> float32 logits [1, V] for ``mode`` "graph" or "static" (None: use eager).

    The cache must be zero-filled past the prefill. "graph" falls back to "static" run eagerly, and
    that to None (the eager step), logging why.
    """
    if mode not in ("graph", "static"):
        return None
    step = StaticStep(model, cache, audio_pos)
    start = cache.length
    runner: Callable[[int], torch.Tensor] = step
    if mode == "graph":
        if cache.k.device.type != "cuda":
            log.info("CUDA graphs need a CUDA device; decoding with the static step")
        else:
            runner = GraphStep(step)

    def run(token: torch.Tensor) -> torch.Tensor:
        nonlocal runner
        step.token.copy_(token)
        length = cache.length + 1
        span = bucket_of(length, cache.capacity)
        try:
            logits = runner(span)
        except Exception as exc:  # noqa: BLE001 - a capture failure must not end the decode
            if runner is step:
                raise
            log.warning("CUDA graph capture failed (%s); decoding with the static step", exc)
            runner = step
            step.set_position(cache.length, audio_pos + cache.length - start)
            logits = step(span)
        cache.length = length
        return logits.clone() if runner is not step else logits

    return run
