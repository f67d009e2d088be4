"""The inaudible watermark in everything Timbre synthesises: Resemble AI's PerTh implicit watermarker.

The network (``resemble-perth``, MIT) and its weights ship in the wheel, so it works offline. The
package itself is not imported the usual way: its ``__init__`` pulls ``pkg_resources``, librosa and
torchaudio (none of which Timbre needs), and its checkpoint manager calls ``torch.load`` without
``weights_only``. So only its model classes (``Encoder``/``Decoder`` and the config) are imported,
under a private package name; the shipped ``perth_net_250000.pth.tar`` is read with Timbre's safe
checkpoint reader (``torch.load(weights_only=True)`` plus the archive checks); and the STFT the
network works on (2048-point Hann, hop 320, at 32 kHz; log-magnitude normalised as PerTh does) is
done here with ``torch.stft``.

The mark is one bit ("made by Timbre"): the encoder adds a learned residual to the log magnitude
below 2 kHz of loud frames; the decoder returns a score in 0..1. ``detect`` says present when the
score is at least ``THRESHOLD``. Audio at other rates is resampled to 32 kHz for the network and
the change (watermarked minus original) is resampled back, so the speech itself passes through
untouched except for the mark.

Streaming: :class:`StreamEmbedder` marks chunk by chunk (same length out as in) with a short
look-back context, so a streamed chunk waits only for its own embedding.
"""

from __future__ import annotations

import functools
import importlib.util
import logging
import sys
import threading
import types
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from engine.errors import ModelError

log = logging.getLogger(__name__)

RATE = 32000  # the network's rate (hparams.yaml)
N_FFT = 2048
HOP = 320
THRESHOLD = 0.55  # score at or above which the watermark is present (unmarked speech measured < 0.52)
MIN_SECONDS = 0.5  # shorter clips are padded by repetition for detection
_PRIVATE = "_timbre_perth"  # package name PerTh's model modules are imported under
_WEIGHTS = "perth_net/pretrained/implicit/perth_net_250000.pth.tar"
_HPARAMS = "perth_net/pretrained/implicit/hparams.yaml"
_lock = threading.Lock()


class WatermarkUnavailable(ModelError):
    """The watermark model (the resemble-perth package) is missing or unreadable."""


def package_dir() -> Path:
    """The folder of the installed resemble-perth package (found without importing it)."""
    spec = importlib.util.find_spec("perth")
    for folder in list(spec.submodule_search_locations or []) if spec is not None else []:
        if (Path(folder) / _WEIGHTS).is_file():
            return Path(folder)
    raise WatermarkUnavailable(
        "The watermark model (the resemble-perth package) is not installed.",
        "Install Timbre's dependencies again (`make setup`, or `.venv/bin/pip install resemble-perth`).",
    )


def _model_modules(root: Path) -> types.ModuleType:
    """PerTh's model package imported under a private name, skipping its heavy package __init__s."""
    if _PRIVATE not in sys.modules:
        pkg = types.ModuleType(_PRIVATE)
        pkg.__path__ = [str(root / "perth_net" / "perth_net_implicit")]
        sys.modules[_PRIVATE] = pkg
    import importlib

    importlib.import_module(f"{_PRIVATE}.config")
    importlib.import_module(f"{_PRIVATE}.model.encoder")
    importlib.import_module(f"{_PRIVATE}.model.decoder")
    return sys.modules[_PRIVATE]


