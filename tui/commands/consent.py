"""``timbre consent SESSION``: show, record or import the speaker's consent statement; check the speaker.

Without an option it prints the statement to read, whether a consent take is on record, its quality
verdict and the speaker check (the consent take against the accepted takes). ``--record`` records
it from the microphone (Enter starts and stops); ``--import FILE`` takes a recording of it.
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
from pathlib import Path
from typing import TextIO


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``consent`` subcommand."""
    parser = subparsers.add_parser(
        "consent",
        help="the speaker's consent statement of a session: show, --record or --import it",
        description="Every voice needs its speaker's consent on record: a statement read aloud, naming "
        "the voice and the date. Show it, record it, or import a recording of it.",
    )
    parser.add_argument("session", help="the recording session")
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--record", action="store_true", help="record the statement from the microphone")
    group.add_argument(
        "--import", dest="import_file", type=Path, metavar="FILE", help="import a recording of it"
    )
    parser.add_argument("--device", help="input device for --record (see 'timbre devices')")
    parser.add_argument("--seconds", type=float, metavar="S", help="--record unattended: S seconds, no Enter")
    parser.set_defaults(func=run)


def _say(text: str = "", out: TextIO | None = None) -> None:
    stream = out or sys.stdout
    stream.write(text + "\n")
    stream.flush()


def describe(session) -> list[str]:
    """Plain lines about a session's consent: the statement, the take, its check, the speaker check."""
    from engine import consent

    lines = [
        f"Consent statement of session {session.id} (read it aloud, as written):",
        f"  {consent.pending_text(session)}",
    ]
    record = consent.record_of(session)
    if record is None:
        lines.append("✗ No consent take on record yet: training and making a voice need it.")
        lines.append(f"  {consent.how_to(session.id)}")
        return lines
    glyph = {"ok": "✓", "warn": "!", "fail": "✗"}.get(record.verdict, "?")
    lines.append(
        f"{glyph} consent take {record.path.name}: {record.source} on {record.date}, {record.seconds:.1f} s, "
        f"quality {record.verdict}, sha256 {record.sha256[:12]}…"
    )
    if record.verdict == "fail":
        lines.append("  The quality check failed: record it again in a quiet room, close to the microphone.")
    similarity = (session.consent or {}).get("similarity")
    lines.append(consent.judge_similarity(similarity).text)
    return lines


def consent_lines(folder: Path | None) -> list[str]:
    """Lines for ``timbre voices show``: the consent take(s) voice.json says the voice was built from."""
    if folder is None or not (Path(folder) / "voice.json").is_file():
        return []
    try:
        data = json.loads((Path(folder) / "voice.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    entries = data.get("consent") if isinstance(data, dict) else None
    if not entries:
        return ["consent    ✗ none on record (made before consent takes, or imported)"]
    out = []
    for c in entries if isinstance(entries, list) else [entries]:
        if isinstance(c, dict):
            out.append(
                f"consent    {c.get('path', '?')} ({c.get('source', 'recorded')} {c.get('date', '?')}, "
                f"sha256 {str(c.get('sha256', ''))[:12]}…)"
            )
    return out


def _record_until_enter(recorder, path: Path, stdin: TextIO) -> object:
    recorder.start_take(path)
    try:
        stdin.readline()
    except BaseException:
        recorder.cancel_take()
        raise
    return recorder.stop_take()


def _record_for(recorder, path: Path, seconds: float) -> object:
    recorder.start_take(path)
    done = threading.Event()
    try:
        while not done.wait(0.02):
            state = recorder.meter()
            if state.error or state.take_seconds >= seconds:
                break
    except BaseException:
        recorder.cancel_take()
        raise
    return recorder.stop_take()


def record_step(session, recorder, stdin: TextIO | None = None, *, seconds: float | None = None) -> bool:
    """The consent step before the first prompt: read the statement aloud, recorded as consent.wav.

    Interactive (``stdin``): Enter starts and stops, then Enter keeps it, ``r`` records it again,
    ``q`` stops. Unattended (``seconds``): records that long. Returns False when the person quit.
    Does nothing (True) when a consent take is already on record.
    """
    from engine import consent

    if consent.record_of(session) is not None:
        return True
    text = consent.start(session)
    _say("\nConsent: read this statement aloud before the first prompt (it is kept, never trained on):")
    _say(f"  {text}")
    path = consent.consent_path(session)
    while True:
        if seconds is not None:
            result = _record_for(recorder, path, seconds)
        else:
            _say("  Enter: start recording the statement   q: quit")
            line = stdin.readline() if stdin is not None else ""
            if not line or line.strip().lower() == "q":
                return False
            _say("  Recording the statement... press Enter to stop.")
            result = _record_until_enter(recorder, path, stdin)
        record = consent.store(session, overflow_count=int(getattr(result, "overflow_count", 0)))
        _say(f"  consent take saved ({record.seconds:.1f} s, quality {record.verdict})")
        if seconds is not None:
            return True
        _say("  Enter: keep it and go on   r: record it again   q: quit")
        line = stdin.readline() if stdin is not None else ""
        choice = "q" if not line else line.strip().lower()[:1]
        if choice == "r":
            continue
        return choice != "q"


def run(args: argparse.Namespace) -> int:
    """Show, record or import a session's consent statement."""
    from engine import consent
    from engine.session import Session
    from engine.studio import Studio

    studio = Studio.locate(getattr(args, "home", None))
    session = Session.load(studio, args.session)
    if args.import_file is not None:
        record = consent.import_file(session, args.import_file)
        _say(
            f"imported {args.import_file} as {record.path} ({record.seconds:.1f} s, quality {record.verdict})"
        )
    elif args.record:
        from engine.audio.recorder import Recorder

        if consent.record_of(session) is not None:
            consent_path = consent.consent_path(session)
            consent_path.unlink()  # recording again replaces the take on record
        recorder = Recorder(args.device, samplerate=session.samplerate)
        try:
            if not recorder.wait_ready():
                from engine.audio.devices import DeviceLost

                raise DeviceLost(recorder.meter().error or f"{recorder.device.name} sends no audio.")
            if not record_step(session, recorder, sys.stdin, seconds=args.seconds):
                _say("No consent take recorded.")
                return 1
        finally:
            recorder.close()
    if consent.record_of(session) is not None and session.training_takes()[0]:
        consent.speaker_check(session)
    for line in describe(session):
        _say(line)
    return 0
