"""Home's voices list at 80x24: columns, make a voice from a session (m → Speak), rename, delete, export."""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import soundfile as sf
from rich.cells import cell_len
from textual.widgets import Input
from tui_fakes import make_app, make_session, screen_text

from tui.screens.home import HomeScreen
from tui.screens.speak import SpeakScreen
from tui.widgets.voices import VoicesTable

SIZE = (80, 24)


async def wait_until(pilot, condition, timeout: float = 60.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        await pilot.pause(0.05)
    raise AssertionError(f"timed out waiting for {what}; screen:\n{screen_text(pilot.app)}")


def session_with_takes(home: Path, seconds: tuple[float, ...] = (5.0, 6.5)):
    session = make_session(home, [f"Sentence {i + 1} for the voice." for i in range(len(seconds))],
                           session_id="sess")  # fmt: skip
    for i, s in enumerate(seconds):
        t = np.arange(int(s * 16000)) / 16000
        sf.write(session.take_path(i), (0.3 * np.sin(2 * np.pi * 200 * t)).astype(np.float32), 16000)
        session.takes[i].seconds = s
        session.takes[i].status = "recorded"
        session.set_status(i, "accepted")
    consent_on_record(session)
    return session


def consent_on_record(session) -> None:
    """A voice needs the speaker's consent statement on record (issue 14): espeak-ng reads it."""
    import subprocess

    from engine.consent import import_file, pending_text

    wav = session.dir / "consent-source.wav"
    subprocess.run(["espeak-ng", "-w", str(wav), pending_text(session)], check=True, timeout=30)
    import_file(session, wav)


def write_voice(home: Path, name: str, **extra) -> None:
    folder = home / "voices" / name
    folder.mkdir(parents=True)
    sf.write(folder / "reference.wav", np.zeros(16000 * 4, np.float32), 16000)
    ref = {"wav": "reference.wav", "text": "你好。"}
    data = {
        "name": name,
        "version": "v2",
        "language": "zh",
        "reference": ref,
        "created": 1767225600.0,
        **extra,
    }
    (folder / "voice.json").write_text(json.dumps(data, ensure_ascii=False))


async def test_voices_list_snapshot_80x24(studio_home, audio):
    write_voice(studio_home, "ana")
    write_voice(studio_home, "bo-tuned", weights={"gpt": "gpt.safetensors", "sovits": "sovits.safetensors"},
                training={"data_seconds": 75.0})  # fmt: skip
    app = make_app(studio_home, audio)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, HomeScreen) and "ana" in screen_text(app))
        await wait_until(pilot, lambda: "s Speak" in screen_text(app).splitlines()[-1], what="key bar")
        lines = screen_text(app).splitlines()
        assert all(cell_len(line) <= 80 for line in lines)
        header = next(line for line in lines if "Voice" in line and "Kind" in line)
        for column in ("Lang", "Created", "Ref", "Trained"):
            assert column in header
        ana = next(line for line in lines if "ana" in line and "zero-shot" in line)
        assert "zh" in ana and "zero-shot v2" in ana and "4.0s" in ana and "-" in ana
        tuned = next(line for line in lines if "bo-tuned" in line)
        assert "fine-tuned v2" in tuned and "75.0s" in tuned
        assert "2026-01-01" in ana or "2025-12-31" in ana  # local date of the stored time
        assert "s Speak" in lines[-1]


async def test_make_voice_from_session_opens_speak(studio_home, audio):
    session = session_with_takes(studio_home)
    app = make_app(studio_home, audio)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, HomeScreen) and session.id in screen_text(app))
        await pilot.press("m")
        await wait_until(pilot, lambda: app.screen.query(Input), what="name dialog")
        box = app.screen.query_one(Input)
        assert box.value == "voice-sess"
        box.value = "mine"
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, SpeakScreen), what="Speak")
        assert app.screen.voice_name == "mine"
        voice = json.loads((studio_home / "voices" / "mine" / "voice.json").read_text())
        assert voice["source"]["session"] == "sess" and voice["source"]["take"] in ("0001", "0002")
        await wait_until(
            pilot, lambda: app.screen.state in ("missing", "error", "ready"), what="load outcome"
        )
        await pilot.press("escape")
        await wait_until(pilot, lambda: isinstance(app.screen, HomeScreen), what="Home again")
        assert "mine" in screen_text(app)


async def test_rename_export_and_delete_from_the_list(studio_home, audio):
    write_voice(studio_home, "ana")
    write_voice(studio_home, "keep")
    app = make_app(studio_home, audio)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, HomeScreen) and "ana" in screen_text(app))
        table = app.screen.query_one(VoicesTable)
        table.focus()
        await pilot.pause()
        assert table.selected_name() == "ana"
        await pilot.press("r")
        await wait_until(pilot, lambda: app.screen.query(Input), what="rename dialog")
        app.screen.query_one(Input).value = "../evil"
        await pilot.press("enter")
        await wait_until(pilot, lambda: (studio_home / "voices" / "evil").exists(), what="renamed, sanitised")
        assert not (studio_home / "evil").exists() and not (studio_home / "voices" / "ana").exists()
        await wait_until(pilot, lambda: "evil" in screen_text(app))
        table.focus()
        table.move_cursor(row=table.get_row_index("evil"))
        await pilot.press("e")
        await wait_until(
            pilot, lambda: (studio_home / "voices" / "evil" / "export" / "evil.ref.wav").exists()
        )
        await pilot.press("x")
        await wait_until(pilot, lambda: "cannot be undone" in screen_text(app), what="confirmation")
        await pilot.press("enter")  # enter keeps it
        await pilot.pause()
        assert (studio_home / "voices" / "evil").exists()
        table.focus()
        await pilot.press("x")
        await wait_until(pilot, lambda: "cannot be undone" in screen_text(app), what="confirmation")
        await pilot.press("y")
        await wait_until(pilot, lambda: not (studio_home / "voices" / "evil").exists(), what="deleted")
        assert (studio_home / "voices" / "keep" / "voice.json").is_file()
