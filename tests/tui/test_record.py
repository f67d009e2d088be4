"""Pilot tests of the Record screen at 80x24 with a fake recorder (deterministic meter values)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
import soundfile as sf
from rich.cells import cell_len
from tui_fakes import FakeAudio, give_consent, make_app, make_session, screen_text

from engine.audio.playback import NoOutputDevice
from engine.session import Session
from engine.studio import Studio
from tui.app import TimbreApp
from tui.screens.dialogs import ConfirmDialog
from tui.screens.help import HelpScreen
from tui.screens.record import RecordScreen
from tui.services import AudioServices
from tui.widgets.meter import LevelMeter

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from virtual_mic import tools_available, virtual_microphone  # noqa: E402

SIZE = (80, 24)


async def open_record(app, audio: FakeAudio, session, pilot):
    recorder = audio.make_recorder(None, session.samplerate)
    recorder.open()
    app.track_recorder(recorder)
    app.open_screen("record", session=session, recorder=recorder)
    await pilot.pause()
    await pilot.pause()
    assert isinstance(app.screen, RecordScreen)
    return app.screen, recorder


def on_disk(session) -> dict:
    return json.loads((session.dir / "session.json").read_text())


async def test_layout_fits_80x24(studio_home, audio):
    session = make_session(studio_home)
    app = make_app(studio_home, audio)
    async with app.run_test(size=SIZE) as pilot:
        screen, _ = await open_record(app, audio, session, pilot)
        text = screen_text(app)
        lines = text.splitlines()
        assert len(lines) == 24 and all(cell_len(line) <= 80 for line in lines)
        assert "Prompt 1 of 3" in text
        assert "The quick brown fox jumps over the lazy dog." in text
        assert "■ READY" in text
        assert "-18.0 dBFS peak" in text and "-12.0 dBFS hold" in text
        assert "-60" in text and "-6" in text  # the dBFS scale
        assert "Accepted   0.0 s of 60 s" in text
        assert "0001 ○ pending" in text and "0003 ○ pending" in text
        assert "Record/Stop" in lines[-1]  # the footer
        for item in ("? Help", "⏎ Accept", "r Re-record", "p Play", "s Skip", "b Back", "h Home", "q Quit"):
            assert item in lines[-1]  # every main key fits 80 columns


async def test_three_takes_by_keys(studio_home, audio):
    session = make_session(studio_home)
    app = make_app(studio_home, audio)
    async with app.run_test(size=SIZE) as pilot:
        screen, recorder = await open_record(app, audio, session, pilot)
        for _ in range(3):
            await pilot.press("space")
            await pilot.pause()
            assert screen.phase == "recording"
            assert "● REC" in screen_text(app)
            await pilot.press("space")
            await pilot.pause()
            assert screen.phase == "recorded"
            assert "◆ RECORDED 2.5 s" in screen_text(app)
            await pilot.press("enter")
            await pilot.pause()
        assert screen.phase == "complete"
        assert "SESSION COMPLETE: 7.5 s of 60 s accepted" in screen_text(app)
        assert "Accepted   7.5 s of 60 s" in screen_text(app)
    saved = on_disk(session)
    assert [t["status"] for t in saved["takes"]] == ["accepted"] * 3
    for index in range(3):
        info = sf.info(session.take_path(index))
        assert abs(info.duration - 2.5) < 0.01
    metadata = (session.dir / "metadata.csv").read_text(encoding="utf-8").splitlines()
    assert len(metadata) == 3 and metadata[0].startswith("0001|The quick")
    assert recorder.closed  # released when the app ended


async def test_skipping_every_prompt_is_not_called_complete(studio_home, audio):
    session = make_session(studio_home)
    app = make_app(studio_home, audio)
    async with app.run_test(size=SIZE) as pilot:
        screen, _ = await open_record(app, audio, session, pilot)
        await pilot.press("s", "s", "s")
        await pilot.pause()
        assert screen.phase == "complete"
        text = screen_text(app)
        assert "NOTHING ACCEPTED: every prompt was skipped" in text and "SESSION COMPLETE" not in text
        assert not any("Session complete" in n.message for n in app._notifications)


async def test_room_tone_first_with_countdown(studio_home, audio):
    session = make_session(studio_home, room_tone=False)
    audio.room_tone_gate.clear()
    app = make_app(studio_home, audio)
    async with app.run_test(size=SIZE) as pilot:
        screen, _ = await open_record(app, audio, session, pilot)
        assert screen.phase == "room_tone"
        text = screen_text(app)
        assert "ROOM TONE: stay quiet" in text
        await pilot.press("space")  # refused while the room is being recorded
        await pilot.pause()
        assert screen.phase == "room_tone"
        audio.room_tone_gate.set()
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert screen.phase == "ready"
    assert audio.room_tones == [session.room_tone_path()]
    assert session.room_tone_path().exists()


async def test_clipping_and_overflow_shown_as_text(studio_home, audio, monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    session = make_session(studio_home)
    app = make_app(studio_home, audio)
    assert app.no_color  # Textual renders monochrome: the states below must be words and glyphs
    async with app.run_test(size=SIZE) as pilot:
        screen, recorder = await open_record(app, audio, session, pilot)
        await pilot.press("space")
        recorder.clipping, recorder.clip_count, recorder.overflow_count = True, 3, 2
        recorder.level_dbfs = recorder.hold_dbfs = 0.0
        await pilot.pause(0.15)
        text = screen_text(app)
        assert "● REC" in text
        assert "CLIP ×3: too loud: move back or lower the gain" in text
        assert "OVERFLOW ×2" in text
        assert "0.0 dBFS peak" in text
        await pilot.press("space")
        await pilot.pause()
        text = screen_text(app)
        assert "◆ RECORDED" in text and "CLIP ×3" in text and "OVERFLOW ×2" in text
    take = on_disk(session)["takes"][0]
    assert (take["status"], take["clip_count"], take["overflow_count"]) == ("recorded", 3, 2)


@pytest.mark.parametrize(
    ("level", "expected"),
    [(-50.0, "QUIET (peak -50.0 dBFS): move closer"), (-0.5, "LOUD (peak -0.5 dBFS)"), (-12.0, None)],
)
async def test_take_level_advice_after_recording(studio_home, audio, level, expected):
    """A finished take that is too quiet or nearly clipping says so in words; a good level says nothing."""
    session = make_session(studio_home)
    app = make_app(studio_home, audio)
    async with app.run_test(size=SIZE) as pilot:
        screen, recorder = await open_record(app, audio, session, pilot)
        recorder.level_dbfs = level
        await pilot.press("space")
        await pilot.pause()
        await pilot.press("space")
        await pilot.pause()
        assert screen.phase == "recorded"
        warning = screen.warning_text()
        if expected is None:
            assert warning == ""
        else:
            assert expected in warning and expected in screen_text(app)


async def test_meter_is_polled_continuously(studio_home, audio):
    session = make_session(studio_home)
    app = make_app(studio_home, audio)
    async with app.run_test(size=SIZE) as pilot:
        screen, recorder = await open_record(app, audio, session, pilot)
        meter = app.screen.query_one(LevelMeter)
        before, calls_before, start = meter.updates, recorder.meter_calls, time.monotonic()
        await pilot.pause(0.5)
        elapsed = time.monotonic() - start
        assert meter.updates - before >= 5  # a 30 Hz timer; exact rates are for bench_tui
        assert recorder.meter_calls - calls_before == meter.updates - before
        recorder.level_dbfs = -6.0
        await pilot.pause(0.1)
        assert meter.peak_dbfs == -6.0
        assert elapsed > 0


async def test_skip_back_rerecord_and_play(studio_home, audio):
    session = make_session(studio_home)
    app = make_app(studio_home, audio)
    async with app.run_test(size=SIZE) as pilot:
        screen, recorder = await open_record(app, audio, session, pilot)
        await pilot.press("enter")  # nothing recorded: refused
        await pilot.pause()
        assert screen.index == 0 and screen.take.status == "pending"
        await pilot.press("s")
        await pilot.pause()
        assert screen.index == 1 and on_disk(session)["takes"][0]["status"] == "skipped"
        await pilot.press("b")
        await pilot.pause()
        assert screen.index == 0 and "↷ SKIPPED" in screen_text(app)
        await pilot.press("space", "r")  # r during a take discards it and starts again
        await pilot.pause()
        assert recorder.cancelled == 1 and screen.phase == "recording"
        await pilot.press("space", "p")
        await pilot.pause()
        assert audio.played == [session.take_path(0)]
        audio.play_error = NoOutputDevice(session.take_path(0))
        await pilot.press("p")
        await pilot.pause()
        # no speaker (e.g. over SSH): the message names the file so it can be copied and played elsewhere
        assert any(
            "no audio output" in n.message and str(session.take_path(0).resolve()) in n.message
            for n in app._notifications
        )


@pytest.mark.parametrize("quit_key, confirm_key", [("q", "y"), ("ctrl+q", "ctrl+q")])
async def test_quit_while_recording_asks_and_keeps_the_take(studio_home, audio, quit_key, confirm_key):
    """q asks first (y confirms); ctrl+q asks too, and a second ctrl+q quits at once."""
    session = make_session(studio_home)
    app = make_app(studio_home, audio)
    async with app.run_test(size=SIZE) as pilot:
        screen, recorder = await open_record(app, audio, session, pilot)
        await pilot.press("space", quit_key)
        await pilot.pause()
        assert isinstance(app.screen, ConfirmDialog)  # not gone mid-take without a word
        await pilot.press("n")
        await pilot.pause()
        assert app.screen is screen and screen.phase == "recording"
        await pilot.press(quit_key)
        await pilot.pause()
        await pilot.press(confirm_key)
        await pilot.pause()
        await pilot.pause()
    assert app.return_code == 0
    assert on_disk(session)["takes"][0]["status"] == "recorded"
    assert session.take_path(0).exists()


async def test_device_lost_mid_take_keeps_partial(studio_home, audio):
    session = make_session(studio_home)
    app = make_app(studio_home, audio)
    async with app.run_test(size=SIZE) as pilot:
        screen, recorder = await open_record(app, audio, session, pilot)
        await pilot.press("space")
        await pilot.pause()
        recorder.error = "The input device default sends no audio; it may have been unplugged."
        await pilot.pause(0.2)
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert screen.phase == "lost"
        text = screen_text(app)
        assert "✗ DEVICE LOST" in text and "partial take (2.5 s) was kept" in text
        # moving on keeps the lost state in mind; the next space opens a fresh recorder and records
        await pilot.press("enter")
        await pilot.pause()
        assert screen.index == 1 and on_disk(session)["takes"][0]["status"] == "accepted"
        await pilot.press("space")
        await pilot.pause()
        assert len(audio.recorders) == 2 and screen.phase == "recording"
        assert recorder.closed
    take = on_disk(session)["takes"][0]
    assert take["status"] == "accepted" and abs(take["seconds"] - 2.5) < 0.01


async def test_cjk_prompt_wraps_within_80_columns(studio_home, audio):
    long_zh = "我们今天在这里读一些句子，请用正常的语速和音量读出来。" * 3
    session = make_session(studio_home, [long_zh, "第二句。"], language="zh")
    app = make_app(studio_home, audio)
    async with app.run_test(size=SIZE) as pilot:
        await open_record(app, audio, session, pilot)
        lines = screen_text(app).splitlines()
        assert all(cell_len(line) <= 80 for line in lines)
        box = [line for line in lines if line.startswith("│")]
        inner = "".join(line.strip("│ ") for line in box)
        assert long_zh in inner  # every character shown, in order, across wrapped lines
        assert len([line for line in box if line.strip("│ ")]) >= 2


async def test_help_and_palette_list_every_key(studio_home, audio):
    session = make_session(studio_home)
    app = make_app(studio_home, audio)
    async with app.run_test(size=SIZE) as pilot:
        screen, _ = await open_record(app, audio, session, pilot)
        titles = [command.title for command in app.get_system_commands(screen)]
        for wanted in (
            "Record/Stop (space)",
            "Accept (enter)",
            "Re-record (r)",
            "Play (p)",
            "Skip (s)",
            "Back (b)",
            "Help (?)",
            "Quit (q)",
        ):
            assert wanted in titles
        ids = {binding.id for binding in screen.screen_bindings()}
        assert {
            "record.toggle",
            "record.accept",
            "record.rerecord",
            "record.play",
            "record.skip",
            "record.back",
            "record.quit",
            "help",
        } <= ids
        await pilot.press("f1")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        text = screen_text(app)
        assert "space" in text and "Record/Stop" in text and "next prompt" in text and "ctrl+p" in text
        assert "h, esc" in text  # Home answers to both keys
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is screen
        # a palette command runs the screen action
        command = next(c for c in app.get_system_commands(screen) if c.title == "Record/Stop (space)")
        await command.callback()
        await pilot.pause()
        assert screen.phase == "recording"


async def test_resume_from_home_continues_at_next_pending(studio_home, audio):
    session = make_session(studio_home)
    session.set_status(0, "skipped")
    session.save()
    app = make_app(studio_home, audio)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("enter")
        await pilot.pause()
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, RecordScreen)
        assert screen.index == 1 and "Prompt 2 of 3" in screen_text(app)
        assert audio.recorders and audio.recorders[0].opened
        await pilot.press("h")
        await pilot.pause()
        assert not isinstance(app.screen, RecordScreen)
        assert audio.recorders[0].closed
    reloaded = Session.load(Studio.locate(studio_home), session.id)
    assert reloaded.takes[0].status == "skipped"


async def test_resume_falls_back_to_the_default_microphone(studio_home, audio):
    """The session's microphone is gone: resuming says so and records with the default one."""
    from engine.errors import AudioError

    session = make_session(studio_home)
    make = audio.make_recorder

    def only_default(device, samplerate):
        if device is not None:
            raise AudioError(f"The microphone {device!r} is not connected.", "Plug it in.")
        return make(device, samplerate)

    audio.make_recorder = only_default
    app = make_app(studio_home, audio)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("enter")
        for _ in range(20):
            await pilot.pause(0.05)
            if isinstance(app.screen, RecordScreen):
                break
        assert isinstance(app.screen, RecordScreen) and app.screen.session.id == session.id
        assert len(audio.recorders) == 1 and audio.recorders[0].opened
        messages = [n.message for n in app._notifications]
        assert any("not connected" in m and "default microphone instead" in m for m in messages)


