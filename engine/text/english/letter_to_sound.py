"""A small rule-based letter-to-sound fallback for words the CMU dictionary does not know.

Each rule rewrites a run of letters to ARPAbet phones when the letters around it match the rule's
left and right context. Vowels come out without stress; ``assign_stress`` then gives the first vowel
primary stress and reduces the others, the most common English pattern.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

VOWEL_BASES = frozenset("AA AE AH AO AW AY EH ER EY IH IY OW OY UH UW".split())
_REDUCED = {"AE": "AH0", "AA": "AH0", "AH": "AH0", "AO": "AH0", "EH": "AH0", "IH": "IH0", "ER": "ER0"}

# shorthand inside contexts: C a consonant letter, V a vowel letter, E a front vowel letter
_SHORTHAND = {"C": "[bcdfghjklmnpqrstvwxz]", "V": "[aeiouy]", "E": "[eiy]"}


@dataclass(frozen=True)
class Rule:
    """Letters -> phones when ``left`` matches just before and ``right`` just after (``#`` = edge)."""

    letters: str
    phones: tuple[str, ...]
    left: re.Pattern[str] | None
    right: re.Pattern[str] | None


def _context(pattern: str, *, left: bool) -> re.Pattern[str] | None:
    if not pattern:
        return None
    for key, value in _SHORTHAND.items():
        pattern = pattern.replace(key, value)
    return re.compile(f"(?:{pattern})$" if left else pattern)


# (letters, left context, right context, phones)
_RULE_TABLE: tuple[tuple[str, str, str, str], ...] = (
    # a
    ("augh", "", "", "AO"),
    ("au", "", "", "AO"),
    ("aw", "", "", "AO"),
    ("ai", "", "", "EY"),
    ("ay", "", "", "EY"),
    ("are", "", "#", "EH R"),
    ("ar", "C", "#", "ER"),
    ("ar", "", "", "AA R"),
    ("all", "", "", "AO L"),
    ("alk", "", "", "AO K"),
    ("a", "", "Ce#", "EY"),
    ("a", "C", "#", "AH0"),
    ("a", "", "", "AE"),
    # b
    ("bb", "", "", "B"),
    ("b", "m", "#", ""),
    ("b", "", "", "B"),
    # c
    ("ch", "", "", "CH"),
    ("ck", "", "", "K"),
    ("cc", "", "E", "K S"),
    ("cc", "", "", "K"),
    ("ci", "", "V", "SH"),
    ("c", "", "E", "S"),
    ("c", "", "", "K"),
    # d
    ("dge", "", "", "JH"),
    ("dd", "", "", "D"),
    ("d", "", "", "D"),
    # e
    ("eigh", "", "", "EY"),
    ("ee", "", "", "IY"),
    ("ea", "", "", "IY"),
    ("ey", "", "#", "IY"),
    ("ei", "", "", "EY"),
    ("ey", "", "", "EY"),
    ("eu", "", "", "UW"),
    ("ew", "", "", "UW"),
    ("ed", "[td]", "#", "IH0 D"),
    ("ed", "V.*(?:[pkfsxc]|sh|ch)", "#", "T"),
    ("ed", "V.*C", "#", "D"),
    ("ed", "[aeiouwy]", "#", "D"),
    ("er", "", "C|#", "ER"),
    ("es", "V.*(?:[sxzcg]|ch|sh)", "#", "AH0 Z"),
    ("e", "V.*C", "#", ""),
    ("e", "V.*C", "s#", ""),
    ("e", "", "Ce#", "IY"),
    ("e", "#C*", "#", "IY"),
    ("e", "", "", "EH"),
    # f
    ("ff", "", "", "F"),
    ("f", "", "", "F"),
    # g
    ("gn", "#", "", "N"),
    ("gh", "#", "", "G"),
    ("gh", "", "", ""),
    ("gg", "", "", "G"),
    ("g", "", "E", "JH"),
    ("g", "", "", "G"),
    # h
    ("h", "", "#", ""),
    ("h", "", "", "HH"),
    # i
    ("igh", "", "", "AY"),
    ("ie", "#C*", "#", "AY"),
    ("ie", "", "", "IY"),
    ("ir", "", "C|#", "ER"),
    ("i", "", "Ce#", "AY"),
    ("i", "", "(?:nd|ld)#", "AY"),
    ("i", "#C*", "#", "AY"),
    ("i", "", "#", "IY"),
    ("i", "", "[aeou]", "IY"),
    ("i", "", "", "IH"),
    # j k l m n
    ("j", "", "", "JH"),
    ("kn", "#", "", "N"),
    ("k", "", "", "K"),
    ("ll", "", "", "L"),
    ("le", "C", "#", "AH0 L"),
    ("l", "", "", "L"),
    ("mm", "", "", "M"),
    ("m", "", "", "M"),
    ("ng", "", "", "NG"),
    ("nk", "", "", "NG K"),
    ("nn", "", "", "N"),
    ("n", "", "", "N"),
    # o
    ("ough", "", "", "AO"),
    ("oo", "", "k", "UH"),
    ("oo", "", "", "UW"),
    ("oa", "", "", "OW"),
    ("oi", "", "", "OY"),
    ("oy", "", "", "OY"),
    ("ou", "", "", "AW"),
    ("ow", "", "#", "OW"),
    ("ow", "", "", "AW"),
    ("or", "C", "#", "ER"),
    ("or", "", "", "AO R"),
    ("ol", "", "(?:d|l)", "OW L"),
    ("o", "", "Ce#", "OW"),
    ("o", "", "#", "OW"),
    ("o", "", "C[aeiou]", "OW"),
    ("o", "", "", "AA"),
    # p q r
    ("ph", "", "", "F"),
    ("pp", "", "", "P"),
    ("p", "", "", "P"),
    ("qu", "", "", "K W"),
    ("q", "", "", "K"),
    ("rr", "", "", "R"),
    ("r", "", "", "R"),
    # s
    ("sh", "", "", "SH"),
    ("sion", "V", "", "ZH AH0 N"),
    ("sion", "", "", "SH AH0 N"),
    ("sure", "", "", "SH ER"),
    ("ss", "", "", "S"),
    ("s", "[bdglmnrvwe]", "#", "Z"),
    ("s", "[aeiou]", "[aeiou]", "Z"),
    ("s", "", "", "S"),
    # t
    ("tion", "", "", "SH AH0 N"),
    ("tch", "", "", "CH"),
    ("th", "", "", "TH"),
    ("ture", "", "", "CH ER"),
    ("tt", "", "", "T"),
    ("t", "", "", "T"),
    # u
    ("ur", "", "C|#", "ER"),
    ("ue", "", "#", "UW"),
    ("ui", "", "", "UW"),
    ("u", "", "Ce#", "UW"),
    ("u", "", "", "AH"),
    # v w x y z
    ("v", "", "", "V"),
    ("wr", "#", "", "R"),
    ("wh", "", "", "W"),
    ("w", "", "", "W"),
    ("x", "#", "", "Z"),
    ("x", "", "", "K S"),
    ("y", "#", "", "Y"),
    ("y", "#C+", "#", "AY"),
    ("y", "", "#", "IY"),
    ("y", "", "Ce#", "AY"),
    ("y", "C", "C", "IH"),
    ("y", "", "", "IY"),
    ("zz", "", "", "Z"),
    ("z", "t", "", "S"),
    ("z", "", "", "Z"),
)


@cache
def _rules() -> dict[str, tuple[Rule, ...]]:
    by_letter: dict[str, list[Rule]] = {}
    for letters, left, right, phones in _RULE_TABLE:
        rule = Rule(letters, tuple(phones.split()), _context(left, left=True), _context(right, left=False))
        by_letter.setdefault(letters[0], []).append(rule)
    return {k: tuple(v) for k, v in by_letter.items()}


def assign_stress(phones: list[str]) -> list[str]:
    """Primary stress on the first full vowel, reduced unstressed vowels elsewhere."""
    out: list[str] = []
    stressed = False
    for phone in phones:
        if phone in VOWEL_BASES:
            if not stressed:
                out.append(phone + "1")
                stressed = True
            else:
                out.append(_REDUCED.get(phone, phone + "0"))
        else:
            out.append(phone)
    return out


def letters_to_phones(word: str) -> list[str]:
    """ARPAbet (with stress) guessed from the spelling of a lower-case a–z word."""
    padded = f"#{word}#"
    rules = _rules()
    phones: list[str] = []
    pos = 1
    end = len(padded) - 1
    while pos < end:
        letter = padded[pos]
        for rule in rules.get(letter, ()):
            if not padded.startswith(rule.letters, pos):
                continue
            after = pos + len(rule.letters)
            if after > end:
                continue
            if rule.left is not None and not rule.left.search(padded, 0, pos):
                continue
            if rule.right is not None and not rule.right.match(padded, after):
                continue
            phones.extend(rule.phones)
            pos = after
            break
        else:
            pos += 1  # a letter no rule covers is silent
    return assign_stress(phones)
