"""``timbre detect FILE…``: is the Timbre watermark in these files? (WAV, FLAC, MP3, OGG.)"""

from __future__ import annotations

import argparse
import json
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``detect`` subcommand."""
    parser = subparsers.add_parser(
        "detect",
        help="say whether audio files carry the watermark Timbre puts in everything it synthesises",
        description="Check audio files (WAV, FLAC, MP3, OGG) for Timbre's watermark. Exit status 0 when "
        "every file could be read.",
    )
    parser.add_argument("files", nargs="+", type=Path, metavar="FILE")
    parser.add_argument("--json", action="store_true", help="print one JSON object per file")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Print, for each file, whether the watermark is present and the confidence."""
    from engine.audio.watermark import detect_file, read_wav_info
    from engine.errors import TimbreError

    failed = 0
    for path in args.files:
        try:
            present, confidence = detect_file(path)
        except (TimbreError, OSError, RuntimeError) as exc:
            failed += 1
            message = getattr(exc, "message", None) or str(exc)
            if args.json:
                print(json.dumps({"file": str(path), "error": message}, ensure_ascii=False))
            else:
                print(f"{path}: ✗ could not read it ({message})")
            continue
        tagged = ""
        if path.suffix.lower() in (".wav", ".wave"):
            try:
                info = read_wav_info(path)
            except OSError:
                info = {}
            if "Timbre" in info.get("ISFT", ""):
                tagged = "; its metadata says: made by Timbre"
        if args.json:
            print(json.dumps({"file": str(path), "watermark": present, "confidence": round(confidence, 3),
                              "metadata": bool(tagged)}, ensure_ascii=False))  # fmt: skip
        else:
            verdict = "watermark present" if present else "no watermark"
            print(f"{path}: {verdict} (confidence {confidence:.0%}){tagged}")
    return 1 if failed else 0
