"""Sentence splitting for synthesis: the cut methods and the clean-up around them."""

from __future__ import annotations

import pytest

from engine.errors import TextError
from engine.text.split import (
    MAX_CHARS,
    SPLIT_MARKS,
    force_split,
    merge_short,
    method_names,
    sentences,
    split_text,
)

ZH = "今天天气很好。我们去公园吧！你觉得怎么样？好。"
EN = "Hello there, how are you? I am fine, thanks. It costs 3.5 dollars"


def test_sentences_keep_their_marks_and_get_a_final_one():
    assert sentences("你好，世界") == ["你好，", "世界。"]
    assert sentences("a……b——c") == ["a。", "b，", "c。"]


def test_none_keeps_the_text_whole():
    assert split_text(EN, "none", "en") == [EN + "."]


def test_punctuation_cuts_at_every_mark_but_not_decimal_points():
    pieces = split_text(EN, "punctuation", "en")
    assert pieces == ["Hello there,", "how are you?", "I am fine,", "thanks.", "It costs 3.5 dollars."]


def test_zh_period_cut():
    assert split_text(ZH, "cut3") == ["今天天气很好。", "我们去公园吧！你觉得怎么样？好。"]


def test_en_period_cut_skips_decimals():
    assert split_text("One fish. Two is 2.5 now. Three", "en_period", "en") == [
        "One fish.",
        "Two is 2.5 now.",
        "Three.",
    ]


def test_every_four_clauses():
    text = "第一句话，第二句话，第三句话，第四句话，第五句话，第六句话。"
    assert split_text(text, "four") == ["第一句话，第二句话，第三句话，第四句话，", "第五句话，第六句话。"]


def test_fifty_character_chunks():
    clause = "这是一个有十个字的句子。"  # 12 characters
    pieces = split_text(clause * 12, "fifty")
    assert len(pieces) >= 2
    assert all(len(p) > 50 for p in pieces)
    assert "".join(pieces) == clause * 12


def test_short_pieces_merge():
    assert merge_short(["好。", "是。", "我们走吧。"]) == ["好。是。我们走吧。"]
    assert merge_short(["Hello there,", "ok."]) == ["Hello there,ok."]
    assert merge_short(["ab"]) == ["ab"]


def test_final_punctuation_is_added_per_language():
    assert split_text("你好世界啊", "none") == ["你好世界啊。"]
    assert split_text("hello world", "none", "en") == ["hello world."]


def test_short_opening_gets_a_leading_stop():
    assert split_text("Hi", "none", "en") == [".Hi."]
    assert split_text("你好", "none") == ["。你好。"]


def test_pure_punctuation_is_dropped():
    assert split_text("……！！", "punctuation") == []
    assert split_text("  \n ", "none") == []


def test_over_long_pieces_are_force_split():
    text = "a" * 1200
    pieces = split_text(text, "none", "en")
    assert all(len(p) <= MAX_CHARS for p in pieces)
    assert "".join(pieces).rstrip(".") == text
    marked = ("word " * 30 + ", ") * 10
    assert all(len(p) <= MAX_CHARS for p in force_split(marked))


def test_every_method_accepts_every_name():
    for name in method_names():
        pieces = split_text(ZH + EN, name)
        assert pieces and all(p[-1] in SPLIT_MARKS for p in pieces)


def test_unknown_method():
    with pytest.raises(TextError):
        split_text("hello", "cut9")


@pytest.mark.parametrize("method", ["four", "fifty", "en_period", "punctuation"])
def test_numbers_are_never_cut_at_their_marks(method):
    text = "Hello there friend. It costs 3.5 dollars, or 1,000 yen, at 3:30 today. See you soon."
    pieces = split_text(text, method, "en")
    joined = " ".join(pieces)
    for number in ("3.5", "1,000", "3:30"):
        assert any(number in p for p in pieces), (number, pieces)
    assert "See you soon." in joined


def test_en_period_keeps_full_stops_when_merging_short_sentences():
    assert split_text("It costs 3.5 dollars. OK.", "en_period", "en") == ["It costs 3.5 dollars. OK."]
