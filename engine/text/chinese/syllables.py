"""Pinyin syllable → (initial, toned final) symbols of the GPT-SoVITS v2 table.

The v2 models split every Mandarin syllable into exactly two symbols. Syllables that start with a
vowel get a stand-in initial: ``AA`` before a, ``EE`` before e, ``OO`` before o; syllables spelled
with y/w keep ``y``/``w`` as their initial. The finals follow the spelled form of the syllable with
these adjustments: zhi/chi/shi/ri take ``ir``, zi/ci/si take ``i0``, ü (written ``v`` or ``u`` after
j/q/x/y) takes ``v``, and after y the finals "an" and "e" are ``En`` and ``E``.
"""

from __future__ import annotations

import re
from functools import cache

from engine.text.symbols import symbol_to_id

INITIALS = (
    "zh", "ch", "sh",
    "b", "p", "m", "f", "d", "t", "n", "l", "g", "k", "h", "j", "q", "x", "r", "z", "c", "s",
)  # fmt: skip

# Syllables pypinyin can produce that have no regular initial + final split; read as the closest
# standard syllable (interjections: 嗯 n/ng, 呣 m, 哼 hng, 噷 hm, 欸 ê).
_IRREGULAR = {
    "n": ("EE", "en"),
    "ng": ("EE", "eng"),
    "m": ("m", "u"),
    "hm": ("h", "en"),
    "hng": ("h", "eng"),
    "ê": ("EE", "ei"),
    "ü": ("y", "v"),
}

UNKNOWN = ("UNK", "UNK")

_SYLLABLE = re.compile(r"([a-zêü]+)([1-5])")


@cache
def split_syllable(base: str) -> tuple[str, str] | None:
    """Initial and untoned final for an untoned pinyin syllable, or None if it is not one."""
    base = base.replace("ü", "v")
    if base in _IRREGULAR:
        return _IRREGULAR[base]
    if not base:
        return None
    head = base[0]
    if head in "aeo":
        return {"a": "AA", "e": "EE", "o": "OO"}[head], base
    if head == "y":
        rest = base[1:]
        if rest.startswith(("u", "v")):
            rest = "v" + rest[1:]
        elif rest == "an":
            rest = "En"
        elif rest == "e":
            rest = "E"
        elif rest not in ("i", "in", "ing") and not rest.startswith(("a", "o")):
            return None
        return "y", rest
    if head == "w":
        rest = base[1:]
        return ("w", rest) if rest and rest[0] in "aeou" else None
    initial = next((i for i in INITIALS if base.startswith(i)), "")
    if not initial:
        return None
    final = base[len(initial) :]
    if final == "i" and initial in ("zh", "ch", "sh", "r"):
        final = "ir"
    elif final == "i" and initial in ("z", "c", "s"):
        final = "i0"
    elif initial in ("j", "q", "x") and final.startswith("u"):
        final = "v" + final[1:]
    return initial, final


@cache
def syllable_phones(syllable: str) -> tuple[str, str]:
    """The two v2 symbols for a toned syllable such as ``zhong1``; ``UNK UNK`` if it cannot be read."""
    m = _SYLLABLE.fullmatch(syllable)
    if m is None:
        return UNKNOWN
    parts = split_syllable(m.group(1))
    if parts is None:
        return UNKNOWN
    initial, final = parts
    table = symbol_to_id()
    toned = final + m.group(2)
    if initial not in table or toned not in table:
        return UNKNOWN
    return initial, toned
