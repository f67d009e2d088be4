"""The local usage log of a voice: one JSON line per synthesis in ``voices/NAME/usage.jsonl``.

Each line holds the time, the length of the text, the sha256 of the text, and the output path or
"played": never the audio or the text itself. The log stays on this computer; nothing reads it but
``timbre voices log NAME``.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

USAGE_FILE = "usage.jsonl"
PLAYED = "played"


@dataclass(frozen=True)
class Use:
    """One line of the usage log."""

    time: float
    chars: int
    sha256: str
    output: str


def text_hash(text: str) -> str:
    """The sha256 (hex) of the text's UTF-8 bytes."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def usage_path(folder: Path | str) -> Path:
    """The usage log of the voice in ``folder``."""
    return Path(folder) / USAGE_FILE


def record_use(folder: Path | str | None, text: str, output: Path | str | None) -> Path | None:
    """Append one line for a synthesis of ``text`` (``output``: the file written, or None: played).

    Returns the log's path, or None when the voice has no folder (zero-shot); a log that cannot be
    written is noted in the debug log and never stops the synthesis.
    """
    if folder is None or not Path(folder).is_dir():
        return None
    entry = {
        "time": round(time.time(), 3),
        "chars": len(text),
        "sha256": text_hash(text),
        "output": str(output) if output is not None else PLAYED,
    }
    path = usage_path(folder)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        with os.fdopen(fd, "a", encoding="utf-8") as fh:
            fh.write(json.dumps(entry, ensure_ascii=False) + "\n")
    except OSError as exc:
        log.warning("could not append to %s: %s", path, exc)
        return None
    return path


def record_voice_use(voice: Any, text: str, output: Path | str | None) -> Path | None:
    """``record_use`` for an engine.voice.Voice (nothing for a voice without a folder)."""
    return record_use(getattr(voice, "folder", None), text, output)


def read_uses(folder: Path | str) -> list[Use]:
    """Every readable line of a voice's usage log, oldest first (damaged lines are skipped)."""
    path = usage_path(folder)
    if not path.is_file():
        return []
    uses: list[Use] = []
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        try:
            obj = json.loads(line)
            uses.append(Use(float(obj["time"]), int(obj["chars"]), str(obj["sha256"]), str(obj["output"])))
        except (ValueError, KeyError, TypeError):
            continue
    return uses
