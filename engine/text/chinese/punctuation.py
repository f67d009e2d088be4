"""The punctuation mapping of the v2 Chinese frontend (spec §5.2 ``replace_punctuation``)."""

from __future__ import annotations

import re

# The punctuation symbols a Mandarin segment may keep (all are v2 symbols).
PUNCTUATION = ("!", "?", "…", ",", ".", "-")
PUNCTUATION_SET = frozenset(PUNCTUATION)

# Marks replaced by one of PUNCTUATION. The first block is the spec's map; the second adds full-width
# and small-form variants of the same marks, which the spec's map would otherwise delete.
_REPLACEMENTS = {
    "：": ",",
    "；": ",",
    "，": ",",
    "。": ".",
    "！": "!",
    "？": "?",
    "\n": ".",
    "·": ",",
    "、": ",",
    "...": "…",
    "$": ".",
    "/": ",",
    "—": "-",
    "~": "…",
    "～": "…",
    # additions (same meaning, other code points)
    "．": ".",
    "｡": ".",
    "､": ",",
    "﹐": ",",
    "﹑": ",",
    "﹒": ".",
    "﹔": ",",
    "﹕": ",",
    "﹖": "?",
    "﹗": "!",
    "⋯": "…",
}

# Interjections whose pypinyin readings (n, m) have no v2 symbols: read as 恩 and 母.
_CHAR_SWAPS = str.maketrans({"嗯": "恩", "呣": "母"})

_MAP_RE = re.compile("|".join(re.escape(k) for k in sorted(_REPLACEMENTS, key=len, reverse=True)))
HANZI_RANGE = "\u4e00-\u9fa5"
_DROP_RE = re.compile("[^" + HANZI_RANGE + re.escape("".join(PUNCTUATION)) + "]+")
_REPEAT_RE = re.compile(
    "([" + re.escape("".join(PUNCTUATION)) + "])[" + re.escape("".join(PUNCTUATION)) + "]+"
)


def replace_punctuation(text: str) -> str:
    """Map punctuation to the v2 set and drop every character that is neither hanzi nor punctuation."""
    text = text.translate(_CHAR_SWAPS)
    text = _MAP_RE.sub(lambda m: _REPLACEMENTS[m.group(0)], text)
    return _DROP_RE.sub("", text)


def collapse_repeats(text: str) -> str:
    """Keep only the first mark of every run of consecutive punctuation."""
    return _REPEAT_RE.sub(r"\1", text)


def is_hanzi(ch: str) -> bool:
    """True for a character in the CJK range the v2 frontend reads (U+4E00..U+9FA5)."""
    return "\u4e00" <= ch <= "\u9fa5"
