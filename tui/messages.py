"""Messages the screens send to the app (rare UI events only: never posted from audio threads)."""

from __future__ import annotations

from dataclasses import dataclass

from textual.message import Message


@dataclass
class SessionSaved(Message):
    """A recording session was written to disk (a take recorded, accepted or skipped)."""

    session_id: str
    accepted_seconds: float
    complete: bool
