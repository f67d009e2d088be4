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


# The reference's pause signs (spec §5.1): when a Mandarin text holds one, the sign is read as a comma
# and then every comma phone of that text becomes the pause symbol (the reference's own quirk, kept so
# the models hear what they expect). The first sign listed that occurs wins. A ￥ right before a number
# is a price, as a Chinese keyboard types it (￥299 → 二百九十九元), never a pause.
PAUSE_SIGNS = {"￥": "SP2", "^": "SP3"}
_PAUSE_SIGN_RE = {"￥": re.compile(r"￥(?!\s*[0-9０-９])"), "^": re.compile(r"\^")}


def pause_symbol(text: str) -> str | None:
    """The pause symbol (SP2 or SP3) a text's pause sign asks for, or None when it has none."""
    return next((symbol for sign, symbol in PAUSE_SIGNS.items() if _PAUSE_SIGN_RE[sign].search(text)), None)


def pause_signs_to_commas(text: str) -> str:
    """Every pause sign in ``text`` read as a comma (a ￥ before a number stays: it is money)."""
    for pattern in _PAUSE_SIGN_RE.values():
        text = pattern.sub(",", text)
    return text


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
