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

from engine.audio.wav import WavLayout, WavRepairError, iter_raw_blocks, scan_wav, subtype_of
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
    repaired: WavLayout | None = None  # a WAV whose header sizes were lost, read by engine.audio.wav

    @property
    def seconds(self) -> float:
        return self.frames / self.samplerate if self.samplerate else 0.0

    def describe(self) -> str:
        """One line such as '48000 Hz, 2 ch, WAV PCM_16'."""
        text = f"{self.samplerate} Hz, {self.channels} ch, {self.format} {self.subtype}"
        return text + (" (damaged header repaired)" if self.repaired is not None else "")

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


_CONTROL = dict.fromkeys([*range(0x20), *range(0x7F, 0xA0)])


def printable(text: str) -> str:
    """``text`` safe to print: control characters (terminal escapes) and undecodable bytes as ``\\xNN``."""
    if text.isprintable():
        return text
    try:
        raw = text.encode("utf-8", "surrogateescape")  # bytes of a file name that were not UTF-8
    except UnicodeEncodeError:
        raw = text.encode("utf-8", "backslashreplace")
    text = raw.decode("utf-8", "backslashreplace")
    return "".join(f"\\x{ord(ch):02x}" if ord(ch) in _CONTROL else ch for ch in text)


def shown(path: Path | str, limit: int = 80) -> str:
    """A file's name fit for a message: at most ``limit`` characters, nothing a terminal would act on."""
    name = printable(Path(path).name or str(path))
    return name if len(name) <= limit else name[: limit - 1] + "…"


def _os_problem(path: Path, exc: OSError) -> UnreadableAudio:
    """An OSError met while opening ``path`` (name too long, no permission…) as a message."""
    why = exc.strerror or type(exc).__name__
    return UnreadableAudio(
        f"{shown(path)} cannot be opened: {why}.",
        "Check the path (a shorter name or folder helps when it is too long) and the permissions.",
    )


@contextmanager
def open_audio_file(path: Path | str) -> Iterator[io.BufferedReader]:
    """The file opened by Python for soundfile: any file name the OS takes (not UTF-8, very long) works."""
    path = Path(path)
    try:
        fh = open(path, "rb")  # noqa: SIM115 - closed below
    except OSError as exc:
        raise _os_problem(path, exc) from exc
    with fh:
        yield fh


def _repaired_layout(path: Path) -> WavLayout | None:
    """The layout our own WAV parser finds in a RIFF file whose header libsndfile cannot use, or None."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(12)
    except OSError:
        return None
    if len(head) < 12 or head[:4] not in (b"RIFF", b"RIFX", b"\0\0\0\0") or head[8:12] != b"WAVE":
        return None
    try:
        layout = scan_wav(path)
    except (WavRepairError, OSError, ValueError) as exc:
        log.debug("WAV repair parser found nothing in %s: %s", path, exc)
        return None
    return layout if layout.frames > 0 and MIN_RATE <= layout.samplerate <= MAX_RATE else None


def _repaired_info(path: Path, layout: WavLayout) -> SourceInfo:
    log.info("%s: the WAV header's sizes are wrong; read %d frames by its data", path, layout.frames)
    return SourceInfo(
        path, layout.samplerate, layout.channels, layout.frames, "WAV", subtype_of(layout), True, layout
    )


def probe(path: Path | str) -> SourceInfo:
    """Describe an audio file without reading its samples; raise UnreadableAudio/UnsupportedRate."""
    path = Path(path)
    try:
        st = os.stat(path)
    except FileNotFoundError:
        st = None
    except OSError as exc:  # name too long, a loop of links, no permission on a folder…
        raise _os_problem(path, exc) from exc
    if path.is_dir():
        raise UnreadableAudio(
            f"{shown(path)} is a folder, not an audio file.",
            f"Name the files in it, for example {path}/*.wav.",
        )
    if st is None or not path.is_file():
        raise UnreadableAudio(f"{path} does not exist or is not a file.", "Check the path and try again.")
    if st.st_size == 0:
        raise UnreadableAudio(f"{path} is empty (0 bytes).", "Choose the right file; this one holds nothing.")
    try:
        with open_audio_file(path) as fh, decoder_quiet():
            info = sf.info(fh)
    except (sf.LibsndfileError, RuntimeError, TypeError, ValueError) as exc:
        layout = _repaired_layout(path)
        if layout is not None:
            return _repaired_info(path, layout)
        raise UnreadableAudio(f"{shown(path)} is not an audio file Timbre can read ({_short(exc)}).") from exc
    if not MIN_RATE <= int(info.samplerate) <= MAX_RATE:
        raise UnsupportedRate(
            f"{shown(path)} has a sample rate of {info.samplerate} Hz; Timbre reads 8–192 kHz."
        )
    if info.channels < 1:
        raise UnreadableAudio(f"{shown(path)} has no audio channels.")
    frames = int(info.frames) if 0 <= info.frames < 2**62 else 0
    if frames == 0 and info.format in ("WAV", "WAVEX", "RF64"):  # sizes zeroed by a crash: the data is there
        layout = _repaired_layout(path)
        if layout is not None:
            return _repaired_info(path, layout)
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
    if block.shape[1] == 1:
        mono = block[:, 0]
    else:
        mono = block.mean(axis=1, dtype=np.float32)
        channel_power = np.einsum("ij,ij->j", block, block, dtype=np.float64)
        loudest = int(np.argmax(channel_power))
        if float(np.dot(mono, mono)) < CANCELLED * float(channel_power[loudest]):
            mono = block[:, loudest]  # the channels cancel (one is the other inverted): keep one
    return np.clip(mono, -1.0, 1.0).astype(np.float32, copy=False), bad


CANCELLED = 0.1
"""A mixdown holding under a tenth (−10 dB) of its loudest channel's energy means the channels cancel.

