"""The opt-in fast CPU decode (`SynthesizerTrn.enable_fast_cpu`): quality gate against fp32, exact restore.

Gate: the fast decode's audio is within a relative L2 of 1e-2 of the fp32 decode of the same inputs at
noise_scale 0 (measured on V2 random weights: about 0.004), one-shot and streaming. The decoder of
random weights hardly passes on errors of its input z (a 10% error in z moves the audio by 0.3%), so
the bf16 prior encoder FFNs and flow have their own gate on z = flow(enc_p(...)), measured with the
flow's zero-initialised `.post` layers set to normal(0, 0.1) so that the flow changes z by about 50%.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from engine.models.sovits import TINY, V2, SynthesizerTrn
from engine.models.sovits.generator import FastPlan
from engine.models.sovits.streaming import StreamingDecoder
from engine.models.spec import spectrogram

GATE = 1e-2


@pytest.fixture(autouse=True, scope="module")
def _two_threads():
    before = torch.get_num_threads()
    torch.set_num_threads(min(2, before))
    yield
    torch.set_num_threads(before)


def _random(
    config, remove_weight_norm: bool = True, seed: int = 0, post_scale: float = 0.01
) -> SynthesizerTrn:
    """Random weights where the flow's zero-initialised layers and the codebook take part."""
    torch.manual_seed(seed)
    model = SynthesizerTrn(config, with_posterior=False)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith(".post.weight") or name.endswith(".post.bias"):
                p.normal_(0, post_scale)
        model.quantizer.vq.layers[0]._codebook.embed.normal_()
    if remove_weight_norm:
        model.remove_weight_norm()
    return model.eval()


def _inputs(config, tokens: int, seed: int = 1):
    gen = torch.Generator().manual_seed(seed)
    codes = torch.randint(0, config.codebook_size, (1, 1, tokens), generator=gen)
    text = torch.randint(0, config.n_symbols, (1, 20), generator=gen)
    refer = spectrogram(torch.randn(1, 16000, generator=gen) * 0.1)
    return codes, text, refer


def _rel(a: torch.Tensor | np.ndarray, b: torch.Tensor | np.ndarray) -> float:
    a, b = torch.as_tensor(a).double(), torch.as_tensor(b).double()
    return float((a - b).norm() / b.norm())


@torch.no_grad()
def _prior(model: SynthesizerTrn, codes, text, ge) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(m_p, mask, z): `decode`'s prior mean and the decoder input z = flow^-1(m_p) at noise_scale 0."""
    quantized = model._upsample(model.quantizer.decode(codes))
    y_lengths = torch.tensor([quantized.size(2)])
    text_lengths = torch.tensor([text.size(-1)])
    _, m_p, _, mask = model.enc_p(quantized, y_lengths, text, text_lengths, model._ge_text(ge))
    return m_p, mask, model.flow(m_p, mask, g=ge, reverse=True)


@pytest.fixture(scope="module")
def v2():
    model = _random(V2)
    codes, text, refer = _inputs(V2, tokens=40)  # 1.6 s: the tiled tail runs on two tiles
    with torch.no_grad():
        ge = model.reference_embedding(refer)
        want = model.decode(codes, text, ge=ge, noise_scale=0.0)
    return model, codes, text, ge, want


def test_v2_fast_decode_is_within_the_gate_and_disable_restores_fp32_exactly(v2):
    model, codes, text, ge, want = v2
    state = {k: v.clone() for k, v in model.state_dict().items()}
    assert not model.fast_cpu
    model.enable_fast_cpu()
    assert model.fast_cpu
    try:
        with torch.no_grad():
            got = model.decode(codes, text, ge=ge, noise_scale=0.0)
        with torch.inference_mode():
            got_inference = model.decode(codes, text, ge=ge, noise_scale=0.0)
    finally:
        model.disable_fast_cpu()
    assert got.shape == want.shape and got.dtype == torch.float32
    assert not torch.equal(got, want)  # the fast path really ran
    assert _rel(got, want) < GATE
    assert torch.equal(got_inference, got)
    # the parameters, buffers and state dict are untouched, and fp32 comes back bit for bit
    after = model.state_dict()
    assert after.keys() == state.keys()
    assert all(after[k].dtype == state[k].dtype and torch.equal(after[k], state[k]) for k in state)
    assert not model.fast_cpu
    with torch.no_grad():
        again = model.decode(codes, text, ge=ge, noise_scale=0.0)
    assert torch.equal(again, want)


