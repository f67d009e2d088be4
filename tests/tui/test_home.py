"""Pilot tests of the Home screen and the new-session dialog at 80x24."""

from __future__ import annotations

import json
import time
from pathlib import Path

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


async def wait_until(pilot, condition, timeout: float = 30.0, what: str = "condition") -> None:
    """Poll ``condition`` between frames until it holds (threads finish late on a loaded machine)."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await pilot.pause(0.02)


def record_notes(app: TimbreApp) -> list[str]:
    """Every notification message from now on (app._notifications drops them once they expire)."""
    said: list[str] = []
    notify = app.notify

    def recording(message: str, *args, **kwargs):
        said.append(str(message))
        return notify(message, *args, **kwargs)

    app.notify = recording  # type: ignore[method-assign]
    return said


async def new_session_dialog(app: TimbreApp, pilot) -> NewSessionDialog:
    """Press n on Home and return the dialog it opens (after a device scan and listing, in threads)."""
    await wait_until(pilot, lambda: isinstance(app.screen, HomeScreen), what="Home")
    await pilot.press("n")
    await wait_until(pilot, lambda: isinstance(app.screen, NewSessionDialog), what="the new-session dialog")
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
        await wait_until(pilot, lambda: isinstance(app.screen, RecordScreen), what="Record")
        screen = app.screen
        await wait_until(pilot, lambda: screen.phase == "room_tone", what="room tone")
        countdown = "ROOM TONE: stay quiet for 0.3 s"
        await wait_until(pilot, lambda: countdown in screen_text(app), what="the countdown")
        audio.room_tone_gate.set()
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert screen.phase == "consent"  # room tone first, then the consent statement (issue 14)
        assert "■ CONSENT" in screen_text(app)
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
        await wait_until(pilot, lambda: isinstance(app.screen, RecordScreen), what="Record")
        screen = app.screen
        assert isinstance(screen, RecordScreen)
        assert [t.text for t in screen.session.takes] == ["First line of mine.", "Second line of mine."]


async def test_escape_cancels_new_session(studio_home, audio):
    app = make_app(studio_home, audio)
    async with app.run_test(size=SIZE) as pilot:
        await new_session_dialog(app, pilot)
        await pilot.press("escape")
        await wait_until(pilot, lambda: isinstance(app.screen, HomeScreen), what="Home")
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


def espeak_wav(folder, name: str = "memo") -> object:
    """A short spoken sentence made with espeak-ng (about three seconds, 22.05 kHz)."""
    import shutil
    import subprocess

    assert shutil.which("espeak-ng"), "espeak-ng is needed (the test image installs it)"
    path = folder / f"{name}.wav"
    text = "This is a short voice memo that I recorded on my phone yesterday."
    subprocess.run(["espeak-ng", "-v", "en-us", "-s", "150", "-w", str(path), text], check=True)
    return path


def disabled_app(home) -> TimbreApp:
    message = "Recording is disabled: The PortAudio sound library is not installed."
    return TimbreApp(Studio.locate(home).ensure(), FakeAudio().services(message))


async def test_import_into_new_session_without_recording(studio_home, tmp_path):
    from tui.screens.dialogs import ImportDialog
    from tui.screens.review import ReviewScreen

    wav = espeak_wav(tmp_path)
    app = disabled_app(studio_home)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        text = screen_text(app)
        assert "press i to import" in text  # the empty state points to importing
        footer = text.splitlines()[-1]
        assert "i Import" in footer and "n New session" in footer and "q Quit" in footer
        titles = [c.title for c in app.get_system_commands(app.screen)]
        assert "Import (i)" in titles
        await pilot.press("i")
        await pilot.pause()
        dialog = app.screen
        assert isinstance(dialog, ImportDialog)
        assert all(cell_len(line) <= 80 for line in screen_text(app).splitlines())
        assert "Import audio files into a new session" in screen_text(app)
        dialog.query_one("#import-files", Input).value = str(wav)
        said = record_notes(app)
        shown = []
        show = dialog.show_progress
        dialog.show_progress = lambda *args: (shown.append(args), show(*args))
        await pilot.press("enter")
        await app.workers.wait_for_complete()
        for _ in range(100):
            await pilot.pause(0.05)
            if isinstance(app.screen, ReviewScreen):
                break
        screen = app.screen
        assert isinstance(screen, ReviewScreen)
        assert shown[0] == (0, 1, "memo.wav") and shown[-1] == (1, 1, "")  # progress from the worker
        await app.workers.wait_for_complete()
        await pilot.pause()
        ids = Studio.locate(studio_home).session_ids()
        assert ids == [screen.session.id]
        saved = json.loads((screen.session.dir / "session.json").read_text())
        assert saved["language"] == "en" and saved["script"] == "imported"
        assert saved["takes"] and all(t["source"] == "imported" for t in saved["takes"])
        assert all((screen.session.dir / "takes" / f"{t['id']}.wav").is_file() for t in saved["takes"])
        assert any("take(s) added to new session" in message for message in said)
        assert "Review · " + screen.session.id in screen_text(app)
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, HomeScreen) and screen.session.id in screen_text(app)


async def test_import_bad_path_says_why_and_creates_nothing(studio_home, tmp_path):
    from tui.screens.dialogs import ImportDialog

    silent = tmp_path / "silence.wav"
    import numpy as np
    import soundfile as sf

    sf.write(silent, np.zeros(16000 * 3, dtype=np.float32), 16000)
    app = disabled_app(studio_home)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("i")
        await pilot.pause()
        dialog = app.screen
        assert isinstance(dialog, ImportDialog)
        typed = f"{tmp_path / 'no-such-memo.wav'} {silent}"
        dialog.query_one("#import-files", Input).value = typed
        await pilot.press("enter")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert app.screen is dialog  # the dialog stays, with what was typed
        error = str(dialog.query_one("#import-error").render())
        assert "no-such-memo.wav does not exist" in error and "Nothing was imported" in error
        assert dialog.query_one("#import-files", Input).value == typed
        assert Studio.locate(studio_home).session_ids() == []
        await pilot.press("tab", "tab", "right", "space")  # the language buttons: choose Mandarin
        await pilot.pause()
        assert dialog.selected_language() == "zh" and "▶ chosen: Mandarin (zh)" in screen_text(app)
        # a file that exists but holds no speech: imported in the worker, then nothing is left behind
        dialog.query_one("#import-files", Input).value = str(silent)
        await pilot.press("enter")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert app.screen is dialog
        assert "No speech found in silence.wav" in str(dialog.query_one("#import-error").render())
        assert Studio.locate(studio_home).session_ids() == []
        assert not list(Studio.locate(studio_home).recordings.iterdir())
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, HomeScreen)


def test_import_audio_with_a_bad_transcripts_file_leaves_nothing(studio_home, tmp_path):
    import pytest

    from engine.audio.importer import TranscriptFileError
    from tui.screens.dialogs import import_audio, parse_paths, unreadable

    wav = espeak_wav(tmp_path)
    bad = tmp_path / "lines.txt"
    bad.write_bytes(b"\xff\xfe\xfa not utf-8")
    studio = Studio.locate(studio_home).ensure()
    with pytest.raises(TranscriptFileError, match="lines.txt"):
        import_audio(studio, None, [wav], transcripts=bad, language="zh")
    assert studio.session_ids() == [] and not list(studio.recordings.iterdir())
    assert parse_paths(f"'{wav}' ~/x.wav") == [wav, Path("~/x.wav").expanduser()]
    assert unreadable(wav) is None and "is a folder" in unreadable(tmp_path)
    good = tmp_path / "good.txt"
    good.write_text("This is a short voice memo.\n", encoding="utf-8")
    outcome = import_audio(studio, None, [wav], transcripts=good, language="zh")
    assert outcome.created and outcome.session.language == "zh" and len(outcome.take_ids) == 1
    assert outcome.session.takes[0].text == "This is a short voice memo."
    assert outcome.severity == "information" and "added to new session" in outcome.message()


async def test_no_input_device_is_said_on_home(studio_home, audio):
    app = TimbreApp(Studio.locate(studio_home).ensure(), audio.services(), room_tone_seconds=0.3)
    app.services.list_devices = lambda: []
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        text = screen_text(app)
        assert "NO MICROPHONE FOUND" in text and "press i to import audio files" in text
        assert "Audio ready" not in text
