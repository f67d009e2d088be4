"""English homographs: words spelled alike but said differently as a verb and as a noun or adjective.

The reference picks the reading with a part-of-speech tagger (NLTK's, whose data must be
downloaded). Timbre has no tagger; the neighbouring words decide instead:
- after a word that only comes before a verb (to, will, can, I, they, please, ...) → the verb reading;
- after a determiner or possessive (the, a, my, this, ...) → the noun reading;
- at the start of a clause, followed by a determiner (Close the door, Present the award) → the verb
  reading (an instruction);
- otherwise the CMU dictionary's first reading, as for any other word.
"read" (past or present) and "live" (verb or adjective) have rules of their own.
Readings are the CMU dictionary's alternatives for each word.
"""

from __future__ import annotations

# word -> (verb reading, noun/adjective reading)
_PAIRS: dict[str, tuple[str, str]] = {
    "abuse": ("AH0 B Y UW1 Z", "AH0 B Y UW1 S"),
    "close": ("K L OW1 Z", "K L OW1 S"),
    "conduct": ("K AA0 N D AH1 K T", "K AA1 N D AH0 K T"),
    "conflict": ("K AH0 N F L IH1 K T", "K AA1 N F L IH0 K T"),
    "contract": ("K AH0 N T R AE1 K T", "K AA1 N T R AE2 K T"),
    "convert": ("K AH0 N V ER1 T", "K AA1 N V ER0 T"),
    "decrease": ("D IH0 K R IY1 S", "D IY1 K R IY2 S"),
    "desert": ("D IH0 Z ER1 T", "D EH1 Z ER0 T"),
    "excuse": ("IH0 K S K Y UW1 Z", "IH0 K S K Y UW1 S"),
    "import": ("IH2 M P AO1 R T", "IH1 M P AO2 R T"),
    "increase": ("IH2 N K R IY1 S", "IH1 N K R IY2 S"),
    "insult": ("IH2 N S AH1 L T", "IH1 N S AH2 L T"),
    "lead": ("L IY1 D", "L EH1 D"),
    "object": ("AH0 B JH EH1 K T", "AA1 B JH EH0 K T"),
    "permit": ("P ER0 M IH1 T", "P ER1 M IH2 T"),
    "present": ("P R IY0 Z EH1 N T", "P R EH1 Z AH0 N T"),
    "produce": ("P R AH0 D UW1 S", "P R OW1 D UW0 S"),
    "progress": ("P R AH0 G R EH1 S", "P R AA1 G R EH2 S"),
    "project": ("P R AH0 JH EH1 K T", "P R AA1 JH EH0 K T"),
    "rebel": ("R IH0 B EH1 L", "R EH1 B AH0 L"),
    "record": ("R IH0 K AO1 R D", "R EH1 K ER0 D"),
    "refuse": ("R IH0 F Y UW1 Z", "R EH1 F Y UW2 Z"),
    "subject": ("S AH0 B JH EH1 K T", "S AH1 B JH IH0 K T"),
    "suspect": ("S AH0 S P EH1 K T", "S AH1 S P EH2 K T"),
    "tear": ("T EH1 R", "T IH1 R"),
    "use": ("Y UW1 Z", "Y UW1 S"),
    "wind": ("W AY1 N D", "W IH1 N D"),
}
HOMOGRAPHS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    word: (tuple(verb.split()), tuple(noun.split())) for word, (verb, noun) in _PAIRS.items()
}

BEFORE_VERB = frozenset(
    "to will would can could shall should may might must i you we they please not never "
    "don't doesn't didn't won't can't cannot let's".split()
)
DETERMINERS = frozenset(
    "the a an this these those my your his her its our their some any no every each another".split()
)
_PAST_MARKERS = frozenset(("have", "has", "had", "was", "were", "been", "being", "is", "are", "be", "i've"))
_LIVE_VERB_MARKERS = frozenset(("i", "you", "we", "they", "to", "people", "who", "still", "will", "can"))


def homograph_phones(word: str, previous: str = "", following: str = "") -> tuple[str, ...] | None:
    """The reading of a homograph chosen by its neighbours (lower-case words; "" at a clause edge)."""
    if word == "read":
        return ("R", "EH1", "D") if previous in _PAST_MARKERS else ("R", "IY1", "D")
    if word == "live":
        return ("L", "IH1", "V") if previous in _LIVE_VERB_MARKERS else ("L", "AY1", "V")
    pair = HOMOGRAPHS.get(word)
    if pair is None:
        return None
    verb, noun = pair
    if previous in BEFORE_VERB or (not previous and following in DETERMINERS):
        return verb
    if previous in DETERMINERS:
        return noun
    return None
