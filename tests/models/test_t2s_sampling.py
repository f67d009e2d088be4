"""Unit tests of the GPT's sampling steps, each in the reference's order."""

from __future__ import annotations

import math

import pytest
import torch

from engine.models.t2s.sampling import (
    SamplingParams,
    apply_repetition_penalty,
    apply_temperature,
    apply_top_k,
    apply_top_p,
    exponential_race,
    logits_to_probs,
    sample_next,
)

INF = float("inf")


def test_repetition_penalty_divides_positive_and_multiplies_negative():
    logits = torch.tensor([[2.0, -2.0, 0.0, 1.0, -1.0]])
    prev = torch.tensor([[0, 1, 2, 0, 1]])  # repeats are penalised once, not per occurrence
    out = apply_repetition_penalty(logits, prev, 2.0)
    assert out.tolist() == [[1.0, -4.0, 0.0, 1.0, -1.0]]
    assert logits.tolist() == [[2.0, -2.0, 0.0, 1.0, -1.0]]  # the input is left alone


def test_repetition_penalty_noop_cases():
    logits = torch.tensor([[3.0, -3.0]])
    assert apply_repetition_penalty(logits, torch.tensor([[0, 1]]), 1.0).tolist() == logits.tolist()
    assert (
        apply_repetition_penalty(logits, torch.zeros(1, 0, dtype=torch.long), 1.35).tolist()
        == logits.tolist()
    )


def test_top_p_keeps_the_minimal_set():
    probs = torch.tensor([[0.5, 0.3, 0.15, 0.05]])
    logits = probs.log()
    kept = torch.isfinite(apply_top_p(logits, 0.8))
    # cumulative 0.5, 0.8, 0.95, 1.0: tokens whose cumulative mass exceeds p are dropped
    assert kept.tolist() == [[True, True, False, False]]
    kept = torch.isfinite(apply_top_p(logits, 0.79))
    assert kept.tolist() == [[True, False, False, False]]
    # the most likely token always survives, even with a tiny p
    kept = torch.isfinite(apply_top_p(logits[:, [2, 0, 3, 1]], 0.01))
    assert kept.tolist() == [[False, True, False, False]]
    assert torch.equal(apply_top_p(logits, 1.0), logits)


def test_temperature_divides_and_floors():
    logits = torch.tensor([[1.0, -2.0]])
    assert apply_temperature(logits, 0.5).tolist() == [[2.0, -4.0]]
    assert apply_temperature(logits, 0.0).tolist() == [[1e5, -2e5]]


def test_top_k_keeps_ties_at_the_pivot():
    logits = torch.tensor([[5.0, 1.0, 3.0, 3.0, -1.0]])
    out = apply_top_k(logits, 2)
    assert torch.isfinite(out).tolist() == [[True, False, True, True, False]]
    assert torch.equal(apply_top_k(logits, 0), logits)
    assert torch.isfinite(apply_top_k(logits, 99)).all()


def test_steps_run_in_the_reference_order():
    # penalty first: token 0 (seen) drops from 2.0 to 1.0, so top-k=1 must pick token 1 (1.5)
    logits = torch.tensor([[2.0, 1.5, -5.0]])
    probs, penalised = logits_to_probs(logits, torch.tensor([[0]]), SamplingParams(1, 1.0, 1.0, 2.0))
    assert penalised.tolist() == [[1.0, 1.5, -5.0]]
    assert probs.tolist() == [[0.0, 1.0, 0.0]]
    # top-p sees the untempered distribution: 0.4, 0.35, 0.25 with p=0.8 keeps the first two; had the
    # temperature 0.1 come first (0.79, 0.21, 0.007) only the first would survive
    logits = torch.log(torch.tensor([[0.4, 0.35, 0.25]]))
    probs, _ = logits_to_probs(logits, torch.zeros(1, 0, dtype=torch.long), SamplingParams(0, 0.8, 0.1, 1.0))
    assert probs[0, 2] == 0 and probs[0, 1] > 0.1
    assert torch.allclose(probs[0, :2], torch.softmax(logits[0, :2] / 0.1, dim=-1))
    # top-k comes after the temperature and after top-p: k=1 keeps only the best
    probs, _ = logits_to_probs(logits, torch.zeros(1, 0, dtype=torch.long), SamplingParams(1, 0.8, 0.1, 1.0))
    assert probs.tolist() == [[1.0, 0.0, 0.0]]


def test_exponential_race_is_deterministic_under_a_generator():
    probs = torch.softmax(torch.randn(4, 50), dim=-1)
    a = exponential_race(probs, torch.Generator().manual_seed(7))
    b = exponential_race(probs, torch.Generator().manual_seed(7))
    assert a.shape == (4, 1) and a.dtype == torch.long
    assert torch.equal(a, b)
    # zero-probability tokens are never drawn
    p = torch.tensor([[0.0, 0.7, 0.0, 0.3]])
    g = torch.Generator().manual_seed(1)
    draws = {int(exponential_race(p, g)) for _ in range(200)}
    assert draws == {1, 3}


def test_exponential_race_matches_categorical_in_distribution():
    p = torch.tensor([[0.5, 0.25, 0.15, 0.1]])
    n = 20000
    g = torch.Generator().manual_seed(123)
    draws = exponential_race(p.expand(n, -1).contiguous(), g).squeeze(1)
    freq = torch.bincount(draws, minlength=4).double() / n
    # chi-square against the categorical distribution, 3 degrees of freedom: p < 0.001 above 16.27
    chi2 = float(((freq - p[0].double()) ** 2 / p[0].double()).sum() * n)
    assert chi2 < 16.27, (freq, chi2)
    # and against torch.multinomial's frequencies from the same distribution
    ref = torch.multinomial(p[0], n, replacement=True, generator=torch.Generator().manual_seed(5))
    ref_freq = torch.bincount(ref, minlength=4).double() / n
    assert torch.allclose(freq, ref_freq, atol=0.02)


def test_sample_next_uses_the_generator():
    logits = torch.randn(1, 1025)
    prev = torch.randint(0, 1024, (1, 30))
    params = SamplingParams()
    a, pa = sample_next(logits, prev, params, torch.Generator().manual_seed(3))
    b, pb = sample_next(logits, prev, params, torch.Generator().manual_seed(3))
    assert int(a) == int(b) and torch.equal(pa, pb)
    # with top_k=15 the draw is always one of the 15 best penalised logits
    top = set(torch.topk(pa, 15).indices[0].tolist())
    g = torch.Generator().manual_seed(0)
    assert all(int(sample_next(logits, prev, params, g)[0]) in top for _ in range(50))


@pytest.mark.parametrize(
    "kwargs", [{"top_p": 0.0}, {"top_p": 1.5}, {"temperature": -1.0}, {"repetition_penalty": 0}]
)
def test_bad_params_are_refused(kwargs):
    with pytest.raises(ValueError):
        SamplingParams(**kwargs)


def test_penalty_value_matches_spec_default():
    assert math.isclose(SamplingParams().repetition_penalty, 1.35)
    assert (
        SamplingParams().top_k == 15 and SamplingParams().top_p == 1.0 and SamplingParams().temperature == 1.0
    )
