"""Pilot tests of the Home screen and the new-session dialog at 80x24."""

from __future__ import annotations

import json

from rich.cells import cell_len
from textual.widgets import Input
from tui_fakes import FakeAudio, make_app, make_session, screen_text

from engine.studio import Studio
from tui.app import TimbreApp
from tui.screens.help import HelpScreen
from tui.screens.home import HomeScreen
from tui.screens.new_session import NewSessionDialog
from tui.screens.record import RecordScreen
from tui.screens.registry import SCREENS, available, register_screen, screen_class

SIZE = (80, 24)


async def new_session_dialog(app: TimbreApp, pilot) -> NewSessionDialog:
    """Press n on Home and return the dialog it opens."""
    await pilot.pause()
    await pilot.press("n")
    await pilot.pause()
    assert isinstance(app.screen, NewSessionDialog)
    return app.screen


async def test_home_lists_sessions_and_voices(studio_home, audio):
    first = make_session(studio_home, session_id="first")
    done = make_session(studio_home, ["One short line."], session_id="done")
    done.set_status(0, "skipped")
    done.save()
    voice = studio_home / "voices" / "my-voice"
    voice.mkdir(parents=True)
    (voice / "voice.json").write_text("{}")
    app = make_app(studio_home, audio)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, HomeScreen)
        text = screen_text(app)
        assert all(cell_len(line) <= 80 for line in text.splitlines())
        assert f"Studio: {studio_home}" in text
        assert first.id in text and "unfinished" in text and "0/3" in text
        assert done.id in text and "complete" in text
        assert "↷ complete, none kept" in text  # every prompt skipped: not shown as a ✓
        rows = [line for line in text.splitlines() if first.id in line or done.id in line]
        assert len(rows) == 2 and sum("▶" in row for row in rows) == 1  # the selection reads without colour
        await pilot.press("down")
        await pilot.pause()
        rows2 = [line for line in screen_text(app).splitlines() if first.id in line or done.id in line]
        assert [("▶" in r) for r in rows2] == ["▶" not in r for r in rows]
        assert "my-voice" in text
        assert "✓ Audio ready" in text
        assert "New session" in text.splitlines()[-1]


async def test_empty_studio_says_what_to_do(studio_home, audio):
    app = make_app(studio_home, audio)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        text = screen_text(app)
        assert "No sessions yet: press n" in text and "No voices yet" in text
        await pilot.press("enter")  # nothing to resume: stays home
        await pilot.pause()
        assert isinstance(app.screen, HomeScreen)


async def test_without_portaudio_recording_is_disabled_but_app_works(studio_home):
    message = "Recording is disabled: The PortAudio sound library is not installed."
    app = TimbreApp(
        Studio.locate(studio_home).ensure(),
        FakeAudio().services(f"{message} sudo apt-get install libportaudio2"),
    )
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        text = screen_text(app)
        words = " ".join(text.replace("▊", " ").replace("▎", " ").split())  # unwrap the bordered box
        assert "✗ RECORDING DISABLED" in text and "sudo apt-get install libportaudio2" in words
        await pilot.press("n")
        await pilot.pause()
        assert isinstance(app.screen, HomeScreen)
        assert any("libportaudio2" in n.message for n in app._notifications)
        await pilot.press("question_mark")  # the rest of the app still answers
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)


async def test_new_session_dialog_creates_session_and_records_room_tone(studio_home, audio):
    audio.room_tone_gate.clear()
    app = make_app(studio_home, audio)
    async with app.run_test(size=SIZE) as pilot:
        dialog = await new_session_dialog(app, pilot)
        assert isinstance(dialog, NewSessionDialog)
        text = screen_text(app)
        assert "Fake USB mic" in text and "(default)" in text and "English" in text
        assert all(cell_len(line) <= 80 for line in text.splitlines())
        dialog.query_one("#languages").highlighted = 1  # English
        dialog.query_one("#devices").highlighted = 0  # the USB mic
        await pilot.press("enter")
        await pilot.pause()
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, RecordScreen)
        assert screen.phase == "room_tone"
        assert "ROOM TONE: stay quiet for 0.3 s" in screen_text(app)
        audio.room_tone_gate.set()
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert screen.phase == "ready"
        session_dir = screen.session.dir
    saved = json.loads((session_dir / "session.json").read_text())
    assert saved["language"] == "en" and saved["device"] == "Fake USB mic"
    assert (session_dir / "room_tone.wav").exists()
    assert audio.recorders[0].device.name == "Fake USB mic" and audio.recorders[0].closed


