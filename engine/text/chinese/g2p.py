"""Mandarin grapheme-to-phoneme: normalised text → v2 phones and ``word2ph``.

Steps per sentence (text up to and including a punctuation run): jieba segmentation with POS tags,
the sandhi pre-merge, pypinyin readings per word (tone 5 for neutral), tone sandhi, 儿 handling,
then every syllable becomes two symbols (initial, toned final) and every punctuation mark one.

Deviation from the reference: v2 reads polyphones with G2PW, an ONNX model we cannot ship or
download. We use pypinyin's phrase dictionary (which resolves most polyphones inside words), plus
the POS tag for the particles 地/得/着/了/过 and a small word list in data/polyphones.txt where
pypinyin's choice is wrong. Single-character polyphones outside those cases take pypinyin's most
common reading, so they can differ from G2PW (data/char_readings.txt lists the
common ones, with a part-of-speech choice where one helps).

Other deliberate differences from the reference, all small:
- pypinyin phrases sometimes carry 一/不 sandhi already; 一 and 不 start from yi1/bu4 so that the
  sandhi rules alone decide;
- 一 that continues a number or a date keeps yi1 (十一月, 二十一岁, 一百零一本, 五月一日), where the
  reference's rule would read yi2/yi4;
- syllables with no v2 symbols (rare interjections) are read as the nearest regular syllable, and
  the few characters pypinyin cannot read become ``UNK UNK``, where the reference would stop.
"""

from __future__ import annotations

import re
from functools import cache
from importlib import resources

from engine.errors import TextError
from engine.text.chinese.punctuation import PUNCTUATION_SET, is_hanzi
from engine.text.chinese.sandhi import apply_sandhi, premerge
from engine.text.chinese.segment import cut_with_pos
from engine.text.chinese.syllables import syllable_phones

_SYLLABLE = re.compile(r"[a-zü]+[1-5]")
_UNREADABLE = "?5"
_DAY_ONE = ("一日", "一号")


def _continues_number(previous: str, word: str) -> bool:
    """True when a word starting with 一 continues a number or date begun by the previous word."""
    if not previous:
        return False
    last = previous[-1]
    if last.isnumeric() and last != "一":
        return True
    return (last == "月" and word in _DAY_ONE) or (last == "年" and word == "一月")


@cache
def _overrides() -> dict[str, tuple[str, ...]]:
    text = (
        resources.files("engine.text.chinese").joinpath("data", "polyphones.txt").read_text(encoding="utf-8")
    )
    table: dict[str, tuple[str, ...]] = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        word, *readings = line.split()
        if len(readings) == len(word):
            table[word] = tuple(readings)
    return table


@cache
def _char_readings() -> dict[str, tuple[str, tuple[tuple[str, str], ...]]]:
    text = (
        resources.files("engine.text.chinese")
        .joinpath("data", "char_readings.txt")
        .read_text(encoding="utf-8")
    )
    table: dict[str, tuple[str, tuple[tuple[str, str], ...]]] = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        char, default, *tagged = line.split()
        by_tag = tuple(sorted((tuple(item.split("=", 1)) for item in tagged), key=lambda t: -len(t[0])))
        table[char] = (default, by_tag)  # type: ignore[assignment]
    return table


def char_reading(char: str, pos: str = "", following: str = "") -> str | None:
    """The listed reading of a polyphonic character, chosen by the next character or the POS tag."""
    entry = _char_readings().get(char)
    if entry is None:
        return None
    default, by_tag = entry
    if following:
        found = next((reading for tag, reading in by_tag if tag == "+" + following), None)
        if found is not None:
            return found
    if not pos:
        return default
    return next(
        (reading for tag, reading in by_tag if not tag.startswith("+") and pos.startswith(tag)), default
    )


@cache
def _erhua_lists() -> tuple[frozenset[str], frozenset[str]]:
    text = resources.files("engine.text.chinese").joinpath("data", "erhua.txt").read_text(encoding="utf-8")
    always: set[str] = set()
    keep: set[str] = set()
    for line in text.splitlines():
        if line.startswith("always:"):
            always.update(line[len("always:") :].split())
        elif line.startswith("keep:"):
            keep.update(line[len("keep:") :].split())
    return frozenset(always), frozenset(keep)


