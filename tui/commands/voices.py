"""``timbre voices``: list, show, create (from a session), rename, delete, export and re-reference voices."""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``voices`` subcommand and its actions."""
    parser = subparsers.add_parser(
        "voices",
        help="the studio's voices: list, show, create from a session, rename, delete, export",
        description="Manage the voices in the studio's voices/ folder.",
    )
    sub = parser.add_subparsers(dest="voices_command", metavar="ACTION", required=True)

    ls = sub.add_parser("list", help="every voice with language, kind, date and reference length")
    ls.add_argument("--json", action="store_true", help="print JSON for machines")
    ls.set_defaults(func=run_list)

    show = sub.add_parser("show", help="everything about one voice")
    show.add_argument("name")
    show.add_argument("--json", action="store_true", help="print JSON for machines")
    show.set_defaults(func=run_show)

    create = sub.add_parser(
        "create",
        help="make a zero-shot voice from a session (its best 3–10 s accepted take is the reference)",
    )
    create.add_argument("name")
    create.add_argument("--from-session", required=True, metavar="ID", help="the recording session")
    create.add_argument("--take", metavar="N", help="use take N as the reference instead of the best one")
    create.set_defaults(func=run_create)

    rename = sub.add_parser("rename", help="give a voice another name")
    rename.add_argument("name")
    rename.add_argument("new_name")
    rename.set_defaults(func=run_rename)

    delete = sub.add_parser("delete", help="remove a voice's folder (asks first unless --yes)")
    delete.add_argument("name")
    delete.add_argument("-y", "--yes", action="store_true", help="do not ask")
    delete.set_defaults(func=run_delete)

    export = sub.add_parser(
        "export", help="write the voice in the official formats (.ckpt + .pth) with its reference clip"
    )
    export.add_argument("name")
    export.add_argument("-o", "--out", type=Path, help="output folder (default: voices/NAME/export)")
    export.set_defaults(func=run_export)

    ref = sub.add_parser("reference", help="change a voice's reference clip to a take of a session")
    ref.add_argument("name")
    ref.add_argument("--from-session", required=True, metavar="ID")
    ref.add_argument("--take", metavar="N", help="take N (default: the best one)")
    ref.set_defaults(func=run_reference)

    from tui.commands.usage import add_log_parser  # issue 14: timbre voices log NAME

    add_log_parser(sub)

    if importlib.util.find_spec("engine.train.epochs") is not None:
        use = sub.add_parser(
            "use-epoch", help="make the checkpoint of epoch N of a phase the voice's weights"
        )
        use.add_argument("name")
        use.add_argument("phase", choices=("gpt", "sovits"))
        use.add_argument("epoch", type=int)
        use.set_defaults(func=run_use_epoch)


def _studio(args: argparse.Namespace):
    from engine.studio import Studio

    return Studio.locate(getattr(args, "home", None))


def _minutes(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    return f"{seconds:.1f} s" if seconds < 120 else f"{seconds / 60:.1f} min"


def info_dict(info) -> dict:
    """A VoiceInfo as JSON-ready data."""
    return {
        "name": info.name,
        "folder": str(info.folder),
        "language": info.language,
        "kind": info.kind,
        "version": info.version,
        "created": info.created,
        "reference_seconds": info.reference_seconds,
        "training_seconds": info.training_seconds,
        "reference_text": info.reference_text,
        "source": info.source,
        "problem": info.problem,
    }


def run_list(args: argparse.Namespace) -> int:
    """Print the voices as a table (or JSON)."""
    from engine.voice import list_voices

    voices = list_voices(_studio(args))
    if args.json:
        print(json.dumps([info_dict(v) for v in voices], ensure_ascii=False, indent=2))
        return 0
    if not voices:
        print("No voices yet: `timbre voices create NAME --from-session ID` makes one from a session.")
        return 0
    print(f"{'NAME':<20} {'LANG':<4} {'KIND':<14} {'CREATED':<10} {'REF':>6} {'TRAINED ON':>10}")
    for v in voices:
        if v.problem and v.kind == "zero-shot" and v.language == "?":
            print(f"{v.name:<20} ✗ {v.problem}")
            continue
        kind = f"{v.kind} {v.version}"
        print(
            f"{v.name:<20} {v.language:<4} {kind:<14} {v.created_text:<10} "
            f"{_minutes(v.reference_seconds):>6} {_minutes(v.training_seconds):>10}"
        )
    return 0


def run_show(args: argparse.Namespace) -> int:
    """Print one voice's details."""
    from engine.voice import voice_info

    v = voice_info(_studio(args), args.name)
    if args.json:
        print(json.dumps(info_dict(v), ensure_ascii=False, indent=2))
        return 0
    print(f"voice      {v.name}")
    print(f"folder     {v.folder}")
    print(f"kind       {v.kind} (base {v.version})")
    print(f"language   {v.language}")
    print(f"created    {v.created_text}")
    print(f"reference  {_minutes(v.reference_seconds)}: {v.reference_text}")
    if v.source:
        print(f"from       {v.source}")
    if v.training_seconds is not None:
        print(f"trained on {_minutes(v.training_seconds)} of speech")
    if v.problem:
        print(f"problem    ✗ {v.problem}")
    from tui.commands.consent import consent_lines  # issue 14: the consent take the voice was built from

    for line in consent_lines(v.folder):
        print(line)
    return 0


