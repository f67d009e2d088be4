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
