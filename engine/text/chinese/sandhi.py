"""Mandarin tone sandhi on toned pinyin syllables (``"hao3"``), following the v2 reference rules.

Two stages, both per sentence:
- ``premerge`` joins segmenter words so that the rules see the right units: 不 + next word,
  一 + next word, reduplicated verbs around 一 (看一看), repeated words (看看), short runs of
  all-third-tone words (≤ 3 characters), third tone meeting third tone across a word boundary, and a
  trailing 儿 onto its word.
- ``apply_sandhi`` changes the tones of one word: 不 (bu2 before a fourth tone, neutral in the middle
  of V不V/V不C), 一 (yi1 in numbers and ordinals, yi5 in 看一看, yi2 before a fourth tone, yi4 before
  others), neutral tones (reduplicated nouns/verbs/adjectives, particles, suffixes 们/子, locatives
  上/下/里, directional 来/去, measure word 个, and the word list in data/), then third-tone sandhi
  over two-, three- and four-syllable words.
"""

from __future__ import annotations

from functools import cache, lru_cache
from importlib import resources

from engine.text.chinese.segment import search_pieces

Word = tuple[str, str]  # (text, part of speech)

_PARTICLES = set("吧呢哈啊呐噻嘛吖嗨哦哒额滴哩哟喽啰耶喔诶")
_STRUCTURAL = set("的地得")
_ASPECT = set("了着过")
_LOCATIVE = set("上下里")
_DIRECTIONAL_HEAD = set("上下进出回过起开")
_GE_BEFORE = set("几有两半多各整每做是")
_PUNCT = set("：，；。？！“”‘’':,;.?!…-")


@cache
def _word_set(name: str) -> frozenset[str]:
    text = resources.files("engine.text.chinese").joinpath("data", name).read_text(encoding="utf-8")
    words: set[str] = set()
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            words.update(line.split())
    return frozenset(words)


def neutral_words() -> frozenset[str]:
    """Words read with a neutral last syllable."""
    return _word_set("neutral_tone_words.txt")


def not_neutral_words() -> frozenset[str]:
    """Words exempt from the reduplication and 子/们 neutral-tone rules."""
    return _word_set("not_neutral_words.txt")


def _tone(syllable: str) -> str:
    return syllable[-1]


def _set_tone(syllables: list[str], index: int, tone: str) -> None:
    if syllables[index][-1:] in ("1", "2", "3", "4", "5"):
        syllables[index] = syllables[index][:-1] + tone


def _all_third(syllables: list[str]) -> bool:
    return all(s.endswith("3") for s in syllables)


def _is_number_char(ch: str) -> bool:
    return ch.isnumeric()


def split_in_two(word: str) -> tuple[str, str]:
    """Split a word at its shortest dictionary piece (the reference's sub-word split)."""
    pieces = sorted(search_pieces(word), key=len)
    first = pieces[0] if pieces else word
    at = word.find(first)
    if at <= 0:
        return word[: len(first)], word[len(first) :]
    return word[:at], word[at:]


# ---------------------------------------------------------------------------------------------------
# per-word tone changes


def _bu(word: str, syl: list[str]) -> None:
    if len(word) == 3 and word[1] == "不":
        _set_tone(syl, 1, "5")
        return
    for i, ch in enumerate(word[:-1]):
        if ch == "不" and _tone(syl[i + 1]) == "4":
            _set_tone(syl, i, "2")


_PLACES = set("百千万亿")
_DIGIT_WORDS = set("零〇一二三四五六七八九幺两")
_AFTER_POINT = set("零〇一二三四五六七八九十半钟整")


def _yi_in_number(word: str, syl: list[str]) -> set[int]:
    """Tones of 一 inside numbers; the positions it decided.

    A leading 一 before 百/千/万/亿 takes the sandhi (一百 yì bǎi, 一万 yí wàn; not the 一 of 十一万);
    一 before another digit (a year or code read digit by digit: 一九八五), before 点 and a digit (a
    decimal or the hour 一点十分), or before 月 (the month) is a digit and stays yī.
    """
    done: set[int] = set()
    for i, ch in enumerate(word[:-1]):
        if ch != "一":
            continue
        following = word[i + 1]
        if following in _PLACES and not (i > 0 and word[i - 1] == "十"):
            _set_tone(syl, i, "2" if _tone(syl[i + 1]) == "4" else "4")
        elif (
            following in _DIGIT_WORDS
            or following == "月"
            or (following == "点" and word[i + 2 : i + 3] in _AFTER_POINT and i + 2 < len(word))
        ):
            _set_tone(syl, i, "1")
        else:
            continue
        done.add(i)
    return done


