"""The consent step (issue 14): the statement read aloud before the first prompt, on Record and Review.

Pilot tests at 80x24 with the fake recorder; its ``wave`` makes a speech-like consent take (tone
bursts between pauses) so the quality check finds speech in it.
"""

from __future__ import annotations

import json
import time

from rich.cells import cell_len
from tui_fakes import make_app, make_session, screen_text, speech_like

from engine import consent
from tui.screens.dialogs import ConfirmDialog
from tui.screens.home import HomeScreen
from tui.screens.record import RecordScreen
from tui.screens.review import ReviewScreen

SIZE = (80, 24)
PROMPTS_ZH = ["今天天气很好。", "我们一起去公园散步吧。"]


async def wait_until(pilot, condition, timeout: float = 30.0, what: str = "condition") -> None:
    """Poll ``condition`` between frames until it holds (a loaded machine can be slow)."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await pilot.pause(0.02)


def words(app) -> str:
    """The screen's text with borders and line breaks folded into single spaces."""
    text = screen_text(app)
    for ch in "█▀▄▊▎│┃─━╭╮╰╯┏┓┗┛":
        text = text.replace(ch, " ")
    return " ".join(text.split())


async def open_record(app, audio, session, pilot, **kwargs) -> RecordScreen:
    recorder = audio.make_recorder(None, session.samplerate)
    recorder.open()
    app.track_recorder(recorder)
    app.open_screen("record", session=session, recorder=recorder, **kwargs)
    await wait_until(pilot, lambda: isinstance(app.screen, RecordScreen), what="Record")
    return app.screen


def on_disk(session) -> dict:
    return json.loads((session.dir / "session.json").read_text(encoding="utf-8"))


async def record_consent(pilot, screen) -> None:
    """space, read, space: the statement recorded (speech-like) and checked."""
    screen.recorder.wave = speech_like(int(screen.session.samplerate))
    await pilot.press("space")
    await wait_until(pilot, lambda: screen.phase == "recording", what="recording the statement")
    await pilot.press("space")
    await wait_until(pilot, lambda: screen.phase == "consent_recorded", what="the consent take")
    screen.recorder.wave = None  # the prompts' takes are plain tones again


async def test_consent_statement_in_english_recorded_accepted_never_trained(studio_home, audio):
    session = make_session(studio_home, consent=False)
    app = make_app(studio_home, audio)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_record(app, audio, session, pilot)
        await wait_until(pilot, lambda: screen.phase == "consent", what="the consent step")
        await wait_until(pilot, lambda: "Record/Stop" in screen_text(app), what="the key bar")
        text = screen_text(app)
        lines = text.splitlines()
        assert len(lines) == 24 and all(cell_len(line) <= 80 for line in lines)
        flat = words(app)
        assert "Consent statement: read it aloud, never trained on" in flat and "■ CONSENT" in text
        assert "Prompt 1 of 3" not in text  # the statement comes before the first prompt
        statement = consent.pending_text(session)
        assert session.id in statement and consent.today() in statement
        assert "I, the speaker of this recording, agree" in flat and session.id in flat
        assert "synthetic voice of me" in flat and consent.today() in flat
        assert on_disk(session)["consent"]["text"] == statement  # stored before recording
        await pilot.press("s")  # cannot be skipped
        await pilot.pause()
        assert screen.phase == "consent"
        await pilot.press("enter")  # nothing to accept yet
        await pilot.pause()
        assert screen.phase == "consent"

        await record_consent(pilot, screen)
        assert "◆ CONSENT RECORDED" in screen_text(app)
        path = consent.consent_path(session)
        assert path.is_file() and screen.recorder.saved[-1] == path
        await pilot.press("p")
        await wait_until(pilot, lambda: audio.played and audio.played[-1] == path, what="playback")
        await pilot.press("r")  # record it again
        await wait_until(pilot, lambda: screen.phase == "recording", what="re-recording")
        screen.recorder.wave = speech_like(int(session.samplerate), bursts=6)
        await pilot.press("space")
        await wait_until(pilot, lambda: screen.phase == "consent_recorded", what="the second consent take")
        await pilot.press("enter")
        await wait_until(pilot, lambda: screen.phase == "ready", what="the first prompt")
        assert "Prompt 1 of 3" in screen_text(app) and "The quick brown fox" in words(app)

        await pilot.press("space")  # the first prompt records into its own take, not consent.wav
        await wait_until(pilot, lambda: screen.phase == "recording", what="recording take 1")
        await pilot.press("space")
        await wait_until(pilot, lambda: screen.phase == "recorded", what="take 1")
        await pilot.press("enter")
        await wait_until(pilot, lambda: screen.index == 1, what="prompt 2")

    saved = on_disk(session)["consent"]
    assert saved["file"] == "consent.wav" and saved["source"] == "recorded"
    assert saved["text"] == statement and saved["date"] == consent.today()
    assert saved["seconds"] == round(speech_like(16000, bursts=6).size / 16000, 3)
    assert saved["sha256"] == consent.sha256_file(path)
    assert saved["quality"]["checks"] and consent.has_speech(session)
    included, _ = session.training_takes()
    assert [t.id for t in included] == ["0001"]
    assert all(session.take_path(session.takes.index(t)) != path for t in included)
    assert consent.require_consent(session).path == path