@cache
def dictionary_syllables(word: str) -> tuple[str, ...]:
    """Toned pinyin of a hanzi word from the override list or pypinyin (``?5`` where unreadable)."""
    fixed = _overrides().get(word)
    if fixed is not None:
        return fixed
    from pypinyin import Style, lazy_pinyin
    from pypinyin.seg.mmseg import seg

    out: list[str] = []
    for piece in seg.cut(word) if len(word) > 1 else [word]:
        if piece == "得" and 0 < len(out) < len(word) - 1:
            out.append("de5")  # a complement marker inside a word no phrase covers: 跑得快, 说得对
            continue
        listed = char_reading(piece) if len(piece) == 1 else None
        if listed is not None:
            out.append(listed)
            continue
        readings = lazy_pinyin(
            piece,
            style=Style.TONE3,
            neutral_tone_with_five=True,
            errors=lambda chars: [_UNREADABLE] * len(chars),
        )
        if len(readings) != len(piece):  # one item per hanzi is expected; fall back char by char
            readings = [r for ch in piece for r in dictionary_syllables(ch)]
        out.extend(readings)
    return tuple(s if _SYLLABLE.fullmatch(s) else _UNREADABLE for s in out)


def _word_syllables(word: str, pos: str, following: str = "") -> list[str]:
    if len(word) == 1:
        listed = char_reading(word, pos, following)
        if listed is not None:
            return [listed]
    syl = list(dictionary_syllables(word))
    if len(word) > 1 and word[-1] == "地" and (pos.startswith("z") or word[-2] == word[-3:-2]):
        syl[-1] = "de5"  # the adverb particle glued to a descriptive word: 悄悄地, 嗡嗡地
    # pypinyin's phrases sometimes carry 一/不 sandhi already; start from the citation tones so that
    # the sandhi rules alone decide.
    for i, ch in enumerate(word):
        if ch == "一":
            syl[i] = "yi1"
        elif ch == "不":
            syl[i] = "bu4"
    return syl


def _erhua(word: str, pos: str, syl: list[str]) -> list[str]:
    if word.endswith("儿") and syl and syl[-1] == "er1":
        syl[-1] = "er2"
    always, keep = _erhua_lists()
    if word not in always and (word in keep or pos in ("a", "j", "nr")):
        return syl
    if len(word) >= 2 and word[-1] == "儿" and syl[-1] in ("er2", "er5") and word[-2:] not in keep:
        previous = syl[-2]
        if previous[-1:] in "12345":
            syl[-1] = "er" + previous[-1]
    return syl


def _chunks(text: str) -> list[tuple[str, str]]:
    """(hanzi run, punctuation run) pairs covering ``text`` in order."""
    return re.findall("([\u4e00-\u9fa5]*)([^\u4e00-\u9fa5]*)", text)[:-1] or [(text, "")]


def check_normalized(text: str) -> None:
    """Raise TextError if ``text`` holds anything but hanzi and the v2 punctuation."""
    for position, ch in enumerate(text):
        if not (is_hanzi(ch) or ch in PUNCTUATION_SET):
            raise TextError(
                f"Character {ch!r} at position {position} is not normalised Mandarin text.",
                "Pass the text through normalize_zh() (or use zh_phonemes()) before g2p_zh().",
            )


def sentence_syllables(hanzi: str) -> list[tuple[str, str, list[str]]]:
    """(word, pos, final toned syllables) for a run of hanzi after segmentation and sandhi."""
    words = premerge(cut_with_pos(hanzi), dictionary_syllables)
    out: list[tuple[str, str, list[str]]] = []
    previous = previous_pos = ""
    for index, (word, pos) in enumerate(words):
        following = words[index + 1][0][:1] if index + 1 < len(words) else ""
        syl = _word_syllables(word, pos, following)
        syl = apply_sandhi(word, pos, syl)
        if word.startswith("一") and _continues_number(previous, word):
            syl[0] = "yi1"  # a digit of a number or date (十/一月, 五月/一日) keeps yi1
        syl = _erhua(word, pos, syl)
        if word == "得" and previous_pos.startswith("r") and following not in ("", "了", "到"):
            syl = ["dei3"]  # "must" right after a pronoun: 我得走了, 这得花多少钱
        out.append((word, pos, syl))
        previous, previous_pos = word, pos
    return out


def g2p_zh(normalized: str) -> tuple[list[str], list[int]]:
    """Phones and word2ph (2 per hanzi, 1 per punctuation mark) for normalised Mandarin text."""
    check_normalized(normalized)
    phones: list[str] = []
    word2ph: list[int] = []
    for hanzi, marks in _chunks(normalized):
        if hanzi:
            for _word, _pos, syllables in sentence_syllables(hanzi):
                for syllable in syllables:
                    phones.extend(syllable_phones(syllable))
                    word2ph.append(2)
        for mark in marks:
            phones.append(mark)
            word2ph.append(1)
    return phones, word2ph
