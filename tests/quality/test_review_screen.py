"""Pilot tests of the Review screen at 80x24 (real engine, fake audio devices from tests/tui/tui_fakes.py)."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from pathlib import Path

import soundfile as sf
from textual.widgets import Input

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tui"))
from tui_fakes import FakeAudio, give_consent, make_app, screen_text  # noqa: E402

from engine.session import Session  # noqa: E402
from engine.studio import Studio  # noqa: E402
from tui.screens.dialogs import ImportDialog  # noqa: E402
from tui.screens.review import PreparedDialog, ReviewScreen, TextDialog  # noqa: E402

SIZE = (80, 24)


def review_session(home: Path, voices) -> Session:
    """Four recorded takes: clean, clipped, noisy (20 dB), and one without a transcript; plus room tone."""
    studio = Studio.locate(home).ensure()
    session = Session.create(
        studio,
        "en",
        ["The north wind.", "Clipped one.", "Noisy one.", ""],
        device="default",
        samplerate=32000,
        script_name="test",
        session_id="rev",
    )
    for index, clip in enumerate(["clean", "clipped", "noisy20", "clean2"]):
        shutil.copy(voices[clip], session.take_path(index))
        session.takes[index].status = "recorded"
        session.takes[index].seconds = sf.info(str(voices[clip])).duration
    shutil.copy(voices["roomtone"], session.room_tone_path())
    session.save()
    give_consent(session)  # the consent statement is on record, so Record opens at the chosen prompt
    return session


async def open_review(app, session, pilot) -> ReviewScreen:
    screen = app.open_screen("review", session=session)
    await pilot.pause()
    await screen.workers.wait_for_complete()
    await pilot.pause()
    return screen


async def wait_for_text(app, pilot, *wanted: str, timeout: float = 60.0) -> str:
    """The screen's text once every ``wanted`` piece shows (at the timeout: the asserts say what is missing).

    The analysis worker finishing is not the table being redrawn; on a busy machine that comes later.
    """
    deadline = time.monotonic() + timeout
    while True:
        text = screen_text(app)
        if all(piece in text for piece in wanted) or time.monotonic() > deadline:
            return text
        await pilot.pause(0.05)


async def wait_until(pilot, condition, timeout: float = 60.0, what: str = "condition") -> None:
    """Poll ``condition`` between frames until it holds (threads finish late on a loaded machine)."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await pilot.pause(0.02)


async def test_verdicts_report_and_summary_at_80x24(tmp_path, voices):
    session = review_session(tmp_path, voices)
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await open_review(app, session, pilot)
        assert isinstance(app.screen, ReviewScreen)
        text = await wait_for_text(
            app, pilot, "✓ ok", "✗ fail", "! warn", "Training uses accepted takes only", "✗ Clipping: 1 take"
        )
        assert "✓ ok" in text and "✗ fail" in text and "! warn" in text  # glyph and word, not colour
        assert "Review · rev" in text and "0 s for training of 60 s" in text  # nothing accepted yet
        assert "Training uses accepted takes only: 0 (0 s of speech) · 4 to review (a)" in text
        assert "✗ Clipping: 1 take (0002)" in text  # the worst problems of the session, fails first
        assert "✓ Duration" in text or "Duration" in text  # the selected take's report
        assert all(len(line) <= 80 for line in text.splitlines())
        await pilot.press("down")
        assert "✗ Clipping" in await wait_for_text(app, pilot, "✗ Clipping")
        stored = Session.load(Studio(tmp_path), "rev")
        assert [t.quality["verdict"] for t in stored.takes] == ["ok", "fail", "warn", "warn"]


async def test_accept_reject_and_edit_transcript(tmp_path, voices):
    session = review_session(tmp_path, voices)
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_review(app, session, pilot)
        await pilot.press("a")
        await pilot.press("down", "x")
        await pilot.press("down", "down", "e")
        await pilot.pause()
        assert isinstance(app.screen, TextDialog)
        await pilot.press(*"They agreed.")
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, ReviewScreen)
        stored = Session.load(Studio(tmp_path), "rev")
        assert [t.status for t in stored.takes] == ["accepted", "rejected", "recorded", "recorded"]
        assert stored.takes[3].text == "They agreed."
        assert stored.takes[3].quality["verdict"] == "ok"  # the missing-transcript warning is gone
        assert "⟨no text⟩" not in screen_text(app)
        assert screen.session.takes[3].text == "They agreed."


