"""Import existing recordings into a session: any readable file becomes takes of 2–12 s.

Each file is streamed twice: once to build a 10 ms level envelope (engine.audio.slicer plans the
cuts from it), once to write the takes. Memory stays at one read block plus one take, so a
30-minute file imports in well under a few hundred MB. Takes are written at the source rate (at
most 48 kHz) as WAV, appended to the session with ``source="imported"`` and status "recorded";
nothing already in the session is touched, and session.json is saved atomically after each file.

Transcripts: ``--transcripts`` may be an LJSpeech ``metadata.csv`` (``id|text|normalised``, matched
to file names) or plain text with one line per take in import order; a ``NAME.txt``/``NAME.lab``
beside a file that becomes one take is used too. Takes left without text are marked by an empty
transcript and excluded from training until one is typed.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from engine.audio.io import SourceInfo, iter_blocks, probe, resample, write_wav
from engine.audio.slicer import Envelope, SliceSettings, plan_slices
from engine.errors import AudioError

if TYPE_CHECKING:
    from engine.session import Session

log = logging.getLogger(__name__)

MAX_TAKE_RATE = 48000


class NoSpeechFound(AudioError):
    """A file holds nothing that sounds like speech."""

    default_hint = "Check it is the right file and that it is not silent (play it first)."


class TranscriptFileError(AudioError):
    """The transcripts file cannot be read."""

    default_hint = "Give a UTF-8 text file with one line per take, or an LJSpeech metadata.csv (id|text)."


@dataclass
class Transcripts:
    """Transcripts for an import: by file stem (LJSpeech) and/or in order (one line per take)."""

    by_stem: dict[str, str] = field(default_factory=dict)
    lines: list[str] = field(default_factory=list)

    @classmethod
    def load(cls, path: Path | str | None) -> Transcripts:
        """Parse a sidecar/metadata file; an LJSpeech file is recognised by '|' on every line."""
        if path is None:
            return cls()
        path = Path(path)
        try:
            text = path.read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as exc:
            raise TranscriptFileError(f"Could not read the transcripts in {path}: {exc}") from exc
        rows = [line.strip() for line in text.splitlines() if line.strip()]
        if rows and all("|" in r for r in rows):
            by_stem: dict[str, str] = {}
            for r in rows:
                parts = [p.strip() for p in r.split("|")]
                said = next((p for p in reversed(parts[1:]) if p), "")
                by_stem[Path(parts[0]).stem] = said
            return cls(by_stem=by_stem)
        return cls(lines=rows)


@dataclass
class FileImport:
    """What one file became."""

    path: Path
    info: SourceInfo
    take_ids: list[str]
    seconds: float
    dropped_fragments: int = 0
    bad_samples: int = 0
    truncated: bool = False


@dataclass
class ImportResult:
    """Outcome of an import: the takes added and a clear message for each file that failed."""

    session_id: str
    files: list[FileImport] = field(default_factory=list)
    errors: list[tuple[Path, AudioError]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def take_ids(self) -> list[str]:
        return [t for f in self.files for t in f.take_ids]

    @property
    def seconds(self) -> float:
        return sum(f.seconds for f in self.files)


def _sidecar_text(path: Path) -> str | None:
    for ext in (".txt", ".lab"):
        side = path.with_suffix(ext)
        if side.is_file() and side != path:
            try:
                return " ".join(side.read_text(encoding="utf-8-sig").split())
            except (OSError, UnicodeDecodeError):
                return None
    return None


def _envelope(path: Path, info: SourceInfo) -> tuple[np.ndarray, int, int]:
    env = Envelope(info.samplerate)
    bad = 0
    for block, nbad in iter_blocks(path):
        env.add(block)
        bad += nbad
    return env.levels_db(), env.frames, bad


def _write_takes(
    path: Path, info: SourceInfo, cuts: list[tuple[int, int]], write: Callable[[int, np.ndarray, int], None]
) -> None:
    """Stream the file again and hand each cut's samples (at ≤ 48 kHz) to ``write(i, samples, rate)``."""
    rate = min(info.samplerate, MAX_TAKE_RATE)
    pos = 0
    i = 0
    buf: list[np.ndarray] = []
    for block, _ in iter_blocks(path):
        end = pos + block.size
        while i < len(cuts):
            a, b = cuts[i]
            if a >= end:
                break
            buf.append(block[max(a - pos, 0) : min(b - pos, block.size)])
            if b > end:
                break
            write(i, resample(np.concatenate(buf), info.samplerate, rate), rate)
            buf = []
            i += 1
        pos = end
        if i >= len(cuts):
            return
    if i < len(cuts) and buf:  # the file ended early: keep what there is
        write(i, resample(np.concatenate(buf), info.samplerate, rate), rate)


