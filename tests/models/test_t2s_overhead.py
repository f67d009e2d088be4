"""The decode loop's lean sampler (``Sampler``): bit-identical to ``sample_next``, and the same tokens.

``sample_next`` and its step functions stay the reference; ``Sampler`` runs the same operations on
pre-allocated buffers with the history held as a "seen" mask. Every setting is compared bit for bit:
tokens, penalised logits and the generator's state afterwards.
"""

from __future__ import annotations

import itertools

import pytest
import torch

from engine.models.t2s import TINY, SamplingParams, Text2Semantic, prefix_mask
from engine.models.t2s.kvcache import KVCache
from engine.models.t2s.sampling import Sampler, sample_next

V = TINY.vocab_size
SETTINGS = [
    SamplingParams(top_k=k, top_p=p, temperature=t, repetition_penalty=r)
    for k, p, t, r in itertools.product((15, 1, 0, V + 5), (1.0, 0.7), (1.0, 0.6, 0.0), (1.35, 1.0, 0.8))
]


pytestmark = pytest.mark.usefixtures("one_thread")


def _logits(g: torch.Generator, width: int) -> torch.Tensor:
    x = torch.randn(1, width, generator=g) * 4
    x[0, torch.randint(0, width, (8,), generator=g)] = 2.0  # ties, at the top-k pivot too
    return x


@pytest.mark.parametrize("params", SETTINGS, ids=str)
def test_sampler_is_bit_identical_to_sample_next(params: SamplingParams):
    g = torch.Generator().manual_seed(hash(params) % 2**31)
    history = torch.randint(0, V - 1, (1, int(torch.randint(0, 40, (1,), generator=g))), generator=g)
    ref_gen = torch.Generator().manual_seed(7)
    sampler = Sampler(params, V, generator=torch.Generator().manual_seed(7))
    sampler.observe(history)
    for step in range(30):
        logits = _logits(g, V - 1 if step < 11 else V)  # the EOS column banned, then not
        want, want_penalised = sample_next(logits, history, params, ref_gen)
        token, tok, best = sampler.step(logits)
        assert torch.equal(token, want)
        assert tok == int(want) and best == int(want_penalised[0].argmax())
        history = torch.cat([history, want], dim=1)
    assert torch.equal(sampler.generator.get_state(), ref_gen.get_state())


def test_sampler_batches_and_repeats_match_the_reference():
    """Several rows, histories with repeats, and ``sample`` returning the penalised logits bit for bit."""
    g = torch.Generator().manual_seed(0)
    params = SamplingParams(top_k=5, top_p=0.9, temperature=0.8, repetition_penalty=1.5)
    history = torch.randint(0, 20, (3, 50), generator=g)  # many repeats of few tokens
    ref_gen, gen = torch.Generator().manual_seed(1), torch.Generator().manual_seed(1)
    sampler = Sampler(params, V, batch=3, generator=gen)
    sampler.observe(history)
    for _ in range(20):
        logits = torch.randn(3, V, generator=g)
        logits[:, :20] += 3  # the penalised tokens stay in the running
        want, want_penalised = sample_next(logits, history, params, ref_gen)
        token, penalised = sampler.sample(logits)
        assert torch.equal(token, want)
        assert torch.equal(penalised, want_penalised)
        history = torch.cat([history, want], dim=1)


def test_sampler_penalty_negative_zero_and_infinite_logits():
    params = SamplingParams(top_k=0, repetition_penalty=1.35)
    logits = torch.tensor([[-0.0, 0.0, -3.0, 3.0, float("-inf"), float("inf"), 1e-38, -1e-38]])
    history = torch.tensor([[0, 1, 2, 3, 4, 6, 7, 7, 2]])
    sampler = Sampler(params, logits.shape[1])
    sampler.observe(history)
    _, want = sample_next(logits, history, params)
    _, got = sampler.sample(logits)
    assert torch.equal(got, want) and torch.equal(got.signbit(), want.signbit())


def _reference_decode(model: Text2Semantic, inputs, params: SamplingParams, steps: int, seed: int):
    """The decode loop as it was before ``Sampler``: ``sample_next`` over the sliced token history."""
    phones, bert, prompt = inputs
    cfg = model.config
    t, p = phones.shape[1], prompt.shape[1]
    fast = model.fast_cpu
    cache = KVCache(cfg.n_layer, 1, cfg.n_head, cfg.head_dim, t + p + steps)
    xy = torch.cat([model.embed_text(phones, bert), model.embed_audio(prompt)], dim=1)
    hidden = (model.h.forward_fast if fast else model.h)(xy, prefix_mask(t, p), cache)
    logits = model.ar_predict_layer(hidden[:, -1]).float()
    history, g, out = prompt.clone(), torch.Generator().manual_seed(seed), []
    for idx in range(steps):
        if idx < cfg.eos_ban_steps:
            logits = logits[:, : cfg.eos]
        token, penalised = sample_next(logits, history, params, g)
        out.append((int(token), int(penalised[0].argmax())))
        if out[-1][0] == cfg.eos or out[-1][1] == cfg.eos:
            break
        history = torch.cat([history, token], dim=1)
        step = model.h.step_fast if fast else model.h.step
        hidden = step(model.embed_audio(token, offset=p + idx), cache)
        logits = model.ar_predict_layer(hidden[:, -1]).float()
    return [tok for tok, _ in out]


@pytest.mark.parametrize("fast", [False, True], ids=["fp32", "fast"])
@torch.inference_mode()
def test_decode_steps_tokens_unchanged(fast: bool):
    torch.manual_seed(1234)
    model = Text2Semantic(TINY).eval()
    g = torch.Generator().manual_seed(0)
    inputs = (
        torch.randint(0, TINY.phoneme_vocab_size, (1, 12), generator=g),
        torch.randn(1, TINY.bert_dim, 12, generator=g),
        torch.randint(0, 1024, (1, 8), generator=g),
    )
    if fast:
        model.enable_fast_cpu()
    cases = [(SamplingParams(), 0), (SamplingParams(top_k=3, top_p=0.8, temperature=0.7), 1)]
    cases += [(SamplingParams(top_k=50, repetition_penalty=2.0), 2), (SamplingParams(top_k=1), 3)]
    for params, seed in cases:
        want = _reference_decode(model, inputs, params, 60, seed)
        g = torch.Generator().manual_seed(seed)
        got = [s.token for s in model.decode_steps(*inputs, params, max_steps=60, generator=g)]
        assert got == want, params
        assert len(got) > 11  # decoded past the EOS ban, so both widths were used
