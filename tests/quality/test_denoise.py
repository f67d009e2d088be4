"""Noise reduction: 10 dB-SNR speech gets a far lower noise floor, keeps its shape; output fits the model."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
import soundfile as sf

from engine.audio import analysis
from engine.audio.denoise import DenoiseSettings, clean_file, reduce_noise, strength_for


@pytest.fixture(scope="module")
def speech(voices):
    clean, sr = sf.read(str(voices["clean"]), dtype="float32")
    noisy, _ = sf.read(str(voices["noisy10"]), dtype="float32")
    power = analysis.db_power(analysis.frame_power(clean, sr))
    n = int(sr * analysis.FRAME_S)
    silent = np.repeat(power < -70, n)  # where the clean original is silent: only noise is left
    talking = np.repeat(power > -40, n)
    pad = clean.size - silent.size
    silent, talking = np.pad(silent, (0, pad)), np.pad(talking, (0, pad))
    return clean, noisy, sr, silent, talking


def floor_db(x, mask):
    return 10 * np.log10(np.mean(x[mask].astype(np.float64) ** 2))


def corr(a, b, mask):
    return float(np.corrcoef(a[mask], b[mask])[0, 1])


@pytest.mark.parametrize("with_room_tone", [True, False])
def test_denoising_10db_speech_lowers_floor_and_keeps_speech(speech, voices, with_room_tone):
    clean, noisy, sr, silent, talking = speech
    # room tone: the same kind of noise, recorded separately (a different stretch of white noise)
    rng = np.random.default_rng(3)
    sigma = float(np.sqrt(np.mean((noisy - clean)[silent] ** 2)))
    room = rng.normal(0, sigma, sr * 2).astype(np.float32) if with_room_tone else None
    out, info = reduce_noise(noisy, sr, room)
    assert info.mode == ("stationary" if with_room_tone else "non-stationary")
    assert out.shape == noisy.shape and out.dtype == np.float32
    drop = floor_db(noisy, silent) - floor_db(out, silent)
    assert drop >= 15.0, f"noise floor only {drop:.1f} dB lower"
    assert corr(out, clean, talking) >= 0.8


def test_a_take_longer_than_one_chunk_is_denoised_throughout(speech, voices):
    """25 s is cut into 10 s pieces with context: the same result everywhere, no seams."""
    from engine.audio import denoise

    clean, noisy, sr, silent, talking = speech
    long_noisy, long_clean = np.tile(noisy, 3), np.tile(clean, 3)
    long_talking = np.tile(talking, 3)
    assert long_noisy.size > denoise.CHUNK_S * sr * 2
    out, info = reduce_noise(long_noisy, sr)
    assert out.shape == long_noisy.shape and info.mode == "non-stationary"
    for third in range(3):  # each copy of the take, whichever piece boundaries fall in it
        part = slice(third * noisy.size, (third + 1) * noisy.size)
        drop = floor_db(long_noisy[part], silent) - floor_db(out[part], silent)
        assert drop >= 15.0, f"copy {third}: noise floor only {drop:.1f} dB lower"
        assert corr(out[part], long_clean[part], talking) >= 0.8
    assert corr(out, long_clean, long_talking) >= 0.8


def test_strength_is_a_minimum_and_capped():
    s = DenoiseSettings()
    assert strength_for(28.0, s) == pytest.approx(0.7)
    assert strength_for(10.0, s) == pytest.approx(0.9)  # 20 dB needed
    assert strength_for(-5.0, s) == pytest.approx(0.95)


def test_clean_speech_is_left_alone(speech):
    clean, _, sr, _, _ = speech
    out, info = reduce_noise(clean, sr)
    assert info.mode == "skipped" and np.array_equal(out, clean)


def test_clean_file_from_stereo_48k_gives_32k_mono_normalised(voices, tmp_path):
    noisy, sr = sf.read(str(voices["noisy20"]), dtype="float32")
    from engine.audio.io import resample

    up = resample(noisy, sr, 48000)
    src = tmp_path / "stereo.wav"
    sf.write(str(src), np.stack([up, up * 0.5], axis=1), 48000, subtype="PCM_24")  # (frames, 2)
    dst = tmp_path / "clean" / "0001.wav"
    result = clean_file(src, dst, None)
    info = sf.info(str(dst))
    assert (info.samplerate, info.channels, info.subtype) == (32000, 1, "PCM_16")
    y, _ = sf.read(str(dst), dtype="float32")
    assert np.max(np.abs(y)) == pytest.approx(0.95, abs=0.002)
    assert result.info.mode == "non-stationary"
    # edges trimmed to about 0.2 s of silence: the output is shorter than the 8 s input but keeps the speech
    assert 6.5 < result.seconds < 8.0
    assert not list(dst.parent.glob(".*.tmp"))


def test_importing_quality_and_denoise_does_not_import_noisereduce_or_torch():
    code = (
        "import sys, engine.audio.quality, engine.audio.denoise, engine.audio.importer;"
        "print('noisereduce' in sys.modules, 'torch' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]


def make_session(tmp_path, voices, takes):
    """A session whose takes are copies of generated clips: (clip name, text, status)."""
    import shutil

    from engine.session import Session
    from engine.studio import Studio

    session = Session.create(
        Studio(tmp_path / "studio"),
        "en",
        [t[1] for t in takes],
        device=None,
        samplerate=32000,
        script_name="en",
    )
    for index, (clip, _, status) in enumerate(takes):
        shutil.copy(voices[clip], session.take_path(index))
        session.takes[index].status = status
        session.takes[index].seconds = sf.info(str(voices[clip])).duration
    shutil.copy(voices["roomtone"], session.room_tone_path())
    session.save()
    return session


def test_prepare_session_writes_clean_takes_and_marks_ready(tmp_path, voices):
    from engine.audio.denoise import prepare_session
    from engine.session import Session
    from engine.studio import Studio

    session = make_session(
        tmp_path,
        voices,
        [
            ("noisy20", "one", "accepted"),
            ("clean", "two", "recorded"),
            ("clipped", "three", "accepted"),
            ("clean2", "", "accepted"),
            ("clean2", "five", "rejected"),
            ("clean", "six", "accepted"),
        ],
    )
    steps = []
    result = prepare_session(session, progress=lambda i, n, tid: steps.append((i, n)))
    assert [c.path.name for c in result.cleaned] == ["0001.wav", "0006.wav"]  # accepted takes only
    reasons = dict(result.excluded)
    assert set(reasons) == {"0002", "0003", "0004", "0005"}  # every take left out is named, with why
    assert reasons["0002"] == "not reviewed: accept it to train on it"
    assert reasons["0003"].startswith("failed the quality check (Clipping: ")  # accepted, yet named
    assert reasons["0004"].startswith("no transcript")
    assert reasons["0005"] == "rejected"
    assert result.cleaned[0].info.mode == "stationary" and result.cleaned[1].info.mode == "skipped"
    assert steps[-1] == (4, 4)  # the accepted takes
    for c in result.cleaned:
        info = sf.info(str(c.path))
        assert (info.samplerate, info.channels) == (32000, 1)
    manifest = (session.dir / "clean" / "metadata.csv").read_text()
    assert manifest == "0001|one\n0006|six\n"
    assert (session.dir / "metadata.csv").read_text() == manifest  # one rule: both files agree
    again = Session.load(Studio(tmp_path / "studio"), session.id)
    assert again.ready and again.takes[0].quality["verdict"] == "warn"
    again.set_status(1, "rejected")
    assert not Session.load(Studio(tmp_path / "studio"), session.id).ready


def test_cleaning_and_importing_refuse_while_recording(tmp_path, voices):
    from engine.audio.denoise import RecordingInProgress, prepare_session
    from engine.audio.importer import import_files

    session = make_session(tmp_path, voices, [("clean", "one", "accepted"), ("clean", "two", "pending")])
    (session.dir / "takes" / "0002.partial.wav").write_bytes(b"RIFF")
    with pytest.raises(RecordingInProgress):
        prepare_session(session)
    with pytest.raises(RecordingInProgress):
        import_files(session, [voices["clean2"]])
    assert not (session.dir / "clean").exists() and len(session.takes) == 2 and not session.ready


def test_cli_check_and_import_leave_a_take_being_recorded_alone(tmp_path, voices, capsys):
    from tui.cli import main as cli_main

    session = make_session(tmp_path, voices, [("clean", "one", "accepted"), ("clean", "two", "pending")])
    partial = session.dir / "takes" / "0002.partial.wav"
    partial.write_bytes(b"RIFF....WAVE")
    home = str(tmp_path / "studio")
    assert cli_main(["--home", home, "check", session.id]) == 2
    assert cli_main(["--home", home, "import", str(voices["clean2"]), "--session", session.id]) == 2
    assert "recording a take right now" in capsys.readouterr().err
    assert partial.read_bytes() == b"RIFF....WAVE"  # not "repaired" under the recorder's feet
