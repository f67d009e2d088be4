"""Robust audio reading and writing: any rate 8–192 kHz, any depth, any channel count, bad samples repaired.

Everything returned is mono float32 in [-1, 1]. Multichannel audio is mixed down (mean of the
channels); NaN and ±inf samples become 0 and are counted so the quality report can mention them.
Files are read in blocks so a 30-minute import never holds more than a block plus a take in memory.
"""

from __future__ import annotations

import io
import logging
import os
import sys
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
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
COMPRESSED = ("MP3", "OGG")
"""Lossy formats, whose decoders may stop mid-file (libmpg123 at a damaged frame)."""


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
    """What a file is: its rate, length and encoding as stored.

    ``exact`` says whether ``frames`` is the true length. It is for PCM, FLAC and Ogg, and for an
    MP3 with a Xing/Info header (which counts its frames); for other MP3s libsndfile guesses the
    length from the file size and bit rate, which a cover picture in an ID3 tag or a variable bit
    rate makes wildly wrong, so there the length is known only once the file is decoded.
    """

    path: Path
    samplerate: int
    channels: int
    frames: int
    format: str
    subtype: str
    exact: bool = True

    @property
    def seconds(self) -> float:
        return self.frames / self.samplerate if self.samplerate else 0.0

    def describe(self) -> str:
        """One line such as '48000 Hz, 2 ch, WAV PCM_16'."""
        return f"{self.samplerate} Hz, {self.channels} ch, {self.format} {self.subtype}"

    def ends_early(self, decoded: int) -> bool:
        """True when fewer frames could be decoded than the file says it holds.

        Only an exact length can say so: an MP3's Xing count may differ from what is decoded by
        part of a frame, so it gets one frame (1152 samples) of slack; an MP3 without one never
        "ends early" by its length (a decoder error mid-file still marks it, see ``DecodeStatus``).
        (libsndfile already shortens a cut-off WAV's length to what is there.)
        """
        if not self.exact or not self.frames:
            return False
        slack = MP3_FRAME if self.format == "MP3" else 0
        return decoded < self.frames - slack

    def decoded(self, frames: int) -> SourceInfo:
        """This description with the length that decoding found, when the stored one was a guess."""
        return self if self.exact else replace(self, frames=frames, exact=True)


MP3_FRAME = 1152
"""Samples in an MPEG-1 Layer III frame (MPEG-2 and 2.5 frames hold 576)."""


@dataclass
class DecodeStatus:
    """Set by ``iter_blocks`` when the decoder gave up before the end of the file."""

    stopped_early: bool = False


_stderr_lock = threading.RLock()


@contextmanager
def decoder_quiet() -> Iterator[None]:
    """Point file descriptor 2 at a scratch file while a C decoder runs (libmpg123 prints on it).

    What the decoder printed is logged at debug level instead of landing on the terminal or
    across the TUI. The redirection is process-wide, so it is held only around decoder calls and
    never across a ``yield`` of ``iter_blocks``; a lock keeps threads from interleaving it.
    """
    with _stderr_lock:
        saved: int | None = None
        try:
            if sys.stderr is not None:
                sys.stderr.flush()
            saved = os.dup(2)
        except (OSError, ValueError):  # no fd 2 at all: nothing can reach a screen
            pass
        if saved is None:
            yield
            return
        scratch = tempfile.TemporaryFile()
        try:
            os.dup2(scratch.fileno(), 2)
            yield
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            scratch.seek(0)
            said = scratch.read(4000).decode("utf-8", "replace").strip()
            scratch.close()
            if said:
                log.debug("decoder output: %s", said)