async def test_ab_playback_and_prepare_for_training(tmp_path, voices):
    session = review_session(tmp_path, voices)
    audio = FakeAudio()
    app = make_app(tmp_path, audio)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_review(app, session, pilot)
        await pilot.press("p")
        await pilot.pause()
        assert audio.played == [session.take_path(0)]
        await pilot.press("c")
        await screen.workers.wait_for_complete()
        await pilot.pause()
        assert audio.played[-1] == session.clean_path(0) and session.clean_path(0).is_file()
        await pilot.press("a", "down", "a", "down", "down", "a")  # 0001, 0002 (clipped), 0004 (no text)
        await pilot.pause()
        assert [t.status for t in screen.session.takes] == ["accepted", "accepted", "recorded", "accepted"]
        shown = []
        show = screen.show_progress
        screen.show_progress = lambda *args: (shown.append(args), show(*args))
        await pilot.press("t")
        await screen.workers.wait_for_complete()
        for _ in range(100):  # the outcome opens in a dialog once the worker reports
            await pilot.pause(0.05)
            if isinstance(app.screen, PreparedDialog):
                break
        assert isinstance(app.screen, PreparedDialog)
        assert screen.busy is None
        assert shown[0] == ("Cleaning", 0, 3) and shown[-1] == ("Cleaning", 3, 3)  # the accepted takes
        text = screen_text(app)
        assert "Prepared for training: 1 accepted take" in text
        assert "0002: failed the quality check (Clipping" in text  # accepted, and named, not vanished
        assert "0003: not reviewed: accept it to train on it" in text  # accepted takes only
        assert "0004: no transcript" in text
        await pilot.press("enter")
        await pilot.pause()
        assert app.screen is screen
        screen.busy = "preparing for training"
        await pilot.press("x")  # refused while busy: the UI answers, nothing changes
        assert screen.session.takes[3].status == "accepted"
        screen.busy = None
        stored = Session.load(Studio(tmp_path), "rev")
        assert stored.ready
        cleaned = sorted(p.name for p in (stored.dir / "clean").glob("*.wav"))
        assert cleaned == ["0001.wav"]
        manifest = (stored.dir / "clean" / "metadata.csv").read_text()
        assert manifest == (stored.dir / "metadata.csv").read_text() == "0001|The north wind.\n"
        assert "✓ ready for training" in screen_text(app)


async def test_import_action_adds_takes(tmp_path, voices):
    session = review_session(tmp_path, voices)
    app = make_app(tmp_path)
    said: list[str] = []  # app._notifications drops notes once they expire: keep every message
    notify = app.notify
    app.notify = lambda message, *a, **k: (said.append(str(message)), notify(message, *a, **k))[1]
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_review(app, session, pilot)
        await pilot.press("i")
        await pilot.pause()
        assert isinstance(app.screen, ImportDialog)
        assert "into session rev" in screen_text(app) and "Language" not in screen_text(app)
        app.screen.query_one("#import-files", Input).value = f"{voices['clean2']} {voices['silence']}"
        await pilot.press("enter")
        await app.workers.wait_for_complete()  # the dialog's import worker
        await pilot.pause()
        assert app.screen is screen  # one file was imported: the dialog closed
        await screen.workers.wait_for_complete()  # the analysis of the new take
        await pilot.pause()
        assert any("silence.wav: No speech found" in m for m in said)
        stored = Session.load(Studio(tmp_path), "rev")
        assert len(stored.takes) == 5 and stored.takes[4].source == "imported"
        assert stored.takes[4].quality is not None
        assert "0005" in await wait_for_text(app, pilot, "0005", "Take 0005")
        assert screen.index == 4  # the cursor moved to the first imported take, its report is shown
        assert "Take 0005" in screen_text(app)