@pytest.fixture(scope="module")
def v2_flow():
    """V2 random weights whose flow matters (`.post` ~ normal(0, 0.1)); 250 frames as in a 5 s decode."""
    model = _random(V2, post_scale=0.1)
    codes, text, refer = _inputs(V2, tokens=125)
    with torch.no_grad():
        ge = model.reference_embedding(refer)
    return model, codes, text, ge


def test_v2_fast_prior_encoder_and_flow_are_within_the_gate_on_z(v2_flow):
    model, codes, text, ge = v2_flow
    m_want, mask, z_want = _prior(model, codes, text, ge)
    assert _rel(z_want, m_want) > 0.2  # the flow is far from an identity here
    model.enable_fast_cpu()
    try:
        m_got, _, z_got = _prior(model, codes, text, ge)
        with torch.no_grad():
            z_flow_only = model.flow(m_want, mask, g=ge, reverse=True)  # fp32 input: the flow's own error
    finally:
        model.disable_fast_cpu()
    assert not torch.equal(m_got, m_want) and not torch.equal(z_flow_only, z_want)  # both fast parts ran
    assert _rel(m_got, m_want) < GATE / 2
    assert _rel(z_flow_only, z_want) < GATE / 2
    assert _rel(z_flow_only - m_want, z_want - m_want) < GATE  # error of what the flow adds
    assert _rel(z_got, z_want) < GATE
    # each part can be left in fp32
    model.enable_fast_cpu(flow=False, encoder=False)
    try:
        m_fp32, _, z_fp32 = _prior(model, codes, text, ge)
    finally:
        model.disable_fast_cpu()
    assert torch.equal(m_fp32, m_want) and torch.equal(z_fp32, z_want)
    _, _, z_again = _prior(model, codes, text, ge)
    assert torch.equal(z_again, z_want)


def test_tiling_and_layouts_change_nothing_but_rounding(v2):
    """With every stage in fp32 the fast path is the reference math re-arranged: tiles, channels-last."""
    model, codes, text, ge, want = v2
    n = len(V2.upsample_rates)
    # tiles from the first stage on, channels-last for the first two stages only
    model.dec.enable_fast(FastPlan(("fp32",) * n, tile_from=0, tile_samples=24000, channels_last=2))
    try:
        with torch.no_grad():
            got = model.decode(codes, text, ge=ge, noise_scale=0.0)
    finally:
        model.disable_fast_cpu()
    assert got.shape == want.shape
    assert _rel(got, want) < 1e-5


@pytest.mark.parametrize(
    "plan",
    [
        FastPlan(("fp32",) * 3, tile_from=0, tile_samples=1000, channels_last=0),
        FastPlan(("fp32",) * 3, tile_from=1, tile_samples=3000),
        FastPlan(("fp32",) * 3, tile_from=2, tile_samples=640, channels_last=1),
    ],
)
def test_tiny_tiling_is_exact_up_to_rounding(plan):
    model = _random(TINY)
    codes, text, refer = _inputs(TINY, tokens=30)
    with torch.no_grad():
        ge = model.reference_embedding(refer)
        want = model.decode(codes, text, ge=ge, noise_scale=0.0)
        model.dec.enable_fast(plan)
        got = model.decode(codes, text, ge=ge, noise_scale=0.0)
    assert got.shape == want.shape
    assert _rel(got, want) < 1e-5


def test_bad_plans_are_refused(v2):
    model = v2[0]
    with pytest.raises(ValueError):
        model.dec.enable_fast(FastPlan(("bf16",) * 2))
    with pytest.raises(ValueError):
        model.dec.enable_fast(FastPlan(("bf16",) * 5, tile_from=5))
    assert not model.fast_cpu


