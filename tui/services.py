"""What the screens need from the audio engine, behind one injectable object.

The app receives an :class:`AudioServices`; tests pass fakes (a recorder with scripted meter values),
``tui.launch`` passes :meth:`AudioServices.real`. The engine modules are imported inside the functions
so that building the app stays cheap.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from engine.audio.devices import InputDevice
    from engine.audio.recorder import MeterState, TakeResult


class RecorderLike(Protocol):
    """The part of ``engine.audio.recorder.Recorder`` the screens use."""

    samplerate: int
    device: Any

    def open(self) -> None: ...
    def start_take(self, path: Path) -> None: ...
    def stop_take(self) -> TakeResult: ...
    def cancel_take(self) -> None: ...
    def meter(self) -> MeterState: ...
    def close(self) -> None: ...


DeviceSpec = Any  # InputDevice | int | str | None


@dataclass
class AudioServices:
    """Audio entry points used by the TUI; ``portaudio_error`` set means recording is disabled."""

    portaudio_error: str | None
    list_devices: Callable[[], list[InputDevice]]
    make_recorder: Callable[[DeviceSpec, int | None], RecorderLike]
    record_room_tone: Callable[[RecorderLike, Path, float], Any]
    play: Callable[[Path], None]
    stop_playback: Callable[[], None]
    rescan_devices: Callable[[], None] = lambda: None  # look for devices again (nothing may be open)

    @property
    def can_record(self) -> bool:
        """True when PortAudio loaded (devices may still be missing)."""
        return self.portaudio_error is None

    @classmethod
    def real(cls, portaudio_error: str | None) -> AudioServices:
        """Services backed by ``engine.audio`` (imported lazily, on first use)."""
        return cls(
            portaudio_error=portaudio_error,
            list_devices=_list_devices,
            make_recorder=_make_recorder,
            record_room_tone=_record_room_tone,
            play=_play,
            stop_playback=_stop_playback,
            rescan_devices=_rescan_devices,
        )

    @classmethod
    def disabled(cls, message: str) -> AudioServices:
        """Services for a machine without PortAudio: every audio call raises with ``message``."""

        def refuse(*_args: Any, **_kwargs: Any) -> Any:
            from engine.errors import AudioError

            raise AudioError(message, "sudo apt-get install libportaudio2")

        return cls(message, refuse, refuse, refuse, refuse, lambda: None)


def _list_devices() -> list[InputDevice]:
    from engine.audio.devices import list_input_devices

    return list_input_devices()


def _rescan_devices() -> None:
    from engine.audio.devices import rescan_devices
    from engine.audio.playback import stop_playback

    stop_playback()  # re-initialising PortAudio would cut a playing take off anyway
    rescan_devices()


def _make_recorder(device: DeviceSpec, samplerate: int | None) -> RecorderLike:
    from engine.audio.recorder import Recorder

    return Recorder(device=device, samplerate=samplerate)


def _record_room_tone(recorder: RecorderLike, path: Path, seconds: float) -> Any:
    from engine.audio.recorder import record_room_tone

    return record_room_tone(recorder, path, seconds)  # type: ignore[arg-type]


def _play(path: Path) -> None:
    from engine.audio.playback import play_file

    play_file(path, blocking=False)


def _stop_playback() -> None:
    from engine.audio.playback import stop_playback

    stop_playback()
