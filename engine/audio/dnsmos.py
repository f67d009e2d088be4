"""DNSMOS P.835: a learned estimate of how listeners would rate a take (speech, background, overall).

DNSMOS (Reddy et al., ICASSP 2022) is a neural network trained on listening tests run to ITU-T
P.835, where people score a noisy clip three times on a 1–5 scale: SIG (how natural and
undistorted the voice itself sounds), BAK (how unobtrusive the background is; 5 = no noise
heard) and OVRL (the overall quality). It needs no clean reference. The ONNX model ships inside
the ``speechmos`` wheel and runs offline with ``onnxruntime``; both are imported only when a
score is first asked for, so nothing of this reaches the TUI's start-up path.

The procedure follows the DNS Challenge's reference scorer (and ``speechmos.dnsmos.run``): mono
16 kHz audio, repeated until it lasts 9.01 s, scored in 9.01 s windows one second apart, each
window's raw scores mapped through the published P.835 polynomials, and the windows averaged.
A take longer than MAX_WINDOWS + 8 s is scored on MAX_WINDOWS windows spread evenly over it.
"""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from engine.errors import TimbreError

RATE = 16000
"""The model's sample rate."""
WINDOW_S = 9.01
"""Each window the model scores (the reference scorer's INPUT_LENGTH)."""
MAX_WINDOWS = 3
"""At most this many windows per take (the reference scorer uses every one; they overlap by 8 s)."""
MODEL = "dnsmos_models/sig_bak_ovr.onnx"
"""The P.835 model inside the speechmos package."""

# Published mappings from the network's raw outputs to the P.835 MOS scale (DNS Challenge
# DNSMOS, non-personalised model): highest power first.
_POLY_SIG = (-0.08397278, 1.22083953, 0.0052439)
_POLY_BAK = (-0.13166888, 1.60915514, -0.39604546)
_POLY_OVRL = (-0.06766283, 1.11546468, 0.04602535)


class QualityModelMissing(TimbreError):
    """DNSMOS cannot run: speechmos or onnxruntime is not installed."""

    default_hint = "Install them with `.venv/bin/pip install speechmos onnxruntime` (or `make setup`)."


@dataclass(frozen=True)
class Dnsmos:
    """P.835 scores on the 1–5 scale: voice (sig), background (bak) and overall (ovrl)."""

    sig: float
    bak: float
    ovrl: float

    def describe(self) -> str:
        """One line such as 'overall 3.2 (voice 3.5, background 4.0)'."""
        return f"overall {self.ovrl:.1f} (voice {self.sig:.1f}, background {self.bak:.1f})"

    def to_dict(self) -> dict[str, float]:
        """JSON-ready form, rounded to 3 decimals."""
        return {"sig": round(self.sig, 3), "bak": round(self.bak, 3), "ovrl": round(self.ovrl, 3)}


_lock = threading.Lock()
_session: Any = None


def model_path() -> Path:
    """Where the speechmos wheel put the P.835 ONNX model; raise QualityModelMissing if absent."""
    from importlib.util import find_spec

    spec = find_spec("speechmos")
    if spec is None or not spec.submodule_search_locations:
        raise QualityModelMissing("The speech quality model (DNSMOS, from the speechmos package) is missing.")
    path = Path(next(iter(spec.submodule_search_locations))) / MODEL
    if not path.is_file():
        raise QualityModelMissing(f"The speechmos package has no DNSMOS model at {path}.")
    return path


def available() -> bool:
    """True when speechmos (its model file) and onnxruntime are installed."""
    from importlib.util import find_spec

    try:
        model_path()
    except QualityModelMissing:
        return False
    return find_spec("onnxruntime") is not None


def _model() -> Any:
    """The ONNX session, loaded once per process (onnxruntime sessions may be run from any thread)."""
    global _session
    with _lock:
        if _session is None:
            path = model_path()
            try:
                import onnxruntime as ort
            except ImportError as exc:
                raise QualityModelMissing("onnxruntime is not installed, so DNSMOS cannot run.") from exc
            options = ort.SessionOptions()
            options.intra_op_num_threads = 1  # takes are scored one by one in a worker; stay light
            options.inter_op_num_threads = 1
            options.log_severity_level = 3  # errors only: no start-up chatter on the terminal
            _session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        return _session


def _windows(x: np.ndarray) -> np.ndarray:
    """(n, 9.01 s) windows one second apart, as the reference scorer makes them (at most MAX_WINDOWS)."""
    length = int(WINDOW_S * RATE)
    while x.size < length:  # short takes are repeated, as in the reference scorer
        x = np.concatenate((x, x))
    count = int(np.floor(x.size / RATE) - WINDOW_S) + 1
    starts = np.arange(count) * RATE
    if count > MAX_WINDOWS:
        starts = np.linspace(0, (count - 1) * RATE, MAX_WINDOWS).astype(int)
    return np.stack([x[s : s + length] for s in starts]).astype(np.float32)


_cache: dict[bytes, Dnsmos] = {}
_CACHE_SIZE = 64


def score(samples: np.ndarray, samplerate: int) -> Dnsmos:
    """DNSMOS P.835 scores of mono audio at any rate (resampled to 16 kHz with soxr)."""
    x = np.ascontiguousarray(samples, dtype=np.float32).reshape(-1)
    if x.size == 0:
        raise ValueError("cannot score empty audio")
    key = hashlib.sha1(x.tobytes() + int(samplerate).to_bytes(4, "little")).digest()
    with _lock:
        cached = _cache.get(key)
    if cached is not None:  # the same audio is often scored twice (Review, then check)
        return cached
    result = _score(x, int(samplerate))
    with _lock:
        if len(_cache) >= _CACHE_SIZE:
            _cache.pop(next(iter(_cache)))
        _cache[key] = result
    return result


def _score(x: np.ndarray, samplerate: int) -> Dnsmos:
    from engine.audio.io import resample

    x = np.clip(np.nan_to_num(resample(x, samplerate, RATE)), -1.0, 1.0)
    if x.size == 0:
        raise ValueError("cannot score empty audio")
    session = _model()
    name = session.get_inputs()[0].name
    raw = np.concatenate([session.run(None, {name: w[np.newaxis, :]})[0] for w in _windows(x)])
    sig = np.polyval(_POLY_SIG, raw[:, 0].astype(np.float64))
    bak = np.polyval(_POLY_BAK, raw[:, 1].astype(np.float64))
    ovrl = np.polyval(_POLY_OVRL, raw[:, 2].astype(np.float64))
    return Dnsmos(float(sig.mean()), float(bak.mean()), float(ovrl.mean()))


def score_file(path: Path | str) -> Dnsmos:
    """DNSMOS P.835 scores of an audio file (read with engine.audio.io)."""
    from engine.audio.io import read_audio

    audio = read_audio(path)
    return score(audio.samples, audio.samplerate)
