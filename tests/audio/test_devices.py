"""Device listing, selection and every typed error case, against real PortAudio/PulseAudio."""

from __future__ import annotations

import ctypes.util
import dataclasses
import os
import sys
import time

import pytest
from virtual_mic import reinit_sounddevice, virtual_microphone

from engine.audio import devices
from engine.audio.devices import (
    DeviceLost,
    DeviceNotFound,
    InputDevice,
    NoInputDevice,
    PortAudioMissing,
    UnsupportedSettings,
    check_input_settings,
    default_input_device,
    list_input_devices,
    probe_portaudio,
    resolve_input_device,
)
from engine.audio.recorder import Recorder
from engine.errors import AudioError


@pytest.fixture
def portaudio_missing(monkeypatch):
    """Make ``import sounddevice`` fail the way it does without libportaudio2 (the real code path)."""
    monkeypatch.delitem(sys.modules, "sounddevice", raising=False)
    monkeypatch.setattr(ctypes.util, "find_library", lambda name: None)


@pytest.fixture
def no_audio_server():
    """PulseAudio unreachable and no sound card: PortAudio sees no devices at all."""
    saved = {k: os.environ.get(k) for k in ("PULSE_SERVER", "PULSE_SOURCE", "PULSE_SINK")}
    os.environ["PULSE_SERVER"] = "unix:/nonexistent/timbre-test/native"
    reinit_sounddevice()
    yield
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value
    reinit_sounddevice()


def test_probe_is_quiet_when_portaudio_loads():
    assert probe_portaudio() is None


def test_missing_portaudio_library(portaudio_missing):
    message = probe_portaudio()
    assert message is not None
    assert "PortAudio" in message and "sudo apt-get install libportaudio2" in message
    with pytest.raises(PortAudioMissing) as info:
        list_input_devices()
    assert "PortAudio library not found" in info.value.message
    assert info.value.hint == devices.PORTAUDIO_HINT
    with pytest.raises(PortAudioMissing):
        Recorder()
    assert isinstance(info.value, AudioError)


def test_sounddevice_package_missing(monkeypatch):
    monkeypatch.setitem(sys.modules, "sounddevice", None)  # import raises ImportError
    with pytest.raises(PortAudioMissing) as info:
        devices.load_sounddevice()
    assert "sounddevice" in info.value.message and "pip install" in info.value.hint


def test_no_input_device(no_audio_server):
    assert list_input_devices() == []
    with pytest.raises(NoInputDevice) as info:
        default_input_device()
    assert "No microphone" in info.value.message and "SSH" in info.value.hint
    with pytest.raises(NoInputDevice):
        resolve_input_device("pulse")
    with pytest.raises(NoInputDevice):
        Recorder()


def test_lists_the_virtual_microphone(mic):
    found = list_input_devices()
    names = [d.name for d in found]
    assert "pulse" in names and "default" in names
    defaults = [d for d in found if d.is_default]
    assert len(defaults) == 1 and defaults[0].name == "default"
    assert default_input_device() == defaults[0]
    for d in found:
        assert d.hostapi == "ALSA" and d.max_input_channels >= 1 and d.default_samplerate > 0
        assert str(d.index) in d.label()


def test_select_by_index_and_name(mic):
    pulse = resolve_input_device("puls")
    assert pulse.name == "pulse"
    assert resolve_input_device(pulse.index) == pulse
    assert resolve_input_device(str(pulse.index)) == pulse
    assert resolve_input_device("DEFAULT").name == "default"  # exact, case-insensitive
    assert resolve_input_device(None).is_default


def test_named_device_not_found(mic):
    with pytest.raises(DeviceNotFound) as info:
        resolve_input_device("Blue Yeti")
    assert "'Blue Yeti'" in info.value.message
    assert "pulse" in info.value.message and "default" in info.value.message  # lists what exists
    assert "timbre devices" in info.value.hint
    with pytest.raises(DeviceNotFound) as info:
        resolve_input_device(99)
    assert "99" in info.value.message


def test_ambiguous_name(mic):
    with pytest.raises(DeviceNotFound) as info:
        resolve_input_device("u")  # matches "pulse" and "default"
    assert "several" in info.value.message


def test_unsupported_sample_rate(mic):
    device = resolve_input_device(None)
    with pytest.raises(UnsupportedSettings) as info:
        check_input_settings(device, 100)
    assert "100 Hz" in info.value.message and "44100" in info.value.hint
    with pytest.raises(UnsupportedSettings):
        Recorder(samplerate=100)
    check_input_settings(device, 48000)  # the rate we use is fine


def test_unsupported_channel_count(mic):
    device = resolve_input_device(None)
    with pytest.raises(UnsupportedSettings) as info:
        check_input_settings(device, 48000, channels=device.max_input_channels + 1)
    assert "channel" in info.value.message
    # a device that claims more channels than PortAudio accepts: PortAudio's own refusal is mapped too
    boastful = dataclasses.replace(device, max_input_channels=64)
    with pytest.raises(UnsupportedSettings) as info:
        check_input_settings(boastful, 48000, channels=device.max_input_channels + 1)
    assert "input channel" in info.value.message


