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


@pytest.mark.parametrize("snr", [5, 10, 20, 30])
def test_snr_estimate_on_a_tightly_cut_take(voices, snr):
    """Cut to 0.2 s of silence at each edge, as an import cuts: under 10 % of the take is pause."""
    x, sr = sf.read(str(voices[f"noisy{snr}"]), dtype="float32")
    cut = x[int(0.1 * sr) : x.size - int(0.46 * sr)]
    assert analysis.snr_db(cut, sr) == pytest.approx(snr, abs=3.0)


def test_clean_speech_cut_tightly_reads_clean(voices):
    x, sr = sf.read(str(voices["clean"]), dtype="float32")
    cut = x[int(0.1 * sr) : x.size - int(0.46 * sr)]
    assert analysis.snr_db(cut, sr) > 40.0
    assert analysis.db_power(analysis.noise_floor_power(cut, sr)) < -60.0


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
    mixed = add_noise(voices["clean"], tmp_path / "mixed.wav", snr, colour)
    x, sr = sf.read(str(mixed), dtype="float32")
    assert analysis.snr_db(x, sr) == pytest.approx(snr, abs=3.0)
