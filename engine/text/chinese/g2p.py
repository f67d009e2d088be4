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

Issue 15: where the word alone cannot decide, its neighbours do (``_in_context``, ``_by_sentence``:
为 wéi before a number or after a verb, 实在/大意 by their use, 他调到北京 diào but 把…调到 tiáo, 还你钱
huán, 这块地 dì, a locative 上/里 after a noun is neutral); inside a word the segmenter glued that no
dictionary lists, the override words and next-character rules still apply (``_glued_readings``).

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
from functools import cache, lru_cache
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
    if not previous or (word[1:2] in "百千万亿" and previous[-1] != "十"):
        return False  # 一千/一百: the leading digit of a place group takes its sandhi
    last = previous[-1]
    if last.isnumeric() and last != "一":
        return True
    if last == "点" and previous[-2:-1].isnumeric():
        return True  # a decimal or version group: 二点三点一
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


@cache
def _phrases() -> dict:
    from pypinyin.constants import PHRASES_DICT

    return PHRASES_DICT


@cache
def _override_pieces() -> dict[str, tuple[str, ...]]:
    """First character -> the override words starting with it, longest first."""
    table: dict[str, list[str]] = {}
    for word in _overrides():
        table.setdefault(word[0], []).append(word)
    return {ch: tuple(sorted(words, key=len, reverse=True)) for ch, words in table.items()}


@lru_cache(maxsize=65536)
def _glued_readings(word: str, following: str) -> tuple[tuple[int, str], ...]:
    """Readings decided inside a word no dictionary lists (the segmenter glued it): an override
    word inside it (待在家里 has 待在), else a character rule on the next character (请调|成 → tiáo)."""
    if word in _overrides() or word in _phrases():
        return ()
    pieces = _override_pieces()
    readings = _char_readings()
    changes: list[tuple[int, str]] = []
    i = 0
    while i < len(word):
        found = next(
            (w for w in pieces.get(word[i], ()) if len(w) < len(word) and word.startswith(w, i)), None
        )
        if found is not None:
            changes.extend(enumerate(_overrides()[found], start=i))
            i += len(found)
            continue
        if word[i] in readings:
            nxt = word[i + 1] if i + 1 < len(word) else following
            listed = char_reading(word[i], "", nxt) if nxt else None
            if listed is not None and listed != readings[word[i]][0]:
                changes.append((i, listed))
        i += 1
    return tuple(changes)


def _word_syllables(word: str, pos: str, following: str = "") -> list[str]:
    if len(word) == 1:
        listed = char_reading(word, pos, following)
        if listed is not None:
            return [listed]
    syl = list(dictionary_syllables(word))
    if len(word) > 1:
        for i, reading in _glued_readings(word, following):
            syl[i] = reading
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
    seen_ba = False
    for index, (word, pos) in enumerate(words):
        following = words[index + 1][0][:1] if index + 1 < len(words) else ""
        syl = _word_syllables(word, pos, following)
        syl = apply_sandhi(word, pos, syl)
        if word.startswith("一") and _continues_number(previous, word):
            syl[0] = "yi1"  # a digit of a number or date (十/一月, 五月/一日) keeps yi1
        syl = _erhua(word, pos, syl)
        if word == "得" and previous_pos.startswith("r") and following not in ("", "了", "到"):
            syl = ["dei3"]  # "must" right after a pronoun: 我得走了, 这得花多少钱
        syl = _in_context(
            word, syl, previous, previous_pos, words[index + 1][0] if index + 1 < len(words) else ""
        )
        syl = _by_sentence(words, index, syl, previous_pos, seen_ba)
        seen_ba = seen_ba or "把" in word
        out.append((word, pos, syl))
        previous, previous_pos = word, pos
    return out


_OBJECT_FOLLOWS = ("n", "m", "q", "r")
_NOUN_DI_BEFORE = set("块片亩这那此该本外当各草田土")


def _by_sentence(
    words: list[tuple[str, str]], index: int, syl: list[str], previous_pos: str, seen_ba: bool
) -> list[str]:
    """Readings decided further away than the next word."""
    word = words[index][0]
    previous = words[index - 1][0] if index else ""
    if word in ("调", "调到", "调至") and previous_pos[:1] == "r" and not seen_ba:
        return ["diao4", *syl[1:]]  # a person is transferred (他调到北京); 把…调到 adjusts
    if word == "还" and index + 1 < len(words) and words[index + 1][1].startswith("r"):
        after = words[index + 2] if index + 2 < len(words) else ("", "")
        if not after[0] or after[0][0] in PUNCTUATION_SET or after[1][:1] in _OBJECT_FOLLOWS:
            return ["huan2"]  # give back to someone: 还你钱, 我明天还你
    if word == "地" and previous[-1:] in _NOUN_DI_BEFORE:
        return ["di4"]  # the ground, a field: 这块地, 那片地
    return syl


_INTENSIFIERS = ("很", "太", "挺", "真", "不", "最", "更", "特别", "非常", "十分", "比较", "那么", "这么")
_DIGIT_CHARS = set("零〇一二三四五六七八九十百千万亿两幺")
_LOCATIVE_HEADS_KEEP = ("以", "之", "向", "往", "朝", "线", "网")


def _in_context(word: str, syl: list[str], previous: str, previous_pos: str, following: str) -> list[str]:
    """Readings that the neighbouring words decide (the word alone cannot)."""
    if word == "得" and following == "了" and previous_pos[:1] in ("r", "n"):
        return ["de2"]  # "got": 他得了第一名
    if word == "为" and (previous_pos.startswith("v") or following[:1] in _DIGIT_CHARS):
        return ["wei2"]  # "be/as": 被选为, 功率为六十瓦
    if word == "一点" and following and following[0] in "零一二三四五六七八九十半钟整":
        return ["yi1", "dian3"]  # the hour or a decimal (一点十分, 一点五), not "a little"
    if word == "调" and previous == "被":
        return ["diao4"]  # transferred: 被调到北京
    if word == "大意" and (previous == "的" or previous_pos.startswith("n")):
        return ["da4", "yi4"]  # the gist (文章的大意); otherwise careless (dàyi)
    if word == "实在":
        if previous in _INTENSIFIERS or not following or following[0] in PUNCTUATION_SET:
            return ["shi2", "zai5"]  # honest, solid: 很实在
        return ["shi2", "zai4"]  # really: 实在太累了
    if (
        word in ("上", "里")
        and previous_pos.startswith("n")
        and not previous.endswith(_LOCATIVE_HEADS_KEEP)
        and syl[0][-1:] in "34"
    ):
        return [syl[0][:-1] + "5"]  # a locative after a noun: 桌子上, 卡里
    return syl


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
