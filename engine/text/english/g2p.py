"""English words to ARPAbet phones (with stress digits) for the GPT-SoVITS v2 table.

Lookup order, following the reference's rules: homographs chosen by their neighbours (``homographs``);
single letters; all-capital abbreviations spelled out; the CMU dictionary; unknown words of three
letters or fewer spelled out; possessive 's; contractions; hyphenated and run-together compounds
split into dictionary words; finally the letter-to-sound rules in ``letter_to_sound``.
"""

from __future__ import annotations

import re
from functools import lru_cache

from engine.text.english.affixes import affixed_phones
from engine.text.english.homographs import homograph_phones
from engine.text.english.letter_to_sound import VOWEL_BASES, letters_to_phones
from engine.text.english.lexicon import lexicon
from engine.text.english.normalize import PUNCTUATION, normalize_en
from engine.text.english.pinyin_names import pinyin_phones

SPELL_OUT_MAX = 3  # unknown words this short are read letter by letter (reference rule)
MAX_WORD_LETTERS = 40  # unknown words longer than this are not words: spell them
_TOKEN_RE = re.compile(r"[A-Za-z]+(?:['\-][A-Za-z]+)*|[.,?!\-]")
_CASE_SPLIT_RE = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+")
_VOICELESS = frozenset(("P", "T", "K", "F", "TH", "HH"))
_SIBILANT = frozenset(("S", "Z", "SH", "ZH", "CH", "JH"))
_CONTRACTIONS = {"'ll": ("L",), "'re": ("ER0",), "'ve": ("V",), "'d": ("D",), "n't": ("AH0", "N", "T")}


def letter_phones(letter: str) -> list[str]:
    """How one letter is said when a word is spelled out ("a" is EY1, as the reference fixes it)."""
    if letter.lower() == "a":
        return ["EY1"]
    return list(lexicon()[letter.lower()])


def spell(word: str) -> list[str]:
    """Read a word letter by letter."""
    return [p for ch in word if ch.isalpha() for p in letter_phones(ch)]


def _suffix_s(phones: list[str]) -> list[str]:
    last = phones[-1] if phones else ""
    if last in _VOICELESS:
        return ["S"]
    if last in _SIBILANT:
        return ["AH0", "Z"]
    return ["Z"]


@lru_cache(maxsize=4096)
def _compound(word: str) -> tuple[tuple[str, ...], ...] | None:
    """Split a lower-case run-together word into at most three dictionary words, longest pieces first."""
    lex = lexicon()
    n = len(word)
    if n < 6:
        return None
    # best[i] = (pieces, -longest) for word[:i]; fewer pieces win, then the longer longest piece
    best: list[tuple[int, int, tuple[str, ...]] | None] = [None] * (n + 1)
    best[0] = (0, 0, ())
    for end in range(3, n + 1):
        for start in range(0, end - 2):
            prev = best[start]
            piece = word[start:end]
            if prev is None or piece not in lex:
                continue
            candidate = (prev[0] + 1, min(prev[1], -len(piece)), (*prev[2], piece))
            if best[end] is None or candidate[:2] < best[end][:2]:
                best[end] = candidate
    found = best[n]
    if found is None or not 2 <= found[0] <= 3 or -found[1] < 4:
        return None
    return tuple(lex[p] for p in found[2])


def _known_end(word: str) -> tuple[str, ...] | None:
    """A dictionary word of 4+ letters at the start or end, the unknown rest guessed from its letters."""
    lex = lexicon()
    for cut in range(3, len(word) - 3):
        head, tail = word[:cut], word[cut:]
        if tail in lex and len(head) >= 3:
            return tuple(letters_to_phones(head)) + lex[tail]
    for cut in range(len(word) - 3, 3, -1):
        head, tail = word[:cut], word[cut:]
        if head in lex and len(tail) >= 3:
            return lex[head] + tuple(letters_to_phones(tail))
    return None


