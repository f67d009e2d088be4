"""Unit tests for the issue-15 rules: invisible characters, units in Mandarin, amounts, affixes, pinyin."""

from __future__ import annotations

from engine.text.chinese.numbers import read_amount, read_cardinal
from engine.text.english.affixes import affixed_phones
from engine.text.english.lexicon import lexicon
from engine.text.english.pinyin_names import pinyin_phones
from engine.text.frontend import frontend
from engine.text.invisible import strip_invisible
from engine.text.zh_units import unit_spans


def test_terminal_sequences_go_whole_and_invisible_characters_join() -> None:
    assert strip_invisible("\x1b[1;31mred\x1b[0m") == "red"
    assert strip_invisible("a\x1b]2;window title\x07b") == "ab"
    assert strip_invisible("a\x1b]8;;http://x\x1b\\link\x1b]8;;\x1b\\b") == "alinkb"
    assert strip_invisible("\x9b2Kok") == "ok"
    assert strip_invisible("wo\u200brd\ufe0f\u2066x\u2069") == "wordx"
    assert strip_invisible("plain text 你好") == "plain text 你好"


def test_a_unit_stays_with_a_mandarin_number_only() -> None:
    text = "跑了10km"
    assert unit_spans(text) == {4, 5}
    assert unit_spans("I ran 10km") == set()  # English before the number: English reads it
    assert unit_spans("10km") == {2, 3}  # no language yet: the unit follows its number either way
    assert [s.language for s in frontend("跑了10km。", "zh")] == ["zh"]
    assert [s.language for s in frontend("I ran 10km today.", "auto")] == ["en"]


def test_amounts_say_liang_where_a_careful_speaker_does() -> None:
    assert read_amount("2") == "两"
    assert read_amount("2000") == "两千"
    assert read_amount("20000") == "两万"
    assert read_amount("200") == "二百"
    assert read_amount("22") == "二十二"
    assert read_cardinal("2000") == "二千"  # the plain cardinal is unchanged


def test_affixes_need_a_dictionary_stem() -> None:
    lex = lexicon()
    assert affixed_phones("rewatch", lex) == ("R", "IY0", *lex["watch"])
    assert affixed_phones("unfriended", lex) == ("AH0", "N", *lex["friend"], "IH0", "D")
    assert affixed_phones("blogged", lex) == (*lex["blog"], "D")
    assert affixed_phones("rexqz", lex) is None
    assert affixed_phones("unzz", lex) is None


def test_pinyin_names_need_a_pinyin_marker_and_a_full_parse() -> None:
    assert pinyin_phones("xiaoming") == ("SH", "Y", "AW1", "M", "IH1", "NG")
    assert pinyin_phones("zhiqiang") == ("JH", "ER1", "CH", "Y", "AA1", "NG")
    assert pinyin_phones("banana") is None  # no letter group English lacks
    assert pinyin_phones("quixotic") is None  # not pinyin syllables