def _yi(word: str, syl: list[str]) -> None:
    done = _yi_in_number(word, syl)
    if "一" in word and all(_is_number_char(ch) for ch in word if ch != "一"):
        return
    if len(word) == 3 and word[1] == "一" and word[0] == word[2]:
        _set_tone(syl, 1, "5")
    elif word.startswith("第一") and 1 not in done:
        _set_tone(syl, 1, "1")
    else:
        for i, ch in enumerate(word[:-1]):
            if ch != "一" or i in done or (i > 0 and _is_number_char(word[i - 1])):
                continue  # the last digit of a number (十一月, 二十一岁) keeps yi1
            if _tone(syl[i + 1]) == "4":
                _set_tone(syl, i, "2")
            elif word[i + 1] not in _PUNCT:
                _set_tone(syl, i, "4")


_TONE_MARKS = set("āáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜńňǹḿ")
_NOT_LOCATIVE_HEAD = set("以之向往朝线网")


@cache
def _phrases() -> dict:
    from pypinyin.constants import PHRASES_DICT

    return PHRASES_DICT


def _keeps_final_tone(word: str, pos: str, syl: list[str]) -> bool:
    """True when a final particle-like character (吧, 额, 的, 地, 得...) is part of a word, not a particle.

    The word decides, not the character: 酒吧 jiǔbā, 金额 jīn'é, 目的 mùdì, 土地 tǔdì, 取得 qǔdé keep their
    tones because the dictionary lists the word so; 觉得 is listed with a neutral 得.
    """
    last = word[-1]
    if len(word) == 1:
        return (last == "额" and not pos.startswith(("y", "e"))) or (last == "地" and syl[0][:2] == "di")
    if last == "额":
        return True
    readings = _phrases().get(word)
    return bool(readings) and len(readings) == len(word) and bool(_TONE_MARKS & set(readings[-1][0]))


def _reduplication_is_neutral(word: str, pos: str, syl: list[str], j: int) -> bool:
    """Whether the second of two equal characters is neutral (奶奶, 看看), by the word's kind.

    Digits never are (幺幺零, 五五五), and neither are third-tone verbs and adjectives (想想, 走走,
    考考: the first takes third-tone sandhi, xiáng xiang, as the reference's must-not list has it).
    """
    ch = word[j]
    if _is_number_char(ch) or ch == "幺":
        return False
    return not (pos[:1] in ("v", "a") and syl[j - 1].endswith("3") and syl[j].endswith("3"))


def _neutral(word: str, pos: str, syl: list[str]) -> None:
    keep = not_neutral_words()
    listed = neutral_words()
    if pos[:1] in ("n", "v", "a") and word not in keep:
        for j in range(1, len(word)):
            if word[j] == word[j - 1] and _reduplication_is_neutral(word, pos, syl, j):
                _set_tone(syl, j, "5")
    ge = word.find("个")
    last = word[-1]
    if (last in _PARTICLES or last in _STRUCTURAL) and word not in keep:
        if not _keeps_final_tone(word, pos, syl):
            _set_tone(syl, -1, "5")
    elif len(word) == 1 and last in _ASPECT and pos in ("ul", "uz", "ug"):
        _set_tone(syl, -1, "5")
    elif len(word) > 1 and last in "们子" and pos in ("r", "n") and word not in keep:
        _set_tone(syl, -1, "5")
    elif (
        len(word) > 1
        and last in _LOCATIVE
        and pos in ("s", "l", "f")
        and word[-2] not in _NOT_LOCATIVE_HEAD
        and word not in keep
    ):
        _set_tone(syl, -1, "5")
    elif len(word) > 1 and last in "来去" and word[-2] in _DIRECTIONAL_HEAD:
        _set_tone(syl, -1, "5")
    elif (ge >= 1 and (_is_number_char(word[ge - 1]) or word[ge - 1] in _GE_BEFORE)) or word == "个":
        _set_tone(syl, max(ge, 0), "5")
    elif word in listed or word[-2:] in listed:
        _set_tone(syl, -1, "5")
    head, tail = split_in_two(word)
    if head and (head in listed or head[-2:] in listed):
        _set_tone(syl, len(head) - 1, "5")
    if tail and (tail in listed or tail[-2:] in listed):
        _set_tone(syl, -1, "5")


def _third(word: str, syl: list[str]) -> None:
    n = len(word)
    if n == 2:
        if _all_third(syl):
            _set_tone(syl, 0, "2")
    elif n == 3:
        head, _ = split_in_two(word)
        cut = len(head)
        if _all_third(syl):
            if cut == 2:  # e.g. 蒙古/包
                _set_tone(syl, 0, "2")
                _set_tone(syl, 1, "2")
            elif cut == 1:  # e.g. 纸/老虎
                _set_tone(syl, 1, "2")
            return
        parts = [(0, cut), (cut, n)]
        for k, (a, b) in enumerate(parts):
            sub = syl[a:b]
            if b - a == 2 and _all_third(sub):  # e.g. 所有/人
                _set_tone(syl, a, "2")
            elif (
                k == 1
                and b > a
                and not _all_third(sub)
                and sub[0].endswith("3")
                and syl[cut - 1].endswith("3")
            ):
                _set_tone(syl, cut - 1, "2")  # e.g. 好/喜欢
    elif n == 4:
        for a in (0, 2):
            if _all_third(syl[a : a + 2]):
                _set_tone(syl, a, "2")