def word_phones(word: str, previous: str = "", following: str = "") -> tuple[str, ...]:
    """Phones of one word (letters, inner apostrophes or hyphens); its neighbours pick a homograph."""
    if not word.isupper():
        chosen = homograph_phones(word.lower(), previous.lower(), following.lower())
        if chosen is not None:
            return chosen
    return _word_phones(word)


@lru_cache(maxsize=65536)
def _word_phones(word: str) -> tuple[str, ...]:
    lex = lexicon()
    lower = word.lower()
    if len(word) == 1:
        return tuple(["EY1"] if word == "A" else lex.get(lower, letter_phones(lower)))
    if word.isupper() and "'" not in word and "-" not in word:
        if len(word) > SPELL_OUT_MAX and lower in lex:
            return lex[lower]
        return tuple(spell(word))
    if lower in lex:
        return lex[lower]
    if "-" in word:
        return tuple(p for part in word.split("-") if part for p in word_phones(part))
    if any(ch.isupper() for ch in word[1:]) and "'" not in word:
        parts = _CASE_SPLIT_RE.findall(word)
        if len(parts) > 1:
            return tuple(p for part in parts for p in _camel_part(part))
    if len(word) <= SPELL_OUT_MAX:
        return tuple(spell(word))
    if lower.endswith("'s"):
        base = list(word_phones(word[:-2]))
        return tuple(base + _suffix_s(base))
    for ending, extra in _CONTRACTIONS.items():
        if lower.endswith(ending) and len(lower) > len(ending) + 1:
            return tuple(word_phones(word[: -len(ending)])) + extra
    if "'" in word:
        return tuple(p for part in word.split("'") if part for p in word_phones(part))
    if len(lower) > MAX_WORD_LETTERS:
        return tuple(spell(word))
    built = affixed_phones(lower, lex) or pinyin_phones(lower)
    if built is not None:
        return built
    pieces = _compound(lower)
    if pieces is not None:
        return tuple(p for piece in pieces for p in piece)
    partial = _known_end(lower)
    if partial is not None:
        return partial
    guessed = letters_to_phones(lower)
    if not any(p[:-1] in VOWEL_BASES for p in guessed):
        return tuple(spell(word))  # no vowel sound at all: say the letters
    return tuple(guessed)


def _camel_part(part: str) -> tuple[str, ...]:
    """A piece of a camel-case name (TikTok, WeChat): a word, never its letters (acronyms aside)."""
    lower = part.lower()
    lex = lexicon()
    if lower in lex or len(part) == 1 or part.isupper():
        return _word_phones(part)
    built = affixed_phones(lower, lex) or pinyin_phones(lower)
    if built is not None:
        return built
    guessed = letters_to_phones(lower)
    if not any(p[:-1] in VOWEL_BASES for p in guessed):
        return tuple(spell(part))
    return tuple(guessed)


def g2p_en(normalized: str) -> list[str]:
    """ARPAbet phones and punctuation marks for text already passed through ``normalize_en``."""
    phones: list[str] = []
    previous = ""
    tokens = _TOKEN_RE.findall(normalized)
    for index, token in enumerate(tokens):
        if token in PUNCTUATION:
            phones.append(token)
            previous = ""
            continue
        following = tokens[index + 1] if index + 1 < len(tokens) else ""
        starts_sentence = index == 0 or tokens[index - 1] in ".?!"
        if token == "A" and starts_sentence and following[:1].islower():
            phones.append("AH0")  # the article at the start of a sentence, not the letter
        else:
            phones.extend(word_phones(token, previous, following if following not in PUNCTUATION else ""))
        previous = token
    return phones


def en_phonemes(text: str) -> tuple[str, list[str]]:
    """Normalise and convert one English run; very short results get a leading "," as in the reference."""
    normalized = normalize_en(text)
    phones = g2p_en(normalized)
    if phones and len(phones) < 4:
        phones = [",", *phones]
    return normalized, phones
