"""What counts as speakable (phones that are speech sounds): one definition for `phonemes` and `say`."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from engine.errors import TextError

NOT_SPOKEN = frozenset({"SP", "SP2", "SP3", "UNK", "_"})
"""Symbols of the phone table that are not speech sounds (pauses, unknown)."""

_SCRIPT_NAMES = {"han": "Chinese characters", "kana": "Japanese kana", "hangul": "Korean hangul"}


class NothingToSay(TextError):
    """The text holds nothing that can be spoken."""


def is_spoken_phone(phone: str) -> bool:
    """True for a phone that is a speech sound (not punctuation, a pause or an unknown mark)."""
    return phone not in NOT_SPOKEN and any(ch.isalpha() for ch in phone)


def spoken_phones(segments: Iterable[Any]) -> int:
    """How many phones of ``segments`` (frontend Segments) are speech sounds."""
    return sum(1 for s in segments for p in s.phones if is_spoken_phone(p))


def is_speakable(segments: Iterable[Any]) -> bool:
    """True when the frontend's ``segments`` hold at least one speech sound."""
    return any(is_spoken_phone(p) for s in segments for p in s.phones)


def _unread_scripts(text: str, language: str) -> list[str]:
    """Names of the letter scripts in ``text`` that the ``language`` mode does not read."""
    from engine.text.mixed import script_of

    read = {"en": {"latin"}, "zh": {"latin", "han"}}.get(language, {"latin", "han"})
    found: list[str] = []
    for ch in text:
        script = script_of(ch)
        if script is not None and script not in read:
            name = _SCRIPT_NAMES.get(script, f"{script.capitalize()} script")
            if name not in found:
                found.append(name)
    return found


def nothing_to_say(text: str, language: str = "auto") -> NothingToSay:
    """The error for text with nothing speakable in this language mode; it names the scripts left unread."""
    shown = text.strip()[:60].encode("utf-8", "surrogatepass").decode("utf-8", "backslashreplace")
    scripts = _unread_scripts(text, language)
    if scripts:
        mode = {"en": "English", "zh": "Mandarin (with English)"}.get(language, "Mandarin and English")
        hint = (
            "Use --language auto or zh for Chinese characters."
            if scripts == ["Chinese characters"]
            else "Timbre speaks Mandarin and English only."
        )
        return NothingToSay(
            f"Nothing in the text can be pronounced in {mode}: {', '.join(scripts)} are not read, so "
            f"nothing in {shown!r} can be spoken.",
            hint,
        )
    return NothingToSay(
        f"Nothing in the text can be pronounced: nothing in {shown!r} can be spoken.",
        "Use words in Mandarin or English (symbols, emoji and punctuation alone are not read).",
    )