async def test_new_session_choices_are_marked_without_colour(studio_home, audio):
    """The highlighted language and microphone carry a ▶, so the choice reads in monochrome."""
    app = make_app(studio_home, audio)
    async with app.run_test(size=SIZE) as pilot:
        dialog = await new_session_dialog(app, pilot)
        dialog.query_one("#languages").highlighted = 1  # English
        await pilot.pause()
        lines = screen_text(app).splitlines()
        marked = [line for line in lines if "▶" in line]
        assert len(marked) == 2  # one language, one microphone
        assert "▶ English" in marked[0] and "Mandarin" not in marked[0]
        assert "▶ [1] default" in marked[1]  # the default device is chosen first
        await pilot.press("up")  # the language list has the focus; Mandarin is above English
        await pilot.pause()
        assert "▶ Mandarin" in screen_text(app) and "▶ English" not in screen_text(app)
        assert dialog.selected_language() == "zh"


async def test_new_session_with_prompt_file_and_bad_file(studio_home, audio, tmp_path):
    prompts = tmp_path / "mine.txt"
    prompts.write_text("# my lines\nFirst line of mine.\n\nSecond line of mine.\n", encoding="utf-8")
    app = make_app(studio_home, audio)
    async with app.run_test(size=SIZE) as pilot:
        dialog = await new_session_dialog(app, pilot)
        dialog.query_one("#prompt-file", Input).value = str(tmp_path / "missing.txt")
        await pilot.press("enter")
        await pilot.pause()
        assert app.screen is dialog  # a clear error, the dialog stays
        assert "missing.txt" in str(dialog.query_one("#error").content)
        dialog.query_one("#prompt-file", Input).value = str(prompts)
        await pilot.press("enter")
        await pilot.pause()
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, RecordScreen)
        assert [t.text for t in screen.session.takes] == ["First line of mine.", "Second line of mine."]


async def test_escape_cancels_new_session(studio_home, audio):
    app = make_app(studio_home, audio)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("n")
        await pilot.pause()
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, HomeScreen)
        assert Studio.locate(studio_home).session_ids() == [] and audio.recorders == []


async def test_home_palette_and_quit(studio_home, audio):
    app = make_app(studio_home, audio)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        titles = [c.title for c in app.get_system_commands(app.screen)]
        assert {"New session (n)", "Resume (enter)", "Help (?)", "Quit (q)"} <= set(titles)
        await pilot.press("q")
        await pilot.pause()
    assert app.return_code == 0


async def test_a_registered_screen_gets_its_home_binding(studio_home, audio, tmp_path, monkeypatch):
    session = make_session(studio_home, session_id="to-review")
    app = make_app(studio_home, audio)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        monkeypatch.setitem(SCREENS, "review", "tui.screens.no_such_module:Nothing")
        assert "Review (v)" not in [c.title for c in app.get_system_commands(app.screen)]
        # stand in for the Review screen a later module adds: any screen taking session=
        monkeypatch.setitem(SCREENS, "review", "tui_fakes:SessionProbeScreen")
        app.screen.refresh_bindings()
        assert "Review (v)" in [c.title for c in app.get_system_commands(app.screen)]
        await pilot.press("v")
        await pilot.pause()
        assert type(app.screen).__name__ == "SessionProbeScreen" and app.screen.session.id == session.id


def test_screen_registry_is_extensible():
    assert screen_class("record") is RecordScreen and screen_class("home") is HomeScreen
    register_screen("home-again", "tui.screens.home:HomeScreen")
    try:
        assert available("home-again")
    finally:
        SCREENS.pop("home-again")
    assert not available("no-such-screen")
