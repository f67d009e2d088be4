"""Split long recordings at silences into takes of 2–12 s, never inside a word, 100–300 ms edge silence kept.

Works on a level envelope (10 ms hops) so that a 30-minute file is planned without holding its
samples: the importer computes the envelope while streaming, plans the cuts here, then streams
again to write the takes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.audio.analysis import speech_threshold_db

HOP_S = 0.010


@dataclass(frozen=True)
class SliceSettings:
    """Limits of the takes a long file is cut into."""

    min_s: float = 2.0  # shortest take worth keeping whole (shorter ones are merged with a neighbour)
    max_s: float = 12.0  # longest take (speech span)
    min_silence_s: float = 0.30  # a pause this long may separate takes
    pad_s: float = 0.20  # silence kept at each edge (limited to half the pause when pauses are short)
    drop_below_s: float = 0.60  # lone fragments shorter than this (coughs, clicks) are left out
    keep_whole_s: float = 20.0  # a clip with its own transcript is kept whole up to this length


class Envelope:
    """Accumulates a 10 ms power envelope block by block (any sample rate)."""

    def __init__(self, samplerate: int) -> None:
        self.samplerate = samplerate
        self.hop = max(1, int(round(samplerate * HOP_S)))
        self._rest = np.zeros(0, np.float32)
        self._parts: list[np.ndarray] = []
        self.frames = 0  # samples seen

    def add(self, block: np.ndarray) -> None:
        """Append mono samples."""
        self.frames += block.size
        data = np.concatenate((self._rest, block)) if self._rest.size else block
        whole = data.size // self.hop
        if whole:
            chunk = data[: whole * self.hop].reshape(whole, self.hop).astype(np.float64)
            self._parts.append(np.einsum("ij,ij->i", chunk, chunk) / self.hop)
        self._rest = data[whole * self.hop :].copy()

    def levels_db(self) -> np.ndarray:
        """Level of each 10 ms hop in dBFS (the last partial hop included)."""
        parts = list(self._parts)
        if self._rest.size:
            parts.append(np.array([float(np.mean(self._rest.astype(np.float64) ** 2))]))
        power = np.concatenate(parts) if parts else np.zeros(0)
        return 10.0 * np.log10(np.maximum(power, 1e-12))


def speech_mask(levels_db: np.ndarray) -> np.ndarray:
    """Voiced hops: the energy VAD's threshold (30 % of the way from noise floor to speech level)."""
    if levels_db.size == 0:
        return np.zeros(0, bool)
    threshold, _, _ = speech_threshold_db(10.0 ** (levels_db / 10.0), levels_db)
    return levels_db > threshold


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    padded = np.concatenate(([False], mask, [False])).astype(np.int8)
    change = np.flatnonzero(np.diff(padded))
    return list(zip(change[::2].tolist(), change[1::2].tolist(), strict=True))


def _phrases(mask: np.ndarray, min_gap: int, lo: int = 0, hi: int | None = None) -> list[tuple[int, int]]:
    """Voiced runs within [lo, hi) joined across pauses shorter than ``min_gap`` hops."""
    hi = mask.size if hi is None else hi
    out: list[tuple[int, int]] = []
    for a, b in _runs(mask[lo:hi]):
        a, b = a + lo, b + lo
        if out and a - out[-1][1] < min_gap:
            out[-1] = (out[-1][0], b)
        else:
            out.append((a, b))
    return out


def _split_long(
    mask: np.ndarray, levels: np.ndarray, a: int, b: int, max_len: int, min_len: int, gap: int
) -> list[tuple[int, int]]:
    """Split one phrase longer than max_len at ever shorter pauses; at last at the quietest hop."""
    if b - a <= max_len:
        return [(a, b)]
    for g in (gap // 2, gap // 4, 2):
        parts = _phrases(mask, max(1, g), a, b)
        if len(parts) > 1:
            return _group(mask, levels, parts, max_len, min_len, gap)
    lo, hi = a + max(min_len, max_len // 2), a + max_len
    cut = lo + int(np.argmin(levels[lo:hi])) if hi > lo else a + max_len
    return [(a, cut)] + _split_long(mask, levels, cut + 1, b, max_len, min_len, gap)


def _group(
    mask: np.ndarray, levels: np.ndarray, phrases: list[tuple[int, int]], max_len: int, min_len: int, gap: int
) -> list[tuple[int, int]]:
    """Join consecutive phrases while the take is under 2 × min_len (or the next phrase is short) and fits."""
    spans: list[tuple[int, int]] = []
    for a, b in phrases:
        if b - a > max_len:
            spans.extend(_split_long(mask, levels, a, b, max_len, min_len, gap))
            continue
        if (
            spans
            and b - spans[-1][0] <= max_len
            and (spans[-1][1] - spans[-1][0] < 2 * min_len or b - a < min_len)
        ):
            spans[-1] = (spans[-1][0], b)
        else:
            spans.append((a, b))
    return spans


def plan_slices(
    levels_db: np.ndarray, settings: SliceSettings | None = None, *, whole: bool = False
) -> list[tuple[float, float]]:
    """(start, end) seconds of each take, edge silence included; ``whole`` keeps one take (edges trimmed)."""
    settings = settings or SliceSettings()
    mask = speech_mask(levels_db)
    n = levels_db.size
    if not mask.any():
        return []
    gap = max(1, int(round(settings.min_silence_s / HOP_S)))
    max_len = int(round(settings.max_s / HOP_S))
    min_len = int(round(settings.min_s / HOP_S))
    phrases = _phrases(mask, gap)
    phrases = [(a, b) for a, b in phrases if b - a >= 8]  # under 80 ms: a click, not a word
    if not phrases:
        return []
    if whole:
        spans = [(phrases[0][0], phrases[-1][1])]
    else:
        spans = _group(mask, levels_db, phrases, max_len, min_len, gap)
    pad = int(round(settings.pad_s / HOP_S))
    out: list[tuple[float, float]] = []
    for i, (a, b) in enumerate(spans):
        if (b - a) * HOP_S < settings.drop_below_s and len(spans) > 1:
            continue
        before = a if i == 0 else (a - spans[i - 1][1]) // 2
        after = n - b if i == len(spans) - 1 else (spans[i + 1][0] - b) // 2
        start = a - min(pad, before)
        end = b + min(pad, after)
        out.append((start * HOP_S, end * HOP_S))
    return out
