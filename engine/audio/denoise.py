"""Noise reduction and the 'clean' copies the model trains on (``clean/NNNN.wav``, 32 kHz mono).

noisereduce (spectral gating) runs in stationary mode with the session's room tone as the noise
profile, or non-stationary when there is no room tone (notes/tui-audio.md §6). Its ``prop_decrease``
is how far the gate lowers noise: the mask never drops below 1 − prop_decrease, so 0.7 can remove
at most 10.5 dB. ``strength`` (default 0.7) is therefore a minimum: a noisier take gets the
reduction it needs to bring its noise 30 dB under the speech, capped at 0.95 (26 dB):
prop = clip(1 − 10^(−(30 − SNR)/20), strength, 0.95). Takes already above 30 dB SNR are not
touched. The raw take is always kept.

noisereduce imports torch, so it is imported inside the function that uses it, never at module level.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from engine.audio import analysis
from engine.audio.io import MODEL_RATE, Audio, read_audio, resample, write_wav
from engine.errors import AudioError
from engine.session import session_folder_recording

if TYPE_CHECKING:
    from engine.session import Session

log = logging.getLogger(__name__)

CHUNK_S = 10.0
CHUNK_PAD_S = 1.0
"""noisereduce works on pieces of CHUNK_S seconds with CHUNK_PAD_S of context on each side.

Its default (600 000 samples padded with 30 000 each side, spilled to a temporary file) took 0.69 s
of CPU for 60 s at 32 kHz in stationary mode; 10 s pieces with 1 s of context took 0.46 s (the FFT
smoothing of the mask is faster on smaller arrays) and 0.53 s in one piece, and peak memory stays
that of a 12 s take. The output differs from one piece by at most 0.001 (0.004 with the default).
"""
MANIFEST = "metadata.csv"
"""clean/metadata.csv lists the takes prepared for training ("0001|text"), nothing else."""


class RecordingInProgress(AudioError):
    """Cleaning was asked for while a take of the same session is being recorded."""

    default_hint = "Stop the recording first, then prepare the session again."


@dataclass(frozen=True)
class DenoiseSettings:
    """How hard to clean and how to shape the output."""

    strength: float = 0.7  # minimum prop_decrease of noisereduce (0 = off, 1 = full gate)
    max_strength: float = 0.95
    skip_above_db: float = 30.0  # takes cleaner than this are left as they are
    target_snr_db: float = 30.0
    peak: float = 0.95  # output peak (GPT-SoVITS data prep half-normalises to 0.95, spec §6.1)
    edge_silence_s: float = 0.2  # silence kept before and after the speech
    highpass_hz: float = 40.0  # removes DC offset and rumble


@dataclass(frozen=True)
class DenoiseInfo:
    """What was done to one take."""

    mode: str  # "stationary", "non-stationary" or "skipped"
    snr_before_db: float
    prop_decrease: float


@dataclass(frozen=True)
class CleanResult:
    """One written clean take."""

    source: Path
    path: Path
    seconds: float
    info: DenoiseInfo


def strength_for(snr_db: float, settings: DenoiseSettings) -> float:
    """prop_decrease that brings the noise ``target_snr_db`` under the speech, within the settings' limits."""
    need = settings.target_snr_db - snr_db
    prop = 1.0 - 10.0 ** (-need / 20.0) if need > 0 else 0.0
    return float(min(settings.max_strength, max(settings.strength, prop)))


def highpass(x: np.ndarray, sr: int, cutoff_hz: float) -> np.ndarray:
    """Zero-phase 2nd-order Butterworth high-pass (also removes any DC offset)."""
    from scipy.signal import butter, sosfiltfilt

    if x.size == 0:
        return x.astype(np.float32)
    if x.size < 64 or cutoff_hz <= 0:
        return (x - x.mean()).astype(np.float32)
    sos = butter(2, cutoff_hz, btype="highpass", fs=sr, output="sos")
    return sosfiltfilt(sos, x - x.mean()).astype(np.float32)


