"""Issue 13, class "a clear message, never a traceback": odd names and paths, invalid UTF-8 text.

Over-long names get a message; names that are not UTF-8 and paths longer than libsndfile's own limit
(1024 bytes) read fine; bytes that are not UTF-8 in text arguments or on standard input under a strict
UTF-8 locale are refused as "not valid UTF-8 text", while file-name arguments with such bytes work.
"""

from __future__ import annotations

import io
import os
import random
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from hostile_cli import assert_clear, clear, cli, run_cli

from engine.audio.io import UnreadableAudio, printable, probe, read_audio, shown, write_wav
from engine.text.input_text import InvalidText, check_utf8, decode_text, prepare_text

SEED = 1313


def _write(path: Path, samples: np.ndarray, rate: int) -> None:
    """A 16-bit WAV at ``path`` written by Python (soundfile itself cannot open names that are not UTF-8)."""
    buf = io.BytesIO()
    sf.write(buf, samples, rate, subtype="PCM_16", format="WAV")
    path.write_bytes(buf.getvalue())


def _odd_names(rng: random.Random, count: int) -> list[bytes]:
    """File names (bytes) that are valid on Linux but not UTF-8, or hold controls and odd characters."""
    names = [b"\xff\xfe.wav", b"caf\xe9.wav", b"\x1b[31mred.wav", "日本語の声.wav".encode(), b"tab\there.wav"]
    pool = [*range(0x21, 0x2F), *range(0x30, 0x7F), *range(0x80, 0x100)]
    while len(names) < count:
        stem = bytes(rng.choice(pool) for _ in range(8))
        names.append(stem.replace(b"/", b"_") + b".wav")
    return names


def test_non_utf8_and_odd_file_names_read_fine(tmp_path, speech):
    samples, rate = speech
    folder = os.fsencode(tmp_path)
    for raw_name in _odd_names(random.Random(SEED), 12):
        path = Path(os.fsdecode(folder + b"/" + raw_name))
        _write(path, samples, rate)
        audio = read_audio(path)
        assert audio.samples.size == samples.size and audio.samplerate == rate
        assert printable(str(path)).isprintable()  # what messages show: no byte a terminal acts on
        assert "\x1b" not in shown(path)


def test_paths_longer_than_libsndfiles_limit_read_fine(tmp_path, speech):
    deep = tmp_path.joinpath(*(["d" * 200] * 7))  # about 1.4 kB of path: over libsndfile's 1024
    deep.mkdir(parents=True)
    path = deep / "take.wav"
    write_wav(path, speech[0], speech[1])  # written through a file object too
    assert len(os.fsencode(path)) > 1024
    assert probe(path).frames == speech[0].size
    assert read_audio(path).samples.size == speech[0].size


@pytest.mark.parametrize("length", [256, 300, 5000])
def test_over_long_names_are_a_message(tmp_path, length):
    path = tmp_path / ("n" * length + ".wav")
    with pytest.raises(UnreadableAudio, match="too long") as info:
        probe(path)
    assert len(info.value.message) < 200  # the name is cut short in the message


def test_over_long_names_in_check_import_and_say(tmp_path, speech_wav, capsys, monkeypatch):
    home = tmp_path / "studio"
    name = str(tmp_path / ("x" * 300 + ".wav"))
    out = clear(cli(capsys, monkeypatch, "check", name, home=home), "File name too long")
    assert "x" * 100 not in out  # the name is cut short
    clear(cli(capsys, monkeypatch, "import", name, home=home), "File name too long", "Nothing was imported")
    result = cli(capsys, monkeypatch, "say", "--ref", name, "--ref-text", "hello there", "Hello.", home=home)
    clear(result, "File name too long")
    ref = ["--ref", str(speech_wav), "--ref-text", "hello"]
    clear(cli(capsys, monkeypatch, "say", *ref, "-o", name, "Hi.", home=home))


def test_non_utf8_file_name_arguments_keep_working(tmp_path, speech, capsys, monkeypatch):
    raw = os.fsencode(tmp_path) + b"/voz-\xe9\xff.wav"
    _write(Path(os.fsdecode(raw)), speech[0], speech[1])
    result = cli(capsys, monkeypatch, "check", os.fsdecode(raw), home=tmp_path / "studio")
    assert "Speech" in result.out and "Traceback" not in result.out, result.out
    assert "\\xe9\\xff" in result.out  # the name is shown with its bytes escaped


BAD_BYTES = [b"\xff", b"\xc3", b"\xed\xa0\x80", b"\xf8\x88\x80\x80\x80", b"\x80\x80"]


def test_invalid_utf8_argv_and_stdin_under_a_strict_locale(tmp_path):
    """The real thing: bytes in argv and on stdin of a process started with LC_ALL=C.UTF-8, PYTHONUTF8=1."""
    home = tmp_path / "studio"
    assert_clear(run_cli("phonemes", b"hello \xff world", home=home), "not valid UTF-8 text")
    assert_clear(run_cli("phonemes", home=home, stdin=b"hello \xff\xfe world"), "not valid UTF-8 text")


def test_invalid_utf8_text_is_refused_everywhere_text_is_expected(tmp_path, speech_wav, capsys, monkeypatch):
    home = tmp_path / "studio"
    ref = ["--ref", str(speech_wav)]
    for bad in BAD_BYTES:
        argv_text = (b"hello " + bad + b" world").decode("utf-8", "surrogateescape")  # as Python decodes argv
        clear(cli(capsys, monkeypatch, "phonemes", argv_text, home=home), "not valid UTF-8 text")
        result = cli(capsys, monkeypatch, "say", *ref, "--ref-text", "hi", argv_text, home=home)
        clear(result, "not valid UTF-8")
        result = cli(capsys, monkeypatch, "say", *ref, "--ref-text", argv_text, "Hello.", home=home)
        clear(result, "--ref-text is not valid UTF-8 text")
        result = cli(capsys, monkeypatch, "say", *ref, "--ref-text", "hello", home=home, stdin=b"ab " + bad)
        clear(result, "Standard input is not valid UTF-8 text")
        with pytest.raises(InvalidText):
            decode_text(b"ok " + bad + b" ok")
        with pytest.raises(InvalidText):
            check_utf8("ok " + (b"ok" + bad).decode("utf-8", "surrogateescape"))
    assert prepare_text("fine text") == "fine text"


def test_check_of_many_odd_targets_never_tracebacks(tmp_path, capsys, monkeypatch):
    """Folders, empty files, junk, links that loop, names with controls: each gets its own message."""
    home = tmp_path / "studio"
    rng = np.random.default_rng(SEED)
    (tmp_path / "empty.wav").write_bytes(b"")
    (tmp_path / "junk.wav").write_bytes(rng.integers(0, 256, 4000, dtype=np.uint8).tobytes())
    (tmp_path / "folder.wav").mkdir()
    os.symlink(tmp_path / "loop.wav", tmp_path / "loop.wav")
    (tmp_path / "\x1b]0;pwned\x07.wav").write_bytes(b"RIFF")
    for target in ["empty.wav", "junk.wav", "folder.wav", "loop.wav", "\x1b]0;pwned\x07.wav"]:
        out = clear(cli(capsys, monkeypatch, "check", str(tmp_path / target), home=home))
        assert "\x1b" not in out and "\x07" not in out, out
