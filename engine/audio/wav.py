"""WAV helpers: repairing a ``*.partial.wav`` left behind by a crash (header sizes never finalised)."""

from __future__ import annotations

import logging
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf

from engine.errors import AudioError
from engine.fsutil import atomic_path

log = logging.getLogger(__name__)

PARTIAL_SUFFIX = ".partial.wav"
_FORMAT_PCM = 1
_FORMAT_FLOAT = 3
_FORMAT_EXTENSIBLE = 0xFFFE


class WavRepairError(AudioError):
    """A partial WAV is too damaged to recover."""


@dataclass(frozen=True)
class WavLayout:
    """Where the samples of a RIFF/WAVE file are and how they are encoded."""

    samplerate: int
    channels: int
    sample_bytes: int
    is_float: bool
    data_offset: int
    data_bytes: int  # bytes of sample data actually present in the file

    @property
    def frames(self) -> int:
        return self.data_bytes // (self.sample_bytes * self.channels)


def final_path_for(partial: Path) -> Path:
    """``takes/0001.partial.wav`` -> ``takes/0001.wav``."""
    name = partial.name
    if not name.endswith(PARTIAL_SUFFIX):
        raise ValueError(f"not a partial WAV name: {partial}")
    return partial.with_name(name[: -len(PARTIAL_SUFFIX)] + ".wav")


def partial_path_for(final: Path) -> Path:
    """``takes/0001.wav`` -> ``takes/0001.partial.wav``."""
    return final.with_name(final.stem + PARTIAL_SUFFIX)


def _chunk_follows(fh, pos: int) -> bool:
    """True when the 4 bytes at ``pos`` look like a RIFF chunk id (printable ASCII)."""
    fh.seek(pos)
    tag = fh.read(4)
    return len(tag) == 4 and all(32 <= c < 127 for c in tag)