def _xing_frames(path: Path) -> int | None:
    """Samples an MP3 holds according to its Xing/Info header (LAME delay and padding removed), or None.

    Layout (LAME's "Mp3 Info Tag" description): the first MPEG frame after any ID3v2 tag holds,
    after its 4-byte header and side information (MPEG-1: 32 bytes stereo, 17 mono; MPEG-2/2.5:
    17 stereo, 9 mono), the tag "Xing" or "Info", 4 bytes of flags, then the frame count (flag 1),
    byte count (2), a 100-byte seek table (4) and a quality value (8). A LAME extension follows:
    9 bytes of encoder name and, 12 bytes later, 12 bits of encoder delay and 12 of padding.
    """
    try:
        with open(path, "rb") as fh:
            head = fh.read(10)
            start = 0
            if len(head) == 10 and head[:3] == b"ID3":
                size = (head[6] << 21) | (head[7] << 14) | (head[8] << 7) | head[9]
                start = 10 + size + (10 if head[5] & 0x10 else 0)
            fh.seek(start)
            data = fh.read(8192)
    except OSError:
        return None
    pos = next(
        (i for i in range(len(data) - 3) if data[i] == 0xFF and (data[i + 1] & 0xE0) == 0xE0),
        None,
    )
    if pos is None:
        return None
    version, layer, mode = (data[pos + 1] >> 3) & 3, (data[pos + 1] >> 1) & 3, (data[pos + 3] >> 6) & 3
    if layer != 1 or version == 1:  # not Layer III, or a reserved version
        return None
    mpeg1 = version == 3
    side = (32 if mode != 3 else 17) if mpeg1 else (17 if mode != 3 else 9)
    tag = pos + 4 + side
    if data[tag : tag + 4] not in (b"Xing", b"Info") or len(data) < tag + 12:
        return None
    flags = int.from_bytes(data[tag + 4 : tag + 8], "big")
    if not flags & 1:
        return None
    frames = int.from_bytes(data[tag + 8 : tag + 12], "big")
    q = tag + 12 + (4 if flags & 2 else 0) + (100 if flags & 4 else 0) + (4 if flags & 8 else 0)
    delay = padding = 0
    if data[q : q + 4] == b"LAME" and len(data) >= q + 24:
        d = data[q + 21 : q + 24]
        delay, padding = (d[0] << 4) | (d[1] >> 4), ((d[1] & 0x0F) << 8) | d[2]
    total = frames * (MP3_FRAME if mpeg1 else MP3_FRAME // 2) - delay - padding
    return total if frames and total > 0 else None


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
        with decoder_quiet():
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
    exact = True
    if info.format == "MP3":  # libsndfile's MP3 length is a guess unless the file counts its frames
        counted = _xing_frames(path)
        exact = counted is not None
        frames = counted if counted is not None else frames
    return SourceInfo(
        path, int(info.samplerate), int(info.channels), frames, info.format, info.subtype, exact
    )


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


def iter_blocks(
    path: Path | str, block_seconds: float = 10.0, status: DecodeStatus | None = None
) -> Iterator[tuple[np.ndarray, int]]:
    """Yield (mono float32 block, bad-sample count) at the file's own rate; stop early at damage.

    A truncated or partly corrupt file yields what could be decoded and then stops (logged, and
    ``status.stopped_early`` set), so an import keeps the usable part instead of failing outright.
    Decoder messages are kept off the terminal (``decoder_quiet``).
    """
    info = probe(path)
    blocksize = max(1024, int(info.samplerate * block_seconds))
    try:
        with decoder_quiet():
            fh = sf.SoundFile(str(path))
    except (sf.LibsndfileError, RuntimeError) as exc:
        raise UnreadableAudio(f"{Path(path).name} could not be opened ({_short(exc)}).") from exc
    # compressed files are decoded a second at a time: a decoder error loses at most that second
    step = min(blocksize, info.samplerate) if info.format in COMPRESSED else blocksize
    with fh:
        while True:
            parts: list[np.ndarray] = []
            got, ended = 0, False
            while got < blocksize and not ended:
                want = min(step, blocksize - got)
                try:
                    with decoder_quiet():
                        part = fh.read(want, dtype="float32", always_2d=True)
                except (sf.LibsndfileError, RuntimeError) as exc:
                    log.warning("stopped reading %s early: %s", path, exc)
                    if status is not None:
                        status.stopped_early = True
                    ended = True
                    break
                if part.shape[0]:
                    parts.append(part)
                    got += part.shape[0]
                ended = part.shape[0] < want
            if got:
                yield _mono(parts[0] if len(parts) == 1 else np.concatenate(parts))
            if ended or not got:
                return


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
    status = DecodeStatus()
    for block, nbad in iter_blocks(path, status=status):
        blocks.append(block)
        bad += nbad
    samples = np.concatenate(blocks) if blocks else np.zeros(0, np.float32)
    if samples.size == 0:
        raise UnreadableAudio(
            f"{info.path.name} holds no audio samples.", "Choose a file that contains sound."
        )
    truncated = info.ends_early(samples.size) or status.stopped_early
    info = info.decoded(samples.size)
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
