"""``timbre voices log NAME``: the local usage log of a voice (engine.usage_log)."""

from __future__ import annotations

import argparse
import json
import time


def add_log_parser(sub: argparse._SubParsersAction) -> None:
    """Add the ``log`` action to ``timbre voices``."""
    log = sub.add_parser(
        "log", help="when the voice was used: time, text length, text hash, output (never the text)"
    )
    log.add_argument("name")
    log.add_argument("--json", action="store_true", help="print JSON lines for machines")
    log.set_defaults(func=run_log)


def run_log(args: argparse.Namespace) -> int:
    """Print a voice's usage log."""
    from engine.studio import Studio
    from engine.usage_log import read_uses, usage_path
    from engine.voice import voice_info

    info = voice_info(Studio.locate(getattr(args, "home", None)), args.name)
    uses = read_uses(info.folder)
    if args.json:
        for use in uses:
            print(json.dumps(use.__dict__, ensure_ascii=False))
        return 0
    if not uses:
        print(f"voice {info.name!r} has not been used yet ({usage_path(info.folder)} is empty).")
        return 0
    print(f"{'TIME':<19}  {'CHARS':>5}  {'TEXT SHA256':<16}  OUTPUT")
    for use in uses:
        when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(use.time))
        print(f"{when:<19}  {use.chars:>5}  {use.sha256[:16]:<16}  {use.output}")
    print(
        f"{len(uses)} use{'s' * (len(uses) != 1)}; "
        f"the log ({usage_path(info.folder)}) never leaves this computer."
    )
    return 0
