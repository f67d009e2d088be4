"""Errors a person can act on: every one carries a message and a hint saying what to do."""

from __future__ import annotations


class TimbreError(Exception):
    """Base class for errors shown to the person using Timbre."""

    default_hint: str = ""

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint if hint is not None else self.default_hint

    def __str__(self) -> str:
        return f"{self.message}\n  hint: {self.hint}" if self.hint else self.message


class StudioError(TimbreError):
    """A problem with the studio folder, a session or a voice on disk."""


class AudioError(TimbreError):
    """A problem with audio devices, audio files or recordings."""


class TextError(TimbreError):
    """A problem turning text into phonemes."""


class ModelError(TimbreError):
    """A problem with model weights, configs or inference."""
