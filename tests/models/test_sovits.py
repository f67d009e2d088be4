"""TINY SoVITS: training forward, learning, decode length and seeding, weight-norm removal, attention."""

from __future__ import annotations

import copy
import math

import pytest
import torch

from engine.models.sovits import TINY, MultiPeriodDiscriminator, SynthesizerTrn
from engine.models.sovits.attentions import MultiHeadAttention
from engine.models.sovits.commons import slice_segments
from engine.models.sovits.losses import discriminator_loss, feature_loss, generator_loss, kl_loss
from engine.models.spec import mel_spectrogram, spectrogram

HOP = TINY.hop_length


@pytest.fixture(autouse=True)
def one_thread():
    """Small convolutions run faster on one thread, above all on a shared, busy machine."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def _model(seed: int = 0) -> SynthesizerTrn:
    torch.manual_seed(seed)
    return SynthesizerTrn(TINY).eval()


def _randomise(model: torch.nn.Module, seed: int = 1) -> None:
    """Perturb every parameter so zero-initialised layers (flow posts) take part."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            p.add_(torch.randn(p.shape, generator=gen) * 0.1)
            if name.endswith("weight_g"):
                p.abs_()


def _batch(frames: int = 24):
    gen = torch.Generator().manual_seed(7)
    wav = torch.randn(2, frames * HOP, generator=gen) * 0.1
    spec = spectrogram(wav)
    ssl = torch.randn(2, TINY.ssl_dim, frames, generator=gen)
    text = torch.randint(0, TINY.n_symbols, (2, 10), generator=gen)
    return wav, spec, torch.tensor([frames, frames - 4]), ssl, text, torch.tensor([10, 7])


def _ref_spec(seconds: float = 1.0) -> torch.Tensor:
    gen = torch.Generator().manual_seed(11)
    return spectrogram(torch.randn(1, int(32000 * seconds), generator=gen) * 0.1)


