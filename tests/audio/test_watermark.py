"""The watermark (issue 14): embed/detect, silence kept, streaming chunks, WAV metadata, `timbre detect`."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from engine.audio import watermark as wm

RATE = wm.RATE


def _need(tool: str) -> None:
    if shutil.which(tool) is None:
        if os.environ.get("CI"):
            pytest.fail(f"{tool} is not installed (the CI script must install it)")
        pytest.skip(f"{tool} is not installed")


@pytest.fixture(scope="module")
def speech(tmp_path_factory) -> np.ndarray:
    """About 4 s of espeak-ng speech at 32 kHz."""
    _need("espeak-ng")
    from engine.audio.io import read_audio

    out = tmp_path_factory.mktemp("wm") / "s.wav"
    text = "The quick brown fox jumps over the lazy dog, and then it runs far away."
    subprocess.run(["espeak-ng", "-v", "en-us", "-w", str(out), text], check=True, timeout=30)
    return read_audio(out, samplerate=RATE).samples


@pytest.fixture(scope="module")
def marked(speech) -> np.ndarray:
    return wm.embed(speech, RATE)


def test_embed_keeps_length_and_detect_tells_marked_from_unmarked(speech, marked):
    assert marked.shape == speech.shape and marked.dtype == np.float32
    assert not np.array_equal(marked, speech)
    present, confidence = wm.detect(marked, RATE)
    assert present and confidence > 0.9
    present, confidence = wm.detect(speech, RATE)
    assert not present and confidence > 0.9
    assert wm.score(marked, RATE) > 0.9 > 0.1 > wm.score(speech, RATE)


def test_embedding_is_deterministic_and_quiet(speech, marked):
    assert np.array_equal(wm.embed(speech, RATE), marked)
    energy = wm.energy_db(speech, marked)
    assert -30.0 < energy < -10.0, energy  # measured -16 dB on espeak-ng speech (README)


def test_other_rates_are_marked_at_their_own_rate(speech):
    from engine.audio.io import resample

    at_24k = resample(speech, RATE, 24000)
    out = wm.embed(at_24k, 24000)
    assert out.shape == at_24k.shape
    assert wm.detect(out, 24000)[0] and not wm.detect(at_24k, 24000)[0]


def test_digital_silence_stays_silent_and_empty_input_is_fine(speech):
    clip = np.concatenate([np.zeros(RATE // 2, np.float32), speech, np.zeros(RATE // 2, np.float32)])
    out = wm.embed(clip, RATE)
    assert not out[: RATE // 2].any() and not out[-RATE // 2 :].any()
    assert wm.embed(np.zeros(0, np.float32), RATE).size == 0
    assert not wm.embed(np.zeros(RATE, np.float32), RATE).any()
    assert wm.detect(np.zeros(RATE, np.float32), RATE)[0] is False


def test_stream_embedder_marks_chunks_of_any_size_with_the_same_length(speech):
    embedder = wm.StreamEmbedder(RATE)
    sizes = [5000, 12800, 300, 20480, speech.size]
    out, start = [], 0
    for size in sizes:
        part = speech[start : start + size]
        start += part.size
        got = embedder.mark(part)
        assert got.shape == part.shape
        out.append(got)
        if start >= speech.size:
            break
    joined = np.concatenate(out)
    assert joined.size == speech.size
    assert wm.detect(joined, RATE)[0]
    assert wm.energy_db(speech, joined) < -10.0  # seams add no loud artefacts


def test_wav_info_metadata_roundtrip(tmp_path, marked):
    path = tmp_path / "out.wav"
    wm.write_synthetic_wav(path, marked, RATE)
    info = wm.read_wav_info(path)
    assert "synthetic" in info["ICMT"].lower() and "Timbre" in info["ISFT"]
    data, rate = sf.read(path, dtype="float32")
    assert rate == RATE and data.shape == marked.shape  # still an ordinary WAV for every reader
    wm.tag_wav(path, comment="again")
    assert wm.read_wav_info(path)["ICMT"] == "again"  # replaced, not duplicated
    assert path.read_bytes().count(b"INFO") == 1


def test_cli_detect_reads_wav_flac_mp3_ogg(tmp_path, speech, marked, capsys):
    _need("sox")
    from tui.cli import main

    files = []
    for name, audio in (("marked", marked), ("plain", speech)):
        wav = tmp_path / f"{name}.wav"
        sf.write(wav, audio, RATE)
        files.append(wav)
        for ext in ("flac", "mp3", "ogg"):
            out = tmp_path / f"{name}.{ext}"
            subprocess.run(["sox", str(wav), str(out)], check=True, timeout=60)
            files.append(out)
    assert main(["detect", *map(str, files)]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 8
    for line in lines[:4]:
        assert "watermark present" in line, line
    for line in lines[4:]:
        assert "no watermark" in line, line


def test_cli_detect_reports_metadata_and_unreadable_files(tmp_path, marked, capsys):
    from tui.cli import main

    tagged = tmp_path / "said.wav"
    wm.write_synthetic_wav(tagged, marked, RATE)
    bad = tmp_path / "bad.wav"
    bad.write_bytes(b"not audio at all")
    assert main(["detect", str(tagged), str(bad)]) == 1
    out = capsys.readouterr().out
    assert "made by Timbre" in out and "could not read" in out


def test_the_package_import_is_not_needed(monkeypatch):
    """Only PerTh's model modules are used: its package __init__ (librosa, torchaudio) never runs."""
    import sys

    wm.model()
    assert "perth" not in sys.modules and "torchaudio" not in sys.modules


def test_usage_log_keeps_no_text(tmp_path, studio_home, capsys):
    import json

    from engine.usage_log import read_uses, record_use, text_hash
    from tui.cli import main

    folder = studio_home / "voices" / "ana"
    folder.mkdir(parents=True)
    (folder / "voice.json").write_text(
        json.dumps({"name": "ana", "reference": {"wav": "reference.wav", "text": "hi"}, "language": "en"}),
        encoding="utf-8",
    )
    secret = "My secret sentence, 秘密."
    record_use(folder, secret, tmp_path / "out.wav")
    record_use(folder, "Another one.", None)
    assert record_use(None, "zero-shot", None) is None
    raw = (folder / "usage.jsonl").read_text(encoding="utf-8")
    assert secret not in raw and "秘密" not in raw
    uses = read_uses(folder)
    assert [u.chars for u in uses] == [len(secret), 12] and uses[0].sha256 == text_hash(secret)
    assert uses[0].output == str(tmp_path / "out.wav") and uses[1].output == "played"
    assert main(["voices", "log", "ana"]) == 0
    out = capsys.readouterr().out
    assert "2 uses" in out and "played" in out and text_hash(secret)[:16] in out and secret not in out


def test_heavy_modules_are_imported_lazily():
    """The TUI start-up path: importing the CLI command modules pulls no torch."""
    code = "import sys, tui.commands.detect, tui.commands.consent, tui.commands.usage, engine.consent, " \
        "engine.usage_log; print('torch' in sys.modules)"  # fmt: skip
    py = Path(__file__).resolve().parents[2] / ".venv" / "bin" / "python"
    exe = str(py) if py.exists() else "python"
    out = subprocess.run([exe, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    assert out.stdout.strip() == "False"
