"""Test audio for the quality tests, made once per test session (espeak-ng speech, sox degradations)."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf
from quality_audio import RATE, SECOND, SENTENCE, Voices, add_noise, run, speak, synth


@pytest.fixture(scope="session")
def voices(tmp_path_factory) -> Voices:
    """Clean speech and its degraded copies (built once: about a second)."""
    d = tmp_path_factory.mktemp("voices")
    clean = speak(d, "clean", SENTENCE)
    speak(d, "clean2", SECOND, voice="en-gb+f3")
    for snr in (5, 10, 20, 30):
        add_noise(clean, d / f"noisy{snr}.wav", snr)
    run("sox", str(clean), str(d / "clipped.wav"), "gain", "12")
    run("sox", str(clean), str(d / "clipped_m10.wav"), "gain", "10", "gain", "-10")
    run(
        "sox",
        str(clean),
        "-r",
        "8000",
        "-e",
        "u-law",
        "-b",
        "8",
        str(d / "phone8k.wav"),
        "highpass",
        "300",
        "lowpass",
        "3400",
    )
    run(
        "sox",
        str(d / "phone8k.wav"),
        "-r",
        str(RATE),
        "-e",
        "signed-integer",
        "-b",
        "16",
        str(d / "phone.wav"),
    )
    # mains hum at -60 dBFS RMS, 50 and 60 Hz, and a DC offset of +0.02 (sox 'dcshift')
    seconds = sf.info(str(clean)).duration
    for f in (50, 60):
        level = f"{10 ** (-60 / 20) * np.sqrt(2):.6f}"
        tone = synth(d / f"tone{f}.wav", "synth", f"{seconds}", "sine", f"{f}", "vol", level)
        run("sox", "-m", "-v", "1", str(clean), "-v", "1", str(tone), str(d / f"hum{f}.wav"))
    run("sox", str(clean), str(d / "dc.wav"), "dcshift", "0.02")
    synth(d / "silence.wav", "trim", "0", "5")
    synth(d / "roomtone.wav", "synth", "3", "whitenoise", "vol", "0.003")
    return Voices(d)