def test_training_forward_shapes():
    model = _model().train()
    wav, spec, spec_len, ssl, text, text_len = _batch()
    out = model(ssl, spec, spec_len, text, text_len, generator=torch.Generator().manual_seed(0))
    frames = spec.size(2)
    assert out.audio.shape == (2, 1, TINY.segment_size * HOP)
    for name in ("z", "z_p", "m_p", "logs_p", "m_q", "logs_q"):
        assert getattr(out, name).shape == (2, TINY.inter_channels, frames), name
    assert out.mask.shape == (2, 1, frames) and out.mask[1, 0, -4:].sum() == 0
    assert out.quantized.shape == (2, TINY.ssl_dim, frames)
    assert out.codes.shape == (1, 2, frames // 2)
    assert out.ge.shape == (2, TINY.gin_channels, 1)
    assert float(out.commit_loss) == 0.0
    assert (out.ids_slice >= 0).all() and (out.ids_slice + TINY.segment_size <= spec_len).all()
    assert not model.quantizer.training and not model.ssl_proj.training  # frozen, as in the reference


def test_a_few_steps_lower_mel_and_kl_loss():
    model = _model().train()
    wav, spec, spec_len, ssl, text, text_len = _batch(frames=16)
    opt = torch.optim.AdamW(model.param_groups(2e-3), betas=TINY.betas, eps=TINY.eps)
    gen = torch.Generator().manual_seed(3)
    seg = TINY.segment_size
    losses = []
    for _ in range(5):
        out = model(ssl, spec, spec_len, text, text_len, generator=gen)
        real = slice_segments(wav.unsqueeze(1), out.ids_slice * HOP, seg * HOP).squeeze(1)
        mel = torch.nn.functional.l1_loss(mel_spectrogram(real), mel_spectrogram(out.audio.squeeze(1)))
        loss = mel * TINY.c_mel + kl_loss(out.z_p, out.logs_q, out.m_p, out.logs_p, out.mask) * TINY.c_kl
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert all(math.isfinite(v) for v in losses)
    assert losses[-1] < 0.8 * losses[0]
    assert model.ssl_proj.weight.grad is None  # nothing reaches the frozen quantizer path


def test_param_groups_put_text_parts_at_the_low_rate():
    model = _model()
    groups = model.param_groups(1e-4)
    assert [g["lr"] for g in groups] == pytest.approx([1e-4, 4e-5, 4e-5, 4e-5])
    assert sum(len(g["params"]) for g in groups) == len(list(model.parameters()))
    assert groups[1]["params"][0] is model.enc_p.text_embedding.weight


def test_decode_gives_1280_samples_per_token_and_is_seeded():
    model = _model()
    _randomise(model)
    codes = torch.randint(0, TINY.codebook_size, (1, 1, 13))
    text = torch.randint(0, TINY.n_symbols, (1, 9))
    ref = _ref_spec()
    a = model.decode(codes, text, ref, generator=torch.Generator().manual_seed(5))
    assert a.shape == (1, 1, 13 * 1280)
    b = model.decode(codes[0], text, ref, generator=torch.Generator().manual_seed(5))  # [B, T] codes too
    assert torch.equal(a, b)
    c = model.decode(codes, text, ref, generator=torch.Generator().manual_seed(6))
    assert not torch.equal(a, c)
    torch.manual_seed(9)
    d = model.decode(codes, text, ref)
    torch.manual_seed(9)
    assert torch.equal(d, model.decode(codes, text, ref))
    quiet_1 = model.decode(codes, text, ref, noise_scale=0.0, generator=torch.Generator().manual_seed(1))
    quiet_2 = model.decode(codes, text, ref, noise_scale=0.0, generator=torch.Generator().manual_seed(2))
    assert torch.equal(quiet_1, quiet_2)
    assert a.abs().max() <= 1.0 and a.abs().max() > 0


def test_default_noise_scale_is_half():
    model = _model()
    _randomise(model)
    codes = torch.randint(0, TINY.codebook_size, (1, 1, 5))
    text = torch.randint(0, TINY.n_symbols, (1, 4))
    ref = _ref_spec()
    default = model.decode(codes, text, ref, generator=torch.Generator().manual_seed(4))
    half = model.decode(codes, text, ref, noise_scale=0.5, generator=torch.Generator().manual_seed(4))
    assert torch.equal(default, half)


@pytest.mark.parametrize("speed", [0.8, 1.25, 1.6])
def test_speed_changes_the_frame_count(speed):
    model = _model()
    codes = torch.randint(0, TINY.codebook_size, (1, 1, 10))
    text = torch.randint(0, TINY.n_symbols, (1, 6))
    out = model.decode(codes, text, _ref_spec(), speed=speed)
    assert out.shape[-1] == (int(20 / speed) + 1) * HOP


def test_precomputed_ge_and_averaged_references():
    model = _model()
    _randomise(model)
    codes = torch.randint(0, TINY.codebook_size, (1, 1, 6))
    text = torch.randint(0, TINY.n_symbols, (1, 5))
    ref_a, ref_b = _ref_spec(1.0), _ref_spec(0.7) * 2
    ge = model.reference_embedding(ref_a)
    assert ge.shape == (1, TINY.gin_channels, 1)
    out_ref = model.decode(codes, text, ref_a, generator=torch.Generator().manual_seed(1))
    out_ge = model.decode(codes, text, ge=ge, generator=torch.Generator().manual_seed(1))
    assert torch.equal(out_ref, out_ge)
    both = model.reference_embedding([ref_a, ref_b])
    assert torch.allclose(both, (ge + model.reference_embedding(ref_b)) / 2, atol=1e-6)
    # only the first 704 bins are heard
    changed = ref_a.clone()
    changed[:, 704:] += 5.0
    assert torch.allclose(model.reference_embedding(changed), ge)


def test_remove_weight_norm_keeps_outputs_identical():
    model = _model()
    _randomise(model)
    codes = torch.randint(0, TINY.codebook_size, (1, 1, 7))
    text = torch.randint(0, TINY.n_symbols, (1, 6))
    ref = _ref_spec()
    before = model.decode(codes, text, ref, generator=torch.Generator().manual_seed(2))
    keys_before = set(model.state_dict())
    twin = copy.deepcopy(model)  # weight-normed modules copy (trainers keep copies)
    removed = model.remove_weight_norm()
    after = model.decode(codes, text, ref, generator=torch.Generator().manual_seed(2))
    assert removed > 0
    assert torch.allclose(before, after, atol=1e-6)
    keys = set(model.state_dict())
    assert not any(k.endswith(("weight_g", "weight_v")) for k in keys)
    assert {k.replace("weight_g", "weight") for k in keys_before if not k.endswith("weight_v")} == keys
    assert torch.equal(before, twin.decode(codes, text, ref, generator=torch.Generator().manual_seed(2)))


def test_state_dict_round_trip_reproduces_decode():
    model = _model(0)
    _randomise(model)
    other = _model(1)
    other.load_state_dict(model.state_dict(), strict=True)
    codes = torch.randint(0, TINY.codebook_size, (1, 1, 4))
    text = torch.randint(0, TINY.n_symbols, (1, 3))
    ref = _ref_spec()
    a = model.decode(codes, text, ref, generator=torch.Generator().manual_seed(8))
    b = other.decode(codes, text, ref, generator=torch.Generator().manual_seed(8))
    assert torch.equal(a, b)


def test_extract_latent_is_nearest_codeword_and_round_trips():
    model = _model()
    ssl = torch.randn(1, TINY.ssl_dim, 31)
    codes = model.extract_latent(ssl)
    assert codes.shape == (1, 1, 15) and codes.dtype == torch.long
    projected = model.ssl_proj(ssl)[0].T
    embed = model.quantizer.vq.layers[0]._codebook.embed
    assert torch.equal(codes[0, 0], torch.cdist(projected, embed).argmin(dim=1))
    decoded = model.quantizer.decode(codes.transpose(0, 1))
    assert decoded.shape == (1, TINY.ssl_dim, 15)
    assert torch.equal(model.quantizer.encode(decoded), codes.transpose(0, 1))


def test_padding_does_not_change_the_valid_part():
    model = _model()
    _randomise(model)
    gen = torch.Generator().manual_seed(4)
    y = torch.randn(1, TINY.ssl_dim, 16, generator=gen)
    text = torch.randint(0, TINY.n_symbols, (1, 6), generator=gen)
    ge = torch.randn(1, TINY.gin_channels, 1, generator=gen)
    _, m_alone, _, _ = model.enc_p(y, torch.tensor([16]), text, torch.tensor([6]), ge)
    y_pad = torch.cat([y, torch.randn(1, TINY.ssl_dim, 5, generator=gen)], 2)
    text_pad = torch.cat([text, torch.randint(0, TINY.n_symbols, (1, 3), generator=gen)], 1)
    _, m_pad, _, mask = model.enc_p(y_pad, torch.tensor([16]), text_pad, torch.tensor([6]), ge)
    assert torch.allclose(m_pad[..., :16], m_alone, atol=1e-5)
    assert mask[0, 0, 16:].sum() == 0 and m_pad[..., 16:].abs().sum() == 0


def _naive_relative_attention(att: MultiHeadAttention, x: torch.Tensor) -> torch.Tensor:
    """Direct per-position formula for windowed relative attention (no masking)."""
    b, _, t = x.shape
    h, d, w = att.n_heads, att.k_channels, att.window_size
    q = att.conv_q(x).view(b, h, d, t)
    k = att.conv_k(x).view(b, h, d, t)
    v = att.conv_v(x).view(b, h, d, t)
    ek, ev = att.emb_rel_k[0], att.emb_rel_v[0]
    out = torch.zeros(b, h, d, t)
    for i in range(t):
        scores = torch.zeros(b, h, t)
        for j in range(t):
            s = (q[..., i] * k[..., j]).sum(-1)
            if abs(j - i) <= w:
                s = s + (q[..., i] * ek[j - i + w]).sum(-1)
            scores[..., j] = s / math.sqrt(d)
        p = scores.softmax(-1)
        for j in range(t):
            out[..., i] += p[..., j, None] * v[..., j]
            if abs(j - i) <= w:
                out[..., i] += p[..., j, None] * ev[j - i + w]
    return att.conv_o(out.reshape(b, h * d, t))


@pytest.mark.parametrize("length", [3, 12])
def test_relative_attention_matches_direct_formula(length):
    torch.manual_seed(0)
    att = MultiHeadAttention(8, 8, 2, window_size=4).eval()
    x = torch.randn(2, 8, length)
    ours = att(x, x, torch.ones(2, 1, length, length))
    assert torch.allclose(ours, _naive_relative_attention(att, x), atol=1e-5)


def test_tiny_discriminator_and_gan_losses():
    torch.manual_seed(0)
    disc = MultiPeriodDiscriminator.from_config(TINY)
    assert len(disc.discriminators) == 1 + len(TINY.disc_periods)
    y, y_hat = torch.randn(2, 1, 4000) * 0.1, torch.randn(2, 1, 4000) * 0.1
    real, fake, fmap_r, fmap_g = disc(y, y_hat)
    assert len(real) == len(fake) == len(fmap_r) == 3
    assert all(len(f) == 6 for f in fmap_r[1:]) and len(fmap_r[0]) == 7
    d_loss, _, _ = discriminator_loss(real, fake)
    g_loss, _ = generator_loss(fake)
    fm = feature_loss(fmap_r, fmap_g)
    values = [v.detach().item() for v in (d_loss, g_loss, fm)]
    assert all(math.isfinite(v) and v >= 0 for v in values)
    same = feature_loss(fmap_r, fmap_r)
    assert same.detach().item() == 0.0


def test_inference_only_model_decodes_but_cannot_train():
    full = _model()
    _randomise(full)
    slim = SynthesizerTrn(TINY, with_posterior=False).eval()
    missing, unexpected = slim.load_state_dict(full.state_dict(), strict=False)
    assert missing == [] and unexpected and all(k.startswith("enc_q.") for k in unexpected)
    codes = torch.randint(0, TINY.codebook_size, (1, 1, 3))
    text = torch.randint(0, TINY.n_symbols, (1, 3))
    ref = _ref_spec(0.5)
    a = full.decode(codes, text, ref, generator=torch.Generator().manual_seed(1))
    b = slim.decode(codes, text, ref, generator=torch.Generator().manual_seed(1))
    assert torch.equal(a, b)
    _, spec, spec_len, ssl, text_b, text_len = _batch(8)
    with pytest.raises(ValueError, match="posterior"):
        slim(ssl, spec, spec_len, text_b, text_len)


def test_v2_sized_model_decodes_a_few_tokens():
    from engine.models.sovits import V2

    torch.manual_seed(0)
    model = SynthesizerTrn(V2, with_posterior=False).eval()
    model.remove_weight_norm()
    codes = torch.randint(0, V2.codebook_size, (1, 1, 2))
    text = torch.randint(0, V2.n_symbols, (1, 4))
    ref = _ref_spec(0.3)
    ge = model.reference_embedding(ref)
    assert ge.shape == (1, 512, 1)
    out = model.decode(codes, text, ge=ge, generator=torch.Generator().manual_seed(0))
    assert out.shape == (1, 1, 2 * 1280) and torch.isfinite(out).all()
    assert model.extract_latent(torch.randn(1, 768, 9)).shape == (1, 1, 4)


def test_pro_variant_needs_and_uses_the_speaker_verification_embedding():
    cfg = TINY.with_(version="v2ProPlus", gin_channels=24, sv_dim=40)
    torch.manual_seed(0)
    model = SynthesizerTrn(cfg).eval()
    _randomise(model)
    codes = torch.randint(0, cfg.codebook_size, (1, 1, 4))
    text = torch.randint(0, cfg.n_symbols, (1, 5))
    ref = _ref_spec(0.5)
    with pytest.raises(ValueError, match="sv_emb"):
        model.decode(codes, text, ref)
    sv = torch.randn(1, 40)
    ge = model.reference_embedding(ref, sv_emb=sv)
    assert ge.shape == (1, 24, 1) and model._ge_text(ge).shape == (1, cfg.mrte_hidden, 1)
    a = model.decode(codes, text, ref, sv_emb=sv, generator=torch.Generator().manual_seed(0))
    b = model.decode(codes, text, ge=ge, generator=torch.Generator().manual_seed(0))
    c = model.decode(codes, text, ref, sv_emb=sv * 3, generator=torch.Generator().manual_seed(0))
    assert a.shape == (1, 1, 4 * 1280) and torch.equal(a, b) and not torch.equal(a, c)
    _, spec, spec_len, ssl, text_b, text_len = _batch(12)
    out = model.train()(ssl, spec, spec_len, text_b, text_len, sv_emb=torch.randn(2, 40))
    assert out.ge.shape == (2, 24, 1)