def test_training_and_grad_mode_keep_the_fp32_path():
    model = _random(TINY, remove_weight_norm=False)
    codes, text, refer = _inputs(TINY, tokens=12)
    z = torch.randn(1, TINY.inter_channels, 24)
    g = torch.randn(1, TINY.gin_channels, 1)
    with torch.no_grad():
        want_eval = model.dec(z, g)
    want_grad = model.dec(z, g)
    quantized = model._upsample(model.quantizer.decode(codes))
    lengths = (torch.tensor([quantized.size(2)]), torch.tensor([text.size(1)]))
    mask = torch.ones(1, 1, 24)
    with torch.no_grad():
        want_prior = model.enc_p(quantized, lengths[0], text, lengths[1], g)[1]
        want_flow = model.flow(z, mask, g=g, reverse=True)
    model.enable_fast_cpu()
    try:
        # grad enabled or training mode: the fp32 reference paths of enc_p and the flow
        assert torch.equal(model.enc_p(quantized, lengths[0], text, lengths[1], g)[1], want_prior)
        assert torch.equal(model.flow(z, mask, g=g, reverse=True), want_flow)
        model.enc_p.train()
        model.flow.train()
        with torch.no_grad():
            assert torch.equal(model.enc_p(quantized, lengths[0], text, lengths[1], g)[1], want_prior)
            assert torch.equal(model.flow(z, mask, g=g, reverse=True), want_flow)
        model.enc_p.eval()
        model.flow.eval()
        with torch.no_grad():
            assert not torch.equal(model.enc_p(quantized, lengths[0], text, lengths[1], g)[1], want_prior)
            assert not torch.equal(model.flow(z, mask, g=g, reverse=True), want_flow)
        assert torch.equal(model.dec(z, g), want_grad)  # grad enabled: reference path
        model.dec.train()
        with torch.no_grad():
            assert torch.equal(model.dec(z, g), want_eval)  # training mode: reference path
        model.dec.eval()
        with torch.no_grad():
            assert not torch.equal(model.dec(z, g), want_eval)
    finally:
        model.disable_fast_cpu()


@pytest.mark.parametrize("remove_weight_norm", [True, False])
def test_tiny_fast_decode_is_within_the_gate_and_follows_weight_changes(remove_weight_norm):
    model = _random(TINY, remove_weight_norm=remove_weight_norm)
    codes, text, refer = _inputs(TINY, tokens=40)
    with torch.no_grad():
        ge = model.reference_embedding(refer)
        want = model.decode(codes, text, ge=ge, noise_scale=0.0)
        z_want = _prior(model, codes, text, ge)[2]
        model.enable_fast_cpu()
        got = model.decode(codes, text, ge=ge, noise_scale=0.0)
        z_got = _prior(model, codes, text, ge)[2]
        assert _rel(got, want) < GATE and _rel(z_got, z_want) < GATE
        # the bf16 weight copies follow in-place changes of the fp32 weights (e.g. load_state_dict)
        other = _random(TINY, remove_weight_norm=remove_weight_norm, seed=3, post_scale=0.1)
        model.load_state_dict(other.state_dict())
        got2 = model.decode(codes, text, ge=ge, noise_scale=0.0)
        z_got2 = _prior(model, codes, text, ge)[2]
        model.disable_fast_cpu()
        want2 = model.decode(codes, text, ge=ge, noise_scale=0.0)
        z_want2 = _prior(model, codes, text, ge)[2]
    assert _rel(want2, want) > 0.1 and _rel(z_want2, z_want) > 0.1
    assert _rel(got2, want2) < GATE and _rel(z_got2, z_want2) < GATE


def _stream(model, tokens: list[int], text, ge) -> np.ndarray:
    dec = StreamingDecoder(
        model, text, ge, noise_scale=0.0, generator=torch.Generator().manual_seed(5), first_tokens=8
    )
    pieces = [p for n in range(1, len(tokens) + 1) if (p := dec.push(tokens[:n])) is not None]
    assert len(pieces) >= 2
    pieces.append(dec.finish(tokens))
    return np.concatenate(pieces)


def test_v2_streaming_fast_decode_is_within_the_gate_of_the_fp32_stream(v2):
    model, codes, text, ge, _ = v2
    tokens = codes[0, 0].tolist()
    want = _stream(model, tokens, text, ge)
    model.enable_fast_cpu()
    try:
        got = _stream(model, tokens, text, ge)
    finally:
        model.disable_fast_cpu()
    assert got.shape == want.shape
    assert not np.array_equal(got, want)
    assert _rel(got, want) < GATE
