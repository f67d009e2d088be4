"""Names written in Hanyu Pinyin (Xiaoming, Zhiqiang, Huawei) read by their pinyin letters.

English letter-to-sound rules mangle pinyin's x, q, zh, c and its finals (iao, ian, ui). A word that
is not in the dictionary, splits wholly into pinyin syllables and holds a letter group English
spelling does not use is read syllable by syllable, each stressed, with the nearest English sounds.
"""

from __future__ import annotations

from functools import lru_cache

_INITIALS = {
    "zh": ("JH",), "ch": ("CH",), "sh": ("SH",), "b": ("B",), "p": ("P",), "m": ("M",), "f": ("F",),
    "d": ("D",), "t": ("T",), "n": ("N",), "l": ("L",), "g": ("G",), "k": ("K",), "h": ("HH",),
    "j": ("JH",), "q": ("CH",), "x": ("SH",), "r": ("R",), "z": ("Z",), "c": ("T", "S"), "s": ("S",),
    "y": ("Y",), "w": ("W",), "": (),
}  # fmt: skip
# final -> (sounds before the vowel, vowel base, sounds after it); the vowel gets stress 1
_FINALS = {
    "iang": ("Y", "AA", "NG"), "iong": ("Y", "UH", "NG"), "uang": ("W", "AA", "NG"),
    "iao": ("Y", "AW", ""), "ian": ("Y", "EH", "N"), "ing": ("", "IH", "NG"), "uai": ("W", "AY", ""),
    "uan": ("W", "AA", "N"), "ang": ("", "AA", "NG"), "eng": ("", "AH", "NG"), "ong": ("", "UH", "NG"),
    "ia": ("Y", "AA", ""), "ie": ("Y", "EH", ""), "iu": ("Y", "OW", ""), "in": ("", "IH", "N"),
    "ua": ("W", "AA", ""), "uo": ("W", "AO", ""), "ui": ("W", "EY", ""), "un": ("W", "AH", "N"),
    "ue": ("Y", "EH", ""), "ai": ("", "AY", ""), "ei": ("", "EY", ""), "ao": ("", "AW", ""),
    "ou": ("", "OW", ""), "an": ("", "AA", "N"), "en": ("", "AH", "N"), "er": ("", "ER", ""),
    "a": ("", "AA", ""), "o": ("", "AO", ""), "e": ("", "AH", ""), "i": ("", "IY", ""), "u": ("", "UW", ""),
}  # fmt: skip
_BUZZED_I = {"zh": "ER", "ch": "ER", "sh": "ER", "r": "ER", "z": "AH", "c": "AH", "s": "AH"}
_MARKERS = ("x", "q", "zh", "iao", "ian", "iang", "iong", "ua", "uo", "ui", "iu", "ie")
_INITIAL_ORDER = sorted(_INITIALS, key=len, reverse=True)
_FINAL_ORDER = sorted(_FINALS, key=len, reverse=True)


def _syllable(initial: str, final: str) -> tuple[str, ...]:
    if final == "i" and initial in _BUZZED_I:
        return (*_INITIALS[initial], _BUZZED_I[initial] + "1")
    if initial in ("j", "q", "x", "y") and final in ("u", "un", "uan"):
        final = {"u": "ue", "un": "in", "uan": "ian"}[final]  # ü after j q x y
    glide, vowel, coda = _FINALS[final]
    if initial == "y" and glide == "Y" or initial == "w" and glide == "W":
        glide = ""
    sounds = [*_INITIALS[initial], glide, vowel + "1", coda]
    return tuple(s for s in sounds if s)


@lru_cache(maxsize=4096)
def _split(word: str) -> tuple[tuple[str, str], ...] | None:
    """The word as (initial, final) pinyin syllables, or None."""
    if not word:
        return ()
    for initial in _INITIAL_ORDER:
        if not word.startswith(initial):
            continue
        for final in _FINAL_ORDER:
            piece = initial + final
            if word.startswith(piece):
                rest = _split(word[len(piece) :])
                if rest is not None:
                    return ((initial, final), *rest)
    return None


def pinyin_phones(word: str) -> tuple[str, ...] | None:
    """Phones of a lower-case word that is a pinyin name (two or more syllables or a marked one)."""
    if not any(marker in word for marker in _MARKERS):
        return None
    parts = _split(word)
    if not parts:
        return None
    return tuple(p for initial, final in parts for p in _syllable(initial, final))