async def test_consent_statement_in_chinese(studio_home, audio):
    session = make_session(studio_home, PROMPTS_ZH, language="zh", consent=False)
    app = make_app(studio_home, audio)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_record(app, audio, session, pilot)
        await wait_until(pilot, lambda: screen.phase == "consent", what="the consent step")
        flat = words(app).replace(" ", "")
        assert "我同意" in flat and "合成声音" in flat and session.id in flat
        assert all(cell_len(line) <= 80 for line in screen_text(app).splitlines())
        await record_consent(pilot, screen)
        await pilot.press("enter")
        await wait_until(pilot, lambda: screen.phase == "ready", what="the first prompt")
        assert "今天天气很好" in words(app).replace(" ", "")
    assert "我同意" in on_disk(session)["consent"]["text"]
    assert consent.record_of(session) is not None


async def test_consent_take_without_speech_is_not_accepted(studio_home, audio):
    session = make_session(studio_home, consent=False)
    app = make_app(studio_home, audio)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_record(app, audio, session, pilot)
        await wait_until(pilot, lambda: screen.phase == "consent", what="the consent step")
        await pilot.press("space")  # the fake's steady tone: no speech found
        await wait_until(pilot, lambda: screen.phase == "recording", what="recording")
        await pilot.press("space")
        await wait_until(pilot, lambda: screen.phase == "consent_recorded", what="the take")
        assert "✗ CONSENT: no speech" in screen_text(app)
        assert "Speech: No speech found" in words(app)
        await pilot.press("enter")
        await pilot.pause()
        assert screen.phase == "consent_recorded" and screen.in_consent
        await record_consent(pilot, screen)  # r would do the same; space records it again
        await pilot.press("enter")
        await wait_until(pilot, lambda: screen.phase == "ready", what="the first prompt")


async def test_resuming_without_consent_asks_for_it_first(studio_home, audio):
    session = make_session(studio_home, consent=False, room_tone=False)
    session.set_status(0, "skipped")
    app = make_app(studio_home, audio)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, HomeScreen), what="Home")
        await pilot.press("enter")  # resume the session
        await wait_until(pilot, lambda: isinstance(app.screen, RecordScreen), what="Record")
        screen = app.screen
        phases = []
        await wait_until(
            pilot, lambda: phases.append(screen.phase) or screen.phase == "consent", what="consent"
        )
        assert "room_tone" in phases or audio.room_tones  # room tone came first
        assert session.room_tone_path().is_file()
        assert "■ CONSENT" in screen_text(app)
        await record_consent(pilot, screen)
        await pilot.press("enter")
        await wait_until(pilot, lambda: screen.phase == "ready", what="the next prompt")
        assert screen.index == 1  # resumed at the first pending prompt
        await pilot.press("h")
        await wait_until(pilot, lambda: isinstance(app.screen, HomeScreen), what="Home")
        await pilot.press("enter")  # resuming again: consent is on record, straight to the prompt
        await wait_until(pilot, lambda: isinstance(app.screen, RecordScreen), what="Record again")
        again = app.screen
        await wait_until(pilot, lambda: again.phase == "ready", what="ready")
        assert not again.in_consent


