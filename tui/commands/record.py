"""``timbre record``: a guided recording session in a plain terminal (no full-screen UI).

Interactive: room tone first, then each prompt; Enter starts a take and Enter stops it, then
Enter accepts, ``r`` re-records, ``p`` plays, ``s`` skips, ``q`` quits (the session can be resumed
with ``--session``). Unattended: ``--takes N --seconds S`` records N takes of S seconds each.
"""

from __future__ import annotations

import argparse
import math
import shlex
import sys
import threading
import time
from typing import TextIO


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``record`` subcommand."""
    parser = subparsers.add_parser(
        "record",
        help="record a voice session in the terminal (headless)",
        description="Record a guided session: room tone, then one take per prompt. "
        "Resume an unfinished session with --session NAME.",
    )
    parser.add_argument(
        "--language", choices=["zh", "en"], default="en", help="built-in script (default: en)"
    )
    parser.add_argument(
        "--prompts", metavar="FILE", help="your own prompts: a UTF-8 file, one sentence a line"
    )
    parser.add_argument("--device", help="input device: number or part of its name (see 'timbre devices')")
    parser.add_argument("--session", metavar="NAME", help="session name; an existing one is resumed")
    parser.add_argument("--rate", type=int, help="sample rate in Hz (default: the device's own)")
    parser.add_argument(
        "--room-tone", type=float, default=3.0, metavar="S", help="seconds of room tone to record (0: skip)"
    )
    parser.add_argument("--takes", type=int, metavar="N", help="unattended: record N takes, then stop")
    parser.add_argument(
        "--seconds", type=float, default=4.0, metavar="S", help="unattended: seconds per take"
    )
    parser.add_argument("--accept", action="store_true", help="unattended: mark the takes accepted")
    parser.set_defaults(func=run)


def _say(text: str = "", out: TextIO | None = None) -> None:
    stream = out or sys.stdout
    stream.write(text + "\n")
    stream.flush()


def _db(value: float | None) -> str:
    return "-inf" if value is None or not math.isfinite(value) else f"{value:.1f}"


def meter_line(state, width: int = 30) -> str:
    """One line of text showing a MeterState: time, level bar (-60..0 dBFS), peak, warnings."""
    level = state.peak_dbfs if math.isfinite(state.peak_dbfs) else -60.0
    filled = int(round(max(0.0, min(1.0, (level + 60.0) / 60.0)) * width))
    bar = "#" * filled + "." * (width - filled)
    flags = []
    if state.clipping:
        flags.append("CLIPPING: move back or lower the gain")
    if state.overflow_count:
        flags.append(f"{state.overflow_count} dropouts")
    return f"REC {state.take_seconds:5.1f} s [{bar}] peak {_db(state.peak_dbfs):>5} dBFS " + "  ".join(flags)


def _open_session(args: argparse.Namespace, studio, device_name: str, default_rate: int):
    from engine.prompts import builtin_script, load_prompt_file
    from engine.session import Session

    if args.session and (studio.session_dir(args.session) / "session.json").exists():
        session = Session.load(studio, args.session)
        _say(f"Resuming session {session.id} ({session.language}, {session.samplerate} Hz).")
        return session
    if args.prompts:
        prompts = load_prompt_file(args.prompts)
        script_name = f"file:{args.prompts}"
    else:
        prompts = builtin_script(args.language)
        script_name = f"builtin:{args.language}"
    session = Session.create(
        studio,
        args.language,
        prompts,
        device=device_name,
        samplerate=default_rate,
        script_name=script_name,
        session_id=args.session,
    )
    _say(f"New session {session.id}: {len(prompts)} prompts, saved in {session.dir}")
    return session


def _report(result, index: int, session) -> None:
    """The take's numbers, then the quality check's problems with their advice (stored on the take)."""
    from engine.audio.quality import analyse_file
    from engine.errors import AudioError

    take = session.takes[index]
    _say(
        f"  take {take.id}: {result.seconds:.1f} s, peak {_db(result.peak_dbfs)} dBFS, "
        f"{result.overflow_count} dropouts, {result.clip_count} clips"
    )
    if result.clip_count:
        _say("  ! It clipped: move back from the microphone or lower the input gain, then re-record (r).")
    if result.overflow_count:
        _say("  ! Audio was dropped while recording; re-record this take (r).")
    try:
        report = analyse_file(
            result.path, overflow_count=result.overflow_count, transcript=take.text, take_id=take.id
        )
    except AudioError as exc:
        _say(f"  ! Could not check the take: {exc.message}")
        return
    take.quality = report.to_dict()
    session.save()
    said = {"overflows"} | ({"clipping"} if result.clip_count else set())  # already said above
    shown = [c for c in report.problems if c.key not in said]
    for check in shown[:3]:
        _say(f"  {check.glyph} {check.label}: {check.figure}. {check.advice}")


def _wait_seconds(recorder, seconds: float) -> None:
    while True:
        state = recorder.meter()
        if state.error or state.take_seconds >= seconds:
            return
        time.sleep(0.02)


def _room_tone(session, recorder, seconds: float) -> None:
    from engine.audio.recorder import record_room_tone

    if seconds <= 0 or session.room_tone_path().exists():
        return
    _say(f"Room tone: stay quiet for {seconds:g} second{'' if seconds == 1 else 's'}...")
    result = record_room_tone(recorder, session.room_tone_path(), seconds)
    session.set_room_tone(result)
    _say(f"  room tone saved ({result.seconds:.1f} s, peak {_db(result.peak_dbfs)} dBFS)")


def _unattended(session, recorder, count: int, seconds: float, accept: bool) -> None:
    for _ in range(count):
        index = session.next_pending()
        if index is None:
            _say("Every prompt has been recorded.")
            return
        _say(f"[{index + 1}/{len(session.takes)}] {session.takes[index].text}")
        recorder.start_take(session.take_path(index))
        try:
            _wait_seconds(recorder, seconds)
        except BaseException:
            recorder.cancel_take()
            raise
        result = recorder.stop_take()
        session.record_result(index, result)
        if accept:
            session.set_status(index, "accepted")
        _report(result, index, session)


def _record_until_enter(recorder, path, stdin: TextIO, live: bool):
    recorder.start_take(path)
    stop = threading.Event()

    def show() -> None:
        while not stop.wait(0.1):
            sys.stdout.write("\r" + meter_line(recorder.meter()) + "\x1b[K")
            sys.stdout.flush()

    painter = threading.Thread(target=show, daemon=True) if live else None
    if painter:
        painter.start()
    try:
        stdin.readline()
    except BaseException:
        stop.set()
        recorder.cancel_take()
        raise
    finally:
        stop.set()
        if painter:
            painter.join()
            sys.stdout.write("\n")
    return recorder.stop_take()


def _interactive(session, recorder, stdin: TextIO) -> None:
    from engine.audio.playback import play_file
    from engine.errors import AudioError

    live = sys.stdout.isatty()
    total = len(session.takes)
    while (index := session.resume_index()) is not None:
        take = session.takes[index]
        _say(f"\n[{index + 1}/{total}] {take.text}")
        if take.cut_short:
            _say(f"  ◐ this take was cut short ({take.interrupted_text}): record it again, or s to skip it")
        _say("  Enter: start recording   s: skip   q: quit")
        line = stdin.readline()
        if not line or line.strip().lower() == "q":
            return
        if line.strip().lower() == "s":
            session.set_status(index, "skipped")
            continue
        while True:
            _say("  Recording... press Enter to stop.")
            result = _record_until_enter(recorder, session.take_path(index), stdin, live)
            session.record_result(index, result)
            _report(result, index, session)
            choice = _ask(stdin)
            while choice == "p":
                _say("  Playing...")
                try:
                    play_file(session.take_path(index), blocking=True)
                except AudioError as exc:
                    _say(f"  {exc.message}\n  {exc.hint}")
                choice = _ask(stdin)
            if choice == "r":
                continue
            if choice == "s":
                session.set_status(index, "skipped")
            elif choice == "q":
                return
            else:
                session.set_status(index, "accepted")
                _say(f"  accepted; {session.accepted_seconds:.0f} s of 60 s")
            break


def _ask(stdin: TextIO) -> str:
    _say("  Enter: accept and next   r: re-record   p: play   s: skip   q: quit")
    line = stdin.readline()
    return "q" if not line else line.strip().lower()[:1]


def run(args: argparse.Namespace) -> int:
    """Run a recording session; returns 0 (errors are raised as TimbreError)."""
    from engine.audio.recorder import Recorder
    from engine.session import repair_crashed_sessions
    from engine.studio import Studio

    if args.takes is not None and (args.takes < 1 or args.seconds <= 0):
        from engine.errors import TimbreError

        raise TimbreError("--takes must be at least 1 and --seconds more than 0.")
    studio = Studio.locate(args.home)
    for sid in repair_crashed_sessions(studio):
        _say(f"Recovered the takes a crash cut short in session {sid}.")
    recorder = Recorder(args.device, samplerate=args.rate)
    try:
        session = _open_session(args, studio, recorder.device.name, recorder.samplerate)
        if session.samplerate != recorder.samplerate:
            recorder.close()
            recorder = Recorder(recorder.device, samplerate=session.samplerate)
        _say(f"Microphone: {recorder.device.name} at {recorder.samplerate} Hz")
        if not recorder.wait_ready():
            from engine.audio.devices import DeviceLost

            raise DeviceLost(recorder.meter().error or f"{recorder.device.name} sends no audio.")
        _room_tone(session, recorder, args.room_tone)
        from tui.commands.consent import record_step  # issue 14: the consent statement comes first

        unattended = args.seconds if args.takes is not None else None
        if record_step(session, recorder, sys.stdin, seconds=unattended):  # False: quit at that step
            if args.takes is not None:
                _unattended(session, recorder, args.takes, args.seconds, args.accept)
            else:
                _interactive(session, recorder, sys.stdin)
    finally:
        recorder.close()
    done = "complete" if session.is_complete else "not complete yet"
    home = f"--home {shlex.quote(args.home)} " if args.home else ""
    _say(
        f"\nSession {session.id}: {session.accepted_seconds:.1f} s accepted ({done}). Files: {session.dir}\n"
        f"Resume with: timbre {home}record --session {session.id}"
    )
    return 0
