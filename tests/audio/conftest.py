"""Fixtures for the recording tests: a real PulseAudio null-sink microphone and test speech."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from virtual_mic import (  # noqa: E402
    VirtualMic,
    activate,
    deactivate,
    reinit_sounddevice,
    start_virtual_microphone,
    tools_available,
)

MIC_RATE = 48000


def _missing(what: str) -> None:
    """Skip on a developer machine without the tool; fail in CI, where .ci/run installs it."""
    if os.environ.get("CI"):
        pytest.fail(f"{what} is not installed (the CI script must install it)")
    pytest.skip(f"{what} is not installed")


@pytest.fixture(scope="session")
def virtual_mic() -> VirtualMic:
    """A private PulseAudio daemon whose null-sink monitor is the default input, at 48 kHz."""
    if not tools_available():
        _missing("pulseaudio / pulseaudio-utils")
    mic = start_virtual_microphone(MIC_RATE)
    activate(mic)
    yield mic
    mic.stop()
    deactivate(mic)


@pytest.fixture
def mic(virtual_mic: VirtualMic) -> VirtualMic:
    """The session microphone, restarted first if an earlier test killed it."""
    if not virtual_mic.alive():
        fresh = start_virtual_microphone(virtual_mic.rate)
        virtual_mic.runtime_dir, virtual_mic.process = fresh.runtime_dir, fresh.process
        virtual_mic.keeper = fresh.keeper
        os.environ.update(virtual_mic.env)
        reinit_sounddevice()
    return virtual_mic


@pytest.fixture(scope="session")
def speech_wav(tmp_path_factory) -> Path:
    """About 2.5 s of espeak-ng speech, 16-bit mono at the microphone rate."""
    if shutil.which("espeak-ng") is None or shutil.which("sox") is None:
        _missing("espeak-ng / sox")
    folder = tmp_path_factory.mktemp("speech")
    raw = folder / "raw.wav"
    out = folder / "speech.wav"
    subprocess.run(
        [
            "espeak-ng",
            "-v",
            "en-us",
            "-s",
            "160",
            "-w",
            str(raw),
            "The quick brown fox jumps over the lazy dog.",
        ],
        check=True,
        capture_output=True,
    )
    subprocess.run(
        ["sox", str(raw), "-b", "16", "-c", "1", str(out), "gain", "-3", "rate", "-v", str(MIC_RATE)],
        check=True,
        capture_output=True,
    )
    return out
