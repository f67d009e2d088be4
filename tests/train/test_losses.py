"""The fine-tune losses on hand-made cases: known values, padding that changes nothing."""

from __future__ import annotations

import math
from types import SimpleNamespace

import pytest
import torch

from engine.models.spec import mel_spectrogram
from engine.models.t2s import TINY, Text2Semantic
from engine.train import losses
from engine.train.batching import collate_gpt


class FixedDisc(torch.nn.Module):
    """A discriminator whose scores and feature maps are given constants (two sub-discriminators)."""

    def __init__(self, real: float, fake: float, fmap_gap: float = 0.0) -> None:
        super().__init__()
        self.real, self.fake, self.gap = real, fake, fmap_gap

    def forward(self, y, y_hat):
        b = y.shape[0]
        real = [torch.full((b, 3), self.real), torch.full((b, 5), self.real)]
        fake = [torch.full((b, 3), self.fake) + 0 * y_hat.sum(), torch.full((b, 5), self.fake)]
        fmap_r = [[torch.zeros(b, 4)], [torch.zeros(b, 2, 2)]]
        fmap_g = [[torch.full((b, 4), self.gap)], [torch.zeros(b, 2, 2)]]
        return real, fake, fmap_r, fmap_g


def _out(b=2, c=4, t=6, logs_p=0.0, logs_q=0.0, offset=0.0):
    m_p = torch.randn(b, c, t)
    return SimpleNamespace(
        audio=torch.zeros(b, 1, 8 * 640),
        z_p=m_p + offset,
        m_p=m_p,
        logs_p=torch.full((b, c, t), logs_p),
        logs_q=torch.full((b, c, t), logs_q),
        mask=torch.ones(b, 1, t),
        commit_loss=torch.tensor(0.0),
    )


def test_discriminator_lsgan_values():
    y = torch.zeros(2, 1, 640)
    assert float(losses.discriminator_loss(FixedDisc(1.0, 0.0), y, y)) == 0.0  # perfect discriminator
    assert float(losses.discriminator_loss(FixedDisc(0.0, 1.0), y, y)) == pytest.approx(4.0)  # 2 per sub-D
    assert float(losses.discriminator_loss(FixedDisc(0.5, 0.5), y, y)) == pytest.approx(1.0)


def test_generator_terms_known_values():
    real_wav = torch.zeros(2, 1, 8 * 640)
    real_mel = mel_spectrogram(real_wav.squeeze(1))
    out = _out(logs_p=1.0, logs_q=0.0)
    g = losses.generator_losses(FixedDisc(1.0, 0.0, fmap_gap=1.0), out, real_mel, real_wav)
    assert float(g.mel) == 0.0  # identical waves
    # per frame, summed over the 4 channels: logs_p - logs_q - 1/2 with z_p == m_p
    assert float(g.kl) == pytest.approx(4 * 0.5)
    assert float(g.gen) == pytest.approx(2.0)  # (1 - 0)^2 per sub-discriminator
    assert float(g.fm) == pytest.approx(2.0)  # 2 x (|1 - 0| on one map)
    assert float(g.total) == pytest.approx(6.0)
    # KL of equal Gaussians at the mean: -1/2 per channel; one std away from the prior mean: 0
    assert float(losses.generator_losses(FixedDisc(1, 0), _out(), real_mel, real_wav).kl) == pytest.approx(
        -2.0
    )
    assert float(
        losses.generator_losses(FixedDisc(1, 0), _out(offset=1.0), real_mel, real_wav).kl
    ) == pytest.approx(0.0, abs=1e-6)


def test_mel_l1_is_45_times_the_mean_gap():
    wav = 0.1 * torch.sin(torch.arange(8 * 640) / 7.0).reshape(1, 1, -1)
    mel = mel_spectrogram(wav.squeeze(1))
    assert float(losses.mel_l1(mel, wav)) == pytest.approx(0.0, abs=1e-5)
    assert float(losses.mel_l1(mel + 0.5, wav)) == pytest.approx(45 * 0.5, rel=1e-5)


def test_gpt_targets_eos_and_padding():
    codes = torch.tensor([[5, 6, 7], [8, 9, 1024]])
    targets = losses.gpt_targets(codes, torch.tensor([3, 2]), eos=1024)
    assert targets.tolist() == [[5, 6, 7, 1024], [8, 9, 1024, -100]]


def test_summed_cross_entropy_uniform_logits():
    logits = torch.zeros(2, 4, 10)
    targets = torch.tensor([[1, 2, 3, -100], [4, -100, -100, -100]])
    assert float(losses.summed_cross_entropy(logits, targets)) == pytest.approx(4 * math.log(10))


def test_gpt_loss_of_a_padded_batch_is_the_sum_of_its_items():
    from synthetic import make_items

    torch.manual_seed(0)
    model = Text2Semantic(TINY).eval()
    items = make_items(3, seed=5)
    assert len({len(it.phone_ids) for it in items}) > 1 and len({len(it.semantic) for it in items}) > 1
    with torch.no_grad():
        batch, _, counted = losses.gpt_loss(model, collate_gpt(items))
        alone = [losses.gpt_loss(model, collate_gpt([it])) for it in items]
    assert float(batch) == pytest.approx(sum(float(a[0]) for a in alone), rel=1e-5)
    assert counted == sum(len(it.semantic) + 1 for it in items)  # every code plus EOS