class PerthModel:
    """The PerTh implicit encoder and decoder with their shipped weights, on the CPU."""

    def __init__(self) -> None:
        import torch
        import yaml

        from engine.weights.official import load_checkpoint_bytes

        root = package_dir()
        _model_modules(root)
        config_mod = sys.modules[f"{_PRIVATE}.config"]
        model_mod = sys.modules[f"{_PRIVATE}.model"]
        enc_mod = sys.modules[f"{_PRIVATE}.model.encoder"]
        dec_mod = sys.modules[f"{_PRIVATE}.model.decoder"]
        try:
            hp_raw = yaml.safe_load((root / _HPARAMS).read_text())
            self.hp = config_mod.PerthConfig(**hp_raw)
            obj, _ = load_checkpoint_bytes((root / _WEIGHTS).read_bytes(), str(root / _WEIGHTS))
            state = obj["model"]
        except (OSError, TypeError, KeyError, yaml.YAMLError) as exc:
            raise WatermarkUnavailable(
                f"Could not read the watermark model in {root}: {exc}",
                "Reinstall it: `.venv/bin/pip install --force-reinstall resemble-perth`.",
            ) from exc
        if self.hp.sample_rate != RATE or self.hp.n_fft != N_FFT or self.hp.hop_size != HOP:
            raise WatermarkUnavailable(
                f"The installed watermark model works at {self.hp.sample_rate} Hz; Timbre expects {RATE}.",
                "Install the resemble-perth version pinned in pyproject.toml.",
            )
        subband = model_mod.compute_subband_freq(self.hp)
        self.encoder = enc_mod.Encoder(self.hp.hidden_size, subband)
        self.decoder = dec_mod.Decoder(self.hp.hidden_size, subband)
        enc = {k[len("encoder.") :]: v for k, v in state.items() if k.startswith("encoder.")}
        dec = {k[len("decoder.") :]: v for k, v in state.items() if k.startswith("decoder.")}
        self.encoder.load_state_dict(enc, strict=True)
        self.decoder.load_state_dict(dec, strict=True)
        self.encoder.eval()
        self.decoder.eval()
        self.window = torch.hann_window(N_FFT)
        self._min_db = 20.0 * np.log10(self.hp.stft_magnitude_min)
        self._span_db = -self._min_db + 15.0  # PerTh's 15 dB headroom

    # ------------------------------------------------------------------ spectra (as PerTh's processor)
    def _magphase(self, x: Any) -> tuple[Any, Any]:
        import torch

        spec = torch.stft(
            x, N_FFT, HOP, N_FFT, self.window, center=True, pad_mode="reflect", return_complex=True
        )
        mag = 20.0 * torch.log10(spec.abs().clamp_min(self.hp.stft_magnitude_min))
        return (mag - self._min_db) / self._span_db, torch.angle(spec)

    def _signal(self, mag: Any, phase: Any, length: int) -> Any:
        import torch

        db = mag * self._span_db + self._min_db
        amp = torch.pow(10.0, (db / 20.0).clamp(max=10.0))
        spec = torch.polar(amp, phase)
        return torch.istft(spec, N_FFT, HOP, N_FFT, self.window, center=True, length=length)

    # ------------------------------------------------------------------ embed / score
    def embed32(self, audio: np.ndarray) -> np.ndarray:
        """Watermarked copy of mono float32 audio at 32 kHz."""
        import torch

        if audio.size < N_FFT:
            return audio.astype(np.float32, copy=True)
        with torch.inference_mode():
            x = torch.from_numpy(np.ascontiguousarray(audio, dtype=np.float32))
            mag, phase = self._magphase(x)
            marked, _mask = self.encoder(mag[None])
            out = self._signal(marked[0], phase, x.numel())
        return out.numpy().astype(np.float32, copy=False)

    def scores32(self, clips: np.ndarray) -> np.ndarray:
        """Decoder scores 0..1 of a batch [B, N] of equal-length clips at 32 kHz (one pass)."""
        import torch

        with torch.inference_mode():
            x = torch.from_numpy(np.ascontiguousarray(clips, dtype=np.float32))
            mag, _phase = self._magphase(x)
            values = self.decoder(mag).clamp(0.0, 1.0).numpy()
        return np.nan_to_num(values.astype(np.float64), nan=0.0)

    def score32(self, audio: np.ndarray) -> float:
        """Decoder score 0..1 of mono float32 audio at 32 kHz (high: watermark present)."""
        import torch

        with torch.inference_mode():
            x = torch.from_numpy(np.ascontiguousarray(audio, dtype=np.float32))
            mag, _phase = self._magphase(x)
            value = self.decoder(mag[None])[0].clamp(0.0, 1.0)
        score = float(value)
        return score if np.isfinite(score) else 0.0


@functools.lru_cache(maxsize=1)
def model() -> PerthModel:
    """The watermark model, loaded once per process."""
    with _lock:
        return PerthModel()


def _mono(audio: np.ndarray) -> np.ndarray:
    a = np.asarray(audio, dtype=np.float32)
    if a.ndim == 2:
        a = a.mean(axis=1) if a.shape[1] <= 8 else a.mean(axis=0)
    return np.nan_to_num(a.reshape(-1))


def _resample(audio: np.ndarray, rate: int, target: int) -> np.ndarray:
    from engine.audio.io import resample

    return resample(audio, rate, target)


def embed(audio: np.ndarray, sr: int) -> np.ndarray:
    """``audio`` (mono, any rate) with the Timbre watermark added; same length, rate and dtype float32."""
    a = _mono(audio)
    if a.size == 0 or not np.any(a):
        return a.astype(np.float32, copy=True)
    x = _resample(a, sr, RATE)
    change = model().embed32(x) - x
    if sr != RATE:
        change = _resample(change, RATE, sr)
        change = np.pad(change, (0, max(0, a.size - change.size)))[: a.size]
    change *= _sounding(a)  # digital silence (pauses between sentences) stays silent
    return np.clip(a + change, -1.0, 1.0).astype(np.float32)


