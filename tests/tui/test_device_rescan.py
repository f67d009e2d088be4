"""A microphone that appears after start is found without a restart (d on Home, and on starting a session).

The "microphone" is a private PulseAudio daemon (tests/virtual_mic.py) started after the app: PortAudio
keeps the device list it read at start, so only a re-scan can see it.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import pytest
from tui_fakes import screen_text

from engine.audio.devices import list_input_devices, probe_portaudio, rescan_devices
from engine.studio import Studio
from tui.app import TimbreApp
from tui.screens.home import HomeScreen
from tui.screens.new_session import NewSessionDialog
from tui.services import AudioServices

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from virtual_mic import start_virtual_microphone, tools_available  # noqa: E402

SIZE = (80, 24)
PULSE_VARS = ("PULSE_SERVER", "PULSE_SINK", "PULSE_SOURCE")


def _missing(what: str) -> None:
    """Skip on a developer machine without the tool; fail in CI, where .ci/run installs it."""
    if os.environ.get("CI"):
        pytest.fail(f"{what} is not installed (the CI script must install it)")
    pytest.skip(f"{what} is not installed")


@pytest.fixture
def no_pulse():
    """No PulseAudio reachable (another test's virtual microphone is hidden), restored afterwards."""
    if probe_portaudio() is not None:
        _missing("libportaudio2")
    if not tools_available():
        _missing("pulseaudio / pulseaudio-utils")
    saved = {var: os.environ.pop(var, None) for var in PULSE_VARS}
    os.environ["PULSE_SERVER"] = "unix:/nonexistent/timbre-test-no-pulse"  # and no autospawned daemon
    rescan_devices()
    started = []
    yield started
    for mic in started:
        mic.stop()
    for var, value in saved.items():
        if value is None:
            os.environ.pop(var, None)
        else:
            os.environ[var] = value
    rescan_devices()


def pulse_names() -> set[str]:
    return {d.name for d in list_input_devices() if d.name in ("pulse", "default")}


def plug_in_microphone(started: list) -> None:
    """Start the virtual microphone the way a person starts forwarding audio: PortAudio is not told."""
    mic = start_virtual_microphone(48000)
    started.append(mic)
    os.environ.update(mic.env)


async def wait_until(pilot, condition, timeout: float = 30.0, what: str = "condition") -> None:
    """Poll ``condition`` between frames until it holds (a loaded machine can be slow)."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await pilot.pause(0.02)


def real_app(home: Path) -> TimbreApp:
    return TimbreApp(Studio.locate(home).ensure(), AudioServices.real(None), room_tone_seconds=0.3)


def test_rescan_sees_a_microphone_started_later(no_pulse):
    before = pulse_names()
    assert before == set()
    plug_in_microphone(no_pulse)
    assert pulse_names() == set()  # PortAudio still lists what it saw at start: the bug
    rescan_devices()
    assert pulse_names() == {"pulse", "default"}
    default = next(d for d in list_input_devices() if d.is_default)
    assert default.max_input_channels >= 1


async def test_home_d_finds_the_microphone_without_a_restart(studio_home, no_pulse):
    app = real_app(studio_home)
    said: list[str] = []
    notify = app.notify
    app.notify = lambda message, *a, **k: (said.append(str(message)), notify(message, *a, **k))[1]
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, HomeScreen), what="Home")
        if not list_input_devices():  # a machine with no sound card at all (CI): Home says so
            await wait_until(pilot, lambda: "NO MICROPHONE FOUND" in screen_text(app), what="no mic")
            assert "Press d to look again" in screen_text(app)
        plug_in_microphone(no_pulse)
        await pilot.press("d")
        await wait_until(pilot, lambda: "✓ Audio ready" in screen_text(app), what="Audio ready", timeout=60)
        await wait_until(pilot, lambda: any("input device(s) found" in m for m in said), what="the note")
        assert pulse_names() == {"pulse", "default"}


async def test_starting_a_session_looks_for_devices_again(studio_home, no_pulse):
    app = real_app(studio_home)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, HomeScreen), what="Home")
        plug_in_microphone(no_pulse)
        await pilot.press("n")  # no d pressed: starting a session re-scans by itself
        await wait_until(
            pilot, lambda: isinstance(app.screen, NewSessionDialog), what="the dialog", timeout=60
        )
        names = {d.name for d in app.screen.devices}
        assert {"pulse", "default"} <= names
        await pilot.press("escape")
        await wait_until(pilot, lambda: isinstance(app.screen, HomeScreen), what="Home again")


async def test_f5_in_the_new_session_dialog_lists_devices_again(studio_home, audio):
    """With fake audio: the dialog's list follows what a re-scan finds."""
    from tui_fakes import FAKE_DEVICES

    from engine.audio.devices import InputDevice

    found = [FAKE_DEVICES[1]]
    scans: list[int] = []
    services = audio.services()
    services.list_devices = lambda: list(found)
    services.rescan_devices = lambda: scans.append(1)
    app = TimbreApp(Studio.locate(studio_home).ensure(), services, room_tone_seconds=0.3)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, HomeScreen), what="Home")
        await pilot.press("n")
        await wait_until(pilot, lambda: isinstance(app.screen, NewSessionDialog), what="the dialog")
        assert len(scans) == 1  # starting a session looked again
        dialog = app.screen
        assert "Headset" not in screen_text(app)
        found.append(InputDevice(7, "USB Headset", "ALSA", 1, 48000.0, False))
        await pilot.press("f5")
        await wait_until(pilot, lambda: len(dialog.devices) == 2, what="the new device")
        assert len(scans) == 2
        await wait_until(pilot, lambda: "[7] USB Headset" in screen_text(app), what="the new row")
        assert dialog.selected_device().is_default  # the default stays chosen
