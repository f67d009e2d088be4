"""Phoneme coverage of a set of texts: which Mandarin initials, finals and tones, and which English
ARPAbet phonemes, the texts exercise, and which they miss. Used to check that recording prompts cover
a language.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache

from engine.errors import TextError
from engine.text.symbols import symbols

ZH_INITIALS = tuple("AA EE OO b c ch d f g h j k l m n p q r s sh t w x y z zh".split())
ZH_FINALS = tuple(
    "a ai an ang ao e ei en eng er i i0 ia ian iang iao ie in ing iong ir iu o ong ou "
    "u ua uai uan uang ui un uo v van ve vn E En".split()
)
ZH_TONES = ("1", "2", "3", "4", "5")
EN_PHONEMES = tuple(
    "AA AE AH AO AW AY B CH D DH EH ER EY F G HH IH IY JH K L M N NG "
    "OW OY P R S SH T TH UH UW V W Y Z ZH".split()
)
_VOWELS = frozenset("AA AE AH AO AW AY EH ER EY IH IY OW OY UH UW".split())
_TONED = re.compile(r"^([A-Za-z0]+?)([1-5])$")


@cache
def zh_toned_finals() -> tuple[str, ...]:
    """The toned Mandarin finals of the v2 table (39 finals x 5 tones)."""
    finals = set(ZH_FINALS)
    return tuple(s for s in symbols() if (m := _TONED.match(s)) and m[1] in finals)


@cache
def en_stressed_symbols() -> tuple[str, ...]:
    """English symbols of the table the G2P can produce: consonants plus vowels with stress 0/1/2."""
    table = set(symbols())
    out = [p for p in EN_PHONEMES if p not in _VOWELS]
    out += [f"{v}{d}" for v in sorted(_VOWELS) for d in "012" if f"{v}{d}" in table]
    return tuple(out)


@dataclass(frozen=True)
class Coverage:
    """How often each unit of an inventory occurs."""

    name: str
    inventory: tuple[str, ...]
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def present(self) -> list[str]:
        """Units seen at least once, in inventory order."""
        return [u for u in self.inventory if self.counts.get(u, 0) > 0]

    @property
    def missing(self) -> list[str]:
        """Units never seen, in inventory order."""
        return [u for u in self.inventory if self.counts.get(u, 0) == 0]

    @property
    def ratio(self) -> float:
        """Share of the inventory seen (0..1)."""
        return len(self.present) / len(self.inventory) if self.inventory else 1.0


@dataclass(frozen=True)
class CoverageReport:
    """Coverage of one language by a set of texts."""

    language: str
    texts: int
    phones: int
    parts: tuple[Coverage, ...]

    def part(self, name: str) -> Coverage:
        """The coverage named ``name`` (e.g. "initials", "finals", "phonemes")."""
        for part in self.parts:
            if part.name == name:
                return part
        raise KeyError(name)

    def summary(self) -> str:
        """A few readable lines."""
        lines = [f"{self.language}: {self.texts} texts, {self.phones} phones"]
        for part in self.parts:
            missing = " ".join(part.missing[:40]) + (" ..." if len(part.missing) > 40 else "")
            lines.append(
                f"  {part.name}: {len(part.present)}/{len(part.inventory)} ({part.ratio:.0%})"
                + (f"; missing: {missing}" if part.missing else "")
            )
        return "\n".join(lines)


def coverage_of_phones(phone_lists: Iterable[list[str]], language: str) -> CoverageReport:
    """Coverage for phone sequences already produced by the frontend."""
    counts: Counter[str] = Counter()
    texts = 0
    for phones in phone_lists:
        texts += 1
        counts.update(phones)
    total = sum(counts.values())
    if language == "zh":
        initials = Counter({p: n for p, n in counts.items() if p in ZH_INITIALS})
        toned = Counter({p: n for p, n in counts.items() if p in set(zh_toned_finals())})
        finals: Counter[str] = Counter()
        tones: Counter[str] = Counter()
        for p, n in toned.items():
            m = _TONED.match(p)
            finals[m[1]] += n
            tones[m[2]] += n
        parts = (
            Coverage("initials", ZH_INITIALS, dict(initials)),
            Coverage("finals", ZH_FINALS, dict(finals)),
            Coverage("tones", ZH_TONES, dict(tones)),
            Coverage("toned finals", zh_toned_finals(), dict(toned)),
        )
    elif language == "en":
        base: Counter[str] = Counter()
        for p, n in counts.items():
            stripped = p.rstrip("012")
            if stripped in EN_PHONEMES:
                base[stripped] += n
        parts = (
            Coverage("phonemes", EN_PHONEMES, dict(base)),
            Coverage("stressed symbols", en_stressed_symbols(), dict(counts)),
        )
    else:
        raise TextError(f"Coverage is measured for 'zh' or 'en', not {language!r}.")
    return CoverageReport(language, texts, total, parts)


def phoneme_coverage(texts: Iterable[str], language: str) -> CoverageReport:
    """Run the frontend over ``texts`` and report the coverage of ``language`` ("zh" or "en")."""
    from engine.text.frontend import frontend

    if language not in ("zh", "en"):
        raise TextError(f"Coverage is measured for 'zh' or 'en', not {language!r}.")
    phone_lists = []
    for text in texts:
        segments = frontend(text, language)
        phone_lists.append([p for s in segments if s.language == language for p in s.phones])
    return coverage_of_phones(phone_lists, language)
