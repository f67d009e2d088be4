"""Robust audio reading and writing: any rate 8–192 kHz, any depth, any channel count, bad samples repaired.

Everything returned is mono float32 in [-1, 1]. Multichannel audio is mixed down (mean of the
channels); NaN and ±inf samples become 0 and are counted so the quality report can mention them.
Files are read in blocks so a 30-minute import never holds more than a block plus a take in memory.
"""

from __future__ import annotations

import io
import logging
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf

from engine.errors import AudioError
from engine.fsutil import atomic_path

log = logging.getLogger(__name__)

MODEL_RATE = 32000
"""GPT-SoVITS v2 works at 32 kHz mono (spec §6.1, `5-wav32k`)."""
MIN_RATE = 8000
MAX_RATE = 192000
SUPPORTED = ("WAV", "WAVEX", "RF64", "W64", "FLAC", "OGG", "MP3", "AIFF", "CAF")


class UnreadableAudio(AudioError):
    """The file is missing, empty, not audio, or damaged beyond use."""

    default_hint = (
        "Convert it to WAV or FLAC (for example with Audacity or `sox in.xxx out.wav`) and try again."
    )


class UnsupportedRate(AudioError):
    """The file's sample rate is outside 8–192 kHz."""

    default_hint = "Resample it to 44.1 or 48 kHz first, for example `sox in.wav -r 48000 out.wav`."


@dataclass(frozen=True)
class SourceInfo:
    """What a file is: its rate, length and encoding as stored."""

    path: Path
    samplerate: int
    channels: int
    frames: int
    format: str
    subtype: str

    @property
    def seconds(self) -> float:
        return self.frames / self.samplerate if self.samplerate else 0.0

    def describe(self) -> str:
        """One line such as '48000 Hz, 2 ch, WAV PCM_16'."""
        return f"{self.samplerate} Hz, {self.channels} ch, {self.format} {self.subtype}"

    def ends_early(self, decoded: int) -> bool:
        """True when fewer frames could be decoded than the header promises.

        An MP3 header's length is an estimate (a 44.1 kHz file decoded 38 ms short of it), so MP3
        gets 0.1 s of slack. (libsndfile already shortens a cut-off WAV's length to what is there.)
        """
        slack = int(0.1 * self.samplerate) if self.format == "MP3" else 0
        return bool(self.frames) and decoded < self.frames - slack


@dataclass
class Audio:
    """Mono float32 samples with their rate, where they came from and how many bad samples were fixed."""

    samples: np.ndarray
    samplerate: int
    info: SourceInfo
    bad_samples: int = 0
    truncated: bool = False

    @property
    def seconds(self) -> float:
        return len(self.samples) / self.samplerate if self.samplerate else 0.0


def probe(path: Path | str) -> SourceInfo:
    """Describe an audio file without reading its samples; raise UnreadableAudio/UnsupportedRate."""
    path = Path(path)
    if path.is_dir():
        raise UnreadableAudio(
            f"{path} is a folder, not an audio file.", f"Name the files in it, for example {path}/*.wav."
        )
    if not path.is_file():
        raise UnreadableAudio(f"{path} does not exist or is not a file.", "Check the path and try again.")
    if path.stat().st_size == 0:
        raise UnreadableAudio(f"{path} is empty (0 bytes).", "Choose the right file; this one holds nothing.")
    try:
        info = sf.info(str(path))
    except (sf.LibsndfileError, RuntimeError, TypeError, ValueError) as exc:
        raise UnreadableAudio(f"{path.name} is not an audio file Timbre can read ({_short(exc)}).") from exc
    if not MIN_RATE <= int(info.samplerate) <= MAX_RATE:
        raise UnsupportedRate(
            f"{path.name} has a sample rate of {info.samplerate} Hz; Timbre reads 8–192 kHz."
        )
    if info.channels < 1:
        raise UnreadableAudio(f"{path.name} has no audio channels.")
    frames = int(info.frames) if 0 <= info.frames < 2**62 else 0
    return SourceInfo(path, int(info.samplerate), int(info.channels), frames, info.format, info.subtype)


