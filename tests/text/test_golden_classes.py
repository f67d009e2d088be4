"""Issue 15's golden sentences by error class: each is read exactly as worked out by hand."""

from __future__ import annotations

import pytest
from golden_classes import (  # tests/text is on sys.path for its tests
    EN_FILE,
    ZH_FILE,
    en_expected,
    en_result,
    rows,
    zh_expected,
    zh_result,
)

ZH_ROWS = rows(ZH_FILE)
EN_ROWS = rows(EN_FILE)
ZH_CLASSES = {"unit", "yi_number", "liang_er", "numbers", "polyphone", "neutral_list", "neutral_wide",
              "verb_tone", "invisible", "date_invalid"}  # fmt: skip
EN_CLASSES = {"homograph", "collocation", "affix", "camelcase", "names", "date_invalid", "invisible"}


def test_sets_are_large_and_cover_every_class() -> None:
    assert len(ZH_ROWS) + len(EN_ROWS) >= 150
    assert {r[0].lstrip("~") for r in ZH_ROWS} == ZH_CLASSES
    assert {r[0] for r in EN_ROWS} == EN_CLASSES
    assert sum(r[0].startswith("~") for r in ZH_ROWS + EN_ROWS) <= len(ZH_ROWS + EN_ROWS) // 20


@pytest.mark.parametrize(
    ("cls", "text", "normalized", "spec"),
    [r for r in ZH_ROWS if not r[0].startswith("~")],
    ids=lambda v: v[:16] if isinstance(v, str) else None,
)
def test_zh_class_sentence(cls: str, text: str, normalized: str, spec: str) -> None:
    assert zh_result(text) == (normalized, zh_expected(spec)), f"{cls}: {text}"


@pytest.mark.parametrize(
    ("cls", "text", "normalized", "spec"), EN_ROWS, ids=lambda v: v[:24] if isinstance(v, str) else None
)
def test_en_class_sentence(cls: str, text: str, normalized: str, spec: str) -> None:
    assert en_result(text) == (normalized, en_expected(spec)), f"{cls}: {text}"
