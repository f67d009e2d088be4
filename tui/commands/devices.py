"""``timbre devices``: list the input devices and mark the default."""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``devices`` subcommand."""
    parser = subparsers.add_parser(
        "devices",
        help="list microphones and other input devices",
        description="List the input devices PortAudio can see; '*' marks the default.",
    )
    parser.add_argument("--json", action="store_true", help="print the list as JSON")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Print the input devices (raises PortAudioMissing / NoInputDevice with their hints)."""
    from engine.audio.devices import NoInputDevice, list_input_devices

    found = list_input_devices()
    if args.json:
        rows = [asdict(d) for d in found]  # index, name, hostapi, max_input_channels, default_samplerate, ...
        sys.stdout.write(json.dumps(rows, ensure_ascii=False, indent=2) + "\n")
        return 0
    if not found:
        raise NoInputDevice("No microphone or other input device was found.")
    lines = ["Input devices ('*' = default; pass the number or part of the name to --device):"]
    for d in found:
        mark = "*" if d.is_default else " "
        lines.append(
            f" {mark} {d.index:>3}  {d.name}  ({d.hostapi}, {d.max_input_channels} ch, "
            f"{d.default_samplerate:g} Hz)"
        )
    sys.stdout.write("\n".join(lines) + "\n")
    return 0