def scan_wav(path: Path) -> WavLayout:
    """Parse the RIFF chunks, trusting the file size rather than the (possibly stale) size fields."""
    size = path.stat().st_size
    with open(path, "rb") as fh:
        head = fh.read(12)
        # a crashed writer may leave the RIFF id itself zeroed; "WAVE" and the chunks still say it all
        if len(head) < 12 or head[:4] not in (b"RIFF", b"\0\0\0\0") or head[8:12] != b"WAVE":
            raise WavRepairError(f"{path} is not a WAV file (no RIFF/WAVE header).")
        fmt: tuple[int, int, int, int] | None = None
        pos = 12
        while pos + 8 <= size:
            fh.seek(pos)
            chunk_id, chunk_size = struct.unpack("<4sI", fh.read(8))
            body = pos + 8
            if chunk_id == b"fmt ":
                raw = fh.read(min(chunk_size, 40))
                if len(raw) < 16:
                    break
                tag, channels, rate, _, _, bits = struct.unpack("<HHIIHH", raw[:16])
                if tag == _FORMAT_EXTENSIBLE and len(raw) >= 26:
                    tag = struct.unpack("<H", raw[24:26])[0]
                fmt = (tag, channels, rate, bits)
            elif chunk_id == b"data":
                if fmt is None:
                    break
                tag, channels, rate, bits = fmt
                widths = (32, 64) if tag == _FORMAT_FLOAT else (8, 16, 24, 32)
                if tag not in (_FORMAT_PCM, _FORMAT_FLOAT) or bits not in widths or not 1 <= channels <= 64:
                    raise WavRepairError(f"{path} uses an unsupported WAV encoding (tag {tag}, {bits} bits).")
                if rate < 1:
                    raise WavRepairError(f"{path} gives no sample rate.")
                present = size - body
                if 0 < chunk_size < present and _chunk_follows(fh, body + chunk_size + (chunk_size & 1)):
                    present = chunk_size  # a finalised data chunk followed by other chunks
                return WavLayout(rate, channels, bits // 8, tag == _FORMAT_FLOAT, body, max(present, 0))
            pos = body + chunk_size + (chunk_size & 1)
    raise WavRepairError(f"{path} has no readable format/data chunks; nothing can be recovered.")


def _decode(raw: bytes, layout: WavLayout, path: Path) -> np.ndarray:
    """Little-endian sample bytes as float32 in [-1, 1], shape (frames, channels)."""
    b = layout.sample_bytes
    raw = raw[: len(raw) - len(raw) % (b * layout.channels)]
    if layout.is_float:
        dtype = {4: "<f4", 8: "<f8"}.get(b)
        if dtype is None:
            raise WavRepairError(f"{path}: unsupported float width {b * 8} bits.")
        data = np.frombuffer(raw, dtype=dtype).astype(np.float32)
    elif b == 1:
        data = (np.frombuffer(raw, dtype=np.uint8).astype(np.float32) - 128.0) / 128.0
    elif b == 2:
        data = np.frombuffer(raw, dtype="<i2").astype(np.float32) / 32768.0
    elif b == 3:
        bytes3 = np.frombuffer(raw, dtype=np.uint8).reshape(-1, 3).astype(np.int32)
        ints = bytes3[:, 0] | (bytes3[:, 1] << 8) | (bytes3[:, 2] << 16)
        ints = np.where(ints >= 1 << 23, ints - (1 << 24), ints)
        data = ints.astype(np.float32) / float(1 << 23)
    elif b == 4:
        data = np.frombuffer(raw, dtype="<i4").astype(np.float32) / float(1 << 31)
    else:
        raise WavRepairError(f"{path}: unsupported sample width {b * 8} bits.")
    return data.reshape(-1, layout.channels)


def read_raw_samples(path: Path, layout: WavLayout) -> np.ndarray:
    """Read the samples present in the file as float32, shape (frames, channels)."""
    count = layout.frames * layout.channels
    with open(path, "rb") as fh:
        fh.seek(layout.data_offset)
        raw = fh.read(count * layout.sample_bytes)
    return _decode(raw, layout, path)


def iter_raw_blocks(path: Path, layout: WavLayout, block_frames: int) -> Iterator[np.ndarray]:
    """The samples present in the file as float32 blocks of ``block_frames`` frames, (frames, channels).

    What ``engine.audio.io`` reads a WAV with when its header sizes were lost (a crashed recorder
    leaves them zero): the file is read a block at a time, never whole.
    """
    frame_bytes = layout.sample_bytes * layout.channels
    left = layout.frames * frame_bytes
    with open(path, "rb") as fh:
        fh.seek(layout.data_offset)
        while left > 0:
            raw = fh.read(min(left, max(1, block_frames) * frame_bytes))
            if len(raw) < frame_bytes:
                return
            left -= len(raw)
            yield _decode(raw, layout, path)


def subtype_of(layout: WavLayout) -> str:
    """The soundfile subtype name of the layout's encoding ('PCM_16', 'FLOAT', …)."""
    if layout.is_float:
        return "FLOAT" if layout.sample_bytes == 4 else "DOUBLE"
    return {1: "PCM_U8", 2: "PCM_16", 3: "PCM_24", 4: "PCM_32"}[layout.sample_bytes]


_subtype = subtype_of


def repair_partial_wav(partial: Path, final: Path | None = None, *, min_frames: int = 1) -> Path | None:
    """Rewrite a crashed ``*.partial.wav`` as a valid WAV at ``final`` and remove the partial.

    Every whole frame found in the file is kept. Returns the repaired path, or None when the
    partial held no audio (it is then deleted). Raises WavRepairError when it is unreadable.
    """
    final = final or final_path_for(partial)
    layout = scan_wav(partial)
    if layout.frames < min_frames:
        log.info("removing empty partial take %s", partial)
        partial.unlink(missing_ok=True)
        return None
    data = read_raw_samples(partial, layout)
    with atomic_path(final) as tmp, open(tmp, "wb") as fh:  # a file object: any path length or name
        sf.write(fh, data, layout.samplerate, subtype=_subtype(layout), format="WAV")
    partial.unlink(missing_ok=True)
    log.info("recovered %.2f s from %s into %s", layout.frames / layout.samplerate, partial, final)
    return final


def wav_seconds(path: Path) -> float:
    """Duration of a readable audio file in seconds."""
    info = sf.info(str(path))
    return info.frames / float(info.samplerate)
