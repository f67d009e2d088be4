"""The built-in recording scripts cover the inventories the models use, measured with OUR frontend.

tests/audio/test_prompts.py checks the scripts with pypinyin and the CMU dictionary directly; these
tests check what the v2 models will actually see: the phones our frontend makes (zero-initial
stand-ins AA/EE/OO, the y-finals E/En, ir/i0, English after normalisation and homograph choice).
"""

from __future__ import annotations

import pytest

from engine.prompts import builtin_script
from engine.text.coverage import EN_PHONEMES, ZH_FINALS, ZH_INITIALS, ZH_TONES, phoneme_coverage


@pytest.fixture(scope="module")
def zh_report():
    return phoneme_coverage(builtin_script("zh"), "zh")


@pytest.fixture(scope="module")
def en_report():
    return phoneme_coverage(builtin_script("en"), "en")


@pytest.mark.parametrize(("part", "inventory"), [("initials", ZH_INITIALS), ("finals", ZH_FINALS)])
def test_mandarin_script_covers_every_initial_and_final(zh_report, part, inventory):
    coverage = zh_report.part(part)
    assert coverage.inventory == inventory
    assert coverage.missing == [], f"the Mandarin script never says {coverage.missing}"


def test_mandarin_script_covers_every_tone(zh_report):
    assert zh_report.part("tones").missing == []
    assert set(zh_report.part("tones").present) == set(ZH_TONES)
    assert zh_report.texts == len(builtin_script("zh"))


def test_english_script_covers_every_arpabet_phoneme(en_report):
    coverage = en_report.part("phonemes")
    assert coverage.inventory == EN_PHONEMES and len(EN_PHONEMES) == 39
    assert coverage.missing == [], f"the English script never says {coverage.missing}"
    assert en_report.texts == len(builtin_script("en"))


def test_a_script_missing_sounds_is_reported():
    # the check can fail: one short sentence misses most of each inventory
    zh = phoneme_coverage(["你好。"], "zh")
    assert "OO" in zh.part("initials").missing and "En" in zh.part("finals").missing
    en = phoneme_coverage(["Hello there."], "en")
    assert "ZH" in en.part("phonemes").missing and "OY" in en.part("phonemes").missing
