"""Test audio makers for the quality tests: espeak-ng speech and sox degradations (machine-recipes §4)."""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf

SENTENCE = (
    "The north wind and the sun were disputing which was the stronger, "
    "when a traveler came along wrapped in a warm cloak."
)
SECOND = (
    "They agreed that the one who first made the traveler take his cloak off should be considered stronger."
)
RATE = 32000


def run(*cmd: str) -> None:
    """Run a command; fail with its stderr."""
    if shutil.which(cmd[0]) is None:
        raise RuntimeError(f"{cmd[0]} is not installed (the test image installs espeak-ng and sox)")
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode:
        raise RuntimeError(f"{' '.join(cmd)} failed: {proc.stderr}")


def rms(path: Path) -> float:
    x, _ = sf.read(str(path), dtype="float64")
    return float(np.sqrt(np.mean(x**2)))


@dataclass
class Voices:
    """Paths of the generated clips."""

    folder: Path

    def __getitem__(self, name: str) -> Path:
        return self.folder / f"{name}.wav"


def speak(folder: Path, name: str, text: str, voice: str = "en-us") -> Path:
    """espeak-ng speech, padded with 0.3 s of silence, -3 dB, 32 kHz 16-bit (machine-recipes §4)."""
    raw = folder / f"{name}_raw.wav"
    out = folder / f"{name}.wav"
    run("espeak-ng", "-v", voice, "-s", "150", "-w", str(raw), text)
    run("sox", str(raw), "-b", "16", str(out), "pad", "0.3", "0.3", "gain", "-3", "rate", "-v", str(RATE))
    return out


def synth(out: Path, *generator: str, rate: int = RATE) -> Path:
    """A sox-made mono 16-bit clip, e.g. ``synth(p, "synth", "3", "whitenoise", "vol", "0.003")``."""
    run("sox", "-R", "-n", "-r", str(rate), "-c", "1", "-b", "16", str(out), *generator)
    return out


def add_noise(clean: Path, out: Path, snr_db: float, colour: str = "white") -> Path:
    """White (pink, brown) noise mixed in with sox at an exact SNR (signal RMS over noise RMS, whole clip)."""
    seconds = sf.info(str(clean)).duration
    noise = out.with_name(out.stem + "_noise.wav")
    synth(noise, "synth", f"{seconds}", f"{colour}noise", "gain", "-12")
    k = rms(clean) / rms(noise) / 10 ** (snr_db / 20)
    run("sox", "-m", "-v", "1", str(clean), "-v", f"{k:.6f}", str(noise), str(out))
    return out
