"""The Timbre app: a screen stack starting at Home, screens opened by name from the registry.

Nothing here imports torch, transformers, noisereduce or librosa; the audio engine is reached through
:class:`tui.services.AudioServices`, which imports it on first use.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from textual import on
from textual.app import App, SystemCommand
from textual.screen import Screen

from engine.studio import Studio
from tui.messages import SessionSaved
from tui.screens.base import TimbreScreen, explain
from tui.screens.registry import screen_class
from tui.services import AudioServices, RecorderLike


class TimbreApp(App[int]):
    """Record, review, train and speak; this process stays light (no torch before the first frame)."""

    TITLE = "Timbre"
    SUB_TITLE = "clone your voice"
    CSS_PATH = "app.tcss"
    ENABLE_COMMAND_PALETTE = True

    def __init__(
        self,
        studio: Studio,
        services: AudioServices,
        *,
        native_log_path: Path | None = None,
        on_first_frame: Callable[[TimbreApp], Any] | None = None,
        room_tone_seconds: float = 3.0,
    ) -> None:
        super().__init__()
        self.studio = studio
        self.services = services
        self.native_log_path = native_log_path
        self.room_tone_seconds = room_tone_seconds
        self.last_session_id: str | None = None
        self._on_first_frame = on_first_frame
        self._recorders: list[RecorderLike] = []

    def get_default_screen(self) -> Screen:
        return screen_class("home")()

    def open_screen(self, name: str, /, **kwargs: Any) -> Screen:
        """Create the screen registered as ``name`` with ``kwargs`` and push it."""
        screen = screen_class(name)(**kwargs)
        self.push_screen(screen)
        return screen

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        if isinstance(screen, TimbreScreen):
            yield from screen.palette_commands()
        yield from super().get_system_commands(screen)

    def refuse_recording(self) -> bool:
        """True (after saying why, under the title 'Recording is disabled') when PortAudio is missing."""
        problem = self.services.portaudio_error
        if problem:
            reason = problem.removeprefix("Recording is disabled: ")
            self.notify(reason, title="Recording is disabled", severity="error", timeout=10)
        return bool(problem)

    async def open_recorder(self, device: Any, samplerate: int | None, *, fallback: bool = False) -> Any:
        """Create, open and track a recorder in a thread; on failure say why and return None.

        With ``fallback`` a named device that cannot be opened is replaced by the default microphone.
        """
        from engine.errors import TimbreError

        make = self.services.make_recorder

        def build(spec: Any) -> RecorderLike:
            recorder = make(spec, samplerate)
            recorder.open()
            return recorder

        try:
            try:
                recorder = await asyncio.to_thread(build, device)
            except TimbreError as exc:
                if not (fallback and device is not None):
                    raise
                self.notify(f"{exc.message} Using the default microphone instead.", severity="warning")
                recorder = await asyncio.to_thread(build, None)
        except TimbreError as exc:
            self.notify(explain(exc), title="Microphone", severity="error", timeout=10)
            return None
        self.track_recorder(recorder)
        return recorder

    def track_recorder(self, recorder: RecorderLike) -> None:
        """Remember an open recorder so that it is closed when the app exits."""
        if recorder not in self._recorders:
            self._recorders.append(recorder)

    def release_recorder(self, recorder: RecorderLike) -> None:
        """Close ``recorder`` (errors ignored: the device may already be gone)."""
        if recorder in self._recorders:
            self._recorders.remove(recorder)
        try:
            recorder.close()
        except Exception:  # closing a lost device must not stop the app
            self.log.warning("closing the recorder failed")

    async def action_quit(self) -> None:
        """ctrl+q: quit, letting the active screen ask first (Record does while a take runs).

        Pressed again while that question is open, it quits at once (the take in progress is saved).
        """
        screen_quit = getattr(self.screen, "action_quit", None)
        if screen_quit is not None:
            result = screen_quit()
            if result is not None:
                await result
            return
        self.exit(0)

    def on_ready(self) -> None:
        if self._on_first_frame is not None:
            self._on_first_frame(self)

    def on_unmount(self) -> None:
        for recorder in list(self._recorders):
            self.release_recorder(recorder)

    @on(SessionSaved)
    def remember_session(self, message: SessionSaved) -> None:
        self.last_session_id = message.session_id