Uncorrelated channels mix to half their energy (−3 dB) and one silent channel to a quarter (−6 dB);
only channels in opposite phase fall far below, so then the loudest channel alone is used.
"""


def iter_blocks(
    path: Path | str,
    block_seconds: float = 10.0,
    status: DecodeStatus | None = None,
    *,
    max_seconds: float | None = None,
    start_seconds: float = 0.0,
    info: SourceInfo | None = None,
) -> Iterator[tuple[np.ndarray, int]]:
    """Yield (mono float32 block, bad-sample count) at the file's own rate; stop early at damage.

    A truncated or partly corrupt file yields what could be decoded and then stops (logged, and
    ``status.stopped_early`` set), so an import keeps the usable part instead of failing outright.
    Decoder messages are kept off the terminal (``decoder_quiet``). ``max_seconds`` stops reading
    after that much audio (a reference clip needs seconds, not the whole file), ``start_seconds``
    starts there (a long file's excerpt). A WAV whose header sizes were lost
    (``SourceInfo.repaired``) is read by our own parser.
    """
    info = info or probe(path)
    blocksize = max(1024, int(info.samplerate * block_seconds))
    limit = int(max_seconds * info.samplerate) if max_seconds is not None else None
    skip = max(0, int(start_seconds * info.samplerate))
    if info.repaired is not None:
        layout = info.repaired
        if skip:
            skip_bytes = min(skip, layout.frames) * layout.sample_bytes * layout.channels
            layout = replace(
                layout, data_offset=layout.data_offset + skip_bytes, data_bytes=layout.data_bytes - skip_bytes
            )
        yield from _limited((_mono(b) for b in iter_raw_blocks(Path(path), layout, blocksize)), limit)
        return
    with open_audio_file(path) as raw:
        try:
            with decoder_quiet():
                fh = sf.SoundFile(raw)
        except (sf.LibsndfileError, RuntimeError) as exc:
            raise UnreadableAudio(f"{shown(path)} could not be opened ({_short(exc)}).") from exc
        # compressed files are decoded a second at a time: a decoder error loses at most that second
        step = min(blocksize, info.samplerate) if info.format in COMPRESSED else blocksize
        with fh:
            if skip:
                try:
                    with decoder_quiet():
                        fh.seek(min(skip, info.frames) if info.frames else skip)
                except (sf.LibsndfileError, RuntimeError) as exc:
                    where = f"{shown(path)} cannot be read from {start_seconds:.0f} s"
                    raise UnreadableAudio(f"{where}.") from exc
            done = 0
            while limit is None or done < limit:
                parts: list[np.ndarray] = []
                got, ended = 0, False
                want_block = blocksize if limit is None else min(blocksize, limit - done)
                while got < want_block and not ended:
                    want = min(step, want_block - got)
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
                    done += got
                    yield _mono(parts[0] if len(parts) == 1 else np.concatenate(parts))
                if ended or not got:
                    return


def _limited(blocks: Iterator[tuple[np.ndarray, int]], limit: int | None) -> Iterator[tuple[np.ndarray, int]]:
    """The blocks, cut after ``limit`` samples in all (None: all of them)."""
    done = 0
    for block, bad in blocks:
        if limit is not None and done + block.size >= limit:
            yield block[: limit - done], bad
            return
        done += block.size
        yield block, bad


def resample(samples: np.ndarray, rate: int, target: int) -> np.ndarray:
    """Resample mono float32 audio with soxr (high quality); a no-op when the rates match."""
    if rate == target or samples.size == 0:
        return samples.astype(np.float32, copy=False)
    import soxr

    return soxr.resample(samples, rate, target, quality="HQ").astype(np.float32, copy=False)


def read_audio(path: Path | str, *, samplerate: int | None = None, max_seconds: float | None = None) -> Audio:
    """Read any supported file as mono float32, optionally resampled; raise UnreadableAudio when empty.

    ``max_seconds`` reads only the start of the file (``truncated`` then says nothing of the rest).
    """
    info = probe(path)
    blocks: list[np.ndarray] = []
    bad = 0
    status = DecodeStatus()
    for block, nbad in iter_blocks(path, status=status, max_seconds=max_seconds, info=info):
        blocks.append(block)
        bad += nbad
    samples = np.concatenate(blocks) if blocks else np.zeros(0, np.float32)
    if samples.size == 0:
        raise UnreadableAudio(
            f"{shown(info.path)} holds no audio samples.", "Choose a file that contains sound."
        )
    cut = max_seconds is not None and samples.size >= int(max_seconds * info.samplerate)
    truncated = (not cut and info.ends_early(samples.size)) or status.stopped_early
    info = info if cut else info.decoded(samples.size)
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
        with atomic_path(path) as tmp, open(tmp, "wb") as fh:  # a file object: any path length or name
            sf.write(fh, data, samplerate, subtype=subtype, format="WAV")
        return
    buf = io.BytesIO()
    sf.write(buf, data, samplerate, subtype=subtype, format="WAV")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_bytes(buf.getvalue())
    os.replace(tmp, path)
