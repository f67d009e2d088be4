"""The English golden set: normalisation and phones for sentences worked out by hand from the rules."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.text.english import en_phonemes, normalize_en
from engine.text.symbols import phones_to_ids

GOLDEN = Path(__file__).with_name("golden_en.tsv")


def _rows() -> list[tuple[str, str, list[str]]]:
    rows = []
    for line in GOLDEN.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        text, normalized, phones = line.split("\t")
        rows.append((text, normalized, phones.split()))
    return rows


ROWS = _rows()


def test_golden_set_is_large_enough():
    assert len(ROWS) >= 100


@pytest.mark.parametrize(("text", "normalized", "phones"), ROWS, ids=[r[0][:40] for r in ROWS])
def test_golden_sentence(text, normalized, phones):
    assert normalize_en(text) == normalized
    got_normalized, got = en_phonemes(text)
    assert got_normalized == normalized
    assert got == phones
    assert len(phones_to_ids(got)) == len(got)
