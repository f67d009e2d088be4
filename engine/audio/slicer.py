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
        """Append mono samples; the block's own mean (a DC offset) is removed before its levels."""
        self.frames += block.size
        if block.size:
            block = (block - np.mean(block, dtype=np.float64)).astype(np.float32)
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


# ------------------------------------------------------------------------------ transcript alignment

MIN_PAUSE_S = 0.10
"""Shortest silence that may end a line (shorter gaps are stop closures inside words)."""
DURATION_SPREAD = 0.20
"""How far (log ratio) a line's length may stray from what its phone count predicts, plus ..."""
DURATION_JITTER_S = 0.35
"""... a fixed ±0.35 s, which matters for short lines."""
PAUSE_WEIGHT = 1.5
"""Score per unit of log(pause length): longer pauses are likelier ends of sentences."""
MIN_RATE_S, MAX_RATE_S = 0.03, 0.40
"""Plausible seconds of speech per phone; outside this the lines do not describe this recording."""


@dataclass(frozen=True)
class Alignment:
    """Where each transcript line lies in the recording, and how sure the alignment is of each cut."""

    spans: list[tuple[float, float]]  # (start, end) seconds of each line's take, edge silence included
    confidence: list[float]  # per cut between line i and i+1: the probability it is at the right pause
    seconds_per_phone: float
    misfit: list[float]  # per line: how far its length is from the prediction, in spreads (|z|)

    @property
    def overall(self) -> float:
        """The chance that every cut is right, taking the cuts as independent (product of them)."""
        return float(np.prod(self.confidence)) if self.confidence else 1.0

    @property
    def expected_right(self) -> float:
        """How many cuts are expected to be right (sum of their probabilities)."""
        return float(np.sum(self.confidence))

    def least_sure(self) -> int | None:
        """Index i of the least sure cut (between line i and i + 1), or None with one line."""
        return int(np.argmin(self.confidence)) if self.confidence else None


class AlignmentFailed(ValueError):
    """The lines cannot be matched to the recording; the message says why, in plain words."""


def _pauses(mask: np.ndarray, min_hops: int) -> tuple[int, int, np.ndarray, np.ndarray]:
    """First and last voiced hop, and (start, end) hops of the pauses of at least min_hops between them."""
    runs = [(a, b) for a, b in _runs(mask) if b - a >= 8]  # under 80 ms: a click, not speech
    if not runs:
        raise AlignmentFailed("no speech was found")
    onset, offset = runs[0][0], runs[-1][1]
    starts = np.array([runs[i][1] for i in range(len(runs) - 1)], dtype=np.int64)
    ends = np.array([runs[i + 1][0] for i in range(len(runs) - 1)], dtype=np.int64)
    keep = ends - starts >= min_hops
    return onset, offset, starts[keep], ends[keep]


def _lattice(
    weights: np.ndarray, starts: np.ndarray, ends: np.ndarray, rate: float
) -> tuple[np.ndarray, np.ndarray, list[np.ndarray], np.ndarray]:
    """Segment pairs (a, b) grouped by b, each line's segment scores over them, and pause rewards.

    Node 0 is the onset, nodes 1..M the pauses, node M+1 the offset; a line spans from the end of
    node a to the start of node b.
    """
    nodes = starts.size
    longest = float(weights.max()) * rate * 4.0 + 2.0
    a_idx, b_idx = [], []
    for b in range(1, nodes):
        a = np.arange(0, b)
        d = (starts[b] - ends[a]) * HOP_S
        ok = (d > 0.05) & (d <= longest)
        a_idx.append(a[ok])
        b_idx.append(np.full(int(ok.sum()), b))
    pa, pb = np.concatenate(a_idx), np.concatenate(b_idx)
    duration = (starts[pb] - ends[pa]) * HOP_S
    scores = []
    for w in weights:
        expected = w * rate
        spread = np.hypot(DURATION_SPREAD, DURATION_JITTER_S / expected)
        scores.append(-0.5 * (np.log(duration / expected) / spread) ** 2)
    pause = (ends - starts) * HOP_S
    reward = PAUSE_WEIGHT * np.log(np.maximum(pause, HOP_S) / MIN_PAUSE_S)
    reward[0] = reward[-1] = 0.0  # onset and offset are not pauses
    return pa, pb, scores, reward


def _group_reduce(values: np.ndarray, pb: np.ndarray, nodes: int, op: np.ufunc) -> np.ndarray:
    """op.reduce of ``values`` per node b (pairs are sorted by b); -inf where b has no pair."""
    out = np.full(nodes, -np.inf)
    if values.size == 0:
        return out
    first = np.flatnonzero(np.r_[True, pb[1:] != pb[:-1]])
    out[pb[first]] = op.reduceat(values, first)
    return out


