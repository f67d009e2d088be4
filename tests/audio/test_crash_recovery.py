"""Crash safety: a recording process killed with SIGKILL mid-take loses at most one second."""

from __future__ import annotations

import os
import signal
import struct
import subprocess
import sys
import time
import wave
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from virtual_mic import play_into_mic

from engine.audio.recorder import repair_partials
from engine.audio.wav import WavRepairError, repair_partial_wav, scan_wav
from engine.session import Session
from engine.studio import Studio

REPO = Path(__file__).resolve().parents[2]

CHILD = """
import sys, time
from pathlib import Path
from engine.audio.recorder import Recorder
rec = Recorder(samplerate=int(sys.argv[2]))
assert rec.wait_ready(), "no audio"
rec.start_take(Path(sys.argv[1]))
print("STARTED", flush=True)
while True:
    time.sleep(0.05)
"""


def _tone(path: Path, seconds: float, rate: int, freq: float = 440.0, amp: float = 0.3) -> None:
    t = np.arange(int(seconds * rate)) / rate
    sf.write(path, (amp * np.sin(2 * np.pi * freq * t)).astype(np.float32), rate, subtype="PCM_16")


def _record_and_kill(mic, final: Path, tmp_path: Path, seconds: float = 3.0) -> float:
    """Record in a child process while a tone plays; SIGKILL it ``seconds`` into the take."""
    tone = tmp_path / "tone.wav"
    _tone(tone, seconds + 4.0, mic.rate)
    env = dict(os.environ, PYTHONPATH=str(REPO))
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(final), str(mic.rate)],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    player = None
    try:
        line = child.stdout.readline()
        assert line.strip() == "STARTED", child.stderr.read()
        started = time.monotonic()
        player = play_into_mic(tone, wait=False)
        time.sleep(seconds)
        child.send_signal(signal.SIGKILL)
        elapsed = time.monotonic() - started
        child.wait(timeout=10)
    finally:
        if child.poll() is None:
            child.kill()
        if player is not None:
            player.kill()
            player.wait()
    assert child.returncode == -signal.SIGKILL
    return elapsed


def test_sigkill_mid_take_loses_at_most_one_second(mic, tmp_path):
    takes = tmp_path / "takes"
    final = takes / "0001.wav"
    elapsed = _record_and_kill(mic, final, tmp_path)
    partial = takes / "0001.partial.wav"
    assert partial.exists() and not final.exists()

    repaired = repair_partials(tmp_path)
    assert repaired == [final]
    assert not partial.exists()

    data, rate = sf.read(final, dtype="float32")
    assert rate == mic.rate
    recovered = len(data) / rate
    assert elapsed - 1.0 <= recovered <= elapsed + 0.2, (recovered, elapsed)
    with wave.open(str(final)) as w:  # a strict reader accepts the repaired header
        assert w.getnframes() == len(data)
    # the tone is in there, at the level it was played
    loud = data[np.abs(data) > 0.01]
    assert len(loud) > rate  # over a second of tone
    assert float(np.max(np.abs(data))) == pytest.approx(0.3, abs=0.02)


def test_session_load_recovers_a_killed_take(mic, tmp_path):
    studio = Studio(tmp_path / "studio")
    session = Session.create(
        studio, "en", ["One.", "Two."], device="default", samplerate=mic.rate, script_name="test"
    )
    elapsed = _record_and_kill(mic, session.take_path(0), tmp_path, seconds=2.0)
    assert session.takes[0].status == "pending"

    loaded = Session.load(studio, session.id)
    take = loaded.takes[0]
    assert take.status == "recorded"
    assert elapsed - 1.0 <= take.seconds <= elapsed + 0.2
    assert loaded.take_path(0).exists()
    assert not list(loaded.dir.rglob("*.partial.wav"))
    assert loaded.next_pending() == 1
    # the repair was saved: loading again changes nothing
    again = Session.load(studio, session.id)
    assert again.takes[0].seconds == take.seconds


