"""The frontend entry point, the ``timbre phonemes`` command and phoneme coverage."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from engine.errors import TextError
from engine.text.coverage import (
    EN_PHONEMES,
    ZH_FINALS,
    ZH_INITIALS,
    coverage_of_phones,
    phoneme_coverage,
    zh_toned_finals,
)
from engine.text.frontend import MIN_PHONES, Segment, all_ids, all_phones, frontend
from engine.text.symbols import phones_to_ids, symbols


def test_segment_fields_and_ids():
    (segment,) = frontend("Good morning, everyone.", "en")
    assert isinstance(segment, Segment)
    assert segment.language == "en"
    assert segment.normalized_text == "Good morning, everyone."
    assert segment.ids == phones_to_ids(segment.phones)
    assert segment.word2ph is None
    assert all(0 <= i < len(symbols()) for i in segment.ids)


def test_all_phones_and_ids_concatenate_segments():
    segments = frontend("你好hello", "zh")
    assert all_phones(segments) == [p for s in segments for p in s.phones]
    assert all_ids(segments) == phones_to_ids(all_phones(segments))


def test_short_text_is_redone_with_a_leading_stop():
    segments = frontend("Hi", "en")
    assert sum(len(s.phones) for s in segments) >= 3
    assert segments[0].normalized_text.startswith(".")
    long_enough = frontend("Hello there", "en")
    assert not long_enough[0].normalized_text.startswith(".")
    assert len(long_enough[0].phones) >= MIN_PHONES


def test_bad_arguments_are_text_errors():
    with pytest.raises(TextError):
        frontend("hello", "ja")
    with pytest.raises(TextError):
        frontend(None, "en")  # type: ignore[arg-type]


def test_importing_the_frontend_touches_no_network_and_no_torch():
    code = textwrap.dedent(
        """
        import socket, sys
        def refuse(*args, **kwargs):
            raise RuntimeError("network used")
        socket.socket = refuse
        socket.create_connection = refuse
        socket.getaddrinfo = refuse
        import engine.text.frontend as f
        assert "torch" not in sys.modules, "torch imported by the frontend"
        segments = f.frontend("Hello world, 我们走吧。", "zh")
        assert segments, "no segments"
        heavy = [m for m in ("torch", "transformers", "nltk", "g2p_en", "textual") if m in sys.modules]
        assert not heavy, heavy
        print("ok")
        """
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip().endswith("ok")


def test_phonemes_command_prints_segments(capsys):
    from tui.cli import main

    assert main(["phonemes", "I paid $5 for 2 coffees.", "--language", "en"]) == 0
    out = capsys.readouterr().out
    assert "five dollars" in out
    assert "D AA1 L ER0 Z" in out
    assert "ids:" in out


def test_phonemes_command_split_and_coverage(capsys):
    from tui.cli import main

    assert (
        main(
            [
                "phonemes",
                "你好，世界。Hello there, friend.",
                "--language",
                "zh",
                "--split",
                "cut5",
                "--coverage",
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert "[1]" in out and "[2]" in out
    assert "word2ph:" in out
    assert "initials:" in out and "phonemes:" in out


def test_phonemes_command_empty_text_is_a_clear_error(capsys):
    from tui.cli import main

    assert main(["phonemes", "   "]) == 2
    assert "empty" in capsys.readouterr().err


@pytest.mark.parametrize("text", ["😀😀", "!!!???", "…"])
def test_phonemes_command_symbols_alone_are_not_called_empty(capsys, text):
    from tui.cli import main

    assert main(["phonemes", text]) == 2
    err = capsys.readouterr().err
    assert "Nothing in the text can be pronounced" in err and "empty" not in err


def test_phonemes_command_reports_pause_signs_and_prices(capsys):
    from tui.cli import main

    assert main(["phonemes", "原价￥299^现价￥199", "--language", "zh"]) == 0
    out = capsys.readouterr().out
    assert "原价二百九十九元,现价一百九十九元" in out and "SP3" in out and "SP2" not in out


def test_phonemes_command_says_when_english_mode_skips_chinese(capsys):
    from tui.cli import main

    assert main(["phonemes", "你好 world", "--language", "en"]) == 0
    captured = capsys.readouterr()
    assert "skips Chinese" in captured.err and "W ER1 L D" in captured.out
    assert main(["phonemes", "hello world", "--language", "en"]) == 0
    assert "skips" not in capsys.readouterr().err


def test_coverage_inventories_match_the_table():
    table = set(symbols())
    assert len(zh_toned_finals()) == 195
    assert set(ZH_INITIALS) <= table
    assert len(ZH_INITIALS) == 26 and len(ZH_FINALS) == 39
    assert len(EN_PHONEMES) == 39


def test_english_coverage_counts_present_and_missing():
    report = coverage_of_phones([["DH", "AH0", "K", "AE1", "T"], ["ZH", "IY1"]], "en")
    phonemes = report.part("phonemes")
    assert set(phonemes.present) == {"DH", "AH", "K", "AE", "T", "ZH", "IY"}
    assert "OY" in phonemes.missing
    assert phonemes.ratio == pytest.approx(7 / 39)
    assert report.phones == 7


def test_mandarin_coverage_of_a_text_set():
    report = phoneme_coverage(["你好世界。", "我们一起去吃饭吧！"], "zh")
    assert "n" in report.part("initials").present
    assert "zh" in report.part("initials").missing
    tones = report.part("tones")
    assert "3" in tones.present
    assert report.part("toned finals").ratio < 1
    assert "zh:" in report.summary()


def test_coverage_refuses_other_languages():
    with pytest.raises(TextError):
        coverage_of_phones([], "ja")


def test_mandarin_pause_signs_become_pause_symbols():
    (segment,) = frontend("你好^世界，再见。", "zh")
    assert segment.phones.count("SP3") == 2  # the sign and, as in the reference, every comma
    assert "," not in segment.phones
    (segment,) = frontend("你好￥世界。", "zh")
    assert "SP2" in segment.phones
    assert len(segment.word2ph) == len(segment.normalized_text)


def test_a_yuan_sign_before_a_number_is_a_price_not_a_pause():
    from engine.text.chinese import normalize_zh

    (segment,) = frontend("原价￥299，现在￥199。", "zh")
    assert segment.normalized_text == "原价二百九十九元,现在一百九十九元."
    assert "SP2" not in segment.phones and "," in segment.phones
    # normalize_zh alone agrees with the frontend: a pause sign reads as a comma, a price as money
    assert normalize_zh("你好^世界￥再见") == "你好,世界,再见"
    assert normalize_zh("原价￥299") == "原价二百九十九元"
    (segment,) = frontend("你好^世界，原价￥9。", "zh")
    assert segment.phones.count("SP3") == 2 and "SP2" not in segment.phones


def test_long_mandarin_runs_are_processed_in_pieces_that_line_up():
    from engine.text.chinese import zh_chunks

    text = "我们今天去公园散步，" * 60
    chunks = zh_chunks(text)
    assert "".join(chunks) == text
    assert all(len(c) <= 200 for c in chunks)
    (segment,) = frontend(text, "zh")
    assert len(segment.word2ph) == len(segment.normalized_text)
    assert sum(segment.word2ph) == len(segment.phones)
    numbers = "价格是3.5元，" + "很好" * 97 + "共1,000元和2.25元。"
    assert all(not c.endswith(("3.", "1,", "2.")) for c in zh_chunks(numbers, 100))
    assert "".join(zh_chunks(numbers, 100)) == numbers
