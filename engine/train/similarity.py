"""Speaker similarity (0..1) between two clips: the GE2E encoder whose weights ship in ``resemblyzer``.

The weights are the ``pretrained.pt`` inside the resemblyzer wheel (Apache-2.0), read with
``torch.load(weights_only=True)``; nothing is downloaded. The embedding is computed here the way
resemblyzer computes it (16 kHz audio raised to −30 dBFS if quieter, long pauses dropped, a 40-band
power mel at 25 ms / 10 ms, 1.6 s partial windows at 1.3 per second through a 3-layer LSTM, each
partial's embedding ReLU'd and L2-normed, their mean L2-normed), without importing the resemblyzer
package itself: its audio module pulls librosa and webrtcvad, whose source build imports
``pkg_resources``, which current setuptools no longer has. The embeddings are non-negative and of
unit length, so their cosine lies in 0..1.
"""

from __future__ import annotations

import functools
import importlib.util
import logging
from pathlib import Path

import numpy as np
import torch
from torch import nn

from engine.errors import ModelError

log = logging.getLogger(__name__)

RATE = 16000
N_FFT = 400  # 25 ms
HOP = 160  # 10 ms
N_MELS = 40
PARTIAL_FRAMES = 160  # 1.6 s
PARTIALS_PER_S = 1.3
MIN_COVERAGE = 0.75
TARGET_DBFS = -30.0
VAD_WINDOW = 480  # 30 ms
VAD_SMOOTH = 8  # windows in the moving average
VAD_KEEP = 6  # silent windows kept beside speech
VAD_FLOOR_DB = 40.0  # a window this far below the loudest one is a pause
HIDDEN = 256
LAYERS = 3


def weights_path() -> Path:
    """The GE2E weights file in the installed resemblyzer wheel (found without importing the package)."""
    spec = importlib.util.find_spec("resemblyzer")
    folders = list(spec.submodule_search_locations or []) if spec is not None else []
    for folder in folders:
        path = Path(folder) / "pretrained.pt"
        if path.is_file():
            return path
    raise ModelError(
        "The speaker encoder weights (the resemblyzer package) are not installed.",
        "Install Timbre's dependencies again (`make setup`, or `pip install resemblyzer`).",
    )


class SpeakerEncoder(nn.Module):
    """GE2E: mel frames [B, T, 40] -> unit-length non-negative speaker embeddings [B, 256]."""

    def __init__(self) -> None:
        super().__init__()
        self.lstm = nn.LSTM(N_MELS, HIDDEN, LAYERS, batch_first=True)
        self.linear = nn.Linear(HIDDEN, HIDDEN)

    @classmethod
    def load(cls, path: Path | None = None, device: str | torch.device = "cpu") -> SpeakerEncoder:
        """The encoder with the resemblyzer weights (or those in ``path``)."""
        path = Path(path) if path is not None else weights_path()
        try:
            checkpoint = torch.load(path, map_location="cpu", weights_only=True)
            state = {k: v for k, v in checkpoint["model_state"].items() if k.startswith(("lstm.", "linear."))}
        except (OSError, RuntimeError, KeyError, TypeError) as exc:
            raise ModelError(
                f"Could not read the speaker encoder weights {path}: {exc}",
                "Reinstall the resemblyzer package.",
            ) from exc
        model = cls()
        model.load_state_dict(state, strict=True)
        return model.to(device).eval()

    def forward(self, mels: torch.Tensor) -> torch.Tensor:
        """Embeddings of a batch of partial utterances."""
        _, (hidden, _) = self.lstm(mels)
        raw = torch.relu(self.linear(hidden[-1]))
        return raw / raw.norm(dim=1, keepdim=True).clamp_min(1e-12)

    @torch.inference_mode()
    def embed(self, wav: np.ndarray, sr: int) -> np.ndarray:
        """The utterance embedding [256] of a mono clip at any rate (float32, unit length)."""
        x = preprocess(wav, sr)
        slices = partial_slices(len(x))
        end = (slices[-1] + PARTIAL_FRAMES) * HOP
        if end >= len(x):
            x = np.pad(x, (0, end - len(x)))
        mel = mel_frames(x)
        batch = np.stack([mel[s : s + PARTIAL_FRAMES] for s in slices])
        device = next(self.parameters()).device
        partials = self(torch.from_numpy(batch).to(device)).cpu().numpy()
        mean = partials.mean(0)
        return (mean / max(float(np.linalg.norm(mean)), 1e-12)).astype(np.float32)


