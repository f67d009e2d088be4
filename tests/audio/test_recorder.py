"""The recorder against a real PulseAudio null-sink microphone."""

from __future__ import annotations

import math
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from scipy import signal
from virtual_mic import play_into_mic

from engine.audio.recorder import (
    CLIP_RUN,
    Recorder,
    TakeResult,
    count_clip_runs,
    record_room_tone,
    to_dbfs,
)


def _align_ncc(reference: np.ndarray, recorded: np.ndarray) -> tuple[float, int]:
    """Best normalised correlation of ``reference`` against ``recorded``, and its lag in samples.

    The recording is zero-padded on both sides, so a reference that starts a little before the take
    (PulseAudio can place a new stream's first samples inside a period the monitor already delivered)
    still aligns; the lag is then negative by the number of samples the take missed.
    """
    pad = np.zeros(len(reference), dtype=recorded.dtype)
    padded = np.concatenate([pad, recorded, pad])
    corr = signal.correlate(padded, reference, mode="valid", method="fft")
    lag = int(np.argmax(np.abs(corr)))
    segment = padded[lag : lag + len(reference)]
    ncc = float(np.dot(segment, reference) / (np.linalg.norm(segment) * np.linalg.norm(reference)))
    return ncc, lag - len(reference)


def _sox(*args: str) -> None:
    subprocess.run(["sox", *args], check=True, capture_output=True)


@pytest.fixture
def recorder(mic):
    rec = Recorder(samplerate=mic.rate)
    assert rec.wait_ready(), "the virtual microphone sent no audio"
    yield rec
    rec.close()


def test_loopback_recording_matches_what_was_played(recorder, speech_wav, tmp_path):
    final = tmp_path / "takes" / "0001.wav"
    recorder.start_take(final)
    assert (tmp_path / "takes" / "0001.partial.wav").exists()
    play_into_mic(speech_wav)
    time.sleep(0.3)
    result = recorder.stop_take()

    assert isinstance(result, TakeResult)
    assert result.path == final and final.exists()
    assert not (tmp_path / "takes" / "0001.partial.wav").exists()
    assert result.overflow_count == 0
    assert result.clip_count == 0
    assert result.samplerate == 48000

    recorded, rate = sf.read(final, dtype="float32")
    reference, ref_rate = sf.read(speech_wav, dtype="float32")
    assert rate == ref_rate == 48000
    assert recorded.ndim == 1
    assert result.frames == len(recorded)
    assert abs(result.seconds - len(recorded) / rate) < 1e-9
    assert len(recorded) > len(reference)
    ncc, lag = _align_ncc(reference, recorded)
    assert ncc > 0.99, (ncc, lag)
    assert lag >= -int(0.005 * rate), lag  # at most 5 ms of the played file fell before the take
    assert math.isclose(result.peak_dbfs, to_dbfs(float(np.max(np.abs(recorded)))), abs_tol=0.1)


