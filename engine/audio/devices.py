"""Input devices: PortAudio probing, listing, selection and the typed errors a person can act on.

``sounddevice`` is imported in exactly one place (``load_sounddevice``) so that a missing
PortAudio library becomes one clear ``PortAudioMissing`` error everywhere.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from engine.errors import AudioError

log = logging.getLogger(__name__)

PORTAUDIO_HINT = "Install it with: sudo apt-get install libportaudio2   (then start Timbre again)"
SOUNDDEVICE_HINT = "Reinstall Timbre's dependencies: .venv/bin/pip install -e .   (or: make run)"
_NO_DEVICE_TEXT = "Error querying device -1"


class PortAudioMissing(AudioError):
    """The PortAudio library (or the sounddevice package) cannot be loaded."""

    default_hint = PORTAUDIO_HINT


class NoInputDevice(AudioError):
    """There is no capture device at all."""

    default_hint = (
        "Plug in a microphone, or over SSH forward your laptop's PulseAudio (see README, 'Over SSH'). "
        "You can still import recordings and use everything else."
    )


class DeviceNotFound(AudioError):
    """A device asked for by index or name matches nothing (or too many)."""


class UnsupportedSettings(AudioError):
    """The device refuses the sample rate or channel count."""


class DeviceLost(AudioError):
    """The device disappeared or its stream died while recording."""

    default_hint = "Check the microphone connection (or the SSH audio forward), then re-record the take."

    def __init__(self, message: str, hint: str | None = None, result: Any = None) -> None:
        super().__init__(message, hint)
        self.result = result  # the TakeResult of the audio saved before the loss, if any


@dataclass(frozen=True)
class InputDevice:
    """One capture device as PortAudio lists it."""

    index: int
    name: str
    hostapi: str
    max_input_channels: int
    default_samplerate: float
    is_default: bool

    def label(self) -> str:
        """A one-line description for lists and logs."""
        mark = " (default)" if self.is_default else ""
        return (
            f"[{self.index}] {self.name} — {self.hostapi}, {self.max_input_channels} ch, "
            f"{self.default_samplerate:g} Hz{mark}"
        )


@contextmanager
def quiet_stderr(target: str = os.devnull) -> Iterator[None]:
    """Redirect file descriptor 2 (C-level chatter from ALSA/PortAudio) to ``target`` for the block."""
    try:
        sys.stderr.flush()
    except (AttributeError, ValueError):
        pass
    try:
        saved = os.dup(2)
    except OSError:  # no fd 2 at all: nothing to protect
        yield
        return
    try:
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            os.dup2(fd, 2)
        finally:
            os.close(fd)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def load_sounddevice() -> ModuleType:
    """Import sounddevice, turning a missing PortAudio library into ``PortAudioMissing``."""
    module = sys.modules.get("sounddevice")
    if module is not None:
        return module
    try:
        with quiet_stderr():
            import sounddevice
    except OSError as exc:
        raise PortAudioMissing(f"The PortAudio sound library is not installed ({exc}).") from exc
    except ImportError as exc:
        raise PortAudioMissing(
            f"The Python package 'sounddevice' cannot be imported ({exc}).", SOUNDDEVICE_HINT
        ) from exc
    return sounddevice


def probe_portaudio() -> str | None:
    """None when PortAudio loads; otherwise a person-facing message (cheap, silences C stderr)."""
    try:
        load_sounddevice()
    except PortAudioMissing as exc:
        return f"Recording is disabled: {exc.message} {exc.hint}"
    return None


_RESCAN_LOCK = threading.Lock()


def rescan_devices() -> None:
    """Make PortAudio look for devices again: one plugged in (or forwarded over SSH) after start.

    PortAudio reads the device list only when it initialises, so this terminates and re-initialises
    it. That closes every open stream: call it only while nothing records or plays.
    """
    sd = load_sounddevice()
    with _RESCAN_LOCK, quiet_stderr():
        levels = max(1, int(sd._initialized))
        try:
            while sd._initialized > 0:
                sd._terminate()
        except sd.PortAudioError as exc:  # it was not initialised after all: initialising is enough
            log.debug("PortAudio terminate before re-scan failed: %s", exc)
            sd._initialized = 0
        try:
            while sd._initialized < levels:
                sd._initialize()
        except sd.PortAudioError as exc:
            raise AudioError(
                f"The sound system could not be started again: {exc}",
                "Start Timbre again; if it persists, check the sound setup ('timbre devices').",
            ) from exc
    log.info("audio devices re-scanned")


def _is_no_device_error(exc: BaseException) -> bool:
    return bool(exc.args) and _NO_DEVICE_TEXT in str(exc.args[0])


def _to_device(sd: ModuleType, info: Any, hostapis: Any, default_index: int) -> InputDevice:
    return InputDevice(
        index=int(info["index"]),
        name=str(info["name"]),
        hostapi=str(hostapis[info["hostapi"]]["name"]),
        max_input_channels=int(info["max_input_channels"]),
        default_samplerate=float(info["default_samplerate"]),
        is_default=int(info["index"]) == default_index,
    )


def _default_input_index(sd: ModuleType) -> int:
    try:
        index = sd.default.device[0]
    except Exception:  # noqa: BLE001 - any failure means "no default"
        return -1
    return int(index) if index is not None else -1


def list_input_devices() -> list[InputDevice]:
    """Every device that can capture audio; the default input is marked ``is_default``."""
    sd = load_sounddevice()
    with quiet_stderr():
        try:
            infos = sd.query_devices()
            hostapis = sd.query_hostapis()
        except sd.PortAudioError as exc:
            if _is_no_device_error(exc):
                return []
            raise AudioError(f"Could not list the audio devices: {exc}") from exc
    default_index = _default_input_index(sd)
    return [_to_device(sd, info, hostapis, default_index) for info in infos if info["max_input_channels"] > 0]


def _no_input() -> NoInputDevice:
    return NoInputDevice("No microphone or other input device was found.")


def default_input_device() -> InputDevice:
    """The system's default input device (or the first input if no default is set)."""
    devices = list_input_devices()
    if not devices:
        raise _no_input()
    for device in devices:
        if device.is_default:
            return device
    return devices[0]


