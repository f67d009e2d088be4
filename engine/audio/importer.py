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

Plain lines for one file: the file is cut into exactly one take per line, at the N−1 likeliest
ends of sentences (``slicer.align_lines``: pause lengths, and each line's expected length from
its phone count through the text frontend), and the import says how sure it is of the cuts. When
the lines cannot be matched (too few pauses, a length that no reading of them could take, or a
doubtful match), the file is cut at pauses as usual and a note says why. Plain lines for several
files: one line per file keeps each file whole with its line; otherwise lines are applied only
when their count matches the takes made.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from engine.audio.io import DecodeStatus, SourceInfo, iter_blocks, probe, resample, write_wav
from engine.audio.slicer import Alignment, AlignmentFailed, Envelope, SliceSettings, align_lines, plan_slices
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
    cuts: list[tuple[float, float]] = field(default_factory=list)  # (start, end) s of each take
    alignment: Alignment | None = None  # set when transcript lines were matched to the takes
    note: str = ""  # what happened to the transcript lines given for this file


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


def _envelope(path: Path, info: SourceInfo, status: DecodeStatus) -> tuple[np.ndarray, int, int]:
    env = Envelope(info.samplerate)
    bad = 0
    for block, nbad in iter_blocks(path, status=status):
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


PUNCTUATION = frozenset(",.!?;:-…'\"，。！？；：、")
"""Phones the frontend gives for punctuation: pauses, not sounds, so they do not add to a line's length."""
MIN_CONFIDENCE = 0.5
"""Below this mean probability of the cuts, lines are not matched to takes (the note says so)."""
MAX_MISFIT = 3.5
"""A line whose length is this many spreads from its prediction means the lines do not fit."""


def line_weights(lines: list[str], language: str) -> list[float]:
    """Each line's expected length in phones (text frontend); a character count where it fails."""
    from engine.errors import TimbreError
    from engine.text.frontend import all_phones, frontend

    mode = "zh" if language == "zh" else "en"
    out: list[float] = []
    for line in lines:
        try:
            count = sum(1 for p in all_phones(frontend(line, mode)) if p not in PUNCTUATION)
        except (TimbreError, ValueError, KeyError, IndexError) as exc:  # odd text: estimate from letters
            log.info("no phones for %r (%s); estimating from its letters", line, exc)
            count = 0
        if count == 0:  # about 2 phones per Han character, 0.8 per letter
            count = sum(2.0 if "\u4e00" <= ch <= "\u9fff" else 0.8 for ch in line if ch.isalnum())
        out.append(float(max(count, 1.0)))
    return out


def _match_lines(levels: np.ndarray, lines: list[str], language: str, settings: SliceSettings) -> Alignment:
    """Align the lines to the recording, or raise AlignmentFailed when the match is doubtful."""
    alignment = align_lines(levels, line_weights(lines, language), settings)
    if alignment.confidence and float(np.mean(alignment.confidence)) < MIN_CONFIDENCE:
        raise AlignmentFailed(
            f"the best match is too doubtful (confidence {np.mean(alignment.confidence):.0%})"
        )
    worst_fit = int(np.argmax(alignment.misfit))
    if alignment.misfit[worst_fit] > MAX_MISFIT:
        raise AlignmentFailed(f"no stretch of the recording is as long as line {worst_fit + 1} needs")
    return alignment


def _alignment_note(name: str, alignment: Alignment, first_id: str | None, last_id: str | None) -> str:
    """One or two sentences: what was matched, how sure, and which cut to check first."""
    n = len(alignment.spans)
    ids = f" ({first_id}-{last_id})" if first_id and last_id and n > 1 else ""
    if not alignment.confidence:
        return f"{name}: its transcript line was given to its one take{ids}."
    mean = float(np.mean(alignment.confidence))
    k = alignment.least_sure() or 0
    text = (
        f"{name}: cut into {n} takes{ids}, one per transcript line, at the pauses that best fit "
        f"each line's length (confidence {mean:.0%}; least sure: the cut between lines {k + 1} and "
        f"{k + 2}, {alignment.confidence[k]:.0%}). Words are not checked: listen in Review."
    )
    return text


