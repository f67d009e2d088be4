"""The training event protocol: JSON lines on the trainer's stdout (DESIGN §4).

One module for both sides: the trainer writes events with :func:`emit` (or an :class:`EventWriter`),
every reader (the CLI's progress display, the TUI's monitor, tests) parses lines with :func:`parse`.
Every event is a JSON object with ``"event"`` (its kind) and ``"t"`` (unix seconds). Readers ignore
unknown fields and unknown kinds, so the schema can grow without breaking older readers.

Kinds and their fields (all optional fields may be absent or null):

- ``start``: phases (list of names), total_steps, device, gpu_name, config (dict), voice, pid
- ``phase``: name (prepare|sovits|gpt|export), epochs, steps
- ``progress``: phase, epoch, epochs, step, total_steps, losses (name -> float), lr, steps_per_s, eta_s,
  gpu_mem_mb, gpu_name
- ``checkpoint``: phase, epoch, step, path
- ``sample``: phase, epoch, text, wav, similarity (0..1 speaker similarity to the reference), seconds
- ``log``: level (debug|info|warning|error), message
- ``done``: voice, seconds
- ``cancelled``: phase, step, checkpoint
- ``error``: message, hint
"""

from __future__ import annotations

import json
import math
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

KINDS = ("start", "phase", "progress", "checkpoint", "sample", "log", "done", "cancelled", "error")
PHASES = ("prepare", "sovits", "gpt", "export")
LEVELS = ("debug", "info", "warning", "error")
EVENTS_FILE = "events.jsonl"  # in voices/<name>/train/
PID_FILE = "trainer.pid"  # in voices/<name>/train/: "pid start_time" while a trainer runs

# The fields each kind must carry, and their JSON types (bool is never a number here).
REQUIRED: dict[str, dict[str, tuple[type, ...]]] = {
    "start": {"phases": (list,)},
    "phase": {"name": (str,)},
    "progress": {"phase": (str,), "step": (int,), "total_steps": (int,)},
    "checkpoint": {"path": (str,)},
    "sample": {"epoch": (int,), "wav": (str,)},
    "log": {"level": (str,), "message": (str,)},
    "done": {"voice": (str,)},
    "cancelled": {},
    "error": {"message": (str,)},
}


class EventError(ValueError):
    """A line that is not an event of the schema."""


@dataclass
class Event:
    """One parsed event: its kind, time and every field (unknown ones kept)."""

    kind: str
    t: float
    data: dict[str, Any] = field(default_factory=dict)

    def get(self, key: str, default: Any = None) -> Any:
        """A field of the event, or ``default`` when it is absent or null."""
        value = self.data.get(key)
        return default if value is None else value


def _clean(value: Any) -> Any:
    """JSON-safe copy: NaN/Inf become null, tuples lists, paths strings."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    if isinstance(value, Path):
        return str(value)
    if hasattr(value, "item") and callable(value.item):  # numpy / torch scalars
        return _clean(value.item())
    return value


def make(kind: str, **fields: Any) -> dict[str, Any]:
    """An event dict of ``kind`` with ``t`` set to now; raises EventError for an unknown kind."""
    if kind not in KINDS:
        raise EventError(f"unknown event kind {kind!r}")
    out: dict[str, Any] = {"event": kind, "t": time.time()}
    out.update(_clean(fields))
    validate(out)
    return out


def dumps(event: dict[str, Any]) -> str:
    """One line of JSON (no newline), strict: no NaN."""
    return json.dumps(event, ensure_ascii=False, allow_nan=False, separators=(",", ":"))


def validate(obj: Any) -> Event:
    """Check a decoded object against the schema and return it as an Event."""
    if not isinstance(obj, dict):
        raise EventError("an event is a JSON object")
    kind = obj.get("event")
    t = obj.get("t")
    if not isinstance(kind, str):
        raise EventError('an event needs a string "event"')
    if isinstance(t, bool) or not isinstance(t, int | float):
        raise EventError('an event needs a number "t"')
    for name, types in REQUIRED.get(kind, {}).items():
        value = obj.get(name)
        if isinstance(value, bool) or not isinstance(value, types):
            raise EventError(f"a {kind!r} event needs {name!r} of type {types[0].__name__}")
    if kind == "log" and obj["level"] not in LEVELS:
        raise EventError(f"unknown log level {obj['level']!r}")
    return Event(kind, float(t), {k: v for k, v in obj.items() if k not in ("event", "t")})


def parse(line: str | bytes) -> Event | None:
    """Parse one stdout line: an Event, or None for a blank line. Raises EventError for anything else.

    Unknown kinds parse (readers skip them); known kinds must carry their required fields.
    """
    if isinstance(line, bytes):
        line = line.decode("utf-8", "replace")
    line = line.strip()
    if not line:
        return None
    try:
        obj = json.loads(line)
    except json.JSONDecodeError as exc:
        raise EventError(f"not JSON: {line[:80]!r}") from exc
    return validate(obj)


def read_file(path: Path | str) -> list[Event]:
    """Every event in an ``events.jsonl`` (a torn last line, from a kill, is skipped)."""
    events: list[Event] = []
    try:
        text = Path(path).read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return events
    for line in text.splitlines():
        try:
            event = parse(line)
        except EventError:
            continue
        if event is not None:
            events.append(event)
    return events


class EventWriter:
    """Writes events as flushed JSON lines to a stream (stdout) and appends them to a log file."""

    def __init__(self, stream: IO[str] | None = None, log_path: Path | str | None = None) -> None:
        self.stream = stream if stream is not None else sys.stdout
        self.log_path = Path(log_path) if log_path is not None else None
        self._lock = threading.Lock()
        self._file: IO[str] | None = None
        if self.log_path is not None:
            self.log_path.parent.mkdir(parents=True, exist_ok=True)
            self._file = open(self.log_path, "a", encoding="utf-8")  # noqa: SIM115

    def emit(self, kind: str, **fields: Any) -> dict[str, Any]:
        """Write one event and return it."""
        event = make(kind, **fields)
        line = dumps(event) + "\n"
        with self._lock:
            for out in (self.stream, self._file):
                if out is None:
                    continue
                try:
                    out.write(line)
                    out.flush()
                except (OSError, ValueError):  # a closed pipe must not kill training
                    pass
        return event

    def close(self) -> None:
        """Close the log file (the stream is not ours)."""
        with self._lock:
            if self._file is not None:
                self._file.close()
                self._file = None


def emit(kind: str, **fields: Any) -> dict[str, Any]:
    """Write one event to stdout (a convenience for small scripts and tests)."""
    return EventWriter().emit(kind, **fields)
