"""Linear spectrogram and log-mel exactly as GPT-SoVITS computes them (spec §2.7)."""

from __future__ import annotations

import functools
import math

import numpy as np
import torch

N_FFT = 2048
HOP = 640
WIN = 2048
SAMPLE_RATE = 32000
N_MELS = 128


def _hz_to_mel_slaney(freq: np.ndarray) -> np.ndarray:
    """Slaney mel scale: linear below 1 kHz, logarithmic above."""
    freq = np.asarray(freq, dtype=np.float64)
    f_sp = 200.0 / 3
    mels = freq / f_sp
    min_log_hz = 1000.0
    min_log_mel = min_log_hz / f_sp
    logstep = math.log(6.4) / 27.0
    above = freq >= min_log_hz
    mels = np.where(above, min_log_mel + np.log(np.maximum(freq, min_log_hz) / min_log_hz) / logstep, mels)
    return mels


def _mel_to_hz_slaney(mels: np.ndarray) -> np.ndarray:
    """Inverse of `_hz_to_mel_slaney`."""
    mels = np.asarray(mels, dtype=np.float64)
    f_sp = 200.0 / 3
    freqs = f_sp * mels
    min_log_hz = 1000.0
    min_log_mel = min_log_hz / f_sp
    logstep = math.log(6.4) / 27.0
    above = mels >= min_log_mel
    return np.where(above, min_log_hz * np.exp(logstep * (mels - min_log_mel)), freqs)


@functools.lru_cache(maxsize=8)
def mel_filterbank(
    sr: int = SAMPLE_RATE,
    n_fft: int = N_FFT,
    n_mels: int = N_MELS,
    fmin: float = 0.0,
    fmax: float | None = None,
) -> np.ndarray:
    """Slaney-scale, Slaney-normalised triangles [n_mels, n_fft//2+1] (librosa's defaults), float32."""
    if fmax is None:
        fmax = sr / 2.0
    fft_freqs = np.fft.rfftfreq(n=n_fft, d=1.0 / sr)
    mel_points = np.linspace(_hz_to_mel_slaney(fmin), _hz_to_mel_slaney(fmax), n_mels + 2)
    hz_points = _mel_to_hz_slaney(mel_points)
    widths = np.diff(hz_points)
    offsets = hz_points[:, None] - fft_freqs[None, :]
    rising = -offsets[:-2] / widths[:-1, None]
    falling = offsets[2:] / widths[1:, None]
    # librosa stores the triangles in float32 first, then scales them (float64 maths, float32 result)
    weights = np.maximum(0.0, np.minimum(rising, falling)).astype(np.float32)
    weights *= (2.0 / (hz_points[2 : n_mels + 2] - hz_points[:n_mels]))[:, None]
    weights.flags.writeable = False
    return weights


def spectrogram(
    wav: torch.Tensor, n_fft: int = N_FFT, hop: int = HOP, win: int = WIN, eps: float = 1e-8
) -> torch.Tensor:
    """Linear magnitude spectrogram [B, n_fft//2+1, N//hop] of a waveform [B, N] (or [N])."""
    squeeze = wav.dim() == 1
    if squeeze:
        wav = wav.unsqueeze(0)
    pad = (n_fft - hop) // 2
    padded = torch.nn.functional.pad(wav.unsqueeze(1), (pad, pad), mode="reflect").squeeze(1)
    window = torch.hann_window(win, dtype=wav.dtype, device=wav.device)
    stft = torch.stft(
        padded,
        n_fft,
        hop_length=hop,
        win_length=win,
        window=window,
        center=False,
        normalized=False,
        onesided=True,
        return_complex=True,
    )
    mag = stft.abs().pow(2).add(eps).sqrt()
    return mag.squeeze(0) if squeeze else mag


def spec_to_mel(
    spec: torch.Tensor,
    sr: int = SAMPLE_RATE,
    n_fft: int = N_FFT,
    n_mels: int = N_MELS,
    fmin: float = 0.0,
    fmax: float | None = None,
) -> torch.Tensor:
    """Log mel (natural log, clamped at 1e-5) of a linear magnitude spectrogram [..., bins, T]."""
    basis = torch.from_numpy(mel_filterbank(sr, n_fft, n_mels, fmin, fmax).copy()).to(spec.device, spec.dtype)
    return torch.log(torch.clamp(torch.matmul(basis, spec), min=1e-5))


def mel_spectrogram(
    wav: torch.Tensor,
    sr: int = SAMPLE_RATE,
    n_fft: int = N_FFT,
    hop: int = HOP,
    win: int = WIN,
    n_mels: int = N_MELS,
    fmin: float = 0.0,
    fmax: float | None = None,
) -> torch.Tensor:
    """Log mel spectrogram [B, n_mels, N//hop] of a waveform [B, N]: spectrogram then `spec_to_mel`."""
    return spec_to_mel(spectrogram(wav, n_fft, hop, win), sr, n_fft, n_mels, fmin, fmax)
