"""Watermark robustness (issue 14), fixed seeds: detection after the usual transformations.

Twelve espeak-ng clips (English voices and Mandarin, 3.5 s each) are watermarked, transformed, and
detected. The figures each test asserts are the ones measured (README "Consent and watermark"); the
issue's target is 99 % each. The TINY engine's own output is covered in test_watermark_synth.py.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile

import numpy as np
import pytest
import soundfile as sf

from engine.audio import watermark as wm
from engine.audio.io import read_audio, resample

RATE = wm.RATE
SECONDS = 3.5
SENTENCES = [
    ("en-us", "The quick brown fox jumps over the lazy dog near the river bank today."),
    ("en-gb", "Please call Stella and ask her to bring these things with her from the store."),
    ("en-sc", "She sells sea shells by the sea shore on a sunny afternoon in June."),
    ("en-us+f3", "A rainbow is a division of white light into many beautiful colours."),
    ("en-rp", "When the sunlight strikes raindrops in the air, they act as a prism."),
    ("en-us+m3", "The north wind and the sun were disputing which was the stronger one."),
    ("en-gb+f2", "Some have accepted it as a miracle without physical explanation at all."),
    ("en-us+m7", "People look, but no one ever finds the pot of gold at the end of it."),
    ("cmn", "今天天气很好，我们去公园散步吧，顺便买一点水果回家。"),
    ("cmn", "这是一个合成语音的例子，我们正在测试水印是否可靠。"),
    ("cmn+f2", "他每天早上七点起床，然后骑自行车去学校上课。"),
    ("cmn", "北京是中国的首都，有很多名胜古迹和美味的小吃。"),
]
# the measured detection rates (12 clips); a regression below them fails
MEASURED = {
    "as is": 1.0,
    "resampled to 16 kHz": 1.0,
    "resampled to 44.1 kHz": 1.0,
    "MP3 at 64 kbps": 1.0,
    "noise at 20 dB SNR": 0.9,  # 11 of 12: short of the 99 % target (README)
    "gain +6 dB": 1.0,
    "gain -6 dB": 1.0,
    "3 s window": 1.0,
}


def _need(tool: str) -> None:
    if shutil.which(tool) is None:
        if os.environ.get("CI"):
            pytest.fail(f"{tool} is not installed (the CI script must install it)")
        pytest.skip(f"{tool} is not installed")


def _mp3(audio: np.ndarray, rate: int) -> tuple[np.ndarray, int]:
    with tempfile.TemporaryDirectory() as folder:
        src, dst = f"{folder}/a.wav", f"{folder}/a.mp3"
        sf.write(src, audio, rate, subtype="PCM_16")
        subprocess.run(["sox", src, "-C", "64", dst], check=True, timeout=60)
        decoded = read_audio(dst)
        return decoded.samples, decoded.samplerate


def _noise(audio: np.ndarray, rng: np.random.Generator, snr_db: float = 20.0) -> np.ndarray:
    rms = float(np.sqrt(np.mean(audio.astype(np.float64) ** 2)))
    return (audio + rng.standard_normal(audio.size) * rms * 10 ** (-snr_db / 20)).astype(np.float32)


def attacks(seed: int = 0) -> dict:
    """Each transformation: audio at 32 kHz -> (audio, rate)."""
    rng = np.random.default_rng(seed)

    def window(a: np.ndarray) -> tuple[np.ndarray, int]:
        start = int(rng.integers(0, max(1, a.size - 3 * RATE)))
        return a[start : start + 3 * RATE], RATE

    return {
        "as is": lambda a: (a, RATE),
        "resampled to 16 kHz": lambda a: (resample(a, RATE, 16000), 16000),
        "resampled to 44.1 kHz": lambda a: (resample(a, RATE, 44100), 44100),
        "MP3 at 64 kbps": lambda a: _mp3(a, RATE),
        "noise at 20 dB SNR": lambda a: (_noise(a, rng), RATE),
        "gain +6 dB": lambda a: (np.clip(a * 10 ** (6 / 20), -1, 1).astype(np.float32), RATE),
        "gain -6 dB": lambda a: ((a * 10 ** (-6 / 20)).astype(np.float32), RATE),
        "3 s window": window,
    }


@pytest.fixture(scope="module")
def clips(tmp_path_factory) -> list[np.ndarray]:
    """The unmarked espeak-ng clips, 3.5 s each at 32 kHz (speech from the start)."""
    _need("espeak-ng")
    folder = tmp_path_factory.mktemp("wm-clips")
    out = []
    for i, (voice, text) in enumerate(SENTENCES):
        path = folder / f"{i}.wav"
        subprocess.run(["espeak-ng", "-v", voice, "-w", str(path), text], check=True, timeout=30)
        audio = read_audio(path, samplerate=RATE).samples
        audio = np.pad(audio, (0, max(0, int(SECONDS * RATE) - audio.size)))[: int(SECONDS * RATE)]
        out.append(audio)
    return out


@pytest.fixture(scope="module")
def marked(clips) -> list[np.ndarray]:
    return [wm.embed(c, RATE) for c in clips]


@pytest.fixture(scope="module")
def rates(marked, clips) -> dict[str, tuple[float, float]]:
    """Per transformation: (share of marked clips detected, share of unmarked clips flagged)."""
    _need("sox")
    out = {}
    for name, attack in attacks(seed=14).items():
        hit = [wm.detect(*attack(m))[0] for m in marked]
        false = [wm.detect(*attack(c))[0] for c in clips]
        out[name] = (float(np.mean(hit)), float(np.mean(false)))
    return out


@pytest.mark.parametrize("name", list(MEASURED))
def test_detection_after_transformation(rates, name):
    detected, flagged = rates[name]
    assert detected >= MEASURED[name], f"{name}: {detected:.0%} detected (measured {MEASURED[name]:.0%})"
    assert flagged == 0.0, f"{name}: {flagged:.0%} of unmarked clips flagged"


def test_energy_and_perceptual_figures(clips, marked):
    """The README's transparency figures: watermark energy vs speech, log-spectral distance."""
    energy = [wm.energy_db(c, m) for c, m in zip(clips, marked, strict=True)]
    lsd = [wm.log_spectral_distance(c, m, RATE) for c, m in zip(clips, marked, strict=True)]
    assert -22.0 < float(np.mean(energy)) < -12.0, energy  # measured about -16 dB (SNR about 16 dB)
    assert float(np.mean(lsd)) < 3.5, lsd  # measured 2.1 dB mean log-spectral distance (README)
