"""The text frontend's entry point: text in a language mode -> per-language phoneme segments.

Importing this module is cheap: the Mandarin and English modules (and the CMU dictionary) load on
the first call.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from engine.errors import TextError
from engine.text.mixed import EN, LANGUAGES, split_runs
from engine.text.symbols import phones_to_ids, symbol_to_id

log = logging.getLogger(__name__)

MIN_PHONES = 6  # shorter results are redone once with "." in front, as the reference does
MAX_CHARS = 1_000_000


@dataclass(frozen=True)
class Segment:
    """One language run: its phones, their v2 ids, per-character phone counts (Mandarin) and text."""

    language: str
    phones: list[str]
    ids: list[int]
    word2ph: list[int] | None
    normalized_text: str


def _run_phonemes(language: str, text: str) -> tuple[str, list[str], list[int] | None]:
    if language == EN:
        from engine.text.english import en_phonemes

        normalized, phones = en_phonemes(text)
        return normalized, phones, None
    from engine.text.chinese import zh_phonemes

    return zh_phonemes(text)


def _in_table(phones: list[str]) -> list[str]:
    table = symbol_to_id()
    unknown = [p for p in phones if p not in table]
    if not unknown:
        return phones
    log.warning("phones outside the v2 table replaced by UNK: %s", sorted(set(unknown)))
    return [p if p in table else "UNK" for p in phones]


def _segments(text: str, language: str) -> list[Segment]:
    segments: list[Segment] = []
    for run in split_runs(text, language):
        normalized, phones, word2ph = _run_phonemes(run.language, run.text)
        if not phones:
            continue
        phones = _in_table(phones)
        segments.append(Segment(run.language, phones, phones_to_ids(phones), word2ph, normalized))
    return segments


def frontend(text: str, language: str = "auto") -> list[Segment]:
    """Phoneme segments for ``text``; [] when nothing in it can be spoken.

    ``language``: "zh" (Mandarin with English mixed in), "en" (English only) or "auto" (each run by its
    script; scripts other than Latin and Han raise TextError).
    """
    if not isinstance(text, str):
        raise TextError(f"Expected text, got {type(text).__name__}.")
    if language not in LANGUAGES:
        raise TextError(f"Unknown language mode {language!r}.", f"Use one of: {', '.join(LANGUAGES)}.")
    if len(text) > MAX_CHARS:
        raise TextError(
            f"The text is too long ({len(text):,} characters; the limit is {MAX_CHARS:,}).",
            "Split it into several files or sentences.",
        )
    segments = _segments(text, language)
    if segments and sum(len(s.phones) for s in segments) < MIN_PHONES:
        segments = _segments("." + text, language) or segments
    return segments


def all_phones(segments: list[Segment]) -> list[str]:
    """The phones of all segments, in order."""
    return [p for s in segments for p in s.phones]


def all_ids(segments: list[Segment]) -> list[int]:
    """The ids of all segments, in order."""
    return [i for s in segments for i in s.ids]
