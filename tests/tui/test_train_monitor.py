"""The Train monitor, driven by a real subprocess that replays a trainer's event stream."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from replay_trainer import recorded_stream, write_stream
from tui_fakes import make_app, screen_text

from engine.train.events import EVENTS_FILE
from engine.train.runs import read_run
from tui.screens.train import TrainMonitorScreen

SIZE = (80, 24)
REPLAY = str(Path(__file__).with_name("replay_trainer.py"))
SNAPSHOT = Path(__file__).parent / "snapshots" / "train_monitor_80x24.txt"


async def wait_for(pilot, condition, timeout: float = 30.0) -> None:
    """Poll until ``condition()`` holds (the machine may be busy)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out; the screen shows:\n" + screen_text(pilot.app))
        await pilot.pause(0.05)
    await pilot.pause(0.3)  # let the refresh timer draw the final state


def replay_cmd(events: Path, train: Path, *extra: str) -> list[str]:
    return [sys.executable, REPLAY, str(events), str(train), *extra]


def monitor(app) -> TrainMonitorScreen:
    screen = app.screen
    assert isinstance(screen, TrainMonitorScreen)
    return screen


async def test_monitor_shows_a_whole_run(tmp_path):
    events = write_stream(tmp_path / "run.jsonl", recorded_stream())
    app = make_app(tmp_path / "studio")
    train = app.studio.voice_dir("ana") / "train"
    async with app.run_test(size=SIZE) as pilot:
        app.open_screen("train", voice="ana", command=replay_cmd(events, train, "--delay", "0.002"))
        await wait_for(pilot, lambda: monitor(app).state.status == "done")
        text = screen_text(app)
        assert "FINISHED" in text and "is ready to speak" in text
        assert "✓ sovits" in text and "✓ gpt" in text and "100%" in text
        assert "gpt: similarity fell two epochs in a row" in text  # 0.69 → 0.66 → 0.62
        assert "repeating words" in "".join(text.split("\n"))  # the last GPT sample: 5 s against 2 s
        assert "gpt" in text and "0.620" in text  # sample rows with their similarity
        assert monitor(app).bad_lines == 0
        assert all(len(line) <= 80 for line in text.splitlines())
        # the trainer's own event file holds everything the monitor was told
        assert read_run(train).state.events == monitor(app).state.events


async def test_monitor_plays_a_sample_or_shows_its_path(tmp_path):
    from engine.audio.playback import NoOutputDevice

    events = write_stream(tmp_path / "run.jsonl", recorded_stream(sovits_epochs=1, gpt_epochs=1))
    app = make_app(tmp_path / "studio")
    train = app.studio.voice_dir("ana") / "train"
    played: list[Path] = []
    app.services.play = played.append
    async with app.run_test(size=SIZE) as pilot:
        app.open_screen("train", voice="ana", command=replay_cmd(events, train))
        await wait_for(pilot, lambda: monitor(app).state.finished)
        await pilot.press("p")
        await wait_for(pilot, lambda: "♪ sovits epoch 1" in screen_text(app))
        assert played == [train / "samples" / "sovits-epoch-1.wav"]

        def no_device(path: Path) -> None:
            raise NoOutputDevice(path)

        app.services.play = no_device
        await pilot.press("down", "p")
        await wait_for(pilot, lambda: "No sound here" in screen_text(app))
        assert str(train / "samples" / "gpt-epoch-1.wav") in "".join(screen_text(app).split())


async def test_monitor_shows_an_error_and_offers_resume(tmp_path):
    events = write_stream(tmp_path / "run.jsonl", recorded_stream(gpt_epochs=1, end="error"))
    app = make_app(tmp_path / "studio")
    train = app.studio.voice_dir("ana") / "train"
    async with app.run_test(size=SIZE) as pilot:
        app.open_screen("train", voice="ana", command=replay_cmd(events, train, "--exit", "1"))
        await wait_for(pilot, lambda: monitor(app).state.status == "error")
        text = screen_text(app)
        assert "FAILED" in text and "ran out of memory" in text and "--device cpu" in text
        screen = monitor(app)
        await wait_for(pilot, lambda: screen.proc is None)
        assert screen.check_action("resume", ()) and not screen.check_action("cancel", ())


async def test_cancel_asks_then_saves_a_checkpoint(tmp_path):
    events = write_stream(tmp_path / "run.jsonl", recorded_stream(sovits_epochs=1, gpt_epochs=1, end="none"))
    app = make_app(tmp_path / "studio")
    train = app.studio.voice_dir("ana") / "train"
    async with app.run_test(size=SIZE) as pilot:
        app.open_screen("train", voice="ana", command=replay_cmd(events, train, "--hold"))
        screen = monitor(app)
        await wait_for(pilot, lambda: screen.state.samples and screen.proc is not None)
        await pilot.press("c")
        await wait_for(pilot, lambda: "Stop training?" in screen_text(app))
        await pilot.press("n")  # changed my mind: nothing is sent
        await pilot.pause(0.5)
        assert screen.state.status == "running" and not screen.cancel_requested
        await pilot.press("c")
        await wait_for(pilot, lambda: "Stop training?" in screen_text(app))
        await pilot.press("y")
        await wait_for(pilot, lambda: screen.state.status == "cancelled")
        assert "CANCELLED" in screen_text(app) and "Press r to resume" in screen_text(app)
        assert screen.state.checkpoint.endswith("last.pt")


