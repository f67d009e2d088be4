"""Words missing from the dictionary that are a known word with an affix: re-/un-/pre-/mis-, -s/-ed/-ing.

The stem keeps its dictionary reading and the affix adds its own sounds, as the dictionary's own
entries do (redo R IY0 D UW1, unlocked AH0 N L AA1 K T, prepay P R IY0 P EY1, reopened).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

PREFIXES = (
    ("pre", ("P", "R", "IY0")),
    ("mis", ("M", "IH0", "S")),
    ("re", ("R", "IY0")),
    ("un", ("AH0", "N")),
)
_VOICELESS = frozenset(("P", "T", "K", "F", "TH", "HH", "S", "SH", "CH"))
_SIBILANT = frozenset(("S", "Z", "SH", "ZH", "CH", "JH"))
_MIN_STEM = 3


def _ed(stem: tuple[str, ...]) -> tuple[str, ...]:
    last = stem[-1] if stem else ""
    if last in ("T", "D"):
        return ("IH0", "D")
    return ("T",) if last in _VOICELESS else ("D",)


def _s(stem: tuple[str, ...]) -> tuple[str, ...]:
    last = stem[-1] if stem else ""
    if last in _SIBILANT:
        return ("AH0", "Z")
    return ("S",) if last in _VOICELESS else ("Z",)


def _stems(word: str, ending: str) -> list[str]:
    """Candidate stems of ``word`` without ``ending``: as is, with a final e, undoubled."""
    base = word[: -len(ending)]
    out = [base, base + "e"]
    if len(base) >= 2 and base[-1] == base[-2]:
        out.append(base[:-1])
    return [b for b in out if len(b) >= _MIN_STEM]


def affixed_phones(word: str, lex: Mapping[str, tuple[str, ...]], depth: int = 0) -> tuple[str, ...] | None:
    """Phones of a lower-case word built from a dictionary word and affixes, or None."""
    if depth > 2:
        return None
    for prefix, sounds in PREFIXES:
        rest = word[len(prefix) :]
        if word.startswith(prefix) and len(rest) >= _MIN_STEM + 1:
            found = lex.get(rest) or affixed_phones(rest, lex, depth + 1)
            if found:
                return sounds + tuple(found)
    endings: tuple[tuple[str, Callable[[tuple[str, ...]], tuple[str, ...]]], ...] = (
        ("ing", lambda stem: ("IH0", "NG")),
        ("ed", _ed),
        ("es", _s),
        ("s", _s),
    )
    for ending, sounds in endings:
        if not word.endswith(ending) or len(word) - len(ending) < _MIN_STEM:
            continue
        for stem in _stems(word, ending):
            if ending == "es" and stem.endswith("e"):
                continue
            found = lex.get(stem)
            if found:
                return tuple(found) + sounds(tuple(found))
    return None
