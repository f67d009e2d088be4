"""Cutting text into sentences for synthesis, after the reference's cut methods.

``split_text`` runs one cut method, then the reference's clean-up: a very short opening clause gets a
leading full stop, pieces under five characters merge into a neighbour, pure punctuation is dropped,
each piece gets final punctuation, and pieces over 510 characters are split again at punctuation (or,
with none, at the length limit).
"""

from __future__ import annotations

import re
from collections.abc import Callable

from engine.errors import TextError

SPLIT_MARKS = frozenset("，。？！,.?!~:：—…")
MIN_CHARS = 5
MAX_CHARS = 510
CHUNK_CHARS = 50
_PUNCT_MARKS = ",.;?!、，。？！;：…"
_WORDLESS_RE = re.compile(r"[\W_]+")
_FIRST_CLAUSE_RE = re.compile("[" + re.escape("".join(sorted(SPLIT_MARKS))) + "]")


def _chop(text: str, limit: int) -> list[str]:
    """``text`` cut blindly into pieces of at most ``limit`` characters (none for empty text)."""
    return [text[i : i + limit] for i in range(0, len(text), limit)]


def _hard_wrap(text: str, limit: int = MAX_CHARS) -> list[str]:
    """Lines no longer than ``limit``, cut blindly where a line has no better place."""
    return [piece for line in text.split("\n") for piece in _chop(line, limit)]


def sentences(text: str) -> list[str]:
    """Clauses each ending at (and keeping) a split mark; the last gets "。" if it has none."""
    text = text.replace("……", "。").replace("——", "，")
    if not text:
        return []
    if text[-1] not in SPLIT_MARKS:
        text += "。"
    out: list[str] = []
    start = 0
    for i, ch in enumerate(text):
        if ch in SPLIT_MARKS and not _inside_number(text, i):
            out.append(text[start : i + 1])
            start = i + 1
    return out


def _inside_number(text: str, i: int) -> bool:
    """True for a decimal point, thousands comma or time colon: a mark with a digit on both sides."""
    return text[i] in ".,:" and 0 < i < len(text) - 1 and text[i - 1].isdigit() and text[i + 1].isdigit()


def _split_after(line: str, marks: str) -> list[str]:
    """``line`` cut after each mark (kept with the text before it); "." or "," between digits is no mark."""
    numeric = re.escape("".join(m for m in ".," if m in marks))
    others = re.escape("".join(m for m in marks if m not in ".,"))
    alternatives = [f"(?<!\\d)[{numeric}]", f"[{numeric}](?!\\d)"] if numeric else []
    alternatives += [f"[{others}]"] if others else []
    parts = re.split("(" + "|".join(alternatives) + ")", line)
    return [p for p in ("".join(parts[i : i + 2]) for i in range(0, len(parts), 2)) if p]


def cut_none(text: str) -> list[str]:
    """cut0: keep the text whole."""
    return [text]


def cut_every_four(text: str) -> list[str]:
    """cut1: four clauses per piece."""
    pieces: list[str] = []
    for line in _hard_wrap(text.strip("\n")):
        clauses = sentences(line)
        pieces += ["".join(clauses[i : i + 4]) for i in range(0, len(clauses), 4)]
    return pieces


def cut_fifty(text: str, limit: int = CHUNK_CHARS) -> list[str]:
    """cut2: clauses gathered into pieces just over ``limit`` characters; a short tail joins the last."""
    clauses = [c for line in _hard_wrap(text.strip("\n")) for c in sentences(line)]
    if len(clauses) < 2:
        return [text.strip("\n")]
    pieces: list[str] = []
    current = ""
    for clause in clauses:
        current += clause
        if len(current) > limit:
            pieces.append(current)
            current = ""
    if current:
        pieces.append(current)
    if len(pieces) > 1 and len(pieces[-1]) < limit:
        tail = pieces.pop()
        pieces[-1] += tail
    return pieces


def cut_zh_period(text: str) -> list[str]:
    """cut3: at every Chinese full stop 。."""
    return [p for line in _hard_wrap(text.strip("\n")) for p in line.strip("。").split("。")]


def cut_en_period(text: str) -> list[str]:
    """cut4: after every "." that is not a decimal point (the full stop stays with its sentence)."""
    return [p for line in _hard_wrap(text.strip("\n")) for p in _split_after(line, ".")]


def cut_punctuation(text: str) -> list[str]:
    """cut5: after every punctuation mark (the mark stays with the text before it)."""
    return [p for line in _hard_wrap(text.strip("\n")) for p in _split_after(line, _PUNCT_MARKS)]


METHODS: dict[str, Callable[[str], list[str]]] = {
    "none": cut_none,
    "four": cut_every_four,
    "fifty": cut_fifty,
    "zh_period": cut_zh_period,
    "en_period": cut_en_period,
    "punctuation": cut_punctuation,
}
ALIASES = {
    "cut0": "none",
    "cut1": "four",
    "cut2": "fifty",
    "cut3": "zh_period",
    "cut4": "en_period",
    "cut5": "punctuation",
    "punct": "punctuation",
    "sentence": "en_period",
}
DEFAULT_METHOD = "punctuation"  # the reference API's default (cut5)


def method_names() -> list[str]:
    """Every accepted method name, aliases included."""
    return sorted([*METHODS, *ALIASES])


def merge_short(pieces: list[str], threshold: int = MIN_CHARS) -> list[str]:
    """Join pieces until each holds at least ``threshold`` characters; a short tail joins the last."""
    if len(pieces) < 2:
        return list(pieces)
    merged: list[str] = []
    current = ""
    for piece in pieces:
        current += piece
        if len(current) >= threshold:
            merged.append(current)
            current = ""
    if current:
        if merged:
            merged[-1] += current
        else:
            merged.append(current)
    return merged


def force_split(text: str, limit: int = MAX_CHARS) -> list[str]:
    """Split an over-long piece at split marks, and blindly at ``limit`` where there are none."""
    parts = re.split("([" + re.escape("".join(sorted(SPLIT_MARKS))) + "])", text)
    out: list[str] = []
    current = ""
    for part in parts:
        if len(current) + len(part) > limit and current:
            out.append(current)
            current = ""
        *full, current = _chop(current + part, limit) or [""]
        out += full
    if current:
        out.append(current)
    return out


def split_text(
    text: str, method: str = DEFAULT_METHOD, language: str = "zh", max_chars: int = MAX_CHARS
) -> list[str]:
    """Pieces of ``text`` ready for the frontend, one per synthesis call."""
    name = ALIASES.get(method, method)
    if name not in METHODS:
        raise TextError(f"Unknown split method {method!r}.", f"Use one of: {', '.join(method_names())}.")
    stop = "." if language == "en" else "。"
    text = text.strip("\n")
    if not text.strip():
        return []
    first = _FIRST_CLAUSE_RE.split(text, maxsplit=1)[0].strip()
    if text[0] not in SPLIT_MARKS and len(first) < 4:
        text = stop + text
    pieces = [p for p in METHODS[name](text) if p not in ("", " ", "\n")]
    pieces = merge_short(pieces)
    out: list[str] = []
    for piece in pieces:
        if not piece.strip() or not _WORDLESS_RE.sub("", piece):
            continue
        if piece[-1] not in SPLIT_MARKS:
            piece += stop
        out += force_split(piece, max_chars) if len(piece) > max_chars else [piece]
    return [p.strip() for p in out if p.strip()]