def _sounding(a: np.ndarray, min_run: int = 256) -> np.ndarray:
    """0.0 inside runs of digital silence at least ``min_run`` samples long, 1.0 elsewhere."""
    silent = np.abs(a) <= 1e-7
    mask = np.ones(a.size, np.float32)
    if not silent.any():
        return mask
    edges = np.diff(np.concatenate([[0], silent.astype(np.int8), [0]]))
    starts, stops = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    for lo, hi in zip(starts, stops, strict=True):
        if hi - lo >= min_run:
            mask[lo:hi] = 0.0
    return mask


TONAL_SHARE = 0.999  # frames whose 8 strongest FFT bins hold more of their energy are a line spectrum


def tonal(audio: np.ndarray) -> bool:
    """True for a clip (32 kHz) that is a few spectral lines (steady tones, hum, sweeps), not speech.

    PerTh's decoder scores steady tones (below ~500 Hz especially) close to 1 although they hold no
    mark; Timbre never synthesises such sound, so the detector calls them unmarked. Measured: the
    median frame of espeak-ng speech keeps at most ~0.8 of its energy in 8 bins (the TINY engine's
    random-weight buzz 0.98, 0.99+ once resampled to 16 kHz); a steady tone keeps 0.9999+.
    """
    a = np.asarray(audio, dtype=np.float64)
    if a.size < N_FFT:
        return False
    frames = np.stack([a[i : i + N_FFT] for i in range(0, a.size - N_FFT + 1, N_FFT // 2)])
    power = np.abs(np.fft.rfft(frames * np.hanning(N_FFT), axis=1)) ** 2
    energy = power.sum(axis=1)
    loud = energy > max(float(energy.max()) * 1e-3, 1e-12)
    if not loud.any():
        return False
    share = np.sort(power[loud], axis=1)[:, -8:].sum(axis=1) / energy[loud]
    return float(np.median(share)) > TONAL_SHARE


def score(audio: np.ndarray, sr: int) -> float:
    """The detector's score 0..1 for mono audio at any rate (0 for tonal sound, see ``tonal``)."""
    a = _resample(_mono(audio), sr, RATE)
    if tonal(a):
        return 0.0
    if a.size < int(MIN_SECONDS * RATE):
        if a.size == 0:
            return 0.0
        a = np.tile(a, int(np.ceil(MIN_SECONDS * RATE / a.size)))
    return model().score32(a)


def scores(clips: list[np.ndarray], sr: int) -> np.ndarray:
    """Detector scores of many clips at ``sr``, batched by length (fast for many short clips)."""
    prepared = [_resample(_mono(c), sr, RATE) for c in clips]
    out = np.zeros(len(prepared))
    by_length: dict[int, list[int]] = {}
    for i, a in enumerate(prepared):
        if tonal(a):
            out[i] = 0.0
        elif a.size < int(MIN_SECONDS * RATE):
            out[i] = score(a, RATE)
        else:
            by_length.setdefault(a.size, []).append(i)
    for idx in by_length.values():
        for start in range(0, len(idx), 64):
            part = idx[start : start + 64]
            out[part] = model().scores32(np.stack([prepared[i] for i in part]))
    return out


def detect(audio: np.ndarray, sr: int) -> tuple[bool, float]:
    """Whether the Timbre watermark is present, and a confidence 0..1 in that verdict."""
    s = score(audio, sr)
    present = s >= THRESHOLD
    # confidence in the verdict: 0.5 at the threshold, 1.0 at a score of 1 (present) or 0 (absent)
    confidence = 0.5 + 0.5 * ((s - THRESHOLD) / (1 - THRESHOLD) if present else (THRESHOLD - s) / THRESHOLD)
    return present, float(min(1.0, max(0.0, confidence)))


def detect_file(path: Path | str) -> tuple[bool, float]:
    """``detect`` on an audio file (WAV, FLAC, MP3, OGG: whatever engine.audio.io reads)."""
    from engine.audio.io import read_audio

    audio = read_audio(path)
    return detect(audio.samples, audio.samplerate)


class StreamEmbedder:
    """Watermarks a stream chunk by chunk, each chunk the same length out as in.

    Each chunk is embedded together with the last ``context`` seconds of the stream before it, so
    the STFT frames at its start see the real signal rather than an edge, and the mark stays
    continuous across seams. Nothing is held back: a chunk's added latency is the embedding time.
    """

    def __init__(self, sr: int, *, context: float = 0.128) -> None:
        self.sr = int(sr)
        self.context = max(0, int(context * sr))
        self._before = np.zeros(0, np.float32)  # the original samples just before the next chunk

    def mark(self, chunk: np.ndarray) -> np.ndarray:
        """``chunk`` with the watermark added (float32, same length)."""
        a = _mono(chunk)
        if a.size == 0:
            return a
        marked = embed(np.concatenate([self._before, a]), self.sr)[self._before.size :]
        if self.context:
            self._before = np.concatenate([self._before, a])[-self.context :]
        return marked


def embed_chunks(chunks: Iterator[np.ndarray], sr: int) -> Iterator[np.ndarray]:
    """Watermark a stream of chunks with one :class:`StreamEmbedder`."""
    embedder = StreamEmbedder(sr)
    for chunk in chunks:
        yield embedder.mark(chunk)


def energy_db(original: np.ndarray, marked: np.ndarray) -> float:
    """The watermark's energy relative to the audio, in dB (negative: quieter than the speech)."""
    a = _mono(original).astype(np.float64)
    d = _mono(marked).astype(np.float64)[: a.size] - a[: _mono(marked).size]
    return float(10.0 * np.log10((np.sum(d**2) + 1e-20) / (np.sum(a**2) + 1e-20)))


def log_spectral_distance(original: np.ndarray, marked: np.ndarray, sr: int) -> float:
    """Mean log-spectral distance in dB (25 ms Hann frames, 10 ms hop) over frames with sound."""
    a, b = _mono(original).astype(np.float64), _mono(marked).astype(np.float64)
    n = min(a.size, b.size)
    size, hop = int(0.025 * sr), int(0.010 * sr)
    if n < size:
        return 0.0
    window = np.hanning(size)
    starts = np.arange(0, n - size + 1, hop)
    fa = np.abs(np.fft.rfft(np.stack([a[i : i + size] for i in starts]) * window, axis=1)) ** 2
    fb = np.abs(np.fft.rfft(np.stack([b[i : i + size] for i in starts]) * window, axis=1)) ** 2
    loud = fa.sum(axis=1) > fa.sum(axis=1).max() * 1e-4
    if not loud.any():
        return 0.0
    diff = 10.0 * np.log10((fa[loud] + 1e-10) / (fb[loud] + 1e-10))
    return float(np.mean(np.sqrt(np.mean(diff**2, axis=1))))


# --------------------------------------------------------------------------- WAV provenance metadata
SOFTWARE = "Timbre (GPT-SoVITS v2 voice studio)"
COMMENT = "Synthetic speech made by Timbre; it carries an inaudible watermark (timbre detect)."


def wav_info_chunk(fields: dict[str, str]) -> bytes:
    """A RIFF ``LIST``/``INFO`` chunk with the given four-letter fields (ICMT, ISFT, ...)."""
    body = b"INFO"
    for key, value in fields.items():
        data = value.encode("utf-8") + b"\x00"
        if len(data) % 2:
            data += b"\x00"
        body += key.encode("ascii")[:4].ljust(4, b" ") + len(data).to_bytes(4, "little") + data
    return b"LIST" + len(body).to_bytes(4, "little") + body


def tag_wav(path: Path | str, comment: str = COMMENT, software: str = SOFTWARE) -> None:
    """Add (or replace) the LIST/INFO chunk of a WAV file: ICMT = synthetic, ISFT = Timbre."""
    from engine.fsutil import atomic_write_bytes

    path = Path(path)
    data = path.read_bytes()
    if data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        raise ValueError(f"{path} is not a RIFF/WAVE file")
    chunks, pos = [], 12
    while pos + 8 <= len(data):
        cid, size = data[pos : pos + 4], int.from_bytes(data[pos + 4 : pos + 8], "little")
        end = min(len(data), pos + 8 + size + (size & 1))
        if not (cid == b"LIST" and data[pos + 8 : pos + 12] == b"INFO"):
            chunks.append(data[pos:end])
        pos = end
    body = b"WAVE" + b"".join(chunks) + wav_info_chunk({"ICMT": comment, "ISFT": software})
    atomic_write_bytes(path, b"RIFF" + len(body).to_bytes(4, "little") + body)


def read_wav_info(path: Path | str) -> dict[str, str]:
    """The LIST/INFO fields of a WAV file (empty when it has none)."""
    data = Path(path).read_bytes()
    out: dict[str, str] = {}
    pos = 12
    while pos + 8 <= len(data):
        cid, size = data[pos : pos + 4], int.from_bytes(data[pos + 4 : pos + 8], "little")
        if cid == b"LIST" and data[pos + 8 : pos + 12] == b"INFO":
            sub, stop = pos + 12, pos + 8 + size
            while sub + 8 <= stop:
                key, n = (
                    data[sub : sub + 4].decode("ascii", "replace"),
                    int.from_bytes(data[sub + 4 : sub + 8], "little"),
                )
                out[key] = data[sub + 8 : sub + 8 + n].rstrip(b"\x00").decode("utf-8", "replace")
                sub += 8 + n + (n & 1)
        pos += 8 + size + (size & 1)
    return out


def write_synthetic_wav(path: Path | str, audio: np.ndarray, sr: int) -> None:
    """Write synthesised audio as a WAV file carrying the synthetic/Timbre LIST/INFO metadata."""
    from engine.audio.io import write_wav

    write_wav(path, audio, sr)
    tag_wav(path)
