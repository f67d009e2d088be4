"""Next-token sampling of the text-to-semantic GPT, in the reference's order.

For logits [B, V] and the tokens seen so far (prompt included):

1. repetition penalty on every previously seen token (each token once, however often it occurs):
   a logit < 0 is multiplied by the penalty, a logit >= 0 is divided by it;
2. top-p on the penalised logits: sort descending, drop a token once the cumulative probability
   *including it* exceeds p, but always keep the most likely token;
3. divide by max(temperature, 1e-5);
4. top-k: keep the logits >= the k-th largest (ties at the pivot survive);
5. softmax;
6. exponential race: argmax(probs / E) with E ~ Exp(1) i.i.d., which draws from ``probs`` exactly.

The penalised logits (after step 1) are also returned: the decoder's "argmax is EOS" stop rule looks at
them, as the reference's in-place penalty makes it do.

The functions below are the reference; :class:`Sampler` (what the decode loop uses) runs the same steps
bit for bit on buffers made once per decode, with the history kept as a mask of the tokens seen.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class SamplingParams:
    """Sampling settings; the defaults are the official WebUI/API ones."""

    top_k: int = 15
    top_p: float = 1.0
    temperature: float = 1.0
    repetition_penalty: float = 1.35

    def __post_init__(self) -> None:
        if not 0.0 < self.top_p <= 1.0:
            raise ValueError("top_p must be in (0, 1]")
        if self.temperature < 0:
            raise ValueError("temperature must be >= 0")
        if self.repetition_penalty <= 0:
            raise ValueError("repetition_penalty must be > 0")


def apply_repetition_penalty(logits: torch.Tensor, previous: torch.Tensor, penalty: float) -> torch.Tensor:
    """Penalise the logits [B, V] of the tokens in ``previous`` [B, N]; returns a new tensor."""
    if penalty == 1.0 or previous.numel() == 0:
        return logits.clone()
    index = previous.long()
    score = logits.gather(1, index)
    score = torch.where(score < 0, score * penalty, score / penalty)
    return logits.scatter(1, index, score)


def apply_top_p(logits: torch.Tensor, top_p: float) -> torch.Tensor:
    """Keep the smallest head of the sorted distribution whose mass reaches ``top_p`` (at least one)."""
    if top_p >= 1.0:
        return logits
    sorted_logits, order = torch.sort(logits, dim=-1, descending=True)
    cum = torch.softmax(sorted_logits, dim=-1).cumsum(dim=-1)
    drop_sorted = cum > top_p
    drop_sorted[:, 0] = False
    drop = drop_sorted.scatter(1, order, drop_sorted)
    return logits.masked_fill(drop, float("-inf"))


def apply_temperature(logits: torch.Tensor, temperature: float) -> torch.Tensor:
    """Divide by the temperature (floored at 1e-5, so 0 is near-greedy)."""
    return logits / max(temperature, 1e-5)


def apply_top_k(logits: torch.Tensor, top_k: int | None) -> torch.Tensor:
    """Keep the logits >= the k-th largest; ``None`` or k <= 0 keeps everything."""
    if top_k is None or top_k <= 0:
        return logits
    k = min(top_k, logits.shape[-1])
    pivot = torch.topk(logits, k, dim=-1).values[:, -1:]
    return logits.masked_fill(logits < pivot, float("-inf"))


def exponential_race(probs: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    """Draw one index per row of ``probs`` [B, V] as argmax(probs / Exp(1) noise); returns [B, 1] int64."""
    noise = torch.empty_like(probs).exponential_(1.0, generator=generator)
    return torch.argmax(probs / noise, dim=-1, keepdim=True)


def logits_to_probs(
    logits: torch.Tensor, previous: torch.Tensor, params: SamplingParams
) -> tuple[torch.Tensor, torch.Tensor]:
    """Steps 1-5: return (probabilities [B, V], penalised logits [B, V])."""
    penalised = apply_repetition_penalty(logits, previous, params.repetition_penalty)
    x = apply_top_p(penalised, params.top_p)
    x = apply_temperature(x, params.temperature)
    x = apply_top_k(x, params.top_k)
    return torch.softmax(x, dim=-1), penalised


def sample_next(
    logits: torch.Tensor,
    previous: torch.Tensor,
    params: SamplingParams,
    generator: torch.Generator | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """All six steps: return (next token [B, 1] int64, penalised logits [B, V])."""
    probs, penalised = logits_to_probs(logits, previous, params)
    return exponential_race(probs, generator), penalised


class _Scratch:
    """The buffers of one logits width: every intermediate of the six steps, made once."""

    def __init__(self, batch: int, width: int, dtype: torch.dtype, device: torch.device, k: int) -> None:
        def new(dt: torch.dtype = dtype) -> torch.Tensor:
            return torch.empty(batch, width, dtype=dt, device=device)

        self.negative, self.low = new(torch.bool), new(torch.bool)
        self.scaled, self.divided, self.penalised = new(), new(), new()
        self.x, self.probs, self.noise = new(), new(), new()
        self.top_values = torch.empty(batch, k, dtype=dtype, device=device)
        self.top_indices = torch.empty(batch, k, dtype=torch.long, device=device)
        self.pivot = self.top_values[:, k - 1 :] if k else self.top_values
        self.picks = torch.empty(2, batch, 1, dtype=torch.long, device=device)  # sample, argmax


class Sampler:
    """:func:`sample_next` on scratch tensors made once per decode, with the history kept as a mask.

    Bit-identical to :func:`sample_next` with the same settings and generator: the same elementwise
    operations run on the same values, only into pre-allocated outputs. The history is a [B, vocab]
    "seen" mask rather than a list of tokens (the penalty touches each seen token once however often it
    occurs, so the two are the same), grown by :meth:`observe` and by every sample. The returned tensors
    are views of the scratch buffers: they hold until the next call.
    """

    def __init__(
        self,
        params: SamplingParams,
        vocab_size: int,
        *,
        batch: int = 1,
        device: torch.device | str | None = None,
        generator: torch.Generator | None = None,
    ) -> None:
        self.params = params
        self.generator = generator
        self.seen = torch.zeros(batch, vocab_size, dtype=torch.bool, device=device)
        self._temperature = max(params.temperature, 1e-5)
        self._top_k = 0 if params.top_k is None or params.top_k <= 0 else params.top_k
        self._scratch: dict[tuple[int, torch.dtype], _Scratch] = {}

    def observe(self, tokens: torch.Tensor) -> None:
        """Add ``tokens`` [B, N] to the history that the repetition penalty reads."""
        if tokens.numel():
            self.seen.scatter_(1, tokens.to(self.seen.device, torch.long), True)

    def _buffers(self, logits: torch.Tensor) -> _Scratch:
        b, width = logits.shape
        key = (width, logits.dtype)
        s = self._scratch.get(key)
        if s is None:
            s = _Scratch(b, width, logits.dtype, logits.device, min(self._top_k, width))
            self._scratch[key] = s
        return s

    def sample(self, logits: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """All six steps on logits [B, V]: (next token [B, 1] int64, penalised logits [B, V]).

        The token joins the history. V may be any width up to ``vocab_size`` (the decoder drops the EOS
        column for its first steps); each width gets its own buffers.
        """
        return self._sample(logits)[1:]

    def step(self, logits: torch.Tensor) -> tuple[torch.Tensor, int, int]:
        """:meth:`sample` of one row with a single host sync: (token [1, 1], token, argmax of penalised)."""
        s, token, penalised = self._sample(logits)
        torch.argmax(penalised, dim=-1, keepdim=True, out=s.picks[1])
        tok, best = s.picks.view(2).tolist()
        return token, tok, best

    def _sample(self, logits: torch.Tensor) -> tuple[_Scratch, torch.Tensor, torch.Tensor]:
        s = self._buffers(logits)
        penalised = self._penalise(logits, s)
        x = penalised
        if self.params.top_p < 1.0:
            x = apply_top_p(x, self.params.top_p)  # rare: the reference function as it is
        x = torch.div(x, self._temperature, out=s.x)
        if self._top_k:
            torch.topk(x, s.top_values.shape[1], dim=-1, out=(s.top_values, s.top_indices))
            x.masked_fill_(torch.lt(x, s.pivot, out=s.low), float("-inf"))
        probs = torch.softmax(x, dim=-1, out=s.probs)
        s.noise.exponential_(1.0, generator=self.generator)
        token = torch.argmax(torch.div(probs, s.noise, out=s.x), dim=-1, keepdim=True, out=s.picks[0])
        self.seen.scatter_(1, token, True)
        return s, token, penalised

    def _penalise(self, logits: torch.Tensor, s: _Scratch) -> torch.Tensor:
        penalty = self.params.repetition_penalty
        if penalty == 1.0:
            return logits
        torch.lt(logits, 0, out=s.negative)
        scaled = torch.mul(logits, penalty, out=s.scaled)
        torch.where(s.negative, scaled, torch.div(logits, penalty, out=s.divided), out=scaled)
        return torch.where(self.seen[:, : logits.shape[1]], scaled, logits, out=s.penalised)
