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


_BE = frozenset(
    "am is are was were be been being seem seems seemed feel feels felt look looks looked".split()
)
# collocations and parts of speech told by one neighbour, per word: (previous words, following
# words, reading); the first rule that matches wins, else the default reading (None: CMU's first)
_RULES: dict[str, tuple[tuple[frozenset[str], frozenset[str], str], ...]] = {}
_DEFAULTS: dict[str, str] = {}


def _rule(word: str, previous: str, following: str, reading: str) -> None:
    _RULES.setdefault(word, ())
    _RULES[word] += ((frozenset(previous.split()), frozenset(following.split()), reading),)


# bow: B AW1 bend (bow to, bow down, they bow), B OW1 ribbon or weapon (a bow in her hair, his bow)
_rule("bow", "", "to down before out low and", "B AW1")
_rule("bow", "a the his her my your their our this tied violin", "", "B OW1")
_rule("bow", "", "tie ties", "B OW1")
# wound: W UW1 N D injury (the wound, a deep wound), W AW1 N D past of wind (he wound the clock)
_rule("wound", "he she they we i it who", "", "W AW1 N D")
_rule("wound", "", "up down the his her a", "W AW1 N D")
_rule("wound", "a the his her my your their our this that deep open fresh gunshot stab", "", "W UW1 N D")
_rule("wound", "", "is was healed heals healing", "W UW1 N D")
# dove: D OW1 V past of dive (she dove into), D AH1 V the bird
_rule("dove", "he she they we i it who", "", "D OW1 V")
_rule("dove", "", "into in off under onto through down for headfirst", "D OW1 V")
# content: K AH0 N T EH1 N T satisfied (content with, is content), K AA1 N T EH0 N T what is inside
_rule("content", "", "with to", "K AH0 N T EH1 N T")
_rule("content", " ".join(_BE) + " perfectly quite very so more less fairly", "", "K AH0 N T EH1 N T")
# tear(s): T IH1 R from the eye, T EH1 R rip (a tear in; he tears the paper; tear down)
_rule("tear", "a the", "in on", "T EH1 R")
_rule("tear", "", "up down apart off open out through into", "T EH1 R")
_rule("tear", " ".join(BEFORE_VERB), "", "T EH1 R")
_DEFAULTS["tear"] = "T IH1 R"
_rule("tears", "he she it who that", "", "T EH1 R Z")
_rule("tears", "", "up down apart off open out through", "T EH1 R Z")
_DEFAULTS["tears"] = "T IH1 R Z"
# minute: M AY0 N UW1 T tiny (minute details, were minute), M IH1 N AH0 T the time
_rule("minute", "so very extremely quite", "", "M AY0 N UW1 T")
_rule(
    "minute",
    "",
    "details detail differences difference amount amounts quantities quantity changes particles "
    "traces fraction adjustments",
    "M AY0 N UW1 T",
)
# lead: L IY1 D to guide, the front (lead singer, take the lead); L EH1 D the metal
_rule("lead", "", "poisoning pipe pipes paint pencil pencils bullet bullets weight weights levels", "L EH1 D")
_rule("lead", "of with", "", "L EH1 D")
_DEFAULTS["lead"] = "L IY1 D"
# bass: B EY1 S music (bass player, the bass), B AE1 S the fish (bass fishing, sea bass)
_rule("bass", "sea striped largemouth smallmouth", "", "B AE1 S")
_rule("bass", "", "fishing fish boat lake", "B AE1 S")
_DEFAULTS["bass"] = "B EY1 S"
# live: L AY1 V (a live concert, go live, is live), L IH1 V the verb (they live in, work and live here)
_rule("live", "go goes went gone going is are was were be", "", "L AY1 V")
_rule(
    "live",
    "",
    "in with at here there together alone abroad near by for without like off long forever "
    "happily through under and or to",
    "L IH1 V",
)
_rule("live", " ".join(_LIVE_VERB_MARKERS | {"and", "or"}), "", "L IH1 V")
_DEFAULTS["live"] = "L AY1 V"


def _by_rules(word: str, previous: str, following: str) -> tuple[str, ...] | None:
    for before, after, reading in _RULES.get(word, ()):
        if (not before or previous in before) and (not after or following in after):
            return tuple(reading.split())
    default = _DEFAULTS.get(word)
    return tuple(default.split()) if default else None


def homograph_phones(word: str, previous: str = "", following: str = "") -> tuple[str, ...] | None:
    """The reading of a homograph chosen by its neighbours (lower-case words; "" at a clause edge)."""
    if word == "read":
        return ("R", "EH1", "D") if previous in _PAST_MARKERS else ("R", "IY1", "D")
    if word in _RULES:
        if word in HOMOGRAPHS:
            verb, noun = HOMOGRAPHS[word]
            if previous in BEFORE_VERB and word not in ("lead", "tear"):
                return verb
            if not previous and following in DETERMINERS:
                return verb  # an instruction: Tear the paper
        found = _by_rules(word, previous, following)
        if found is not None or word not in HOMOGRAPHS:
            return found
    pair = HOMOGRAPHS.get(word)
    if pair is None:
        return None
    verb, noun = pair
    if previous in BEFORE_VERB or (not previous and following in DETERMINERS):
        return verb
    if previous in DETERMINERS:
        return noun
    return None
