"""``timbre check SESSION|FILE…``: print the quality report of audio files or of recording sessions."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from engine.audio.quality import SessionReport, TakeReport


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``check`` subcommand."""
    parser = subparsers.add_parser(
        "check",
        help="check the quality of a session's takes or of audio files",
        description=(
            "Measure duration, silence, levels, clipping, loudness, noise and SNR, DC offset, bandwidth, "
            "mains hum and dropped audio, and say what to do about each problem. Beside these rules, a "
            "listening score (DNSMOS, ITU-T P.835) guesses how a listening panel would rate each take, "
            "1 bad to 5 excellent, for the voice, the background and overall. A session's reports are "
            "stored in its session.json. Exit status: 0 when nothing fails, 1 when something fails."
        ),
    )
    parser.add_argument("targets", nargs="+", metavar="SESSION|FILE", help="a session id or an audio file")
    parser.add_argument("--all", action="store_true", help="for sessions: print every check of every take")
    parser.add_argument("--json", action="store_true", help="print the reports as JSON")
    parser.set_defaults(func=run)


def format_take(report: TakeReport, *, title: str | None = None) -> list[str]:
    """Every check of one take as aligned lines (glyph, label, figure, advice)."""
    from engine.audio.io import printable
    from engine.audio.quality import GLYPH

    head = f"{printable(title or report.path)}  [{GLYPH[report.verdict]} {report.verdict}]"
    lines = [f"{head}  {report.seconds:.1f} s"]
    for c in report.checks:
        lines.append(f"  {c.glyph} {c.label:<17} {c.figure:<28} {c.advice}")
    return lines


def format_session(report: SessionReport, *, every_check: bool = False) -> list[str]:
    """Session summary: totals, worst problems first, then one line per take."""
    from engine.audio.quality import GLYPH

    lines = [
        f"Session {report.session_id}: {report.usable_seconds:.1f} s usable "
        f"of {report.recorded_seconds:.1f} s"
    ]
    for c in report.checks:
        lines.append(f"  {c.glyph} {c.label:<17} {c.figure:<28} {c.advice}")
    if report.problems:
        lines.append("Problems, worst first:")
        lines.extend(f"  {p.line()}" for p in report.problems)
    lines.append("Takes (listening: the DNSMOS score, how a listening panel would likely rate it, 1-5):")
    for take in report.takes:
        if every_check:
            lines.extend("  " + line for line in format_take(take, title=take.take_id))
        else:
            score = f"listening {take.dnsmos['ovrl']:.1f}" if take.dnsmos else "listening  – "
            lines.append(
                f"  {take.take_id}  {GLYPH[take.verdict]} {take.verdict:<4}  {take.seconds:5.1f} s  "
                f"{score}  {take.summary()}"
            )
    return lines


def run(args: argparse.Namespace) -> int:
    """Check each target; print the reports; 1 if any take or session fails."""
    from engine.audio.denoise import RecordingInProgress
    from engine.audio.io import printable
    from engine.audio.quality import analyse_file, check_session
    from engine.errors import StudioError, TimbreError
    from engine.session import Session, session_folder_recording
    from engine.studio import Studio

    studio = Studio.locate(args.home)
    failed = False
    out: list[dict] = []
    for target in args.targets:
        path = Path(target)
        try:
            is_file = path.is_file()
        except OSError:  # a name too long to look up: reading it gives the clear message
            is_file = True
        if is_file:
            try:
                report = analyse_file(path)
            except TimbreError as exc:  # the message names the file; go on with the other targets
                print(exc.message + (f"\n  hint: {exc.hint}" if exc.hint else ""))
                failed = True
                continue
            failed |= report.verdict == "fail"
            if args.json:
                out.append(report.to_dict())
            else:
                print("\n".join(format_take(report)))
            continue
        session_studio, session_id = studio, target
        if _is_session_folder(path):
            # a session folder given as a path (recordings/<id>), wherever its studio is
            session_studio, session_id = Studio(path.resolve().parent.parent), path.resolve().name
        if not (session_studio.session_dir(session_id) / "session.json").is_file():
            raise StudioError(
                f"{printable(target)!r} is neither an audio file nor a session in {studio.recordings}.",
                "Give a WAV/FLAC/OGG/MP3 path, or a session id (see the Home screen or `ls recordings`).",
            )
        if session_folder_recording(session_studio.session_dir(session_id)):
            raise RecordingInProgress(f"Session {session_id} is recording a take right now.")
        session = Session.load(session_studio, session_id)
        summary = check_session(session)
        failed |= summary.verdict == "fail" or any(t.verdict == "fail" for t in summary.takes)
        if args.json:
            out.append(
                {
                    "session": summary.session_id,
                    "usable_seconds": summary.usable_seconds,
                    "checks": [c.__dict__ for c in summary.checks],
                    "problems": [p.__dict__ for p in summary.problems],
                    "takes": [t.to_dict() for t in summary.takes],
                }
            )
        else:
            print("\n".join(format_session(summary, every_check=args.all)))
    if args.json:
        print(json.dumps(out, ensure_ascii=False, indent=2))
    return 1 if failed else 0


def _is_session_folder(path: Path) -> bool:
    """True for a recordings/<id> folder holding a session.json."""
    try:
        in_recordings = path.resolve().parent.name == "recordings"
        return path.is_dir() and (path / "session.json").is_file() and in_recordings
    except (OSError, RuntimeError):  # a link that loops, a name too long
        return False
