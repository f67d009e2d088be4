"""``timbre import FILE… [--session ID] [--transcripts FILE]``: existing recordings become session takes."""

from __future__ import annotations

import argparse


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``import`` subcommand."""
    parser = subparsers.add_parser(
        "import",
        help="import existing recordings (WAV, FLAC, OGG, MP3) into a session",
        description=(
            "Read each file (any rate 8-192 kHz, any depth, mono or multichannel), split long ones at "
            "pauses into 2-12 s takes and add them to a session (a new one unless --session is given). "
            "Nothing already in the session is changed."
        ),
    )
    parser.add_argument("files", nargs="+", metavar="FILE", help="audio files to import")
    parser.add_argument("--session", metavar="ID", help="add to this session (created if it does not exist)")
    parser.add_argument("--language", choices=("zh", "en"), default="en", help="language of a new session")
    parser.add_argument(
        "--transcripts",
        metavar="FILE",
        help=(
            "one line per sentence, or an LJSpeech metadata.csv (id|text) matched to file names; with one "
            "file, it is cut into one take per line at the pauses that best fit each line's length"
        ),
    )
    parser.add_argument("--no-check", action="store_true", help="do not run the quality check afterwards")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Import the files, print what each became, then the quality summary; 2 when nothing was imported."""
    from pathlib import Path

    from engine.audio.denoise import RecordingInProgress
    from engine.audio.importer import import_files
    from engine.audio.io import shown
    from engine.errors import AudioError
    from engine.session import Session, session_folder_recording
    from engine.studio import Studio

    studio = Studio.locate(args.home).ensure()
    created = not (args.session and (studio.session_dir(args.session) / "session.json").is_file())
    if not created:
        if session_folder_recording(studio.session_dir(args.session)):
            raise RecordingInProgress(f"Session {args.session} is recording a take right now.")
        session = Session.load(studio, args.session)
    else:
        session = Session.create(
            studio,
            args.language,
            [],
            device=None,
            samplerate=48000,  # the rate used if takes are re-recorded later (imports keep their own rate)
            script_name="imported",
            session_id=args.session,
        )
    before = len(session.takes)
    result = import_files(session, [Path(f) for f in args.files], transcripts=args.transcripts)
    for f in result.files:
        extra = []
        if f.bad_samples:
            extra.append(f"{f.bad_samples} NaN/inf samples replaced by silence")
        if f.truncated:
            extra.append("file ends early; the readable part was used")
        ids = f"{f.take_ids[0]}-{f.take_ids[-1]}" if len(f.take_ids) > 1 else f.take_ids[0]
        print(
            f"{shown(f.path)}: {f.info.describe()}, {f.info.seconds:.1f} s -> {len(f.take_ids)} take(s) {ids}"
            + (f" ({'; '.join(extra)})" if extra else "")
        )
    for path, exc in result.errors:
        print(f"{shown(path)}: not imported: {exc.message}")
        if exc.hint:
            print(f"  hint: {exc.hint}")
    for note in result.notes:
        print(note)
    if not result.files:
        if created and not session.takes:  # do not leave an empty session behind
            import shutil

            shutil.rmtree(session.dir, ignore_errors=True)
        raise AudioError("Nothing was imported.", "See the messages above for each file.")
    print(
        f"Session {session.id}: {len(session.takes) - before} take(s) added, {result.seconds:.1f} s "
        f"({len(session.takes)} takes in all)."
    )
    from engine.consent import how_to, record_of  # issue 14: imported speech needs the speaker's consent

    if record_of(session) is None:
        print(f"No consent statement on record for {session.id}: training and making a voice need one.")
        print(f"  {how_to(session.id)}")
    if not args.no_check:
        from engine.audio.quality import check_session
        from tui.commands.check import format_session

        print("Checking the quality of the session's takes (--no-check skips this)...", flush=True)
        print("\n".join(format_session(check_session(session, only_new=True))))
    return 0
