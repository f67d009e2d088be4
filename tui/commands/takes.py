"""``timbre takes list|accept|reject SESSION [ID…|all]``: review a session's takes without the screen.

Over a plain SSH shell (or in a script) this makes a session ready for training: training uses
accepted takes only (engine.session.Session.training_takes), and ``list`` names every take left
out and why. ``all`` means every take waiting for review (recorded, not yet accepted or rejected);
``accept all`` leaves out takes that were cut short (name them by id to accept them as they are).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from engine.session import Session, Take
    from engine.studio import Studio

STATUS_WORDS: dict[str, str] = {
    "pending": "○ to record",
    "recorded": "◆ to review",
    "accepted": "✓ accepted",
    "skipped": "↷ skipped",
    "rejected": "✗ rejected",
}
CUT_SHORT_WORDS = "◐ cut short"
CHECK_WORDS: dict[str, str] = {"ok": "✓ ok", "warn": "! warn", "fail": "✗ fail"}


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``takes`` subcommand (list, accept, reject)."""
    parser = subparsers.add_parser(
        "takes",
        help="list, accept or reject a session's takes (review without the screen)",
        description=(
            "Review a session's takes in a plain terminal. Training uses accepted takes only; 'list' "
            "shows each take and names every take left out of training, with the reason. 'all' means "
            "every take waiting for review; 'accept all' leaves out takes that were cut short (a quit, "
            "crash or lost microphone during the take): accept those by id once you have listened."
        ),
    )
    parser.add_argument("action", choices=["list", "accept", "reject"], help="what to do")
    parser.add_argument("session", metavar="SESSION", help="a session id, or its folder (recordings/<id>)")
    parser.add_argument(
        "ids", nargs="*", metavar="ID|all", help="take ids (0003 or 3), or 'all'; list: which takes to show"
    )
    parser.set_defaults(func=run)


def open_session(studio: Studio, target: str) -> Session:
    """Load the session named ``target`` (an id, or a session folder path), refusing while it records."""
    from engine.audio.denoise import RecordingInProgress
    from engine.errors import StudioError
    from engine.session import Session, session_folder_recording
    from engine.studio import Studio as StudioCls

    path = Path(target)
    session_studio, session_id = studio, target
    if path.is_dir() and (path / "session.json").is_file() and path.resolve().parent.name == "recordings":
        session_studio, session_id = StudioCls(path.resolve().parent.parent), path.resolve().name
    if not (session_studio.session_dir(session_id) / "session.json").is_file():
        raise StudioError(
            f"There is no session {target!r} in {studio.recordings}.",
            "Give a session id (see the Home screen or `ls recordings`) or a session folder.",
        )
    if session_folder_recording(session_studio.session_dir(session_id)):
        raise RecordingInProgress(f"Session {session_id} is recording a take right now.")
    return Session.load(session_studio, session_id)


def resolve_ids(session: Session, wanted: list[str]) -> list[int]:
    """Positions of the takes named in ``wanted`` ("0003" or "3"); raise StudioError naming unknown ones."""
    from engine.errors import StudioError

    by_id = {take.id: index for index, take in enumerate(session.takes)}
    by_number = {int(take.id): index for index, take in enumerate(session.takes) if take.id.isdigit()}
    out: list[int] = []
    unknown: list[str] = []
    for item in wanted:
        index = by_id.get(item)
        if index is None and item.isdigit():
            index = by_number.get(int(item))
        if index is None:
            unknown.append(item)
        elif index not in out:
            out.append(index)
    if unknown:
        raise StudioError(
            f"Session {session.id} has no take {', '.join(unknown)}.",
            f"See its takes with: timbre takes list {session.id}",
        )
    return out


def status_words(take: Take) -> str:
    """The status as glyph and word ("◐ cut short" for a take cut short)."""
    return CUT_SHORT_WORDS if take.cut_short else STATUS_WORDS.get(take.status, take.status)


def take_line(take: Take) -> str:
    """One row of the list: id, status, seconds, speech seconds, check verdict, text."""
    verdict = (take.quality or {}).get("verdict")
    check = CHECK_WORDS.get(verdict, "… new") if take.status in ("recorded", "accepted") else "  –"
    secs = f"{take.seconds:5.1f}" if take.seconds else "    –"
    speech = f"{take.speech_seconds:6.1f}" if take.speech_seconds is not None else "     –"
    return f"  {take.id:<5} {status_words(take):<12} {secs} {speech}  {check:<6}  {take.text or '(no text)'}"


