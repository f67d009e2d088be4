"""Pilot tests: takes cut short (quit, crash, lost microphone) are marked, shown, announced and resumed;
progress counts speech, not silence."""

from __future__ import annotations

import json
import struct

import numpy as np
import pytest
import soundfile as sf
from tui_fakes import FakeAudio, make_app, make_session, screen_text

from engine.audio.recorder import TakeResult
from engine.session import Session
from engine.studio import Studio
from tui.screens.record import RecordScreen
from tui.screens.review import ReviewScreen

SIZE = (80, 24)
RATE = 16000


async def wait_for(pilot, condition, what: str, tries: int = 200) -> None:
    """Poll until ``condition()`` holds (the machine may be busy), then fail saying what never happened."""
    for _ in range(tries):
        if condition():
            return
        await pilot.pause(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def on_disk(session: Session) -> dict:
    return json.loads((session.dir / "session.json").read_text())


def speechy(lead_s: float, speech_s: float, trail_s: float) -> np.ndarray:
    rng = np.random.default_rng(3)
    x = rng.normal(0, 0.0005, int((lead_s + speech_s + trail_s) * RATE)).astype(np.float32)
    a, b = int(lead_s * RATE), int((lead_s + speech_s) * RATE)
    x[a:b] += (0.2 * rng.normal(size=b - a)).astype(np.float32)
    return x


def record_file(session: Session, index: int, x: np.ndarray, interrupted: str | None = None) -> None:
    path = session.take_path(index)
    sf.write(path, x, RATE, subtype="PCM_16")
    session.record_result(
        index, TakeResult(path, len(x) / RATE, len(x), RATE, 0, 0, -6.0), interrupted=interrupted
    )


def crashed_session(home) -> Session:
    """0001 accepted; 0002 was being recorded when the app crashed (a partial file); 0003 pending."""
    session = make_session(home, session_id="crash")
    record_file(session, 0, speechy(0.5, 2.0, 0.5))
    session.set_status(0, "accepted")
    partial = session.dir / "takes" / "0002.partial.wav"
    sf.write(partial, speechy(0.5, 1.0, 0.0), RATE, subtype="PCM_16", format="WAV")
    raw = bytearray(partial.read_bytes())  # sizes never filled in, as a crash leaves them
    raw[4:8] = struct.pack("<I", 0)
    at = raw.index(b"data")
    raw[at + 4 : at + 8] = struct.pack("<I", 0)
    partial.write_bytes(bytes(raw))
    return Session.load(Studio.locate(home), "crash")  # what the app's start-up repair does


async def open_record(app, audio: FakeAudio, session, pilot) -> RecordScreen:
    recorder = audio.make_recorder(None, session.samplerate)
    recorder.open()
    app.track_recorder(recorder)
    app.open_screen("record", session=session, recorder=recorder)
    await wait_for(pilot, lambda: isinstance(app.screen, RecordScreen), "the Record screen")
    await pilot.pause()
    return app.screen


async def test_record_resumes_on_the_recovered_take_and_says_so(studio_home, audio):
    session = crashed_session(studio_home)
    app = make_app(studio_home, audio)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_record(app, audio, session, pilot)
        assert screen.index == 1  # put on the take the crash cut short, not on the next pending one
        await wait_for(pilot, lambda: "CUT SHORT" in screen_text(app), "the cut-short state")
        text = screen_text(app)
        assert "Prompt 2 of 3" in text
        assert "◐ CUT SHORT" in text and "recovered after a crash" in text  # glyph and words, not colour
        assert "0002 ◐ cut short" in text  # the take list
        assert any("Cut short: take 0002 (recovered after a crash)" in n.message for n in app._notifications)
        await pilot.press("enter")  # kept as it is: the person's explicit word
        await wait_for(pilot, lambda: screen.index == 2, "the next prompt")
        assert on_disk(session)["takes"][1]["status"] == "accepted"
        assert on_disk(session)["takes"][1]["interrupted"] is None


@pytest.mark.parametrize("leave_key, confirm_key", [("q", "y"), ("h", "y")])
async def test_leaving_mid_take_marks_the_take_cut_short(studio_home, audio, leave_key, confirm_key):
    session = make_session(studio_home)
    app = make_app(studio_home, audio)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_record(app, audio, session, pilot)
        await pilot.press("space")
        await wait_for(pilot, lambda: screen.phase == "recording", "recording")
        await pilot.press(leave_key)
        await pilot.pause()
        await pilot.press(confirm_key)
        await wait_for(pilot, lambda: on_disk(session)["takes"][0]["status"] == "recorded", "the saved take")
    take = on_disk(session)["takes"][0]
    assert take["interrupted"] == "quit"
    stored = Session.load(Studio.locate(studio_home), session.id)
    included, excluded = stored.training_takes()
    assert not included and dict((t.id, why) for t, why in excluded)["0001"].startswith("cut short (")


async def test_closing_the_app_mid_take_marks_it_cut_short(studio_home, audio):
    session = make_session(studio_home)
    app = make_app(studio_home, audio)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_record(app, audio, session, pilot)
        await pilot.press("space")
        await wait_for(pilot, lambda: screen.phase == "recording", "recording")
        app.exit(0)  # closed without the question (a signal, the terminal going away)
        await pilot.pause()
    assert on_disk(session)["takes"][0]["interrupted"] == "quit"


async def test_device_lost_mid_take_marks_it_cut_short(studio_home, audio):
    session = make_session(studio_home)
    app = make_app(studio_home, audio)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_record(app, audio, session, pilot)
        await pilot.press("space")
        await wait_for(pilot, lambda: screen.phase == "recording", "recording")
        audio.recorders[-1].error = "The input device default sends no audio; it may have been unplugged."
        await wait_for(pilot, lambda: screen.phase == "lost", "the device-lost state")
    assert on_disk(session)["takes"][0]["interrupted"] == "device"


async def test_review_announces_cut_short_takes_and_selects_them(studio_home, audio):
    session = crashed_session(studio_home)
    app = make_app(studio_home, audio)
    async with app.run_test(size=SIZE) as pilot:
        app.open_screen("review", session=session)
        await wait_for(pilot, lambda: isinstance(app.screen, ReviewScreen), "the Review screen")
        screen = app.screen
        await wait_for(pilot, lambda: "◐ cut short" in screen_text(app), "the cut-short status")
        await wait_for(pilot, lambda: screen.index == 1, "the cursor on the cut-short take")
        text = screen_text(app)
        assert "Take 0002 · ◐ cut short" in text  # its report says so, and what to do
        assert "◐ Cut short (recovered after a" in text
        assert "1 cut short" in text  # the training line
        assert any("Cut short: take 0002" in n.message for n in app._notifications)
        await pilot.press("e")
        await wait_for(pilot, lambda: not isinstance(app.screen, ReviewScreen), "the transcript dialog")
        await pilot.press("ctrl+u", *"Please read", "enter")  # trimmed to what was said
        await wait_for(pilot, lambda: "◐ cut short" not in screen_text(app), "the mark to go")
        assert on_disk(session)["takes"][1]["interrupted"] is None
        assert on_disk(session)["takes"][1]["text"] == "Please read"


async def test_record_progress_counts_speech_not_silence(studio_home, audio):
    session = make_session(studio_home)
    record_file(session, 0, speechy(2.0, 3.0, 2.0))  # 7 s take, 3 s of speech
    session.set_status(0, "accepted")
    app = make_app(studio_home, audio)
    async with app.run_test(size=SIZE) as pilot:
        await open_record(app, audio, session, pilot)
        speech = session.takes[0].speech_seconds
        assert 3.0 <= speech <= 3.6
        await wait_for(pilot, lambda: f"Accepted {speech:5.1f} s of 60 s" in screen_text(app), "progress")
        assert "Accepted   7.0 s" not in screen_text(app)