def _align_once(
    weights: np.ndarray, onset: int, offset: int, p_starts: np.ndarray, p_ends: np.ndarray, rate: float
) -> tuple[list[int], list[float]]:
    """Best nodes ending each line (Viterbi) and each cut's posterior probability (forward-backward)."""
    n = weights.size
    starts = np.concatenate(([onset], p_starts, [offset]))  # node 0 / M+1: zero-length "pauses"
    ends = np.concatenate(([onset], p_ends, [offset]))
    nodes = starts.size
    pa, pb, scores, reward = _lattice(weights, starts, ends, rate)
    best = np.full((n + 1, nodes), -np.inf)
    fwd = np.full((n + 1, nodes), -np.inf)
    best[0, 0] = fwd[0, 0] = 0.0
    for k in range(n):
        best[k + 1] = _group_reduce(best[k][pa] + scores[k] + reward[pb], pb, nodes, np.maximum)
        fwd[k + 1] = _group_reduce(fwd[k][pa] + scores[k] + reward[pb], pb, nodes, np.logaddexp)
    if not np.isfinite(best[n, nodes - 1]):
        raise AlignmentFailed("the pauses cannot be shared out among the lines")
    # backtrack: the node before each boundary, line by line from the last
    path = [nodes - 1]
    for k in range(n, 0, -1):
        b = path[-1]
        sel = pb == b
        cand = best[k - 1][pa[sel]] + scores[k - 1][sel] + reward[b]
        path.append(int(pa[sel][int(np.argmax(cand))]))
    path.reverse()  # path[k] = node where line k starts (its previous boundary); path[n] = offset
    # backward pass: bwd[k][a] = log-sum over ways to say lines k..n-1 starting after node a
    bwd = np.full((n + 1, nodes), -np.inf)
    bwd[n, nodes - 1] = 0.0
    order = np.argsort(pa, kind="stable")
    sa = pa[order]
    for k in range(n - 1, -1, -1):
        vals = (scores[k] + reward[pb] + bwd[k + 1][pb])[order]
        bwd[k] = _group_reduce(vals, sa, nodes, np.logaddexp)
    total = fwd[n, nodes - 1]
    posts = [float(np.exp(fwd[k][path[k]] + bwd[k][path[k]] - total)) for k in range(1, n)]
    return path, posts


def align_lines(
    levels_db: np.ndarray, weights: list[float], settings: SliceSettings | None = None
) -> Alignment:
    """Cut a recording into one take per transcript line, at the N−1 likeliest ends of sentences.

    ``weights`` are each line's expected length in any unit (its phone count): the speaking rate
    is fitted to the recording. Among the pauses of ≥ 0.1 s, the cuts maximise the sum of each
    line's length score (log-normal around weight × rate: ±20 % and ±0.35 s) and each cut pause's
    length score (longer pauses are likelier ends of sentences), by dynamic programming; the rate
    is refitted once from the result. Each cut's confidence is its posterior probability over all
    ways to cut (forward-backward). Raises AlignmentFailed (a plain-words reason) when the lines
    cannot describe this recording.
    """
    settings = settings or SliceSettings()
    w = np.asarray(weights, dtype=np.float64)
    if w.size == 0 or np.any(w <= 0):
        raise AlignmentFailed("a transcript line has nothing to say")
    mask = speech_mask(levels_db)
    if not mask.any():
        raise AlignmentFailed("no speech was found")
    onset, offset, p_starts, p_ends = _pauses(mask, int(round(MIN_PAUSE_S / HOP_S)))
    if p_starts.size < w.size - 1:
        raise AlignmentFailed(
            f"the recording has {p_starts.size + 1} stretches of speech between pauses, fewer than "
            f"the {w.size} lines"
        )
    span = (offset - onset) * HOP_S
    longest = np.sort(p_ends - p_starts)[::-1][: w.size - 1] * HOP_S
    rate = (span - float(longest.sum())) / float(w.sum())
    if not MIN_RATE_S <= rate <= MAX_RATE_S:
        raise AlignmentFailed(
            f"{span:.0f} s of speech is far {'too long' if rate > MAX_RATE_S else 'too short'} "
            f"for {w.size} lines of this length"
        )
    path, posts = _align_once(w, onset, offset, p_starts, p_ends, rate)
    starts = np.concatenate(([onset], p_starts, [offset]))
    ends = np.concatenate(([onset], p_ends, [offset]))
    said = sum(int(starts[path[k + 1]] - ends[path[k]]) for k in range(w.size)) * HOP_S
    refit = said / float(w.sum())
    if abs(np.log(refit / rate)) > 0.02:
        rate = refit
        path, posts = _align_once(w, onset, offset, p_starts, p_ends, rate)
    misfit = []
    for k in range(w.size):
        said_k = (starts[path[k + 1]] - ends[path[k]]) * HOP_S
        expected = w[k] * rate
        spread = float(np.hypot(DURATION_SPREAD, DURATION_JITTER_S / expected))
        misfit.append(abs(float(np.log(said_k / expected))) / spread)
    pad = int(round(settings.pad_s / HOP_S))
    n = levels_db.size
    spans: list[tuple[float, float]] = []
    for k in range(w.size):
        a, b = path[k], path[k + 1]
        first, last = int(ends[a]), int(starts[b])
        before = first if k == 0 else (ends[a] - starts[a]) // 2
        after = n - last if k == w.size - 1 else (ends[b] - starts[b]) // 2
        spans.append(((first - min(pad, before)) * HOP_S, (last + min(pad, after)) * HOP_S))
    return Alignment(spans, posts, rate, misfit)