def import_file(
    session: Session,
    path: Path | str,
    *,
    transcripts: Transcripts | None = None,
    settings: SliceSettings | None = None,
) -> FileImport:
    """Split one file into takes appended to ``session`` (saved); raise AudioError subclasses on bad files."""
    settings = settings or SliceSettings()
    path = Path(path)
    info = probe(path)
    known = (transcripts.by_stem.get(path.stem) if transcripts else None) or _sidecar_text(path)
    levels, frames, bad = _envelope(path, info)
    if frames == 0:
        from engine.audio.io import UnreadableAudio

        raise UnreadableAudio(f"{path.name} holds no audio samples.", "Choose a file that contains sound.")
    whole = bool(known) and frames / info.samplerate <= settings.keep_whole_s
    plan = plan_slices(levels, settings, whole=whole)
    if not plan:
        raise NoSpeechFound(
            f"No speech found in {path.name} ({frames / info.samplerate:.1f} s of silence or noise)."
        )
    if known and len(plan) > 1:
        log.warning(
            "%s is split into %d takes; its transcript cannot be divided and is dropped", path, len(plan)
        )
        known = None
    sr = info.samplerate
    cuts = [(int(a * sr), min(frames, int(round(b * sr)))) for a, b in plan]
    result = FileImport(path, info, [], 0.0, bad_samples=bad, truncated=info.ends_early(frames))

    def write(i: int, samples: np.ndarray, rate: int) -> None:
        index = session.add_take(known or "", source="imported", save=False)
        subtype = "PCM_16" if info.subtype in ("PCM_16", "PCM_U8", "PCM_S8", "ULAW", "ALAW") else "PCM_24"
        try:
            write_wav(session.take_path(index), samples, rate, subtype, durable=False)
        except BaseException:
            session.takes.pop(index)  # never leave a take without its audio
            raise
        take = session.takes[index]
        peak = float(np.max(np.abs(samples))) if samples.size else 0.0
        take.status, take.seconds = "recorded", samples.size / rate
        take.peak_dbfs = 20 * float(np.log10(max(peak, 1e-10)))
        result.take_ids.append(take.id)
        result.seconds += take.seconds

    try:
        _write_takes(path, info, cuts, write)
    finally:
        if result.take_ids:
            os.sync()  # the takes reach the disk before the session.json that names them
            session.ready = False
            session.save()  # once per file: the takes' WAVs are already on disk, each written atomically
    return result


def import_files(
    session: Session,
    paths: list[Path | str],
    *,
    transcripts: Path | str | None = None,
    settings: SliceSettings | None = None,
    progress: Callable[[int, int, str], None] | None = None,
) -> ImportResult:
    """Import several files into a session; each bad file is reported, never fatal to the others.

    Plain-text transcripts (one line per take) are applied only when their count matches the takes
    this import makes; otherwise they are left for the Review screen and a note says so.
    """
    from engine.audio.denoise import RecordingInProgress, recording_in_progress

    if recording_in_progress(session):
        raise RecordingInProgress(f"Session {session.id} is recording a take right now.")
    table = Transcripts.load(transcripts)
    out = ImportResult(session.id)
    first_new = len(session.takes)
    for n, p in enumerate(paths):
        if progress:
            progress(n, len(paths), Path(p).name)
        try:
            out.files.append(import_file(session, p, transcripts=table, settings=settings))
        except AudioError as exc:
            out.errors.append((Path(p), exc))
        except (OSError, ValueError, RuntimeError) as exc:  # disk full, odd decoder errors: report, go on
            log.exception("import of %s failed", p)
            out.errors.append((Path(p), AudioError(f"Could not import {Path(p).name}: {exc}", "")))
    if progress:
        progress(len(paths), len(paths), "")
    if table.lines:
        new = session.takes[first_new:]
        if len(table.lines) == len(new):
            for take, line in zip(new, table.lines, strict=True):
                take.text = " ".join(line.replace("|", " ").split())
            session.save()
        else:
            out.notes.append(
                f"The transcripts file has {len(table.lines)} lines but the import made {len(new)} "
                "takes, so none were applied; type them in Review."
            )
    missing = sum(1 for t in session.takes[first_new:] if not t.text.strip())
    if missing:
        out.notes.append(
            f"{missing} imported take(s) have no transcript and are left out of training until typed."
        )
    return out
