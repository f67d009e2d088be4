"""Splitting mixed Mandarin/English text into runs, and the mixed frontend with the real Mandarin module."""

from __future__ import annotations

import pytest

from engine.errors import TextError
from engine.text.frontend import frontend
from engine.text.mixed import Run, clean_input, script_of, split_runs
from engine.text.symbols import phones_to_ids


def test_script_classes():
    assert script_of("a") == "latin"
    assert script_of("é") == "latin"
    assert script_of("Ａ") == "latin"
    assert script_of("中") == "han"
    assert script_of("の") == "kana"
    assert script_of("한") == "hangul"
    assert script_of("ب") == "arabic"
    assert script_of("3") is None
    assert script_of("，") is None


def test_digits_join_the_run_they_touch():
    assert split_runs("我有3个apple", "zh") == [Run("zh", "我有3个"), Run("en", "apple")]
    assert split_runs("iPhone 15 很好", "zh") == [Run("en", "iPhone 15"), Run("zh", "很好")]
    assert split_runs("apple 3个", "zh") == [Run("en", "apple"), Run("zh", "3个")]


def test_punctuation_stays_with_the_run_before():
    assert split_runs("Hello，你好, world!", "auto") == [
        Run("en", "Hello，"),
        Run("zh", "你好,"),
        Run("en", "world!"),
    ]


def test_neutral_only_text_takes_the_mode_language():
    assert split_runs("123", "zh") == [Run("zh", "123")]
    assert split_runs("123", "auto") == [Run("en", "123")]
    assert split_runs("123", "en") == [Run("en", "123")]


def test_en_mode_is_one_english_run():
    assert split_runs("hello 世界", "en") == [Run("en", "hello 世界")]


def test_zh_mode_folds_other_scripts_into_mandarin():
    assert split_runs("こんにちは世界 hello", "zh") == [Run("zh", "こんにちは世界"), Run("en", "hello")]


def test_auto_mode_refuses_scripts_it_cannot_speak():
    with pytest.raises(TextError, match="kana"):
        split_runs("こんにちは", "auto")
    with pytest.raises(TextError, match="hangul"):
        split_runs("안녕 hello", "auto")


def test_unknown_mode_is_a_text_error():
    with pytest.raises(TextError):
        split_runs("hi", "fr")


def test_clean_input_drops_invisible_characters():
    assert clean_input("a\u200bb\u200dc\ufeff") == "abc"
    assert clean_input("a\x00b\tc") == "a b c"


def test_mixed_frontend_with_real_mandarin():
    segments = frontend("我有3个apple和两个bananas。", "zh")
    assert [s.language for s in segments] == ["zh", "en", "zh", "en"]
    zh = segments[0]
    assert zh.normalized_text == "我有三个"
    assert zh.word2ph is not None and len(zh.word2ph) == len(zh.normalized_text)
    assert sum(zh.word2ph) == len(zh.phones)
    assert segments[1].phones == ["AE1", "P", "AH0", "L"]
    assert segments[1].word2ph is None
    assert segments[3].phones[-1] == "."
    for s in segments:
        assert s.ids == phones_to_ids(s.phones)


def test_auto_mode_mixed_sentence():
    segments = frontend("今天我们去Starbucks喝coffee吧！", "auto")
    assert [s.language for s in segments] == ["zh", "en", "zh", "en", "zh"]
    assert segments[1].phones == ["S", "T", "AA1", "R", "B", "AH2", "K", "S"]
    for s in segments:
        if s.language == "zh":
            assert len(s.word2ph) == len(s.normalized_text)
            assert sum(s.word2ph) == len(s.phones)


def test_digits_inside_mandarin_are_read_in_mandarin():
    (segment,) = frontend("我有25本书", "zh")
    assert "二十五" in segment.normalized_text


def test_a_degree_sign_keeps_its_letter_in_the_mandarin_run():
    from engine.text.frontend import frontend

    segments = frontend("温度是25°C，湿度60%。", "auto")
    assert [s.language for s in segments] == ["zh"]
    assert segments[0].normalized_text == "温度是二十五度,湿度百分之六十."
    (english,) = frontend("It is 30℃ and 77 °F.", "auto")
    assert english.normalized_text == "It is thirty degrees celsius and seventy-seven degrees fahrenheit."