def _short(exc: BaseException) -> str:
    """First line of a decoder error without libsndfile's "Error opening 'PATH': " (the caller names it)."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    if text.startswith("Error opening ") and "': " in text:
        text = text.split("': ", 1)[1]
    return text.rstrip(".")[:160]


def _mono(block: np.ndarray) -> tuple[np.ndarray, int]:
    """Mix a (frames, channels) block to mono and zero non-finite samples; return it and the bad count."""
    finite = np.isfinite(block)
    bad = int(block.size - np.count_nonzero(finite))
    if bad:
        block = np.where(finite, block, 0.0).astype(np.float32)
    mono = block.mean(axis=1, dtype=np.float32) if block.shape[1] > 1 else block[:, 0]
    return np.clip(mono, -1.0, 1.0).astype(np.float32, copy=False), bad


def iter_blocks(path: Path | str, block_seconds: float = 10.0) -> Iterator[tuple[np.ndarray, int]]:
    """Yield (mono float32 block, bad-sample count) at the file's own rate; stop early at damage.

    A truncated or partly corrupt file yields what could be decoded and then stops (logged), so an
    import keeps the usable part instead of failing outright.
    """
    info = probe(path)
    blocksize = max(1024, int(info.samplerate * block_seconds))
    try:
        with sf.SoundFile(str(path)) as fh:
            while True:
                try:
                    block = fh.read(blocksize, dtype="float32", always_2d=True)
                except (sf.LibsndfileError, RuntimeError) as exc:
                    log.warning("stopped reading %s early: %s", path, exc)
                    return
                if block.shape[0] == 0:
                    return
                yield _mono(block)
                if block.shape[0] < blocksize:
                    return
    except (sf.LibsndfileError, RuntimeError) as exc:
        raise UnreadableAudio(f"{Path(path).name} could not be opened ({_short(exc)}).") from exc


def resample(samples: np.ndarray, rate: int, target: int) -> np.ndarray:
    """Resample mono float32 audio with soxr (high quality); a no-op when the rates match."""
    if rate == target or samples.size == 0:
        return samples.astype(np.float32, copy=False)
    import soxr

    return soxr.resample(samples, rate, target, quality="HQ").astype(np.float32, copy=False)


def read_audio(path: Path | str, *, samplerate: int | None = None) -> Audio:
    """Read any supported file as mono float32, optionally resampled; raise UnreadableAudio when empty."""
    info = probe(path)
    blocks: list[np.ndarray] = []
    bad = 0
    for block, nbad in iter_blocks(path):
        blocks.append(block)
        bad += nbad
    samples = np.concatenate(blocks) if blocks else np.zeros(0, np.float32)
    if samples.size == 0:
        raise UnreadableAudio(
            f"{info.path.name} holds no audio samples.", "Choose a file that contains sound."
        )
    truncated = info.ends_early(samples.size)
    rate = info.samplerate
    if samplerate is not None and samplerate != rate:
        samples, rate = resample(samples, rate, samplerate), samplerate
    return Audio(samples, rate, info, bad, truncated)


def write_wav(
    path: Path | str, samples: np.ndarray, samplerate: int, subtype: str = "PCM_16", *, durable: bool = True
) -> None:
    """Write mono audio to a WAV file atomically (temp file beside it, then rename).

    ``durable=False`` skips the per-file fsync (a bulk import calls ``os.sync()`` once before it
    saves the session that names the files).
    """
    data = np.clip(np.nan_to_num(np.asarray(samples, dtype=np.float32)), -1.0, 1.0)
    if durable:
        with atomic_path(path) as tmp:
            sf.write(str(tmp), data, samplerate, subtype=subtype, format="WAV")
        return
    buf = io.BytesIO()
    sf.write(buf, data, samplerate, subtype=subtype, format="WAV")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_bytes(buf.getvalue())
    os.replace(tmp, path)