def consent_lines(session: Session) -> list[str]:
    """The consent take (kept apart, never trained on) and its speaker check, or how to add one."""
    from engine import consent

    record = consent.record_of(session)
    if record is None:
        return [
            "  consent  ✗ no consent statement on record: training and making a voice need it.",
            f"           {consent.how_to(session.id)}",
        ]
    similarity = (session.consent or {}).get("similarity")
    check = CHECK_WORDS.get(record.verdict, record.verdict)
    lines = [
        f"  consent  {record.source:<12} {record.seconds:5.1f}         {check:<6}  {record.path.name} "
        f"({record.date}; never used for training)",
        f"           {consent.judge_similarity(similarity).text}",
    ]
    if not consent.has_speech(session):
        lines.append(f"           ✗ It holds no speech: record it again. {consent.how_to(session.id)}")
    return lines


def training_lines(session: Session) -> list[str]:
    """What training gets from the session, and every take it leaves out with the reason."""
    from engine.session import COMPLETE_SECONDS, left_out_lines

    included, excluded = session.training_takes()
    n = len(included)
    lines = [
        f"Training uses accepted takes only: {n} take{'' if n == 1 else 's'}, "
        f"{session.training_seconds:.1f} s of speech of {COMPLETE_SECONDS:g} s."
    ]
    unchecked = [t.id for t in included if t.quality is None]
    if unchecked:
        lines.append(
            f"Not checked yet: {', '.join(unchecked)} (checked when the session is prepared; "
            f"`timbre check {session.id}` checks now)."
        )
    if excluded:
        lines.append("Left out of training:")
        lines.extend(f"  {line}" for line in left_out_lines(excluded))
    return lines


def run(args: argparse.Namespace) -> int:
    """List, accept or reject takes; 1 when a take could not be changed."""
    from engine.errors import StudioError, TimbreError
    from engine.studio import Studio

    session = open_session(Studio.locate(args.home), args.session)
    everything = [w for w in args.ids if w.lower() == "all"]
    if everything and len(args.ids) > 1:
        raise StudioError(
            "Give take ids or 'all', not both.", f"For example: timbre takes {args.action} S all"
        )
    if args.action == "list":
        chosen = resolve_ids(session, args.ids) if args.ids and not everything else range(len(session.takes))
        print(f"Session {session.id} ({session.language}): {len(session.takes)} takes")
        print(f"  {'ID':<5} {'STATUS':<12} {'SECS':>5} {'SPEECH':>6}  {'CHECK':<6}  TEXT")
        for index in chosen:
            print(take_line(session.takes[index]))
        print("\n".join(consent_lines(session)))
        print("\n".join(training_lines(session)))
        return 0
    if not args.ids:
        raise StudioError(
            f"Say which takes to {args.action}: their ids, or 'all'.",
            f"See the takes with: timbre takes list {session.id}",
        )
    status = "accepted" if args.action == "accept" else "rejected"
    if everything:
        chosen = [i for i, t in enumerate(session.takes) if t.status == "recorded"]
    else:
        chosen = resolve_ids(session, args.ids)
    changed: list[str] = []
    failed = False
    for index in chosen:
        take = session.takes[index]
        if everything and status == "accepted" and take.cut_short:
            print(
                f"{take.id} not accepted: it was cut short ({take.interrupted_text}). Listen to it, then "
                f"accept it by id (timbre takes accept {session.id} {take.id}) or record it again."
            )
            continue
        if take.status == status:
            continue
        try:
            session.set_status(index, status)
        except TimbreError as exc:
            print(f"{take.id}: {exc.message}" + (f" {exc.hint}" if exc.hint else ""))
            failed = True
            continue
        changed.append(take.id)
    word = "Accepted" if status == "accepted" else "Rejected"
    print(
        f"{word} {len(changed)} take{'' if len(changed) == 1 else 's'}"
        + (f": {', '.join(changed)}." if changed else ".")
    )
    print("\n".join(training_lines(session)))
    return 1 if failed else 0
