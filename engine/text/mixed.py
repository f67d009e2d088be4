"""Split text into Mandarin and English runs for the language modes "zh", "en" and "auto".

Letters decide the language of a run: Latin letters are English, CJK ideographs Mandarin. Digits,
punctuation, symbols and spaces have no language of their own and join a neighbouring run: the run
they touch, or the run before them when they touch both or neither.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from engine.errors import TextError
from engine.text.invisible import strip_invisible
from engine.text.zh_units import unit_spans

LANGUAGES = ("zh", "en", "auto")

ZH = "zh"
EN = "en"
_DEGREE_SIGNS = {"C": "℃", "F": "℉"}
_DEGREES = re.compile(r"°\s?[CcFf](?![A-Za-z])")
_ZERO_WIDTH = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad\u180e\u200e\u200f"), None)


@dataclass(frozen=True)
class Run:
    """A stretch of text in one language."""

    language: str
    text: str


def script_of(ch: str) -> str | None:
    """ "latin", "han", "kana", "hangul", another letter's script name, or None for neutral characters."""
    code = ord(ch)
    if ch.isascii():
        return "latin" if ch.isalpha() else None
    if 0xFF21 <= code <= 0xFF3A or 0xFF41 <= code <= 0xFF5A:  # full-width Latin
        return "latin"
    if (
        0x4E00 <= code <= 0x9FFF
        or 0x3400 <= code <= 0x4DBF
        or 0xF900 <= code <= 0xFAFF
        or 0x20000 <= code <= 0x3FFFF
        or ch == "〇"
    ):
        return "han"
    if 0x3040 <= code <= 0x30FF or 0x31F0 <= code <= 0x31FF or 0xFF66 <= code <= 0xFF9D:
        return "kana"
    if 0xAC00 <= code <= 0xD7AF or 0x1100 <= code <= 0x11FF or 0x3130 <= code <= 0x318F:
        return "hangul"
    if unicodedata.category(ch).startswith("L"):
        name = unicodedata.name(ch, "")
        if name.startswith("LATIN"):
            return "latin"
        return name.split(" ", 1)[0].lower() or "other"
    if unicodedata.category(ch) == "Mn":  # a combining accent stays with its letter
        return "latin"
    return None


def clean_input(text: str) -> str:
    """Drop zero-width and bidi marks; turn control characters and odd spaces into plain spaces.

    A degree sign's letter is part of the sign (25°C is ℃, not a Mandarin number and an English C).
    Terminal control sequences go whole, parameters included (``engine.text.invisible``).
    """
    text = strip_invisible(text)
    text = _DEGREES.sub(lambda m: _DEGREE_SIGNS[m.group(0)[-1].upper()], text.translate(_ZERO_WIDTH))
    out = []
    for ch in text:
        category = unicodedata.category(ch)
        if category == "Cc" or category in ("Zs", "Zl", "Zp") and ch != "\u3000":
            out.append("\n" if ch in "\n\r" else " ")
        elif category in ("Cs", "Co", "Cn", "Cf"):
            continue
        else:
            out.append(ch)
    return "".join(out)


def _language_of(script: str, mode: str) -> str:
    if script == "latin":
        return EN
    if script == "han" or mode == ZH:
        return ZH
    names = {"kana": "Japanese kana", "hangul": "Korean hangul"}
    raise TextError(
        f"The text contains {names.get(script, script.capitalize() + ' script')}, which Timbre cannot speak.",
        "Timbre speaks Mandarin and English. Use --language zh to skip other scripts, or remove them.",
    )


def _pieces(text: str, mode: str) -> list[tuple[str | None, str]]:
    """Consecutive characters grouped by language (None for language-neutral characters)."""
    pieces: list[tuple[str | None, str]] = []
    current: str | None = None
    start = 0
    units = unit_spans(text)  # a unit after a number in Mandarin text is part of the Mandarin
    for i, ch in enumerate(text):
        script = None if i in units else script_of(ch)
        language = None if script is None else _language_of(script, mode)
        if i and language != current:
            pieces.append((current, text[start:i]))
            start = i
        current = language
    if text:
        pieces.append((current, text[start:]))
    return pieces


def split_runs(text: str, language: str = "auto") -> list[Run]:
    """Split ``text`` into language runs for ``language`` ("zh", "en" or "auto"); blank runs are dropped."""
    if language not in LANGUAGES:
        raise TextError(f"Unknown language mode {language!r}.", f"Use one of: {', '.join(LANGUAGES)}.")
    text = clean_input(text)
    if not text.strip():
        return []
    if language == EN:
        return [Run(EN, text.strip())]
    pieces = _pieces(text, language)
    runs: list[list] = []  # [language, text]
    pending = ""  # neutral text before the first lettered piece
    for index, (lang, chunk) in enumerate(pieces):
        if lang is not None:
            if runs and runs[-1][0] == lang:
                runs[-1][1] += chunk
            else:
                runs.append([lang, pending + chunk])
            pending = ""
            continue
        if not runs:
            pending += chunk
            continue
        following = pieces[index + 1][0] if index + 1 < len(pieces) else None
        goes_right = (
            following is not None
            and following != runs[-1][0]
            and chunk[:1].isspace()
            and not chunk[-1:].isspace()
        )
        if goes_right:
            pending = chunk
        else:
            runs[-1][1] += chunk
    if pending.strip():
        if runs:
            runs[-1][1] += pending
        else:
            runs.append([EN if language == "auto" and pending.isascii() else ZH, pending])
    return [Run(lang, chunk.strip()) for lang, chunk in runs if chunk.strip()]