def reduce_noise(
    x: np.ndarray, sr: int, noise: np.ndarray | None = None, settings: DenoiseSettings | None = None
) -> tuple[np.ndarray, DenoiseInfo]:
    """Denoise mono float audio; ``noise`` (room tone at the same rate) selects stationary mode."""
    settings = settings or DenoiseSettings()
    x = np.ascontiguousarray(np.asarray(x, dtype=np.float32).reshape(-1))  # 1-D: never (frames, channels)
    snr = analysis.snr_db(x, sr)
    if snr >= settings.skip_above_db or x.size < sr // 10:
        return x, DenoiseInfo("skipped", snr, 0.0)
    prop = strength_for(snr, settings)
    import noisereduce  # heavy (imports torch): only here

    if x.size <= CHUNK_S * sr:  # one piece; padding it with zeros would only add work
        chunking = {"chunk_size": max(x.size, 1), "padding": 0}
    else:
        chunking = {"chunk_size": int(CHUNK_S * sr), "padding": int(CHUNK_PAD_S * sr)}
    if noise is not None and noise.size >= sr // 4:
        y_noise = np.ascontiguousarray(np.asarray(noise, dtype=np.float32).reshape(-1))
        out = noisereduce.reduce_noise(
            y=x, sr=sr, stationary=True, y_noise=y_noise, prop_decrease=prop, n_jobs=1, **chunking
        )
        mode = "stationary"
    else:
        out = noisereduce.reduce_noise(y=x, sr=sr, stationary=False, prop_decrease=prop, n_jobs=1, **chunking)
        mode = "non-stationary"
    return np.asarray(out, dtype=np.float32).reshape(-1)[: x.size], DenoiseInfo(mode, snr, prop)


def trim_edges(x: np.ndarray, sr: int, keep_s: float) -> np.ndarray:
    """Cut leading/trailing silence down to ``keep_s`` seconds (never cuts into speech)."""
    vad = analysis.energy_vad(x, sr)
    idx = np.flatnonzero(vad.speech)
    if idx.size == 0:
        return x
    n = int(round(sr * vad.frame_s))
    keep = int(round(sr * keep_s))
    start = max(0, idx[0] * n - keep)
    stop = min(len(x), (idx[-1] + 1) * n + keep)
    return x[start:stop]


def speech_seconds(x: np.ndarray, sr: int, keep_s: float = DenoiseSettings.edge_silence_s) -> float:
    """Seconds of a take once leading/trailing silence is trimmed as ``trim_edges`` trims the clean copy.

    This is the length training uses (speech plus ``keep_s`` of silence each side), measured on the
    raw take with its DC offset removed; it is what counts toward the 60 s goal.
    """
    x = np.asarray(x, dtype=np.float32).reshape(-1)
    if x.size == 0 or sr <= 0:
        return 0.0
    centred = x - np.float32(np.mean(x, dtype=np.float64))
    return round(len(trim_edges(centred, sr, keep_s)) / sr, 3)


def normalise_peak(x: np.ndarray, peak: float) -> np.ndarray:
    """Scale so the largest sample is ``peak`` (silence is left alone)."""
    top = float(np.max(np.abs(x))) if x.size else 0.0
    return (x * (peak / top)).astype(np.float32) if top > 1e-6 else x.astype(np.float32)


def load_noise_profile(path: Path | None, rate: int = MODEL_RATE) -> np.ndarray | None:
    """Room tone as mono float at ``rate``, high-passed like the takes; None if missing or unreadable."""
    if path is None or not Path(path).is_file():
        return None
    try:
        audio = read_audio(path, samplerate=rate)
    except AudioError as exc:
        log.warning("room tone unusable (%s); using non-stationary noise reduction", exc.message)
        return None
    return highpass(audio.samples, rate, DenoiseSettings.highpass_hz)


def clean_file(
    src: Path, dst: Path, noise: np.ndarray | None = None, settings: DenoiseSettings | None = None
) -> CleanResult:
    """Raw take → 32 kHz mono, high-passed, denoised if needed, trimmed, peak-normalised; atomic write."""
    return clean_audio(read_audio(src), dst, noise, settings)


def clean_audio(
    audio: Audio, dst: Path, noise: np.ndarray | None = None, settings: DenoiseSettings | None = None
) -> CleanResult:
    """``clean_file`` for a take already read (at any rate), so one read serves analysis and cleaning."""
    settings = settings or DenoiseSettings()
    x = highpass(resample(audio.samples, audio.samplerate, MODEL_RATE), MODEL_RATE, settings.highpass_hz)
    y, info = reduce_noise(x, MODEL_RATE, noise, settings)
    y = normalise_peak(trim_edges(y, MODEL_RATE, settings.edge_silence_s), settings.peak)
    write_wav(dst, y, MODEL_RATE, "PCM_16")
    return CleanResult(audio.info.path, Path(dst), len(y) / MODEL_RATE, info)