def test_meter_reads_a_tone_level(recorder, tmp_path):
    tone = tmp_path / "tone.wav"
    _sox("-n", "-r", "48000", "-b", "16", "-c", "1", str(tone), "synth", "1.5", "sine", "440", "vol", "0.5")
    proc = play_into_mic(tone, wait=False)
    states = []
    deadline = time.monotonic() + 5
    while proc.poll() is None and time.monotonic() < deadline:
        states.append(recorder.meter())
        time.sleep(1 / 30)
    proc.wait()
    loud = [s for s in states if s.peak_dbfs > -20]
    assert len(loud) >= 10, [round(s.peak_dbfs, 1) for s in states]
    middle = loud[len(loud) // 2]
    assert middle.peak_dbfs == pytest.approx(-6.02, abs=0.3)
    assert middle.rms_dbfs == pytest.approx(-9.03, abs=0.5)
    assert middle.peak_hold_dbfs >= middle.peak_dbfs
    assert not middle.recording and middle.take_seconds == 0.0
    assert middle.error is None and not middle.clipping
    assert time.monotonic() - middle.block_time < 1.0


def test_clipping_is_detected_and_counted(recorder, speech_wav, tmp_path):
    clipped = tmp_path / "clipped.wav"
    _sox(str(speech_wav), str(clipped), "gain", "12")
    recorder.start_take(tmp_path / "0002.wav")
    proc = play_into_mic(clipped, wait=False)
    saw_warning = False
    while proc.poll() is None:
        state = recorder.meter()
        saw_warning = saw_warning or state.clipping
        time.sleep(0.02)
    result = recorder.stop_take()
    assert saw_warning
    assert result.clip_count >= 3
    assert result.peak_dbfs > -0.01
    data, _ = sf.read(result.path, dtype="float32")
    assert np.sum(np.abs(data) >= 0.999) >= CLIP_RUN * result.clip_count


def test_cancel_take_removes_the_file(recorder, tmp_path):
    final = tmp_path / "0003.wav"
    recorder.start_take(final)
    time.sleep(0.2)
    recorder.cancel_take()
    assert not final.exists()
    assert not (tmp_path / "0003.partial.wav").exists()
    assert not recorder.meter().recording


def test_room_tone_records_the_requested_length(recorder, tmp_path):
    path = tmp_path / "room_tone.wav"
    result = record_room_tone(recorder, path, seconds=1.0)
    assert path.exists() and result.path == path
    assert 1.0 <= result.seconds < 1.5
    data, rate = sf.read(path, dtype="float32")
    assert rate == 48000 and len(data) == result.frames
    assert float(np.max(np.abs(data))) < 1e-3  # nothing was playing: digital silence


def test_default_rate_is_the_device_native_rate(mic):
    rec = Recorder()
    try:
        assert rec.samplerate == int(rec.device.default_samplerate)
        assert rec.device.is_default
    finally:
        rec.close()


@pytest.mark.parametrize(
    ("hot", "carry", "expected"),
    [
        ([0, 1, 1, 1, 0], 0, (1, 0)),
        ([1, 1, 0, 1, 1, 1, 1, 0, 1], 0, (1, 1)),
        ([1, 1, 0, 0], 0, (0, 0)),
        ([1, 0], 2, (1, 0)),  # completes a run begun in the previous block
        ([1, 1, 1], 5, (0, 8)),  # continues a run already counted
        ([1, 1], 0, (0, 2)),
        ([0, 0, 0], 4, (0, 0)),
        ([1, 1, 1, 0, 1, 1, 1], 0, (2, 3)),
    ],
)
def test_count_clip_runs(hot, carry, expected):
    assert count_clip_runs(np.array(hot, dtype=bool), carry) == expected


def test_to_dbfs():
    assert to_dbfs(1.0) == 0.0
    assert to_dbfs(0.0) == -math.inf
    assert to_dbfs(0.5) == pytest.approx(-6.0206, abs=1e-3)


def test_take_files_are_24_bit_wav(recorder, tmp_path):
    recorder.start_take(tmp_path / "x.wav")
    time.sleep(0.1)
    result = recorder.stop_take()
    info = sf.info(str(Path(result.path)))
    assert info.format == "WAV" and info.subtype == "PCM_24" and info.channels == 1


def test_writer_failure_is_reported(recorder, tmp_path, monkeypatch):
    from engine.audio.recorder import TakeWriteError

    recorder.start_take(tmp_path / "0004.wav")

    def disk_full(data):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(recorder._file, "write", disk_full)
    deadline = time.monotonic() + 5
    while recorder.meter().recording and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not recorder.meter().recording  # the take stops at once
    with pytest.raises(TakeWriteError) as info:
        recorder.stop_take()
    assert "No space left" in info.value.message and "disk space" in info.value.hint
    recorder.start_take(tmp_path / "0005.wav")  # the recorder itself still works
    time.sleep(0.1)
    assert recorder.stop_take().frames > 0


def test_take_misuse(recorder, tmp_path):
    from engine.errors import AudioError

    with pytest.raises(AudioError, match="No take"):
        recorder.stop_take()
    recorder.start_take(tmp_path / "a.wav")
    with pytest.raises(AudioError, match="already"):
        recorder.start_take(tmp_path / "b.wav")
    recorder.stop_take()


def test_overflows_are_counted_per_take(recorder, tmp_path):
    from types import SimpleNamespace

    block = np.zeros((256, 1), dtype=np.float32)
    info = SimpleNamespace(currentTime=0.0, inputBufferAdcTime=0.0)
    overflow = SimpleNamespace(input_overflow=True)
    recorder._callback(block, 256, info, overflow)  # before the take: not counted in it
    recorder.start_take(tmp_path / "0006.wav")
    for _ in range(2):
        recorder._callback(block, 256, info, overflow)  # as PortAudio reports a dropped buffer
    assert recorder.meter().overflow_count == 2
    assert recorder.stop_take().overflow_count == 2
    recorder.start_take(tmp_path / "0007.wav")
    assert recorder.stop_take().overflow_count == 0


def test_peak_hold_holds_then_decays(recorder):
    from engine.audio.recorder import PEAK_DECAY_DB_PER_S, PEAK_HOLD_S

    now = time.monotonic()
    with recorder._lock:
        recorder._hold_db, recorder._hold_t = -6.0, now
        assert recorder._held_db(now + PEAK_HOLD_S - 0.1) == -6.0
        assert recorder._held_db(now + PEAK_HOLD_S + 1.0) == pytest.approx(-6.0 - PEAK_DECAY_DB_PER_S)