def _device_list_text(devices: list[InputDevice]) -> str:
    if not devices:
        return "There are no input devices."
    return "Input devices: " + "; ".join(f"{d.index}: {d.name}" for d in devices)


def resolve_input_device(spec: int | str | None) -> InputDevice:
    """Pick a device: None = default, an int (or digits) = index, other text = name substring."""
    if spec is None or (isinstance(spec, str) and not spec.strip()):
        return default_input_device()
    devices = list_input_devices()
    if not devices:
        raise _no_input()
    hint = "Run 'timbre devices' to see them, then pass --device with an index or part of a name."
    if isinstance(spec, int) or (isinstance(spec, str) and spec.strip().isdigit()):
        index = int(spec)
        for device in devices:
            if device.index == index:
                return device
        raise DeviceNotFound(f"There is no input device number {index}. {_device_list_text(devices)}", hint)
    query = spec.strip().casefold()
    exact = [d for d in devices if d.name.casefold() == query]
    if exact:
        return exact[0]
    matches = [d for d in devices if query in d.name.casefold()]
    if len(matches) == 1:
        return matches[0]
    if not matches:
        raise DeviceNotFound(f"No input device matches {spec!r}. {_device_list_text(devices)}", hint)
    raise DeviceNotFound(f"{spec!r} matches several input devices. {_device_list_text(matches)}", hint)


def check_input_settings(device: InputDevice, samplerate: int, channels: int = 1) -> None:
    """Raise UnsupportedSettings unless ``device`` can capture float32 at this rate and channel count."""
    if channels < 1 or channels > device.max_input_channels:
        raise UnsupportedSettings(
            f"{device.name} cannot record {channels} channel(s); it offers {device.max_input_channels}.",
            "Timbre records mono (1 channel); choose another device with --device.",
        )
    sd = load_sounddevice()
    try:
        with quiet_stderr():
            sd.check_input_settings(
                device=device.index, channels=channels, dtype="float32", samplerate=samplerate
            )
    except sd.PortAudioError as exc:
        raise portaudio_error(exc, device, samplerate, channels) from exc
    except ValueError as exc:
        raise UnsupportedSettings(f"{device.name} refuses {samplerate} Hz / {channels} ch: {exc}") from exc


def portaudio_error(
    exc: BaseException, device: InputDevice, samplerate: int, channels: int = 1
) -> AudioError:
    """Map a PortAudioError raised while checking or opening a stream to a typed Timbre error."""
    text = str(exc.args[0]) if exc.args else str(exc)
    code = exc.args[1] if len(exc.args) > 1 else None
    if _is_no_device_error(exc):
        return _no_input()
    if code == -9997 or "sample rate" in text.lower():
        return UnsupportedSettings(
            f"{device.name} does not support recording at {samplerate} Hz.",
            f"Leave the rate unset to use the device's own rate ({device.default_samplerate:g} Hz).",
        )
    if code == -9998 or "channels" in text.lower():
        return UnsupportedSettings(
            f"{device.name} does not support {channels} input channel(s).",
            "Choose another input device with --device.",
        )
    if code in (-9985, -9996, -9999) or "unavailable" in text.lower():
        return DeviceLost(f"The input device {device.name} is not available: {text}")
    return AudioError(f"The input device {device.name} failed: {text}")
