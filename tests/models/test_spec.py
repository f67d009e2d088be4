"""Spectrogram and mel exactly as GPT-SoVITS computes them (spec §2.7)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from engine.models.spec import mel_filterbank, mel_spectrogram, spec_to_mel, spectrogram


def _numpy_spectrogram(wav: np.ndarray, n_fft: int = 2048, hop: int = 640) -> np.ndarray:
    """Independent float64 implementation: reflect pad, periodic Hann, rfft, magnitude with 1e-8."""
    pad = (n_fft - hop) // 2
    padded = np.pad(wav.astype(np.float64), (pad, pad), mode="reflect")
    window = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(n_fft) / n_fft)
    frames = 1 + (len(padded) - n_fft) // hop
    out = np.empty((n_fft // 2 + 1, frames))
    for i in range(frames):
        spectrum = np.fft.rfft(padded[i * hop : i * hop + n_fft] * window)
        out[:, i] = np.sqrt(np.abs(spectrum) ** 2 + 1e-8)
    return out


def test_mel_filterbank_matches_librosa_values():
    """Reference numbers taken from librosa.filters.mel(sr=32000, n_fft=2048, n_mels=128)."""
    fb = mel_filterbank()
    assert fb.shape == (128, 1025) and fb.dtype == np.float32
    assert fb[5, 10:13].tolist() == pytest.approx(
        [0.016249332576990128, 0.034586064517498016, 0.015474353916943073], rel=1e-6
    )
    assert not fb[5, :10].any() and not fb[5, 13:].any()
    assert float(fb.sum()) == pytest.approx(8.19063949584961, rel=1e-6)
    assert fb[:, 100].nonzero()[0].tolist() == [49, 50]
    assert int(fb[60].argmax()) == 138
    assert float(fb[60].max()) == pytest.approx(0.015255690552294254, rel=1e-6)


def test_mel_filterbank_is_slaney_normalised_and_ordered():
    fb = mel_filterbank().astype(np.float64)
    peaks = fb.argmax(axis=1)
    assert np.all(np.diff(peaks) >= 0)
    # Slaney norm: every triangle has area ~ 1 in Hz (bins are 15.625 Hz wide)
    areas = fb.sum(axis=1) * (32000 / 2048)
    assert np.allclose(areas[10:], 1.0, atol=0.05)


def test_spectrogram_matches_independent_numpy_version():
    rng = np.random.default_rng(0)
    t = np.arange(32000 * 3) / 32000
    wav = (0.3 * np.sin(2 * np.pi * 440 * t) + 0.05 * rng.standard_normal(t.size)).astype(np.float32)
    ours = spectrogram(torch.from_numpy(wav)).double().numpy()
    ref = _numpy_spectrogram(wav)
    assert ours.shape == (1025, 150) == ref.shape  # floor(N / 640) frames
    assert np.allclose(ours, ref, rtol=1e-3, atol=1e-3)
    assert int(ours[:, 75].argmax()) == round(440 / (32000 / 2048))


def test_spectrogram_batch_and_frames():
    wav = torch.randn(2, 32000 + 100) * 0.1
    spec = spectrogram(wav)
    assert spec.shape == (2, 1025, 50)
    assert torch.allclose(spec[1], spectrogram(wav[1]), atol=1e-5)


def test_silence_uses_the_epsilon_and_log_clamp():
    spec = spectrogram(torch.zeros(1, 6400))
    assert torch.allclose(spec, torch.full_like(spec, 1e-4))
    mel = spec_to_mel(spec)
    assert mel.shape == (1, 128, 10)
    fb = torch.from_numpy(mel_filterbank().copy())
    expected = torch.log(torch.clamp(fb.sum(1) * 1e-4, min=1e-5))
    assert torch.allclose(mel[0, :, 0], expected, atol=1e-5)


def test_mel_spectrogram_is_spec_then_mel():
    wav = torch.randn(1, 12800) * 0.2
    assert torch.allclose(mel_spectrogram(wav), spec_to_mel(spectrogram(wav)))
