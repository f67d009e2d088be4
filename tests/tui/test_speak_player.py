"""The streaming player: chunks of any size played gap-free; stop; resampling; the real null-sink path."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import types
from pathlib import Path

import numpy as np
import pytest

from engine.audio import stream_player as sp
from engine.utterance import speak

sys.path.insert(0, str(Path(__file__).resolve().parent))

from tiny_voice import SinkRecorder, best_correlation  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from virtual_mic import tools_available, virtual_microphone  # noqa: E402


class FakeStream:
    """Records the callback; the test pulls blocks through it as PortAudio would."""

    def __init__(self, **kwargs) -> None:
        self.kwargs = kwargs
        self.callback = kwargs["callback"]
        self.finished = kwargs["finished_callback"]
        self.started = self.aborted = self.closed = False

    def start(self) -> None:
        self.started = True

    def abort(self) -> None:
        self.aborted = True

    def close(self) -> None:
        self.closed = True


class CallbackStop(Exception):
    pass


def fake_sd(accept_rate: bool = True):
    streams: list[FakeStream] = []

    def check_output_settings(**kwargs):
        if not accept_rate:
            raise ValueError("Invalid sample rate")

    module = types.SimpleNamespace(
        OutputStream=lambda **kw: streams.append(FakeStream(**kw)) or streams[-1],
        check_output_settings=check_output_settings,
        query_devices=lambda device=None, kind=None: {"default_samplerate": 48000.0, "index": 0},
        CallbackStop=CallbackStop,
        PortAudioError=RuntimeError,
    )
    return module, streams


def pull(stream: FakeStream, frames: int, blocks: int) -> tuple[np.ndarray, bool]:
    """Run the callback ``blocks`` times; the output, and whether it asked to stop."""
    out = []
    for _ in range(blocks):
        buf = np.full((frames, 1), 9.0, np.float32)
        try:
            stream.callback(buf, frames, None, None)
        except CallbackStop:
            out.append(buf[:, 0].copy())
            return np.concatenate(out), True
        out.append(buf[:, 0].copy())
    return np.concatenate(out), False


def test_chunks_of_any_size_play_without_gaps(monkeypatch):
    module, streams = fake_sd()
    monkeypatch.setattr(sp, "load_sounddevice", lambda: module)
    rng = np.random.default_rng(0)
    sizes = [1, 7, 256, 1000, 3, 4096, 333]
    chunks = [rng.uniform(-1, 1, n).astype(np.float32) for n in sizes]
    player = sp.StreamPlayer(None, 32000)
    for chunk in chunks:
        player.feed(chunk)
    (stream,) = streams  # one stream for the whole utterance
    assert stream.started and stream.kwargs["samplerate"] == 32000 and stream.kwargs["channels"] == 1
    player.finish()
    out, stopped = pull(stream, 256, 100)
    whole = np.concatenate(chunks)
    assert stopped and np.array_equal(out[: whole.size], whole)  # exactly the samples, in order
    assert not out[whole.size :].any()  # then silence to the block's end
    assert player.underruns == 0 and player.played_samples == whole.size
    assert player.first_sample_at is not None
    stream.finished()
    assert player.wait(1) and stream.closed


def test_an_underrun_is_silence_and_later_chunks_follow(monkeypatch):
    module, streams = fake_sd()
    monkeypatch.setattr(sp, "load_sounddevice", lambda: module)
    player = sp.StreamPlayer(None, 32000)
    player.feed(np.ones(100, np.float32))
    out, stopped = pull(streams[0], 64, 3)  # the queue runs dry: zeros, the stream keeps going
    assert not stopped and out[:100].all() and not out[100:].any() and player.underruns >= 1
    player.feed(np.full(10, 0.5, np.float32))
    player.finish()
    out, stopped = pull(streams[0], 64, 2)
    assert stopped and np.allclose(out[:10], 0.5) and not out[10:].any()


def test_stop_drops_the_queue_and_aborts(monkeypatch):
    module, streams = fake_sd()
    monkeypatch.setattr(sp, "load_sounddevice", lambda: module)
    player = sp.StreamPlayer(None, 32000)
    player.feed(np.ones(32000, np.float32))
    player.stop()
    assert streams[0].aborted and player.stopped and player.wait(0.1)
    player.feed(np.ones(10, np.float32))  # ignored after stop
    out, stopped = pull(streams[0], 64, 1) if not streams[0].closed else (np.zeros(64), True)
    assert stopped and not out.any()


def test_a_device_that_refuses_32k_gets_resampled_audio(monkeypatch):
    module, streams = fake_sd(accept_rate=False)
    monkeypatch.setattr(sp, "load_sounddevice", lambda: module)
    player = sp.StreamPlayer(None, 32000)
    for _ in range(4):
        player.feed(np.ones(8000, np.float32) * 0.25)
    player.finish()
    assert streams[0].kwargs["samplerate"] == 48000
    out, stopped = pull(streams[0], 1024, 200)
    assert stopped and abs(player.fed_samples - 48000) <= 64  # 1 s at 48 kHz
    assert np.allclose(out[2000:40000], 0.25, atol=0.02)


def test_speak_falls_back_to_a_file_when_the_output_cannot_open(tmp_path):
    class Broken:
        def __init__(self, *_a) -> None:
            self.first_sample_at = None

        def feed(self, chunk):
            raise sp.NoOutput("There is no audio output device.")

    pieces = [np.full(3200, 0.1, np.float32), np.full(1600, 0.2, np.float32)]
    utt = speak(iter(pieces), "Two pieces.", voice="v", out_dir=tmp_path, player_factory=Broken)
    assert not utt.played and utt.path is not None and utt.path.parent == tmp_path
    assert utt.audio.size == 4800 and "no audio output" in utt.note
    assert utt.path.name.endswith("-Two-pieces.wav")


def _need_pulse() -> None:
    for tool in ("pulseaudio", "parec"):
        if shutil.which(tool) is None or not tools_available():
            if os.environ.get("CI"):
                pytest.fail(
                    "pulseaudio / pulseaudio-utils are not installed (the CI script must install them)"
                )
            pytest.skip("pulseaudio is not installed")


@pytest.mark.timeout(120)
def test_streamed_chunks_reach_the_null_sink():
    _need_pulse()
    rng = np.random.default_rng(1)
    t = np.arange(32000) / 32000
    signal = (0.3 * np.sin(2 * np.pi * (200 + 600 * t) * t) + 0.05 * rng.standard_normal(t.size)).astype(
        np.float32
    )
    pieces = np.split(signal, [5000, 5001, 12000, 20000])  # uneven pieces, one of a single sample
    with virtual_microphone(32000) as mic:
        device = sp.default_output()
        assert device is not None, "the null sink should be an output device"
        recorder = SinkRecorder(mic)
        time.sleep(0.3)
        utt = speak(iter(pieces), "test", output=device.index)
        time.sleep(0.5)
        recorded = recorder.stop()
    assert utt.played and utt.first_audio_s is not None
    assert recorded.size > signal.size * 0.8
    # what was fed is what the sink got: each quarter second is found intact in the recording (a loaded
    # machine may make PulseAudio insert an underrun between them; gap-freeness is tested above)
    quarters = [best_correlation(recorded, q) for q in np.split(signal, 4)]
    assert sorted(quarters)[1] > 0.95, quarters
    energy = float(np.sum(recorded.astype(np.float64) ** 2) / np.sum(signal.astype(np.float64) ** 2))
    assert 0.8 < energy < 1.25, energy


@pytest.mark.timeout(180)
def test_say_play_without_a_device_writes_to_the_voice_and_prints_commands(tmp_path):
    from tiny_voice import REF_TEXT, build_pretrained, espeak, make_voice

    pretrained = build_pretrained(tmp_path / "pretrained")
    home = tmp_path / "studio"
    make_voice(home, "me", espeak(REF_TEXT, tmp_path / "ref.wav"))
    env = {**os.environ, "TIMBRE_PRETRAINED": str(pretrained), "HF_HUB_OFFLINE": "1",
           "PULSE_SERVER": f"unix:{tmp_path}/nothing", "TIMBRE_THREADS": "1"}  # fmt: skip
    out = subprocess.run(
        [sys.executable, "-m", "tui.cli", "--home", str(home), "say", "--voice", "me", "--play",
         "--max-steps", "12", "--device", "cpu", "Hello there. Bye now."],
        capture_output=True, text=True, timeout=170, env=env, cwd=Path(__file__).resolve().parents[2],
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    wavs = list((home / "voices" / "me" / "speak").glob("*.wav"))
    if wavs:  # no output device here (the usual case): the file and how to fetch it
        (wav,) = wavs
        assert "Hello-there" in wav.name and "scp " in out.stderr and "| play -t wav -" in out.stderr
    else:  # some output accepted it
        assert "played (" in out.stderr
    assert "first audio" in out.stderr
