"""The per-class golden sets of issue 15: loading, expected phones, and the exact-sentence rate.

Run ``python tests/text/golden_classes.py`` for the per-class table (sentences right / total).
"""

from __future__ import annotations

import re
import sys
from collections import defaultdict
from functools import cache
from pathlib import Path

HERE = Path(__file__).resolve().parent
ZH_FILE = HERE / "golden_zh_classes.tsv"
EN_FILE = HERE / "golden_en_classes.tsv"
_ESCAPE = re.compile(r"\\x([0-9a-fA-F]{2})|\\u([0-9a-fA-F]{4})")
_PHONE = re.compile(r"[A-Z]+[0-2]?")
_PUNCT = set(".,?!-…")


def _unescape(text: str) -> str:
    return _ESCAPE.sub(lambda m: chr(int(m.group(1) or m.group(2), 16)), text)


def rows(path: Path) -> list[tuple[str, str, str, str]]:
    """(class, input text, expected normalised text, expected phone spec) for each sentence."""
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        cls, text, normalized, spec = line.split("\t")
        out.append((cls, _unescape(text), normalized, spec))  # "~class": known to be read wrong yet
    return out


@cache
def _cmu_entries() -> dict[str, tuple[str, ...]]:
    from engine.text.english.lexicon import dictionary_path

    entries: dict[str, tuple[str, ...]] = {}
    for line in dictionary_path().read_text(encoding="utf-8").splitlines():
        body = line.split("#", 1)[0].split()
        if len(body) >= 2:
            entries[body[0]] = tuple(body[1:])
    return entries


def en_expected(spec: str) -> list[str]:
    """Phones of an English spec: words by their CMU entry, upper-case tokens as phones."""
    phones: list[str] = []
    for token in spec.split():
        if token in _PUNCT or _PHONE.fullmatch(token):
            phones.append(token)
        else:
            entry = _cmu_entries().get(token)
            if entry is None:
                raise ValueError(f"{token!r} is not in the CMU dictionary")
            phones.extend(entry)
    return phones


def zh_expected(spec: str) -> list[str]:
    """Phones of a Mandarin spec: toned pinyin syllables, punctuation, upper-case ARPAbet."""
    from engine.text.chinese.syllables import syllable_phones

    phones: list[str] = []
    for token in spec.split():
        if token in _PUNCT or _PHONE.fullmatch(token):
            phones.append(token)
        else:
            pair = syllable_phones(token)
            if pair == ("UNK", "UNK"):
                raise ValueError(f"bad syllable {token!r}")
            phones.extend(pair)
    return phones


def zh_result(text: str) -> tuple[str, list[str]]:
    """What the frontend makes of a Mandarin-mode sentence: normalised texts joined by "|", phones."""
    from engine.text.frontend import frontend

    segments = frontend(text, "zh")
    return "|".join(s.normalized_text for s in segments), [p for s in segments for p in s.phones]


def en_result(text: str) -> tuple[str, list[str]]:
    """What the English frontend makes of a sentence: normalised text, phones."""
    from engine.text.english import en_phonemes

    normalized, phones = en_phonemes(text)
    return normalized, phones


def rates() -> dict[tuple[str, str], tuple[int, int]]:
    """(language, class) -> (sentences exactly right, sentences)."""
    table: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
    for lang, path, result, expected in (
        ("zh", ZH_FILE, zh_result, zh_expected),
        ("en", EN_FILE, en_result, en_expected),
    ):
        for cls, text, normalized, spec in rows(path):
            got = result(text)
            cell = table[(lang, cls.lstrip("~"))]
            cell[1] += 1
            cell[0] += got == (normalized, expected(spec))
    return {key: (a, b) for key, (a, b) in table.items()}


def main() -> None:
    """Print the per-class exact-sentence rates (and the failures with -v)."""
    verbose = "-v" in sys.argv
    if verbose:
        for path, result, expected in ((ZH_FILE, zh_result, zh_expected), (EN_FILE, en_result, en_expected)):
            for cls, text, normalized, spec in rows(path):
                got = result(text)
                if got != (normalized, expected(spec)):
                    print(
                        f"FAIL {cls}: {text!r}\n  want {normalized} | {spec}\n"
                        f"  got  {got[0]} | {' '.join(got[1])}"
                    )
    total = [0, 0]
    for (lang, cls), (right, n) in sorted(rates().items()):
        total[0] += right
        total[1] += n
        print(f"{lang} {cls:<14} {right:>3}/{n:<3} {100 * right / n:5.1f}%")
    print(f"all {'':<14} {total[0]:>3}/{total[1]:<3} {100 * total[0] / total[1]:5.1f}%")


if __name__ == "__main__":
    sys.path.insert(0, str(HERE.parent.parent))
    main()