def preprocess(wav: np.ndarray, sr: int) -> np.ndarray:
    """Mono float32 at 16 kHz, raised to −30 dBFS RMS when quieter, with long pauses removed."""
    from engine.audio.io import resample

    x = np.asarray(wav, dtype=np.float32)
    if x.ndim > 1:
        x = x.mean(axis=1 if x.shape[1] < x.shape[0] else 0)
    x = resample(x, int(sr), RATE)
    if x.size == 0 or not np.isfinite(x).all():
        raise ModelError("A clip for speaker similarity is empty or damaged.", "Use a clip with speech.")
    rms = float(np.sqrt(np.mean(x.astype(np.float64) ** 2)))
    if rms <= 0:
        raise ModelError("A clip for speaker similarity is silent.", "Use a clip with speech.")
    gain_db = TARGET_DBFS - 20 * np.log10(rms)
    if gain_db > 0:
        x = x * np.float32(10 ** (gain_db / 20))
    return drop_pauses(x)


def drop_pauses(x: np.ndarray) -> np.ndarray:
    """``x`` without the pauses longer than ~0.2 s (an energy gate, smoothed and widened)."""
    n = len(x) // VAD_WINDOW
    if n < 2:
        return x
    frames = x[: n * VAD_WINDOW].reshape(n, VAD_WINDOW).astype(np.float64)
    db = 10 * np.log10(np.mean(frames**2, axis=1) + 1e-12)
    voiced = (db > db.max() - VAD_FLOOR_DB).astype(np.float64)
    smooth = np.convolve(voiced, np.ones(VAD_SMOOTH) / VAD_SMOOTH, mode="same") >= 0.5
    keep = np.convolve(smooth.astype(np.float64), np.ones(2 * VAD_KEEP + 1), mode="same") > 0
    if not keep.any():
        return x
    return x[: n * VAD_WINDOW].reshape(n, VAD_WINDOW)[keep].reshape(-1).astype(np.float32, copy=False)


def mel_frames(x: np.ndarray) -> np.ndarray:
    """Power mel spectrogram [frames, 40] (centred, zero-padded frames; Slaney mel as librosa's)."""
    from engine.models.spec import mel_filterbank

    wav = torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32))
    stft = torch.stft(
        wav,
        N_FFT,
        hop_length=HOP,
        window=torch.hann_window(N_FFT),
        center=True,
        pad_mode="constant",
        return_complex=True,
    )
    power = stft.abs().pow(2).numpy()  # [201, frames]
    return (mel_filterbank(RATE, N_FFT, N_MELS) @ power).T.astype(np.float32)


def partial_slices(n_samples: int) -> list[int]:
    """Start frames of the 1.6 s windows (1.3 per second; a last one kept if it is ≥ 75 % filled)."""
    n_frames = int(np.ceil((n_samples + 1) / HOP))
    step = int(round(RATE / PARTIALS_PER_S / HOP))
    starts = list(range(0, max(1, n_frames - PARTIAL_FRAMES + step + 1), step))
    last = starts[-1] * HOP
    coverage = (n_samples - last) / (PARTIAL_FRAMES * HOP)
    if coverage < MIN_COVERAGE and len(starts) > 1:
        starts.pop()
    return starts


@functools.lru_cache(maxsize=2)
def encoder(device: str = "cpu") -> SpeakerEncoder:
    """The speaker encoder, loaded once per device."""
    return SpeakerEncoder.load(device=device)


def speaker_embedding(wav: np.ndarray, sr: int, device: str = "cpu") -> np.ndarray:
    """The unit-length speaker embedding [256] of a clip (with the cached encoder)."""
    return encoder(device).embed(wav, sr)


def cosine(a: np.ndarray, b: np.ndarray) -> float:
    """Cosine of two embeddings, clipped to 0..1."""
    den = float(np.linalg.norm(a) * np.linalg.norm(b))
    return float(np.clip(np.dot(a, b) / den, 0.0, 1.0)) if den > 0 else 0.0


def speaker_similarity(wav_a: np.ndarray, sr_a: int, wav_b: np.ndarray, sr_b: int) -> float:
    """How alike the two clips' voices are: the cosine of their GE2E embeddings, 0..1 (1 = same)."""
    return cosine(speaker_embedding(wav_a, sr_a), speaker_embedding(wav_b, sr_b))