def test_device_lost_mid_take(mic, tmp_path):
    with virtual_microphone(rate=48000) as doomed:
        rec = Recorder(samplerate=48000)
        try:
            assert rec.wait_ready()
            final = tmp_path / "0001.wav"
            rec.start_take(final)
            time.sleep(0.5)
            doomed.kill()
            deadline = time.monotonic() + 10
            while rec.meter().error is None and time.monotonic() < deadline:
                time.sleep(0.05)
            state = rec.meter()
            assert state.error is not None and "input" in state.error
            assert not state.recording
            with pytest.raises(DeviceLost) as info:
                rec.stop_take()
            assert str(final) in info.value.message  # what was captured is kept and named
            result = info.value.result
            assert result is not None and result.path == final and final.exists()
            assert 0.3 <= result.seconds <= 1.5
            with pytest.raises(DeviceLost):
                rec.start_take(tmp_path / "0002.wav")  # no new take on a dead device
        finally:
            rec.close()
    assert probe_portaudio() is None


def test_stalled_stream_counts_as_lost(mic):
    rec = Recorder(samplerate=48000)
    try:
        assert rec.wait_ready()
        with rec._lock:  # the watchdog, as if the last block had come 10 s ago
            rec._last_block_t -= 10.0
            rec._check_stream(time.monotonic())
        state = rec.meter()
        assert state.error is not None and "sends no audio" in state.error
    finally:
        rec.close()


def test_input_device_is_frozen():
    d = InputDevice(0, "x", "ALSA", 1, 48000.0, True)
    with pytest.raises(dataclasses.FrozenInstanceError):
        d.name = "y"  # type: ignore[misc]


def test_cli_devices(mic, capsys):
    from tui.cli import main

    assert main(["devices"]) == 0
    out = capsys.readouterr().out
    default_line = [line for line in out.splitlines() if line.startswith(" *")]
    assert len(default_line) == 1 and "default" in default_line[0]
    assert main(["devices", "--json"]) == 0
    import json

    rows = json.loads(capsys.readouterr().out)
    assert {r["name"] for r in rows} >= {"pulse", "default"}


def test_cli_devices_without_any(no_audio_server, capsys):
    from tui.cli import main

    assert main(["devices"]) == 2
    assert "No microphone" in capsys.readouterr().err


def test_cli_devices_without_portaudio(portaudio_missing, capsys):
    from tui.cli import main

    assert main(["devices"]) == 2
    assert "libportaudio2" in capsys.readouterr().err


def _tone_file(path, seconds=1.0, rate=48000, amp=0.5):
    import numpy as np
    import soundfile as sf

    t = np.arange(int(seconds * rate)) / rate
    sf.write(path, (amp * np.sin(2 * np.pi * 330 * t)).astype("float32"), rate, subtype="PCM_16")
    return path


def test_playback_without_output_names_the_file(no_audio_server, tmp_path):
    from engine.audio.playback import NoOutputDevice, output_available, play_file

    wav = _tone_file(tmp_path / "take.wav", 0.2)
    assert not output_available()
    with pytest.raises(NoOutputDevice) as info:
        play_file(wav)
    assert "no audio output" in info.value.message
    assert str(wav.resolve()) in info.value.hint and "scp" in info.value.hint


def test_playback_without_portaudio(portaudio_missing, tmp_path):
    from engine.audio.playback import NoOutputDevice, output_available, play_file, stop_playback

    wav = _tone_file(tmp_path / "take.wav", 0.2)
    assert not output_available()
    with pytest.raises(NoOutputDevice) as info:
        play_file(wav)
    assert str(wav.resolve()) in info.value.hint
    stop_playback()  # harmless


def test_playback_reaches_the_speaker(mic, tmp_path):
    """Played through the default output (the null sink), the tone comes back on its monitor."""
    import numpy as np
    import soundfile as sf

    from engine.audio.playback import output_available, play_file, stop_playback

    assert output_available()
    wav = _tone_file(tmp_path / "tone.wav", 0.6)
    rec = Recorder(samplerate=48000)
    try:
        assert rec.wait_ready()
        rec.start_take(tmp_path / "heard.wav")
        play_file(wav, blocking=True)
        time.sleep(0.3)
        result = rec.stop_take()
    finally:
        rec.close()
    heard, _ = sf.read(result.path, dtype="float32")
    assert float(np.max(np.abs(heard))) == pytest.approx(0.5, abs=0.05)
    long_wav = _tone_file(tmp_path / "long.wav", 5.0)
    start = time.monotonic()
    play_file(long_wav)  # non-blocking
    stop_playback()
    assert time.monotonic() - start < 2.0


def test_playback_of_a_missing_file(tmp_path):
    from engine.audio.playback import play_file

    with pytest.raises(AudioError, match="Cannot read"):
        play_file(tmp_path / "nope.wav")