async def test_leaving_mid_statement_keeps_no_consent(studio_home, audio):
    session = make_session(studio_home, consent=False)
    app = make_app(studio_home, audio)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_record(app, audio, session, pilot)
        await wait_until(pilot, lambda: screen.phase == "consent", what="the consent step")
        await pilot.press("space")
        await wait_until(pilot, lambda: screen.phase == "recording", what="recording")
        await pilot.press("h")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmDialog), what="the question")
        question = "The consent statement is being recorded. Discard it and"
        await wait_until(pilot, lambda: question in words(app), what="the question's text")
        await pilot.press("y")
        await wait_until(pilot, lambda: isinstance(app.screen, HomeScreen), what="Home")
    assert consent.record_of(session) is None and not consent.consent_path(session).exists()


async def test_review_says_consent_is_missing_records_it_and_shows_the_verdict(studio_home, audio):
    session = make_session(studio_home, consent=False)
    app = make_app(studio_home, audio)
    async with app.run_test(size=SIZE) as pilot:
        app.open_screen("review", session=session)
        await wait_until(pilot, lambda: isinstance(app.screen, ReviewScreen), what="Review")
        review = app.screen
        line = f"✗ No consent: press C, or timbre consent {session.id} --import FILE"
        await wait_until(pilot, lambda: line in screen_text(app), what="the missing-consent line")
        assert all(cell_len(row) <= 80 for row in screen_text(app).splitlines())
        said = [n for n in app._notifications if n.title == "Consent needed"]
        assert said and f"timbre consent {session.id} --import FILE" in said[0].message
        assert "review.consent" in {b.id for b in ReviewScreen.BINDINGS}
        assert "C (shift+c) records it now" in ReviewScreen.HELP

        await pilot.press("C")  # the consent step alone, then back to Review
        await wait_until(pilot, lambda: isinstance(app.screen, RecordScreen), what="Record")
        screen = app.screen
        assert screen.consent_only
        await wait_until(pilot, lambda: screen.phase == "consent", what="the consent step")
        await record_consent(pilot, screen)
        await pilot.press("enter")
        await wait_until(pilot, lambda: app.screen is review, what="back on Review")
        await wait_until(pilot, lambda: "Consent recorded" in screen_text(app), what="the consent line")
        text = screen_text(app)
        assert "speaker not checked yet" in text and "No consent" not in text

        entry = dict(review.session.consent)  # the speaker check's figure, as `timbre consent` stores it
        entry["similarity"] = 0.91
        review.session.consent = entry
        review.session.save()
        review.reload_session()
        await wait_until(
            pilot, lambda: "same speaker as the takes (0.91)" in screen_text(app), what="the verdict"
        )
        entry["similarity"] = 0.3
        review.session.consent = entry
        review.session.save()
        review.reload_session()
        await wait_until(
            pilot, lambda: "DIFFERENT speaker from the takes (0.30)" in screen_text(app), what="different"
        )


def test_takes_list_shows_the_consent_take_and_its_verdict(studio_home, capsys):
    from tui.cli import main

    session = make_session(studio_home, session_id="with", consent=True)
    entry = dict(session.consent)
    entry["similarity"] = 0.82
    session.consent = entry
    session.save()
    make_session(studio_home, session_id="without", consent=False)
    assert main(["--home", str(studio_home), "takes", "list", "with"]) == 0
    out = capsys.readouterr().out
    row = next(line for line in out.splitlines() if line.strip().startswith("consent"))
    assert "imported" in row and "consent.wav" in row and "never used for training" in row
    assert "Speaker check: the consent statement is the same speaker as the takes (0.82)." in out
    assert main(["--home", str(studio_home), "takes", "list", "without"]) == 0
    out = capsys.readouterr().out
    assert "✗ no consent statement on record" in out
    assert "timbre consent without --import FILE" in out


async def test_home_marks_a_session_without_consent(studio_home, audio):
    make_session(studio_home, session_id="given", consent=True)
    make_session(studio_home, session_id="imported-memo", consent=False)
    app = make_app(studio_home, audio)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, HomeScreen), what="Home")
        await wait_until(pilot, lambda: "imported-memo" in screen_text(app), what="the sessions")
        lines = [line for line in screen_text(app).splitlines() if "… unfinished" in line]
        rows = {next(w for w in line.split() if w in ("given", "imported-memo")): line for line in lines}
        assert "✗ no consent" in rows["imported-memo"] and "no consent" not in rows["given"]
        assert all(cell_len(line) <= 80 for line in screen_text(app).splitlines())
        assert "timbre consent SESSION --import FILE" in HomeScreen.HELP
