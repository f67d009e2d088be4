"""Train start: the preview tells what training will use; bad choices are refused; start opens the monitor."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
import soundfile as sf
from replay_trainer import recorded_stream, write_stream
from test_train_monitor import REPLAY
from tui_fakes import make_app, make_session, screen_text

from engine.train.plan import devices, plan
from tui.screens.train import TrainMonitorScreen

SIZE = (80, 24)


def ready_session(home: Path, n: int = 8, seconds: float = 5.0, session_id: str = "s1"):
    """A session whose first n-1 takes are accepted with speech; the last is rejected."""
    prompts = [f"Sentence number {i} is here." for i in range(n)]
    session = make_session(home, prompts=prompts, session_id=session_id)
    for i, take in enumerate(session.takes):
        path = session.take_path(i)
        path.parent.mkdir(parents=True, exist_ok=True)
        sf.write(path, np.zeros(int(16000 * seconds), dtype=np.float32), 16000)
        take.seconds = seconds
        take.speech_seconds = seconds - 0.5
        take.status = "accepted" if i < n - 1 else "rejected"
        take.quality = {"verdict": "ok", "checks": []}
    session.save()
    return session


async def wait_for(pilot, condition, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out; the screen shows:\n" + screen_text(pilot.app)
        await pilot.pause(0.05)
    await pilot.pause(0.2)


def test_plan_counts_speech_names_left_out_takes_and_picks_a_reference(tmp_path):
    session = ready_session(tmp_path)
    from engine.studio import Studio

    p = plan(Studio.locate(tmp_path), [session.id])
    assert p.takes == 7 and abs(p.speech_s - 7 * 4.5) < 1e-6
    assert (f"{session.id}/{session.takes[-1].id}", "rejected") in p.left_out
    assert p.reference and p.reference.startswith(f"{session.id}/") and "(4.5 s)" in p.reference
    assert p.ready and any("a minute or more" in w for w in p.warnings)
    short = plan(Studio.locate(tmp_path / "other"), [])
    assert not short.ready and "at least one" in short.problems[0]


def test_too_little_speech_is_a_problem(tmp_path):
    session = ready_session(tmp_path, n=3, seconds=4.0)
    from engine.studio import Studio

    p = plan(Studio.locate(tmp_path), [session.id])
    assert not p.ready and "needs at least 20 s" in p.problems[0]


def test_devices_read_nvidia_smi_without_torch(tmp_path):
    fake = tmp_path / "nvidia-smi"
    fake.write_text("#!/bin/sh\necho '0, NVIDIA H100 80GB HBM3, 80000'\necho '1, NVIDIA L4, 20000'\n")
    fake.chmod(0o755)
    found = devices(str(fake))
    assert [d.name for d in found] == ["cuda:0", "cuda:1", "cpu"]
    assert "H100" in found[0].label and "78.1 GB free" in found[0].label
    assert devices(str(tmp_path / "missing"))[-1].label.startswith("CPU (no GPU found")


async def test_start_screen_previews_refuses_and_starts(tmp_path, monkeypatch):
    session = ready_session(tmp_path, n=16)
    events = write_stream(tmp_path / "run.jsonl", recorded_stream(sovits_epochs=1, gpt_epochs=1))
    launched: list[list[str]] = []

    def fake_command(home, options, python=None):
        launched.append(["--voice", options.voice, *options.sessions])
        return [sys.executable, REPLAY, str(events), str(Path(home) / "voices" / options.voice / "train")]

    monkeypatch.setattr("tui.screens.train.trainer_command", fake_command)
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        app.open_screen("train-start", session_ids=[session.id])
        await wait_for(pilot, lambda: "Usable speech: 67.5 s in 15 takes" in screen_text(app))
        await wait_for(pilot, lambda: "CPU (no GPU found" in screen_text(app))
        text = screen_text(app)
        assert "Reference clip:" in text and "rejected" in text
        assert all(len(line) <= 80 for line in text.splitlines())
        name = app.screen.query_one("#voice-name")
        name.value = "../../evil"
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: "would be saved as" in screen_text(app))
        assert not launched
        name.value = "ana"
        app.screen.query_one("#sovits-epochs").value = "0"
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: "must be a whole number" in screen_text(app))
        app.screen.query_one("#sovits-epochs").value = "2"
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: isinstance(app.screen, TrainMonitorScreen))
        assert launched == [["--voice", "ana", session.id]]
        await wait_for(pilot, lambda: app.screen.state.status == "done")