def _write_partial(path: Path, data: np.ndarray, rate: int, subtype: str) -> None:
    """A WAV as a crash leaves it: samples on disk but the RIFF/data sizes never filled in."""
    sf.write(path, data, rate, subtype=subtype, format="WAV")
    raw = bytearray(path.read_bytes())
    data_at = raw.index(b"data")
    raw[4:8] = struct.pack("<I", 0)
    raw[data_at + 4 : data_at + 8] = struct.pack("<I", 0)
    path.write_bytes(bytes(raw))


@pytest.mark.parametrize("subtype", ["PCM_16", "PCM_24", "FLOAT"])
def test_repair_keeps_every_frame_of_a_stale_header(tmp_path, subtype):
    rng = np.random.default_rng(0)
    data = (rng.uniform(-0.5, 0.5, 24000)).astype(np.float32)
    partial = tmp_path / "0007.partial.wav"
    _write_partial(partial, data, 24000, subtype)
    with pytest.raises((wave.Error, EOFError)):
        with wave.open(str(partial)) as w:
            if w.getnframes() == 0:
                raise EOFError("header says 0 frames")
    out = repair_partial_wav(partial)
    assert out == tmp_path / "0007.wav" and not partial.exists()
    back, rate = sf.read(out, dtype="float32")
    assert rate == 24000 and len(back) == len(data)
    tol = {"PCM_16": 1 / 32768, "PCM_24": 1 / 2**23, "FLOAT": 0}[subtype]
    np.testing.assert_allclose(back, data, atol=tol * 1.01)


def test_repair_drops_only_a_torn_last_frame(tmp_path):
    data = np.linspace(-0.5, 0.5, 1000, dtype=np.float32)
    partial = tmp_path / "a.partial.wav"
    _write_partial(partial, data, 16000, "PCM_24")
    with open(partial, "ab") as fh:
        fh.write(b"\x01\x02")  # two bytes of a 3-byte sample: a write cut short
    layout = scan_wav(partial)
    assert layout.frames == 1000
    out = repair_partial_wav(partial)
    assert sf.info(str(out)).frames == 1000


def test_repair_of_a_header_only_file_removes_it(tmp_path):
    partial = tmp_path / "takes" / "0002.partial.wav"
    partial.parent.mkdir()
    _write_partial(partial, np.zeros(0, dtype=np.float32), 16000, "PCM_16")
    assert repair_partials(tmp_path) == []
    assert not partial.exists() and not (tmp_path / "takes" / "0002.wav").exists()


def test_unreadable_partial_is_kept_aside(tmp_path):
    partial = tmp_path / "0003.partial.wav"
    partial.write_bytes(b"this is not audio at all" * 10)
    with pytest.raises(WavRepairError):
        repair_partial_wav(partial)
    assert repair_partials(tmp_path) == []
    assert (tmp_path / "0003.broken.wav").exists()
    assert not partial.exists()


def test_startup_repairs_crashed_sessions_but_not_one_being_recorded(tmp_path):
    from engine.session import repair_crashed_sessions

    studio = Studio(tmp_path / "studio")
    crashed = Session.create(studio, "en", ["One.", "Two."], device="d", samplerate=16000, script_name="t")
    busy = Session.create(studio, "en", ["One."], device="d", samplerate=16000, script_name="t")
    tone = (0.2 * np.sin(np.arange(32000) / 5)).astype(np.float32)
    old = crashed.take_path(0).with_name("0001.partial.wav")
    old.parent.mkdir(parents=True, exist_ok=True)
    _write_partial(old, tone, 16000, "PCM_16")
    os.utime(old, (time.time() - 60, time.time() - 60))  # the crash was a minute ago
    fresh = busy.take_path(0).with_name("0001.partial.wav")
    fresh.parent.mkdir(parents=True, exist_ok=True)
    _write_partial(fresh, tone, 16000, "PCM_16")  # still being written by another Timbre

    assert repair_crashed_sessions(studio) == [crashed.id]
    assert crashed.take_path(0).exists() and not old.exists()
    assert Session.load(studio, crashed.id).takes[0].status == "recorded"
    assert fresh.exists() and not busy.take_path(0).exists()  # left alone
    assert repair_crashed_sessions(studio) == []  # nothing left to repair