def run_create(args: argparse.Namespace) -> int:
    """Make a zero-shot voice from a session."""
    from engine.session import Session
    from engine.voice import create_from_session

    studio = _studio(args)
    session = Session.load(studio, args.from_session)
    voice = create_from_session(studio, args.name, session, args.take)
    src = voice.extra.get("source", {})
    print(
        f"voice {voice.name!r} created in {voice.folder} "
        f"(reference: take {src.get('take')}, {voice.extra.get('reference_seconds', 0):.1f} s: "
        f"{voice.reference_text})"
    )
    return 0


def run_rename(args: argparse.Namespace) -> int:
    """Rename a voice."""
    from engine.voice import rename_voice

    dest = rename_voice(_studio(args), args.name, args.new_name)
    print(f"voice {args.name!r} is now {dest.name!r} ({dest})")
    return 0


def run_delete(args: argparse.Namespace) -> int:
    """Delete a voice's folder after asking."""
    from engine.voice import delete_voice, voice_folder

    studio = _studio(args)
    folder = voice_folder(studio, args.name)
    if not args.yes:
        if not sys.stdin.isatty():
            from engine.errors import StudioError

            raise StudioError(f"Not deleting {folder} without confirmation.", "Add --yes.")
        answer = input(f"Delete the voice {folder.name!r} and everything in {folder}? [y/N] ")
        if answer.strip().lower() not in ("y", "yes"):
            print("kept")
            return 1
    delete_voice(studio, args.name)
    print(f"deleted {folder}")
    return 0


def run_export(args: argparse.Namespace) -> int:
    """Export a voice in the official formats."""
    from engine.voice import export_voice

    for path in export_voice(_studio(args), args.name, args.out):
        print(path)
    return 0


def run_reference(args: argparse.Namespace) -> int:
    """Change a voice's reference take."""
    from engine.session import Session
    from engine.voice import set_reference

    studio = _studio(args)
    session = Session.load(studio, args.from_session)
    voice = set_reference(studio, args.name, session, args.take)
    print(f"voice {voice.name!r} now uses take {voice.extra['source']['take']}: {voice.reference_text}")
    return 0


def run_use_epoch(args: argparse.Namespace) -> int:
    """Use the checkpoint of one epoch as the voice's weights (engine.train.epochs)."""
    from engine.voice import voice_folder

    use_epoch = importlib.import_module("engine.train.epochs").use_epoch
    folder = voice_folder(_studio(args), args.name)
    result = use_epoch(folder, args.phase, args.epoch)
    print(
        f"voice {folder.name!r} now uses {args.phase} epoch {args.epoch}" + (f" ({result})" if result else "")
    )
    return 0