def import_file(
    session: Session,
    path: Path | str,
    *,
    transcripts: Transcripts | None = None,
    settings: SliceSettings | None = None,
    lines: list[str] | None = None,
) -> FileImport:
    """Split one file into takes appended to ``session`` (saved); raise AudioError subclasses on bad files.

    ``lines``: the transcript lines said in this file, in order; the file then becomes one take
    per line when they can be matched (see the module docstring), else it is cut at pauses and
    ``FileImport.note`` says why the lines were not used.
    """
    settings = settings or SliceSettings()
    path = Path(path)
    info = probe(path)
    known = (transcripts.by_stem.get(path.stem) if transcripts else None) or _sidecar_text(path)
    status = DecodeStatus()
    levels, frames, bad = _envelope(path, info, status)
    if frames == 0:
        from engine.audio.io import UnreadableAudio

        raise UnreadableAudio(f"{path.name} holds no audio samples.", "Choose a file that contains sound.")
    alignment: Alignment | None = None
    note = ""
    texts: list[str] = []
    if lines and not known:
        try:
            alignment = _match_lines(levels, lines, session.language, settings)
        except AlignmentFailed as exc:
            note = f"{path.name}: the {len(lines)} transcript lines could not be matched to it ({exc})"
        except Exception as exc:  # noqa: BLE001 - a fault in matching must not cost the import
            log.exception("aligning %d lines to %s failed", len(lines), path)
            note = f"{path.name}: the {len(lines)} transcript lines could not be matched to it ({exc})"
    if alignment is not None:
        plan = alignment.spans
        texts = [" ".join(line.replace("|", " ").split()) for line in lines or []]
    else:
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
        note = (
            f"{path.name}: its transcript was not used: at {frames / info.samplerate:.0f} s it was cut "
            f"into {len(plan)} takes, and one line cannot be shared out among them"
        )
        known = None
    sr = info.samplerate
    cuts = [(int(a * sr), min(frames, int(round(b * sr)))) for a, b in plan]
    truncated = info.ends_early(frames) or status.stopped_early
    info = info.decoded(frames)  # an MP3 without a frame count: its length is what decoded
    result = FileImport(
        path, info, [], 0.0, bad_samples=bad, truncated=truncated, cuts=list(plan), alignment=alignment
    )

    def write(i: int, samples: np.ndarray, rate: int) -> None:
        text = texts[i] if i < len(texts) else (known or "")
        index = session.add_take(text, source="imported", save=False)
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
    if alignment is not None and result.take_ids:
        note = _alignment_note(path.name, alignment, result.take_ids[0], result.take_ids[-1])
    elif note and lines:
        note += f"; it was cut at pauses into {len(result.take_ids)} takes instead, without text."
    elif note:
        note += "."
    result.note = note
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

    Plain-text transcripts: for one file, its lines are matched to it (one take per line); for
    several, one line per file keeps each whole with its line; otherwise they are applied only when
    their count matches the takes this import makes, and else left for Review with a note.
    """
    from engine.audio.denoise import RecordingInProgress, recording_in_progress

    if recording_in_progress(session):
        raise RecordingInProgress(f"Session {session.id} is recording a take right now.")
    table = Transcripts.load(transcripts)
    out = ImportResult(session.id)
    first_new = len(session.takes)
    per_file: list[list[str] | None] = [None] * len(paths)
    one_per_file = len(paths) > 1 and len(table.lines) == len(paths)
    if table.lines and len(paths) == 1:  # the lines are what this one recording says: match them
        per_file = [table.lines]
    elif table.lines and one_per_file:  # one line per file: each file is one take
        for name, line in zip(paths, table.lines, strict=True):
            table.by_stem.setdefault(Path(name).stem, " ".join(line.replace("|", " ").split()))
    for n, p in enumerate(paths):
        if progress:
            progress(n, len(paths), Path(p).name)
        try:
            out.files.append(import_file(session, p, transcripts=table, settings=settings, lines=per_file[n]))
            if out.files[-1].note:
                out.notes.append(out.files[-1].note)
        except AudioError as exc:
            out.errors.append((Path(p), exc))
        except (OSError, ValueError, RuntimeError) as exc:  # disk full, odd decoder errors: report, go on
            log.exception("import of %s failed", p)
            out.errors.append((Path(p), AudioError(f"Could not import {Path(p).name}: {exc}", "")))
    if progress:
        progress(len(paths), len(paths), "")
    aligned = any(f.alignment is not None for f in out.files)
    if table.lines and not aligned and not one_per_file:
        new = session.takes[first_new:]
        if len(table.lines) == len(new):
            for take, line in zip(new, table.lines, strict=True):
                take.text = " ".join(line.replace("|", " ").split())
            session.save()
        elif not any(f.note for f in out.files):
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
