"""Text given by a person (argument, standard input, the Speak screen): valid UTF-8, no terminal
control sequences, and no longer than ``MAX_TEXT_CHARS``. ``prepare_text`` is the one check."""

from __future__ import annotations

from typing import BinaryIO

from engine.errors import TextError
from engine.text.invisible import strip_invisible

MAX_TEXT_CHARS = 10_000
"""The most characters ``say`` and the Speak screen take at once: about ten minutes of speech."""


class InvalidText(TextError):
    """The text is not valid UTF-8."""

    default_hint = "Save the text as UTF-8 (most editors offer it under 'Save as'), or retype it."


class TextTooLong(TextError):
    """The text is longer than one request may be."""


def _first_bad(text: str) -> int | None:
    """Index of the first lone surrogate (an undecodable byte, as Python keeps them), or None."""
    for i, ch in enumerate(text):
        if "\ud800" <= ch <= "\udfff":
            return i
    return None


def check_utf8(text: str, *, what: str = "The text") -> str:
    """``text`` unchanged, or InvalidText when it holds bytes that were not UTF-8 (lone surrogates)."""
    bad = _first_bad(text)
    if bad is not None:
        raise InvalidText(f"{what} is not valid UTF-8 text (an undecodable byte at character {bad + 1}).")
    return text


def decode_text(data: bytes, *, what: str = "The text") -> str:
    """Bytes decoded as strict UTF-8 (a leading BOM dropped); InvalidText naming the first bad byte."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InvalidText(
            f"{what} is not valid UTF-8 text (byte 0x{data[exc.start]:02x} at offset {exc.start})."
        ) from exc


def read_text_stream(stream: BinaryIO, *, what: str = "Standard input") -> str:
    """A binary stream (``sys.stdin.buffer``) as text, never reading much past the length limit."""
    data = stream.read(4 * MAX_TEXT_CHARS + 1)  # UTF-8 takes at most 4 bytes a character
    if len(data) > 4 * MAX_TEXT_CHARS:
        raise _too_long(what, f"more than {MAX_TEXT_CHARS:,}", MAX_TEXT_CHARS)
    return decode_text(data, what=what)


def _too_long(what: str, count: str, limit: int) -> TextTooLong:
    return TextTooLong(
        f"{what} is too long: {count} characters; the limit is {limit:,} (about ten minutes of speech).",
        "Split it into parts and speak them one after another.",
    )


def prepare_text(text: str, *, limit: int = MAX_TEXT_CHARS, what: str = "The text") -> str:
    """Text ready for the frontend: valid UTF-8, terminal sequences and invisible marks removed, ≤ limit.

    Raises InvalidText or TextTooLong (with a message saying what to do); never echoes the text.
    """
    check_utf8(text, what=what)
    cleaned = strip_invisible(text)
    if len(cleaned) > limit:
        raise _too_long(what, f"{len(cleaned):,}", limit)
    return cleaned