def recording_in_progress(session: Session) -> bool:
    """True while a take or the room tone of this session is being written (a ``*.partial.wav`` exists).

    ``Session.load`` repairs partial files a crash left behind, so in a loaded session any partial
    file belongs to a recording running now.
    """
    return session_folder_recording(session.dir, recent_s=None)


@dataclass
class PrepareResult:
    """What 'prepare for training' produced."""

    cleaned: list[CleanResult]
    excluded: list[tuple[str, str]]  # (take id, why) for every take left out, from Session.training_takes
    seconds: float
    elapsed_s: float


def _unreadable_report(take_id: str, seconds: float, why: str) -> dict:
    """A stored take report whose one failed check says the file cannot be read (so the take is left out)."""
    check = {
        "key": "format",
        "label": "Format",
        "figure": "unreadable",
        "verdict": "fail",
        "advice": why,
        "value": None,
    }
    return {
        "path": "",
        "seconds": seconds,
        "source": "",
        "checks": [check],
        "take_id": take_id,
        "verdict": "fail",
    }


def prepare_session(
    session: Session,
    settings: DenoiseSettings | None = None,
    *,
    progress: Callable[[int, int, str], None] | None = None,
    cancelled: Callable[[], bool] | None = None,
) -> PrepareResult:
    """Write clean/NNNN.wav for the takes of ``session.training_takes()`` and mark the session ready.

    Accepted takes only: accepted takes without a stored report are analysed first (a failed check
    then leaves them out), and a take whose file cannot be read is stored as failed. clean/metadata.csv
    then lists exactly the takes ``training_takes()`` includes, the same as the session-root
    metadata.csv; ``excluded`` names every other take with the reason. Refuses while recording.
    """
    from engine.audio.quality import analyse_audio

    if recording_in_progress(session):
        raise RecordingInProgress(f"Session {session.id} is recording a take right now.")
    start = time.perf_counter()
    noise = load_noise_profile(session.room_tone_path())
    cleaned: list[CleanResult] = []
    candidates = [i for i, t in enumerate(session.takes) if t.status == "accepted"]
    for n, index in enumerate(candidates):
        if cancelled is not None and cancelled():
            break
        take = session.takes[index]
        if progress:
            progress(n, len(candidates), take.id)
        if not session.take_path(index).is_file():
            continue  # training_takes says "audio file missing"
        audio: Audio | None = None  # read once for the analysis, the speech length and the cleaning
        try:
            if take.quality is None:
                audio = read_audio(session.take_path(index))
                take.quality = analyse_audio(
                    audio, overflow_count=take.overflow_count, transcript=take.text, take_id=take.id
                ).to_dict()
                take.speech_seconds = session.measure_speech(index, audio)
            if session.left_out_because(index) is not None:
                continue
            if recording_in_progress(session):
                raise RecordingInProgress(
                    f"Session {session.id} started recording while it was being prepared."
                )
            audio = audio or read_audio(session.take_path(index))
            cleaned.append(clean_audio(audio, session.clean_path(index), noise, settings))
        except AudioError as exc:
            if isinstance(exc, RecordingInProgress):
                raise
            take.quality = _unreadable_report(take.id, take.seconds, exc.message)
    if progress:
        progress(len(candidates), len(candidates), "")
    included, left_out = session.training_takes()
    names = {f"{t.id}.wav" for t in included}
    cleaned = [c for c in cleaned if c.path.name in names]
    done = cancelled is None or not cancelled()
    if done:
        _write_manifest(session, cleaned)
    _mark_ready(session, done and bool(cleaned))
    session.save()
    excluded = [(t.id, why) for t, why in left_out]
    return PrepareResult(cleaned, excluded, sum(c.seconds for c in cleaned), time.perf_counter() - start)


def _write_manifest(session: Session, cleaned: list[CleanResult]) -> None:
    """Write clean/metadata.csv ("0001|text") naming exactly the training takes; remove stale clean files."""
    from engine.fsutil import atomic_write_text
    from engine.session import metadata_lines

    folder = session.dir / "clean"
    folder.mkdir(parents=True, exist_ok=True)
    keep = {c.path.name for c in cleaned}
    for old in folder.glob("*.wav"):
        if old.name not in keep:  # a take rejected or failed since the last run: not training data any more
            old.unlink(missing_ok=True)
    atomic_write_text(folder / MANIFEST, metadata_lines([t for t in session.takes if f"{t.id}.wav" in keep]))


def _mark_ready(session: Session, ready: bool) -> None:
    """Record on the session that clean/ is complete (``session.ready``)."""
    session.ready = ready
