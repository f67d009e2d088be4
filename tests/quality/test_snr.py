"""The blind SNR estimate is within 3 dB of the truth from 5 to 30 dB."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf
from quality_audio import add_noise

from engine.audio import analysis
from engine.audio.quality import analyse_file


@pytest.mark.parametrize("snr", [5, 10, 20, 30])
def test_snr_estimate_on_sox_noise(voices, snr):
    x, sr = sf.read(str(voices[f"noisy{snr}"]), dtype="float32")
    assert analysis.snr_db(x, sr) == pytest.approx(snr, abs=3.0)


@pytest.mark.parametrize("snr", [5, 10, 20, 30])
def test_snr_estimate_second_voice(voices, tmp_path, snr):
    path = add_noise(voices["clean2"], tmp_path / "n.wav", snr)
    x, sr = sf.read(str(path), dtype="float32")
    assert analysis.snr_db(x, sr) == pytest.approx(snr, abs=3.0)


@pytest.mark.parametrize("snr", [5, 15, 25])
def test_snr_estimate_on_generated_tone_bursts(snr):
    sr = 16000
    rng = np.random.default_rng(snr)
    t = np.arange(sr) / sr
    burst = 0.3 * np.sin(2 * np.pi * 440 * t)
    signal = np.concatenate([np.zeros(sr // 2), burst, np.zeros(sr // 2), burst, np.zeros(sr // 2)])
    noise = rng.normal(0, 1, signal.size)
    noise *= np.sqrt(np.mean(signal**2) / np.mean(noise**2)) / 10 ** (snr / 20)
    assert analysis.snr_db((signal + noise).astype(np.float32), sr) == pytest.approx(snr, abs=3.0)


def test_snr_figure_is_capped(voices):
    assert analyse_file(voices["clean"]).get("snr").figure == "> 30 dB"
    figure = analyse_file(voices["noisy10"]).get("snr").figure
    assert figure.endswith(" dB") and 7 <= float(figure.split()[0]) <= 13


@pytest.mark.parametrize("colour", ["pink", "brown"])
@pytest.mark.parametrize("snr", [5, 10, 20, 30])
def test_snr_estimate_on_coloured_noise(voices, tmp_path, colour, snr):
    from quality_audio import RATE, rms, run

    clean = voices["clean"]
    noise = tmp_path / "noise.wav"
    seconds = sf.info(str(clean)).duration
    run(
        "sox",
        "-R",
        "-n",
        "-r",
        str(RATE),
        "-c",
        "1",
        "-b",
        "16",
        str(noise),
        "synth",
        f"{seconds}",
        f"{colour}noise",
        "gain",
        "-12",
    )
    k = rms(clean) / rms(noise) / 10 ** (snr / 20)
    mixed = tmp_path / "mixed.wav"
    run("sox", "-m", "-v", "1", str(clean), "-v", f"{k:.6f}", str(noise), str(mixed))
    x, sr = sf.read(str(mixed), dtype="float32")
    assert analysis.snr_db(x, sr) == pytest.approx(snr, abs=3.0)