async def test_real_microphone_lost_mid_take(studio_home, tmp_path):
    """The real recorder on a virtual microphone whose daemon is killed mid-take."""
    if not tools_available() or shutil.which("espeak-ng") is None:
        if os.environ.get("CI"):  # .ci/run installs them: missing there is a failure
            pytest.fail("pulseaudio or espeak-ng is not installed")
        pytest.skip("pulseaudio or espeak-ng is not installed")
    speech = tmp_path / "speech.wav"
    subprocess.run(
        ["espeak-ng", "-w", str(speech), "Keep talking while the microphone goes away."], check=True
    )
    with virtual_microphone(48000) as mic:
        services = AudioServices.real(None)
        recorder = services.make_recorder(None, None)
        recorder.open()
        studio = Studio.locate(studio_home).ensure()
        session = Session.create(
            studio, "en", ["One.", "Two."], device=None, samplerate=recorder.samplerate, script_name="t"
        )
        give_consent(session)  # this test is about a prompt's take: the consent step is done
        app = TimbreApp(studio, services, room_tone_seconds=0.5)
        async with app.run_test(size=SIZE) as pilot:
            app.track_recorder(recorder)
            app.open_screen("record", session=session, recorder=recorder)
            await pilot.pause()
            screen = app.screen
            for _ in range(100):  # room tone first (0.5 s)
                if screen.phase == "ready":
                    break
                await pilot.pause(0.1)
            assert screen.phase == "ready"
            mic.play(speech, wait=False)
            await pilot.press("space")
            await pilot.pause(1.0)
            assert screen.phase == "recording"
            mic.kill()
            for _ in range(150):
                if screen.phase == "lost":
                    break
                await pilot.pause(0.1)
            assert screen.phase == "lost"
            text = screen_text(app)
            assert "✗ DEVICE LOST" in text and "was kept" in text
    take = json.loads((session.dir / "session.json").read_text())["takes"][0]
    assert take["status"] == "recorded" and take["seconds"] > 0.5
    assert sf.info(session.take_path(0)).duration == pytest.approx(take["seconds"], abs=0.05)


async def test_leaving_during_room_tone_discards_it(studio_home, audio):
    session = make_session(studio_home, room_tone=False)
    audio.room_tone_gate.clear()
    app = make_app(studio_home, audio)
    async with app.run_test(size=SIZE) as pilot:
        screen, recorder = await open_record(app, audio, session, pilot)
        assert screen.phase == "room_tone"
        await pilot.press("h")
        await pilot.pause()
        assert not isinstance(app.screen, RecordScreen)
        assert recorder.cancelled == 1 and recorder.closed
        audio.room_tone_gate.set()
    assert not session.room_tone_path().exists()  # recorded again when the session is resumed
