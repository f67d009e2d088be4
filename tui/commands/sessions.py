"""``timbre sessions list|rename|delete``: the recording sessions of the studio, without the screen."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``sessions`` subcommand and its ``list``, ``rename`` and ``delete`` actions."""
    parser = subparsers.add_parser(
        "sessions",
        help="list, rename or delete recording sessions",
        description="List the recording sessions of the studio, rename one, or delete one (asks first).",
    )
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    listing = actions.add_parser("list", help="every session: takes kept, speech, state")
    listing.add_argument("--json", action="store_true", help="print the list as JSON")
    listing.set_defaults(func=run_list)
    rename = actions.add_parser(
        "rename",
        help="give a session a new name",
        description="Rename a session folder. The name is made file-safe (spaces become '-'); "
        "a name already in use is refused.",
    )
    rename.add_argument("session", metavar="SESSION", help="the session's current name (or its folder)")
    rename.add_argument("new_name", metavar="NEW_NAME", help="the new name")
    rename.set_defaults(func=run_rename)
    delete = actions.add_parser(
        "delete",
        help="delete a session and its recordings",
        description="Delete one session folder (its takes, cleaned audio and session.json). "
        "It asks first unless --yes is given. Voices already trained are kept.",
    )
    delete.add_argument("session", metavar="SESSION", help="the session's name (or its folder)")
    delete.add_argument("-y", "--yes", action="store_true", help="do not ask for confirmation")
    delete.set_defaults(func=run_delete)
    for sub in (listing, rename, delete):
        sub.add_argument("--home", default=argparse.SUPPRESS, help=argparse.SUPPRESS)


def _studio_and_id(args: argparse.Namespace, target: str) -> tuple[Any, str]:
    """The studio and session id for ``target``: a session name, or a ``recordings/<id>`` folder."""
    from engine.studio import Studio

    studio = Studio.locate(getattr(args, "home", None))
    path = Path(target).expanduser()
    if ("/" in target or target.startswith(".")) and (path / "session.json").is_file():
        folder = path.resolve()
        return Studio(folder.parent.parent), folder.name
    return studio, target


def run_list(args: argparse.Namespace) -> int:
    """Print every session, oldest first."""
    from dataclasses import asdict

    from engine.session import list_sessions
    from engine.studio import Studio

    studio = Studio.locate(getattr(args, "home", None))
    summaries = list_sessions(studio)
    if args.json:
        sys.stdout.write(json.dumps([asdict(s) for s in summaries], ensure_ascii=False, indent=2) + "\n")
        return 0
    if not summaries:
        print(f"No sessions in {studio.recordings} yet ('timbre record' or the app starts one).")
        return 0
    width = max(len("Session"), *(len(s.id) for s in summaries))
    print(f"{'Session':<{width}}  Lang  Kept     Speech  State")
    for s in summaries:
        state = ("complete" if s.accepted else "complete, none kept") if s.complete else "unfinished"
        kept = f"{s.accepted}/{s.takes}"
        print(f"{s.id:<{width}}  {s.language:<4}  {kept:<7}  {s.accepted_seconds:5.1f} s  {state}")
    return 0


def run_rename(args: argparse.Namespace) -> int:
    """Rename one session (refuses a name in use)."""
    from engine.sessions_admin import rename_session

    studio, session_id = _studio_and_id(args, args.session)
    new_id = rename_session(studio, session_id, args.new_name)
    print(f"Session {session_id} is now {new_id} ({studio.recordings / new_id}).")
    return 0


def _confirm(question: str) -> bool:
    try:
        answer = input(f"{question} Type 'yes' to delete: ")
    except EOFError:
        return False
    return answer.strip().lower() in ("y", "yes")


def run_delete(args: argparse.Namespace) -> int:
    """Delete one session after asking (or at once with --yes); 1 when the person says no."""
    from engine.session import list_sessions
    from engine.sessions_admin import delete_session, session_folder

    studio, session_id = _studio_and_id(args, args.session)
    folder = session_folder(studio, session_id)
    summary = next((s for s in list_sessions(studio) if s.id == folder.name), None)
    what = f"{summary.takes} prompts, {summary.accepted} takes kept" if summary else "unreadable"
    if not args.yes and not _confirm(f"Delete session {folder.name} ({what}) and every file in {folder}?"):
        print("Nothing deleted.")
        return 1
    removed = delete_session(studio, folder.name)
    print(f"Deleted session {folder.name} ({removed}).")
    return 0