async def test_rerecord_opens_the_record_screen(tmp_path, voices):
    from tui.screens.record import RecordScreen

    session = review_session(tmp_path, voices)
    audio = FakeAudio()
    app = make_app(tmp_path, audio)
    async with app.run_test(size=SIZE) as pilot:
        await open_review(app, session, pilot)
        await pilot.press("down", "r")
        await wait_until(pilot, lambda: isinstance(app.screen, RecordScreen), what="Record")
        assert app.screen.index == 1 and app.screen.session.takes[1].status == "pending"
        app.screen.dismiss()
        await wait_until(pilot, lambda: isinstance(app.screen, ReviewScreen), what="Review again")
        assert "○ to record" in await wait_for_text(app, pilot, "○ to record")


async def test_rerecord_opens_the_chosen_take_not_the_first_pending(tmp_path, voices):
    session = review_session(tmp_path, voices)
    session.set_status(0, "pending")  # an earlier prompt still waits to be recorded
    audio = FakeAudio()
    app = make_app(tmp_path, audio)
    async with app.run_test(size=SIZE) as pilot:
        await open_review(app, session, pilot)
        await pilot.press("down", "down", "r")
        from tui.screens.record import RecordScreen

        await wait_until(pilot, lambda: isinstance(app.screen, RecordScreen), what="Record")
        assert app.screen.index == 2 and "Prompt 3 of 4" in await wait_for_text(app, pilot, "Prompt 3 of 4")


async def test_rerecord_keeps_the_status_when_the_microphone_fails(tmp_path, voices):
    from engine.errors import AudioError

    session = review_session(tmp_path, voices)
    audio = FakeAudio()

    def broken(device, samplerate):
        raise AudioError("The microphone is gone.", "Plug it in.")

    audio.make_recorder = broken
    app = make_app(tmp_path, audio)
    said: list[str] = []  # app._notifications drops notes once they expire: keep every message
    notify = app.notify
    app.notify = lambda message, *a, **k: (said.append(str(message)), notify(message, *a, **k))[1]
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_review(app, session, pilot)
        await pilot.press("r")
        await wait_until(pilot, lambda: any("microphone is gone" in m for m in said), what="the error")
        assert app.screen is screen
        assert screen.session.takes[0].status == "recorded"


async def test_home_opens_review_with_v(tmp_path, voices):
    review_session(tmp_path, voices)
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("v")
        for _ in range(50):
            await pilot.pause(0.05)
            if isinstance(app.screen, ReviewScreen):
                break
        assert isinstance(app.screen, ReviewScreen) and app.screen.session.id == "rev"
        await pilot.press("escape")  # leave while the analysis worker is still running
        await pilot.pause()
        assert not isinstance(app.screen, ReviewScreen)
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert app.is_running
        await pilot.press("v")
        for _ in range(50):  # Home loads the session in a thread before pushing Review
            await pilot.pause(0.05)
            if isinstance(app.screen, ReviewScreen):
                break
        for _ in range(100):  # mounted, analysed and drawn
            await pilot.pause(0.05)
            if "✗ fail" in screen_text(app):
                break
        assert "✗ fail" in screen_text(app)


async def test_footer_shows_prepare_and_import_at_80_columns(tmp_path, voices):
    session = review_session(tmp_path, voices)
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await open_review(app, session, pilot)
        footer = screen_text(app).splitlines()[-1]
        keys = ("? Help", "a Accept", "x Reject", "e Edit", "p Play", "c Play clean", "t Prepare", "i Import")
        for item in (*keys, "h Back"):
            assert item in footer


def test_transcript_check_follows_the_text():
    from tui.screens.review import update_transcript_check

    quality = {
        "verdict": "ok",
        "checks": [
            {"key": "peak", "verdict": "ok"},
            {"key": "transcript", "verdict": "ok", "figure": "5 characters", "advice": "Has text."},
        ],
    }
    update_transcript_check(quality, "   ")
    assert quality["verdict"] == "warn" and quality["checks"][1]["figure"] == "missing"
    update_transcript_check(quality, " Hello ")
    assert quality["verdict"] == "ok" and quality["checks"][1]["figure"] == "5 characters"
    quality["checks"][0]["verdict"] = "fail"
    update_transcript_check(quality, "Hello")
    assert quality["verdict"] == "fail"  # the worst check still decides


def test_review_screen_module_stays_light():
    code = "import sys, tui.screens.review; print(any(m in sys.modules for m in ('torch', 'noisereduce')))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
