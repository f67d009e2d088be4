"""Issue 13, class "bounded memory and time": `check` of a long file reads it in blocks (its memory does
not grow with the file's length), and a long file's report still says what a short one's would."""

from __future__ import annotations

import json
import struct
import subprocess
import sys
from pathlib import Path

import numpy as np
import soundfile as sf
from hostile_cli import ROOT

from engine.audio import quality
from engine.audio.quality import analyse_file, analyse_long_file, analyse_samples

RATE = 48000
MEASURE = """
import json, resource, sys
from tui.cli import main
rc = main(["check", "--json", sys.argv[1]])
print("RESULT", json.dumps({"rc": rc, "maxrss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}))
"""


def sparse_wav(path: Path, seconds: float, speech: np.ndarray, rate: int = RATE, copies: int = 5) -> Path:
    """A 16-bit mono WAV of ``seconds`` made almost instantly: a sparse file of zeros with ``copies``
    of ``speech`` spread through it (as much disk as the speech takes, whatever the length)."""
    frames = int(seconds * rate)
    data = frames * 2
    fmt = struct.pack("<IHHIIHH", 16, 1, 1, rate, rate * 2, 2, 16)
    with open(path, "wb") as fh:
        fh.write(b"RIFF" + struct.pack("<I", 36 + data) + b"WAVE" + b"fmt " + fmt + b"data")
        fh.write(struct.pack("<I", data))
        fh.truncate(44 + data)
        pcm = (np.clip(speech, -1, 1) * 32767).astype("<i2").tobytes()
        for k in range(copies):
            fh.seek(44 + int((k + 0.5) * frames / copies) * 2)
            fh.write(pcm)
    return path


def _check_in_subprocess(path: Path) -> tuple[int, int, dict]:
    """(exit status, peak resident memory in KiB, the JSON report) of `timbre check --json PATH`."""
    done = subprocess.run(
        [sys.executable, "-c", MEASURE, str(path)], cwd=ROOT, capture_output=True, text=True, timeout=600
    )
    assert "Traceback" not in done.stderr, done.stderr
    line = next(x for x in done.stdout.splitlines() if x.startswith("RESULT "))
    result = json.loads(line[len("RESULT ") :])
    report = json.loads(done.stdout[: done.stdout.index("RESULT ")])[0]
    return result["rc"], result["maxrss_kib"], report


def _speech48(speech) -> np.ndarray:
    import soxr

    return soxr.resample(speech[0], speech[1], RATE).astype(np.float32)


def test_check_memory_does_not_grow_with_the_length_of_the_file(tmp_path, speech):
    voice = _speech48(speech)
    short = sparse_wav(tmp_path / "ten-minutes.wav", 10 * 60, voice)
    long = sparse_wav(tmp_path / "forty-minutes.wav", 40 * 60, voice)
    rc_short, rss_short, rep_short = _check_in_subprocess(short)
    rc_long, rss_long, rep_long = _check_in_subprocess(long)
    # reading the whole 40-minute file would add 30 min x 48 kHz x 4 bytes = 330 MiB over the 10-minute one
    assert rss_long - rss_short < 64 * 1024, (rss_short, rss_long)
    assert rc_short == rc_long == 1  # both fail: far too long for a take
    assert rep_long["seconds"] == 40 * 60 and rep_short["seconds"] == 10 * 60
    checks = {c["key"]: c for c in rep_long["checks"]}
    assert checks["duration"]["verdict"] == "fail" and checks["speech"]["figure"] != "none found"
    assert {"snr", "bandwidth", "noise_floor", "rms"} <= set(checks)  # measured on the busiest excerpt


def test_a_long_files_report_matches_the_whole_file_check(tmp_path, speech, monkeypatch):
    """On a file just long enough to go the block way, the figures agree with reading it whole."""
    voice = _speech48(speech)
    path = sparse_wav(tmp_path / "six.wav", 40.0, voice, copies=4)
    x, rate = sf.read(path, dtype="float32")
    whole = analyse_samples(x, rate, learned=False)
    blocks = analyse_long_file(path, learned=False)
    for key in ("duration", "speech", "peak", "clipping", "dc_offset"):
        assert blocks.get(key).verdict == whole.get(key).verdict, key
    assert abs(blocks.get("speech").value - whole.get("speech").value) < 0.02
    assert abs(blocks.get("rms").value - whole.get("rms").value) < 1.5
    monkeypatch.setattr(quality, "LONG_FILE_S", 30.0)  # analyse_file picks the block way past the limit
    called = []
    monkeypatch.setattr(quality, "analyse_long_file", lambda *a, **k: called.append(a) or whole)
    analyse_file(path, learned=False)
    assert called
