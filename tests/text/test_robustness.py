"""Hostile and odd input: every case gives a clear result or a clear TextError, never a crash or a hang."""

from __future__ import annotations

import random
import time

import pytest

from engine.errors import TextError
from engine.text.frontend import frontend
from engine.text.symbols import symbol_to_id, symbols

MODES = ("zh", "en", "auto")


def _check(segments) -> None:
    table = symbol_to_id()
    for segment in segments:
        assert segment.phones, "empty segments are dropped"
        assert all(p in table for p in segment.phones)
        assert segment.ids == [table[p] for p in segment.phones]
        assert all(0 <= i < len(symbols()) for i in segment.ids)
        if segment.language == "zh":
            assert len(segment.word2ph) == len(segment.normalized_text)
            assert sum(segment.word2ph) == len(segment.phones)
        else:
            assert segment.word2ph is None


def _run(text: str, mode: str):
    try:
        segments = frontend(text, mode)
    except TextError as exc:
        assert exc.message and exc.hint
        return None
    _check(segments)
    return segments


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("text", ["", " ", "\n\t  \r\n", "\u3000\u3000"])
def test_empty_and_whitespace_give_no_segments(text, mode):
    assert frontend(text, mode) == []


@pytest.mark.parametrize("mode", MODES)
def test_emoji_only_gives_no_segments(mode):
    assert frontend("🙂🎉👍🏽❤️", mode) == []


@pytest.mark.parametrize("mode", MODES)
def test_emoji_inside_text_is_ignored(mode):
    with_emoji = frontend("Hello 🙂 world 🎉!", mode)
    without = frontend("Hello world!", mode)
    assert [s.phones for s in with_emoji] == [s.phones for s in without]


@pytest.mark.parametrize("mode", MODES)
def test_control_and_zero_width_characters(mode):
    noisy = frontend("Hel\u200blo\x00 wor\u200dld\x1b\x07!\ufeff", mode)
    assert [p for s in noisy for p in s.phones] == [
        p for s in frontend("Hello world!", mode) for p in s.phones
    ]


def test_zero_width_inside_mandarin():
    plain = frontend("你好世界", "zh")
    noisy = frontend("你\u200b好\u200d世\ufeff界", "zh")
    assert [s.phones for s in noisy] == [s.phones for s in plain]


@pytest.mark.parametrize("text", ["こんにちは", "안녕하세요", "مرحبا بالعالم", "Привет"])
def test_other_scripts_in_zh_mode_are_dropped(text):
    assert frontend(text, "zh") == []
    mixed = frontend(f"{text}你好世界", "zh")
    assert [s.language for s in mixed] == ["zh"]
    assert "你好世界" in mixed[0].normalized_text


@pytest.mark.parametrize("text", ["こんにちは世界", "안녕하세요", "مرحبا"])
def test_other_scripts_in_auto_mode_are_a_clear_error(text):
    with pytest.raises(TextError) as info:
        frontend(text, "auto")
    assert "cannot speak" in info.value.message


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("text", ['He said "hello', "It's 'odd", "「你好", "（未闭合", '"""', "'''"])
def test_unbalanced_quotes(text, mode):
    _run(text, mode)


@pytest.mark.parametrize("mode", MODES)
def test_urls_and_email(mode):
    segments = _run("Visit https://example.com/a?b=1&c=2 or mail me@test.org, 请访问www.baidu.com", mode)
    english = " ".join(s.normalized_text for s in segments if s.language == "en")
    assert "example dot com" in english
    assert "me at test dot org" in english


@pytest.mark.timeout(180)
def test_a_100000_character_mixed_text_finishes():
    base = "今天是2024年3月15日，我们去Starbucks喝coffee吧！The price was $3.50 at 7:30 pm. "
    text = (base * (100_000 // len(base) + 1))[:100_000]
    start = time.perf_counter()
    segments = frontend(text, "zh")
    elapsed = time.perf_counter() - start
    _check(segments)
    phones = sum(len(s.phones) for s in segments)
    assert phones > 100_000
    print(f"100,000-character mixed text: {elapsed:.2f} s, {phones} phones")


@pytest.mark.timeout(180)
@pytest.mark.parametrize("text", ["a." * 50_000, "x" * 100_000, "a@" * 50_000, "中" * 100_000])
def test_100000_characters_without_spaces_finish(text):
    _check(frontend(text, "zh"))


def test_over_the_size_limit_is_a_clear_error():
    with pytest.raises(TextError, match="too long"):
        frontend("a " * 600_000, "en")


def test_random_unicode_never_crashes():
    rng = random.Random(1234)
    pools = [
        "abcXYZ 012,.!?-'\"",
        "你好世界中文测试，。！？",
        "\u200b\u200d\ufeff\x00\x1b\t\n",
        "🙂🎉€$£¥%&@#°/()[]{}<>|\\^_`~",
        "こんにちは안녕مرحباПривет",
        "１２３ＡＢＣ：；“”‘’…—–",
    ]
    alphabet = "".join(pools)
    for _ in range(150):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 60)))
        for mode in MODES:
            _run(text, mode)
