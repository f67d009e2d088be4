"""Golden Mandarin sentences: normalisation and phones worked out by hand from the v2 rules."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.text.chinese import zh_phonemes
from engine.text.chinese.punctuation import PUNCTUATION_SET
from engine.text.chinese.syllables import syllable_phones

GOLDEN = Path(__file__).with_name("golden_zh.tsv")


def _rows() -> list[tuple[str, str, str, str]]:
    rows = []
    for line in GOLDEN.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        category, text, normalized, pinyin = line.split("\t")
        rows.append((category, text.replace("\\n", "\n"), normalized, pinyin))
    return rows


ROWS = _rows()


def _expected_phones(pinyin: str) -> list[str]:
    phones: list[str] = []
    for token in pinyin.split():
        if token in PUNCTUATION_SET:
            phones.append(token)
        else:
            pair = syllable_phones(token)
            assert pair != ("UNK", "UNK"), f"bad syllable {token!r} in the golden file"
            phones.extend(pair)
    return phones


def test_golden_set_is_large_and_covers_every_category() -> None:
    assert len(ROWS) >= 150
    categories = {row[0] for row in ROWS}
    assert {
        "tone3",
        "bu",
        "yi",
        "neutral",
        "polyphone",
        "erhua",
        "number",
        "traditional",
        "punct",
    } <= categories


@pytest.mark.parametrize(
    ("category", "text", "normalized", "pinyin"), ROWS, ids=[f"{r[0]}-{r[1][:12]}" for r in ROWS]
)
def test_golden(category: str, text: str, normalized: str, pinyin: str) -> None:
    got_norm, phones, word2ph = zh_phonemes(text)
    assert got_norm == normalized
    assert phones == _expected_phones(pinyin), f"{text}: expected {pinyin}"
    assert len(word2ph) == len(got_norm)
    assert sum(word2ph) == len(phones)
