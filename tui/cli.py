"""The ``timbre`` command: the app with no arguments, headless jobs as subcommands.

Each subcommand lives in its own module under ``tui/commands/`` exposing
``register(subparsers)`` (adds its parser and sets ``func``) so that this file stays small and
heavy imports happen only when that subcommand runs.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

# subcommand modules, imported lazily: each defines register(subparsers) -> None
COMMAND_MODULES: tuple[str, ...] = (
    "tui.commands.record",
    "tui.commands.devices",
    "tui.commands.check",
    "tui.commands.takes",
    "tui.commands.importing",
    "tui.commands.sessions",
    "tui.commands.phonemes",
    "tui.commands.models",
    "tui.commands.say",
    "tui.commands.train",
    "tui.commands.voices",
    "tui.commands.consent",  # issue 14
    "tui.commands.detect",  # issue 14
)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every available subcommand."""
    parser = argparse.ArgumentParser(
        prog="timbre",
        description="Clone your own voice from the terminal. With no subcommand, the app starts.",
    )
    parser.add_argument(
        "--home", help="studio folder holding recordings/ and voices/ (default: $TIMBRE_HOME or .)"
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name == name:
                continue  # not built yet
            raise
        module.register(subparsers)
    for sub in subparsers.choices.values():
        # also accept --home after the subcommand (`timbre record --home DIR`), as people type it
        if not any("--home" in action.option_strings for action in sub._actions):
            sub.add_argument("--home", default=argparse.SUPPRESS, help=argparse.SUPPRESS)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``timbre`` console script."""
    from engine.errors import TimbreError

    for stream in (sys.stdout, sys.stderr):  # a file name that is not UTF-8 must not crash a message
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="backslashreplace")
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if args.command is None:
            from tui.launch import run_app

            return run_app(home=args.home)
        return int(args.func(args) or 0)
    except TimbreError as exc:
        print(f"timbre: {exc.message}", file=sys.stderr)
        if exc.hint:
            print(f"  hint: {exc.hint}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("timbre: interrupted", file=sys.stderr)
        return 130
    except OSError as exc:  # the file system said no (full disk, name too long, no permission…)
        where = f" ({exc.filename})" if getattr(exc, "filename", None) else ""
        print(f"timbre: {exc.strerror or exc}{where}", file=sys.stderr)
        hint = "check the path, the free disk space and the permissions, then try again."
        print(f"  hint: {hint}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