async def test_reattach_after_the_app_restarts_and_a_kill_shows_stopped(tmp_path):
    events = write_stream(tmp_path / "run.jsonl", recorded_stream(sovits_epochs=2, gpt_epochs=1, end="none"))
    studio = tmp_path / "studio"
    train = studio / "voices" / "ana" / "train"
    # the trainer was started by an app that has since quit
    proc = subprocess.Popen(
        replay_cmd(events, train, "--hold"), stdout=subprocess.DEVNULL, start_new_session=True
    )
    try:
        deadline = time.monotonic() + 30
        while read_run(train).state.samples == [] or read_run(train).pid is None:
            assert time.monotonic() < deadline, "the replayer never got going"
            time.sleep(0.05)
        app = make_app(studio)
        async with app.run_test(size=SIZE) as pilot:
            app.open_screen("train", voice="ana")
            screen = monitor(app)
            await wait_for(pilot, lambda: "RUNNING" in screen_text(app))
            assert screen.state.samples and "sovits" in screen_text(app)
            assert screen.check_action("cancel", ()) and not screen.check_action("resume", ())
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()
            await wait_for(pilot, lambda: screen.state.status == "stopped")
            assert "STOPPED UNEXPECTEDLY" in screen_text(app) and "Press r to resume" in screen_text(app)
            assert screen.check_action("resume", ())
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


async def test_monitor_snapshot_at_80x24(tmp_path):
    """A finished run drawn from fixed data matches the stored picture (UPDATE_SNAPSHOTS=1 rewrites it)."""
    studio = tmp_path / "studio"
    train = studio / "voices" / "ana" / "train"
    train.mkdir(parents=True)
    stream = recorded_stream(sovits_epochs=2, gpt_epochs=2)
    (train / EVENTS_FILE).write_text(write_stream(tmp_path / "s.jsonl", stream).read_text())
    app = make_app(studio)
    async with app.run_test(size=SIZE) as pilot:
        app.open_screen("train", voice="ana")
        await wait_for(pilot, lambda: "FINISHED" in screen_text(app))
        lines = [line for line in screen_text(app).splitlines() if "Timbre" not in line]  # header has a clock
        got = "\n".join(lines) + "\n"
    if os.environ.get("UPDATE_SNAPSHOTS"):
        SNAPSHOT.parent.mkdir(exist_ok=True)
        SNAPSHOT.write_text(got)
    assert got == SNAPSHOT.read_text()


async def test_many_events_a_second_keep_the_ui_responsive(tmp_path):
    """5,000 events arrive in bursts; redraws stay bounded by the refresh timer, not the event rate."""
    stream = recorded_stream(sovits_epochs=50, gpt_epochs=50, steps_per_epoch=50)
    events = write_stream(tmp_path / "run.jsonl", stream)
    app = make_app(tmp_path / "studio")
    train = app.studio.voice_dir("ana") / "train"
    async with app.run_test(size=SIZE) as pilot:
        app.open_screen("train", voice="ana", command=replay_cmd(events, train))
        screen = monitor(app)
        draws = 0
        original = screen.redraw

        def counting() -> None:
            nonlocal draws
            draws += 1
            original()

        screen.redraw = counting  # type: ignore[method-assign]
        await wait_for(pilot, lambda: screen.state.finished, timeout=120)
        assert screen.state.events == len(stream)
        assert draws < len(stream) / 10
        assert sum(len(s.values()) for s in screen.state.phases["gpt"].losses.values()) <= 2 * 257
    await asyncio.sleep(0)


async def test_home_lists_training_runs_and_opens_the_monitor(tmp_path):
    studio = tmp_path / "studio"
    for voice, end in (("ana", "done"), ("bo", "error")):
        train = studio / "voices" / voice / "train"
        train.mkdir(parents=True)
        stream = recorded_stream(sovits_epochs=1, gpt_epochs=1, end=end)
        (train / EVENTS_FILE).write_text(write_stream(tmp_path / f"{voice}.jsonl", stream).read_text())
    killed = studio / "voices" / "cy" / "train"
    killed.mkdir(parents=True)
    partial = recorded_stream(sovits_epochs=2, gpt_epochs=1, end="none")[:12]
    (killed / EVENTS_FILE).write_text(write_stream(tmp_path / "cy.jsonl", partial).read_text())
    app = make_app(studio)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: "Training runs" in screen_text(app))
        text = screen_text(app)
        assert "✓ finished" in text and "✗ failed" in text and "✗ stopped unexpectedly" in text
        await pilot.press("w")
        await wait_for(pilot, lambda: isinstance(app.screen, TrainMonitorScreen))
        assert app.screen.voice in ("ana", "bo", "cy")