def apply_sandhi(word: str, pos: str, syllables: list[str]) -> list[str]:
    """Tones of ``word`` after 不, 一, neutral-tone and third-tone sandhi."""
    return list(_sandhi_cached(word, pos, tuple(syllables)))


@lru_cache(maxsize=200_000)
def _sandhi_cached(word: str, pos: str, syllables: tuple[str, ...]) -> tuple[str, ...]:
    syl = list(syllables)
    if len(syl) != len(word) or not word:
        return tuple(syl)
    _bu(word, syl)
    _yi(word, syl)
    _neutral(word, pos, syl)
    _third(word, syl)
    return tuple(syl)


# ---------------------------------------------------------------------------------------------------
# merging segmenter words before the per-word rules


def _is_punct(word: str) -> bool:
    return not word or word[0] in _PUNCT


def _merge_bu(words: list[list[str]]) -> list[list[str]]:
    out: list[list[str]] = []
    pending = False
    for word, pos in words:
        if pending and not _is_punct(word):
            out.append(["不" + word, pos])
            pending = False
            continue
        if pending:
            out.append(["不", "d"])
            pending = False
        if word == "不":
            pending = True
        else:
            out.append([word, pos])
    if pending:
        out.append(["不", "d"])
    return out


def _merge_yi(words: list[list[str]]) -> list[list[str]]:
    out: list[list[str]] = []
    i = 0
    while i < len(words):
        word, pos = words[i]
        if (
            word == "一"
            and out
            and i + 1 < len(words)
            and out[-1][1] == "v"
            and out[-1][0] == words[i + 1][0]
        ):
            out[-1][0] = out[-1][0] + "一" + words[i + 1][0]
            i += 2
            continue
        out.append([word, pos])
        i += 1
    merged: list[list[str]] = []
    for word, pos in out:
        if merged and merged[-1][0] == "一" and not _is_punct(word):
            merged[-1][0] += word
        else:
            merged.append([word, pos])
    return merged


def _merge_repeats(words: list[list[str]]) -> list[list[str]]:
    out: list[list[str]] = []
    for word, pos in words:
        if out and word == out[-1][0] and not _is_punct(word):
            out[-1][0] += word
        else:
            out.append([word, pos])
    return out


def _merge_third(words: list[list[str]], flags, whole: bool) -> list[list[str]]:
    out: list[list[str]] = []
    merged_last = False
    prev_flags: tuple[bool, bool, bool] | None = None
    for word, pos in words:
        cur = flags(word)
        if out and prev_flags and cur and not merged_last:
            joins = (prev_flags[0] and cur[0]) if whole else (prev_flags[2] and cur[1])
            prev = out[-1][0]
            if joins and not (len(prev) == 2 and prev[0] == prev[1]) and len(prev) + len(word) <= 3:
                out[-1][0] = prev + word
                merged_last = True
                prev_flags = cur
                continue
        out.append([word, pos])
        merged_last = False
        prev_flags = cur
    return out


@lru_cache(maxsize=100_000)
def _third_flags(syl: tuple[str, ...]) -> tuple[bool, bool, bool] | None:
    """(all third tone, first is third, last is third) for a word's dictionary syllables."""
    if not syl:
        return None
    return _all_third(list(syl)), syl[0].endswith("3"), syl[-1].endswith("3")


def _merge_er(words: list[list[str]]) -> list[list[str]]:
    out: list[list[str]] = []
    for word, pos in words:
        if word == "儿" and out and not _is_punct(out[-1][0]):
            out[-1][0] += word
        else:
            out.append([word, pos])
    return out


def premerge(words: list[Word], tones) -> list[Word]:
    """Join segmenter words for sandhi; ``tones(word)`` gives a word's dictionary syllables."""
    seg = [[w, p] for w, p in words]
    seg = _merge_bu(seg)
    seg = _merge_yi(seg)
    seg = _merge_repeats(seg)

    def flags(word: str) -> tuple[bool, bool, bool] | None:
        return None if _is_punct(word) else _third_flags(tuple(tones(word)))

    seg = _merge_third(seg, flags, whole=True)
    seg = _merge_third(seg, flags, whole=False)
    seg = _merge_er(seg)
    return [(w, p) for w, p in seg]
