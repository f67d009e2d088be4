"""Leaving Record: esc and h go Home (asking first while a take records); Home is in the 80-column key bar."""

from __future__ import annotations

import time

from rich.cells import cell_len
from tui_fakes import make_app, make_session, screen_text

from tui.screens.dialogs import ConfirmDialog
from tui.screens.home import HomeScreen
from tui.screens.record import RecordScreen

SIZE = (80, 24)


async def wait_until(pilot, condition, timeout: float = 30.0, what: str = "condition") -> None:
    """Poll ``condition`` between frames until it holds (a loaded machine can be slow)."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await pilot.pause(0.02)


async def open_record_from_home(app, pilot) -> RecordScreen:
    await wait_until(pilot, lambda: isinstance(app.screen, HomeScreen), what="Home")
    await pilot.press("enter")  # resume the only session
    await wait_until(pilot, lambda: isinstance(app.screen, RecordScreen), what="Record")
    screen = app.screen
    await wait_until(pilot, lambda: screen.phase == "ready", what="ready to record")
    return screen


async def test_escape_leaves_record_for_home(studio_home, audio):
    make_session(studio_home)
    app = make_app(studio_home, audio)
    async with app.run_test(size=SIZE) as pilot:
        await open_record_from_home(app, pilot)
        footer = screen_text(app).splitlines()[-1]
        assert cell_len(footer) <= 80
        assert "h Home" in footer and "q Quit" in footer and "Record/Stop" in footer
        await pilot.press("escape")
        await wait_until(pilot, lambda: isinstance(app.screen, HomeScreen), what="Home after esc")
        assert audio.recorders and audio.recorders[-1].closed  # the microphone was let go
        await open_record_from_home(app, pilot)
        await pilot.press("h")
        await wait_until(pilot, lambda: isinstance(app.screen, HomeScreen), what="Home after h")


async def test_escape_while_recording_asks_first(studio_home, audio):
    session = make_session(studio_home)
    app = make_app(studio_home, audio)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_record_from_home(app, pilot)
        await pilot.press("space")
        await wait_until(pilot, lambda: screen.phase == "recording", what="recording")
        await pilot.press("escape")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmDialog), what="the question")
        await pilot.press("n")  # stay
        await wait_until(pilot, lambda: app.screen is screen, what="back on Record")
        assert screen.phase == "recording"
        await pilot.press("escape")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmDialog), what="the question again")
        await pilot.press("y")  # stop, keep the take, leave
        await wait_until(pilot, lambda: isinstance(app.screen, HomeScreen), what="Home")
    assert session.take_path(0).exists()
