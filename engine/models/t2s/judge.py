"""Judging one GPT pass before it is decoded: does it loop, repeat or skip words, or leak the reference?

The GPT-SoVITS failure people meet most (upstream #51, #273, #996, #2220) is a pass that repeats a word,
loops, stops early (words skipped) or starts by repeating the end of the reference clip (#1165, #1588).
:func:`judge_tokens` looks at the generated tokens and returns a :class:`Verdict`; the synthesiser
samples such a sentence again with the next seed and keeps the best attempt.

How long a sentence should be comes from the voice itself: the reference clip's tokens per spoken phone
(its 0.6 s of appended zeros, 15 tokens, left out) times the target's spoken phones. Thresholds, and why:

- ``rate_high`` 1.9 / ``rate_low`` 0.45 on tokens / expected tokens. Measured with espeak-ng on the
  built-in scripts (``engine/prompts``, 25 en + 26 zh lines, at 130 and 175 words/min): one sentence's
  tokens-per-phone over another's ranges 0.80..1.24 at a fixed speaking rate (phone mix, pauses);
  reading 35 % faster or slower than in the reference adds a factor of 1.35 (0.59..1.67 in all). The
  bounds sit outside that with a margin; a repeated phrase or a dropped half sentence falls outside them.
- ``slack_tokens`` 10 (0.4 s): added to the upper bound and taken off the lower one, for the leading and
  trailing silence a short sentence has however fast it is read (a 5-phone sentence has ~12 tokens).
- ``loop_tokens`` 40 (1.6 s): a stretch where token i equals token i+p (period p = 1..``max_period``)
  that, with one period, covers 40 tokens and holds at least two full periods. p = 1 is one code held
  1.6 s; real pauses inside a sentence are shorter, and random sampling (top-k 15 under the repetition
  penalty) matches the token p back with a chance near 1/15 per position, so 40 in a row never happens
  by chance (see the false-alarm figures in the tests and bench).
- ``leak_tokens`` 12 (0.5 s): that many consecutive tokens equal to a stretch of the reference's own
  tokens (with at least 3 different codes, so a shared silence does not count) means the reference is
  being spoken again.
A pass cut by a ``max_steps`` the caller set is never "short" (the caller cut it), and the step cap of
the model always makes a pass "long" when it binds well past the expected length.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

REFERENCE_PAD_TOKENS = 15  # 0.6 s of zeros appended to the reference clip at 25 Hz


@dataclass(frozen=True)
class JudgeLimits:
    """Thresholds of :func:`judge_tokens` (see the module docstring for where they come from)."""

    rate_high: float = 1.9
    rate_low: float = 0.45
    slack_tokens: int = 10
    loop_tokens: int = 40
    max_period: int = 50
    leak_tokens: int = 12
    leak_distinct: int = 3
    abort_rate: float = 3.0  # past abort_rate x expected + slack a pass is hopeless: stop sampling it


@dataclass
class Verdict:
    """What :func:`judge_tokens` found: ``ok`` or the reasons, and how bad (for keeping the best attempt)."""

    reasons: list[str] = field(default_factory=list)
    badness: float = 0.0
    ratio: float | None = None  # tokens / expected tokens (None without a reference rate)

    @property
    def ok(self) -> bool:
        """True when nothing is wrong."""
        return not self.reasons

    def summary(self) -> str:
        """One line for logs and the Chunk: "ok" or the reasons joined."""
        return "ok" if self.ok else "; ".join(self.reasons)


def reference_rate(prompt_tokens: int, prompt_phones: int) -> float | None:
    """Tokens per spoken phone of the reference clip (None when it cannot be told)."""
    speech = prompt_tokens - REFERENCE_PAD_TOKENS
    if prompt_phones <= 0 or speech <= 0:
        return None
    return speech / prompt_phones


def expected_tokens(rate: float | None, target_phones: int) -> float | None:
    """How many tokens ``target_phones`` spoken phones take at the reference's rate."""
    if rate is None or target_phones <= 0:
        return None
    return rate * target_phones


def longest_period_stretch(tokens: Sequence[int], max_period: int) -> tuple[int, int, int]:
    """(covered tokens, period, start) of the longest stretch where token i equals token i+p."""
    best = (0, 0, 0)
    n = len(tokens)
    for p in range(1, min(max_period, n - 1) + 1):
        run = 0
        for i in range(n - p):
            if tokens[i] == tokens[i + p]:
                run += 1
                if run >= p and run + p > best[0]:
                    best = (run + p, p, i - run + 1)
            else:
                run = 0
    return best


def longest_shared_stretch(tokens: Sequence[int], reference: Sequence[int], min_distinct: int) -> int:
    """Length of the longest run of ``tokens`` found verbatim in ``reference`` (enough distinct codes)."""
    if not tokens or not reference:
        return 0
    best = 0
    prev = [0] * (len(reference) + 1)
    for a in tokens:
        cur = [0] * (len(reference) + 1)
        for j, b in enumerate(reference, 1):
            if a == b:
                cur[j] = prev[j - 1] + 1
                if cur[j] > best and len(set(reference[j - cur[j] : j])) >= min_distinct:
                    best = cur[j]
        prev = cur
    return best


def too_long(n_tokens: int, expected: float | None, limits: JudgeLimits) -> bool:
    """Whether ``n_tokens`` already makes the pass hopeless (used to stop sampling a runaway early)."""
    return expected is not None and n_tokens > limits.abort_rate * expected + limits.slack_tokens


def judge_tokens(
    tokens: Sequence[int],
    *,
    expected: float | None,
    reference: Sequence[int] = (),
    ended_on_eos: bool = True,
    limits: JudgeLimits | None = None,
) -> Verdict:
    """Judge one pass's tokens: too long (repeats), too short (skips), loops, or reference leakage."""
    lim = limits or JudgeLimits()
    tokens = list(tokens)
    n = len(tokens)
    v = Verdict()
    if expected is not None and expected > 0:
        v.ratio = n / expected
        high = lim.rate_high * expected + lim.slack_tokens
        low = lim.rate_low * expected - lim.slack_tokens
        if n > high:
            v.reasons.append(f"too long: {n} tokens for ~{expected:.0f} expected (repeats?)")
            v.badness += math.log(n / high) + 1.0
        elif ended_on_eos and n < low:
            v.reasons.append(f"too short: {n} tokens for ~{expected:.0f} expected (words skipped?)")
            v.badness += math.log(low / max(n, 1)) + 1.0
    covered, period, start = longest_period_stretch(tokens, lim.max_period)
    if covered >= lim.loop_tokens:
        what = f"one token held {covered} steps" if period == 1 else f"a {period}-token loop over {covered}"
        v.reasons.append(f"loops: {what} (from token {start})")
        v.badness += 1.0 + covered / max(n, 1)
    speech = list(reference[:-REFERENCE_PAD_TOKENS]) if len(reference) > REFERENCE_PAD_TOKENS else []
    shared = longest_shared_stretch(tokens, speech, lim.leak_distinct)
    if shared >= lim.leak_tokens:
        v.reasons.append(f"reference leak: {shared} tokens copied from the reference clip")
        v.badness += 1.0 + shared / max(n, 1)
    return v
