"""Terminal control sequences and invisible characters, removed before any text is normalised.

Text pasted from a terminal can hold ANSI escape sequences (colours ``ESC[31m``, cursor moves
``ESC[2K``, window titles ``ESC]0;title BEL``); documents hold zero-width spaces, bidi marks and
isolates, variation selectors and filler characters. None of them is ever read aloud: a whole
sequence goes (its parameters too), and an invisible character between two letters joins them.
"""

from __future__ import annotations

import re

# ESC [ params final (CSI), the 8-bit CSI, OSC/DCS/SOS/PM/APC strings up to BEL or ST, and the
# two-character escapes (ESC 7, ESC =, ESC ( B, ...).
_TERMINAL = re.compile(
    r"(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]?"
    r"|(?:\x1b[\]PX^_]|[\x90\x98\x9d\x9e\x9f])[^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?"
    r"|\x1b[ -/]*[0-~]?"
)
# zero-width and format characters, bidi marks/embeddings/isolates, invisible operators, variation
# selectors, tag characters, the combining grapheme joiner and the Hangul fillers
_INVISIBLE = re.compile(
    "[\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f\u200b-\u200f\u202a-\u202e"
    "\u2060-\u206f\u3164\ufe00-\ufe0f\ufeff\uffa0\ufff0-\ufff8\U000e0000-\U000e0fff]"
)
_ANY = re.compile(
    r"[\x1b\x90-\x9f\u00ad\u034f\u061c\u115f\u1160\u17b4-\u17b5\u180b-\u180f\u200b-\u200f"
    "\u202a-\u202e\u2060-\u206f\u3164\ufe00-\ufe0f\ufeff\uffa0\ufff0-\ufff8\U000e0000-\U000e0fff]"
)


def strip_invisible(text: str) -> str:
    """``text`` without terminal control sequences and invisible characters."""
    if not _ANY.search(text):
        return text
    return _INVISIBLE.sub("", _TERMINAL.sub("", text))
