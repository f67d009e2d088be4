"""Batches for the two fine-tunes: right-padded collation, length buckets and the per-epoch order.

The order of an epoch is a pure function of (seed, epoch, lengths, batch size), so a resumed run and
every DDP rank compute the same global batches; a rank takes its contiguous share of each one.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, fields, replace
from typing import Any

import torch

HOP = 640
EOS = 1024


def _t(value: Any, dtype: torch.dtype) -> torch.Tensor:
    return torch.as_tensor(value).to(dtype)


@dataclass
class SoVITSBatch:
    """SoVITS inputs, right-padded: ssl [B, ssl, T'], spec [B, bins, T], wav [B, 1, T*hop], phones [B, L]."""

    ssl: torch.Tensor
    spec: torch.Tensor
    spec_lens: torch.Tensor
    wav: torch.Tensor
    phones: torch.Tensor
    phone_lens: torch.Tensor
    keys: list[str]

    def __len__(self) -> int:
        return len(self.keys)

    def to(self, device: torch.device | str) -> SoVITSBatch:
        """The batch on ``device``."""
        return _to(self, device)

    def split(self, parts: int) -> list[SoVITSBatch]:
        """Contiguous sub-batches (the last ones may be one item shorter); empty parts dropped."""
        return [_select(self, idx) for idx in _chunks(len(self), parts)]


@dataclass
class GPTBatch:
    """GPT inputs, right-padded: phone_ids [B, T], bert [B, bert_dim, T], codes [B, N] (pad = EOS)."""

    phone_ids: torch.Tensor
    phone_lens: torch.Tensor
    bert: torch.Tensor
    codes: torch.Tensor
    code_lens: torch.Tensor
    keys: list[str]

    def __len__(self) -> int:
        return len(self.keys)

    def to(self, device: torch.device | str) -> GPTBatch:
        """The batch on ``device``."""
        return _to(self, device)

    def split(self, parts: int) -> list[GPTBatch]:
        """Contiguous sub-batches (empty parts dropped)."""
        return [_select(self, idx) for idx in _chunks(len(self), parts)]


def _to(batch, device):
    changes = {f.name: getattr(batch, f.name).to(device) for f in fields(batch) if f.name != "keys"}
    return replace(batch, **changes)


def _chunks(n: int, parts: int) -> list[list[int]]:
    parts = max(1, min(parts, n))
    base, extra = divmod(n, parts)
    out, start = [], 0
    for i in range(parts):
        size = base + int(i < extra)
        out.append(list(range(start, start + size)))
        start += size
    return [c for c in out if c]


def _trim(t: torch.Tensor, length: int) -> torch.Tensor:
    return t[..., :length]


def _select(batch, idx: list[int]):
    """Items ``idx`` of a batch, re-trimmed to their own longest lengths."""
    index = torch.tensor(idx, dtype=torch.long)
    if isinstance(batch, SoVITSBatch):
        spec_lens, phone_lens = batch.spec_lens[index], batch.phone_lens[index]
        frames, length = int(spec_lens.max()), int(phone_lens.max())
        ssl_frames = min(batch.ssl.shape[-1], _even(frames))
        return SoVITSBatch(
            ssl=_trim(batch.ssl[index], ssl_frames),
            spec=_trim(batch.spec[index], frames),
            spec_lens=spec_lens,
            wav=_trim(batch.wav[index], frames * HOP),
            phones=_trim(batch.phones[index], length),
            phone_lens=phone_lens,
            keys=[batch.keys[i] for i in idx],
        )
    phone_lens, code_lens = batch.phone_lens[index], batch.code_lens[index]
    t, n = int(phone_lens.max()), int(code_lens.max())
    return GPTBatch(
        phone_ids=_trim(batch.phone_ids[index], t),
        phone_lens=phone_lens,
        bert=_trim(batch.bert[index], t),
        codes=_trim(batch.codes[index], n),
        code_lens=code_lens,
        keys=[batch.keys[i] for i in idx],
    )


def _even(n: int) -> int:
    return n + (n % 2)


def _pad_stack(tensors: list[torch.Tensor], length: int, value: float = 0.0) -> torch.Tensor:
    out = tensors[0].new_full((len(tensors), *tensors[0].shape[:-1], length), value)
    for i, t in enumerate(tensors):
        n = min(length, t.shape[-1])
        out[i, ..., :n] = t[..., :n]
    return out


def collate_sovits(items: list) -> SoVITSBatch:
    """Right-pad TrainItems into a SoVITSBatch (frames = the spectrogram's; wav cut to frames x hop)."""
    specs = [_t(it.spec, torch.float32) for it in items]
    frames = [int(s.shape[-1]) for s in specs]
    wavs = [
        _t(it.wav, torch.float32).reshape(1, -1)[:, : f * HOP] for it, f in zip(items, frames, strict=True)
    ]
    ssls = [_t(it.ssl, torch.float32) for it in items]
    phones = [_t(it.phone_ids, torch.long) for it in items]
    t = max(frames)
    ssl_len = _even(max(max(int(s.shape[-1]) for s in ssls), t))
    return SoVITSBatch(
        ssl=_pad_stack(ssls, ssl_len),
        spec=_pad_stack(specs, t),
        spec_lens=torch.tensor(frames, dtype=torch.long),
        wav=_pad_stack(wavs, t * HOP),
        phones=_pad_stack(phones, max(int(p.shape[-1]) for p in phones), 0),
        phone_lens=torch.tensor([int(p.shape[-1]) for p in phones], dtype=torch.long),
        keys=[str(it.key) for it in items],
    )


def collate_gpt(items: list, eos: int = EOS) -> GPTBatch:
    """Right-pad TrainItems into a GPTBatch (codes padded with EOS, BERT features with zeros)."""
    phones = [_t(it.phone_ids, torch.long) for it in items]
    berts = [_t(it.bert, torch.float32) for it in items]
    codes = [_t(it.semantic, torch.long).reshape(-1) for it in items]
    t = max(int(p.shape[-1]) for p in phones)
    n = max(int(c.shape[-1]) for c in codes)
    return GPTBatch(
        phone_ids=_pad_stack(phones, t, 0),
        phone_lens=torch.tensor([int(p.shape[-1]) for p in phones], dtype=torch.long),
        bert=_pad_stack(berts, t),
        codes=_pad_stack(codes, n, eos),
        code_lens=torch.tensor([int(c.shape[-1]) for c in codes], dtype=torch.long),
        keys=[str(it.key) for it in items],
    )


def sovits_length(item) -> int:
    """Bucketing length of a SoVITS item: its spectrogram frames."""
    return int(torch.as_tensor(item.spec).shape[-1])


def gpt_length(item) -> int:
    """Bucketing length of a GPT item: phones + codes."""
    return int(torch.as_tensor(item.phone_ids).shape[-1]) + int(
        torch.as_tensor(item.semantic).reshape(-1).shape[0]
    )


def epoch_batches(
    lengths: list[int], batch_size: int, seed: int, epoch: int, bucket_factor: int = 4
) -> list[list[int]]:
    """The global batches of one epoch: shuffled, bucketed by length in windows, batch order shuffled.

    Items are shuffled, cut into windows of ``bucket_factor`` batches, sorted by length inside each window
    (so a batch holds similar lengths and little padding), cut into batches, and the batches shuffled.
    A short last batch is kept.
    """
    n = len(lengths)
    if n == 0:
        return []
    batch_size = max(1, min(batch_size, n))
    rng = random.Random(seed * 1_000_003 + epoch)
    order = list(range(n))
    rng.shuffle(order)
    window = batch_size * max(1, bucket_factor)
    batches: list[list[int]] = []
    for start in range(0, n, window):
        chunk = sorted(order[start : start + window], key=lambda i: (-lengths[i], i))
        batches.extend(chunk[k : k + batch_size] for k in range(0, len(chunk), batch_size))
    rng.shuffle(batches)
    return batches


def rank_share(batch: list[int], rank: int, world: int) -> list[int]:
    """The contiguous part of a global batch that DDP rank ``rank`` of ``world`` trains on."""
    parts = _chunks(len(batch), world)
    if len(parts) < world:  # fewer items than ranks: the extra ranks repeat the last item
        parts += [parts[-1]] * (world - len(parts))
    return [batch[i] for i in parts[rank]]
