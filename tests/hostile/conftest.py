"""Shared fixtures of the hostile-input tests: real speech made by espeak-ng, as samples and as a WAV."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf


@pytest.fixture(scope="session")
def speech(tmp_path_factory) -> tuple[np.ndarray, int]:
    """About 3.5 s of espeak-ng speech at 32 kHz (a system tool: the test fails, never skips, without it)."""
    exe = shutil.which("espeak-ng")
    assert exe, "espeak-ng is needed for these tests (apt-get install espeak-ng)"
    folder = tmp_path_factory.mktemp("speech")
    raw = folder / "raw.wav"
    text = "The quick brown fox jumps over the lazy dog, and then it rests for a while."
    subprocess.run([exe, "-w", str(raw), text], check=True, capture_output=True)
    data, rate = sf.read(raw, dtype="float32")
    import soxr

    x = soxr.resample(data, rate, 32000).astype(np.float32)
    pad = np.zeros(int(0.3 * 32000), np.float32)
    return np.concatenate([pad, 0.5 * x / np.max(np.abs(x)), pad]), 32000


@pytest.fixture
def speech_wav(tmp_path, speech) -> Path:
    """The speech as a 16-bit mono WAV in the test's folder."""
    path = tmp_path / "speech.wav"
    sf.write(path, speech[0], speech[1], subtype="PCM_16")
    return path
