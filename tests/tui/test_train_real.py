"""The Train screens driven by the real trainer (TINY pretrained files, CPU, a few steps), end to end.

One studio with an espeak-ng session and one TINY pretrained folder are built per module; every run
caps each phase at a few steps, so the whole file takes about a minute and a half on two busy cores.
"""

from __future__ import annotations

import gc
import os
import signal
import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "train"))

from studio_helpers import english_studio  # noqa: E402
from tui_fakes import FakeAudio, make_app, screen_text  # noqa: E402

from engine.fsutil import read_json  # noqa: E402
from engine.train.events import EVENTS_FILE, read_file  # noqa: E402
from engine.train.launch import EXTRA_ARGS_ENV, TrainOptions  # noqa: E402
from engine.train.runs import read_run  # noqa: E402
from tui.screens.train import TrainMonitorScreen  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
SIZE = (80, 24)
QUICK = ["--threads", "1", "--sample-max-steps", "6"]  # one torch thread; samples of six GPT tokens
RUN_S = 240.0  # the most one TINY run may take on a heavily loaded machine


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """A studio with the English espeak-ng session "s1" (consent on record) and TINY pretrained files."""
    from engine.weights.tiny import make_tiny

    base = tmp_path_factory.mktemp("train-real")
    studio = english_studio(base / "studio", base / "clips")
    return studio, make_tiny(base / "pretrained")


@pytest.fixture
def trainer_env(world, monkeypatch):
    """The trainers the app starts find the TINY files, stay offline and use one thread."""
    studio, pretrained = world
    monkeypatch.setenv("TIMBRE_PRETRAINED", str(pretrained))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("TIMBRE_THREADS", "1")
    monkeypatch.setenv("PYTHONPATH", str(ROOT))
    monkeypatch.delenv("TIMBRE_HOME", raising=False)
    monkeypatch.delenv(EXTRA_ARGS_ENV, raising=False)
    return studio


async def wait_for(pilot, condition, timeout: float = RUN_S) -> None:
    """Poll until ``condition()`` holds (the machine may be busy)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out; the screen shows:\n" + screen_text(pilot.app))
        await pilot.pause(0.1)
    await pilot.pause(0.3)  # let the refresh timer draw the final state


def monitor(app) -> TrainMonitorScreen:
    screen = app.screen
    assert isinstance(screen, TrainMonitorScreen), type(screen)
    return screen


def stderr_tail(studio, voice: str) -> str:
    path = studio.root / "voices" / voice / "train" / "stderr.log"
    return path.read_text(errors="replace")[-3000:] if path.exists() else "(no stderr.log)"


def options(voice: str, steps: int, *extra: str, sovits_epochs: int = 1) -> TrainOptions:
    """A TINY CPU run of at most ``steps`` steps per phase, without samples unless asked."""
    return TrainOptions(
        voice=voice,
        sessions=["s1"],
        sovits_epochs=sovits_epochs,
        gpt_epochs=1,
        batch_size=8,
        device="cpu",
        extra=["--max-steps", str(steps), *QUICK, *extra],
    )


async def test_start_screen_trains_a_voice_to_the_end_and_an_epoch_is_chosen(trainer_env, monkeypatch):
    studio = trainer_env
    monkeypatch.setenv(EXTRA_ARGS_ENV, "--max-steps 2 " + " ".join(QUICK))  # what the screen cannot set
    audio = FakeAudio()
    app = make_app(studio.root, audio)
    async with app.run_test(size=SIZE) as pilot:
        app.open_screen("train-start", session_ids=["s1"])
        await wait_for(pilot, lambda: "Usable speech:" in screen_text(app), timeout=60)
        await wait_for(pilot, lambda: "CPU" in screen_text(app), timeout=60)
        form = app.screen
        form.query_one("#voice-name").value = "ana"
        form.query_one("#sovits-epochs").value = "1"
        form.query_one("#gpt-epochs").value = "1"
        form.query_one("#batch-size").value = "8"
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: isinstance(app.screen, TrainMonitorScreen), timeout=60)
        screen = monitor(app)
        await wait_for(pilot, lambda: screen.state.finished)
        assert screen.state.status == "done", stderr_tail(studio, "ana")
        text = screen_text(app)
        assert "FINISHED" in text and "ready to speak" in text and "cpu" in text
        assert "✓ sovits" in text and "✓ gpt" in text
        assert all(len(line) <= 80 for line in text.splitlines())
        # the trainer was told what the form said, and the knob's step cap
        config = screen.state.config
        assert (config["sovits_epochs"], config["gpt_epochs"], config["batch_size"]) == (1, 1, 8)
        assert config["max_steps"] == 2 and config["sessions"] == ["s1"]
        assert screen.state.phases["sovits"].losses and screen.state.phases["gpt"].losses
        voice_dir = studio.root / "voices" / "ana"
        assert read_json(voice_dir / "voice.json")["epochs"] == {"sovits": 1, "gpt": 1}
        assert (voice_dir / "gpt.safetensors").is_file() and (voice_dir / "sovits.safetensors").is_file()
        # one sample per epoch, listed with its similarity; p plays it, u keeps its epoch
        assert [(s.phase, s.epoch) for s in screen.state.samples] == [("sovits", 1), ("gpt", 1)]
        assert all(s.similarity is not None for s in screen.state.samples)
        await pilot.press("p")
        await wait_for(pilot, lambda: audio.played, timeout=30)
        assert audio.played[0].is_file() and audio.played[0].name.startswith("sovits-epoch-1")
        await pilot.press("down", "u")
        await wait_for(
            pilot, lambda: any("now speaks with gpt epoch 1" in n.message for n in app._notifications), 30
        )
        assert screen.selected_sample().phase == "gpt"  # the cursor stayed on the epoch chosen
        assert "gpt     1 ✓ in use" in screen_text(app)
        events = read_file(voice_dir / "train" / EVENTS_FILE)
        assert events[-1].kind == "done" and len(events) == screen.state.events


async def test_cancel_from_the_ui_leaves_a_checkpoint_that_loads_and_resume_finishes(trainer_env):
    from engine.train import checkpoint as ckpt

    studio = trainer_env
    app = make_app(studio.root)
    async with app.run_test(size=SIZE) as pilot:
        app.open_screen("train", voice="cy", options=options("cy", 12, "--no-samples", sovits_epochs=2))
        screen = monitor(app)
        await wait_for(
            pilot,
            lambda: (
                screen.state.finished
                or screen.state.phases.get("sovits", None) is not None
                and screen.state.phases["sovits"].step >= 1
            ),
        )
        assert not screen.state.finished, stderr_tail(studio, "cy")
        await pilot.press("c")
        await wait_for(pilot, lambda: "Stop training?" in screen_text(app), timeout=30)
        await pilot.press("y")
        await wait_for(pilot, lambda: screen.cancel_requested or screen.state.finished, timeout=30)
        await wait_for(pilot, lambda: screen.state.finished and screen.proc is None)
        assert screen.state.status == "cancelled", stderr_tail(studio, "cy")
        assert "CANCELLED" in screen_text(app) and "Press r to resume" in screen_text(app)
        payload = ckpt.load(screen.state.checkpoint)  # the readers' own checks: hash, weights_only
        # the cancel was asked for during SoVITS; on a quiet machine TINY may have reached the GPT by then
        assert payload["phase"] in ("sovits", "gpt") and payload["step"] >= 1, payload["phase"]
        if payload["phase"] == "sovits":
            assert "enc_p.text_embedding.weight" in payload["trainer"]["net_g"]
        else:
            assert payload["trainer"]  # the GPT trainer's weights and optimiser
        assert not (studio.root / "voices" / "cy" / "voice.json").exists()
        assert screen.check_action("resume", ()) and not screen.check_action("cancel", ())

        cancelled = screen.state
        await pilot.press("r")  # resume: the same recipe (epochs, step cap, no samples) from the checkpoint
        await wait_for(
            pilot, lambda: screen.state is not cancelled and screen.state.finished and screen.proc is None
        )
        assert screen.state.status == "done", stderr_tail(studio, "cy")
        config = screen.state.config
        assert (config["sovits_epochs"], config["max_steps"], config["samples"]) == (2, 12, False)
        events = read_file(studio.root / "voices" / "cy" / "train" / EVENTS_FILE)
        assert [e.kind for e in events].count("start") == 2 and events[-1].kind == "done"
        resumed = [e for e in events if e.kind == "log" and "Resuming from" in str(e.get("message"))]
        assert resumed, [e.get("message") for e in events if e.kind == "log"]
        assert "FINISHED" in screen_text(app)
        assert (studio.root / "voices" / "cy" / "voice.json").is_file()


async def test_training_survives_quitting_the_app_and_a_new_app_reattaches(trainer_env):
    studio = trainer_env
    train = studio.root / "voices" / "bo" / "train"
    first = make_app(studio.root)
    async with first.run_test(size=SIZE) as pilot:
        first.open_screen("train", voice="bo", options=options("bo", 10, "--no-samples"))
        screen = monitor(first)
        await wait_for(
            pilot,
            lambda: (
                screen.state.finished
                or screen.state.phases.get("sovits", None) is not None
                and screen.state.phases["sovits"].step >= 1
            ),
        )
        assert not screen.state.finished, stderr_tail(studio, "bo")
        pid = screen.pid
        assert pid is not None
    del first, screen, pilot
    gc.collect()  # what the app left behind is collected (an asyncio subprocess transport would kill here)
    # the app is gone; the trainer is not
    assert read_run(train).pid == pid, stderr_tail(studio, "bo")
    try:
        second = make_app(studio.root)
        async with second.run_test(size=SIZE) as pilot:
            await wait_for(pilot, lambda: "Training runs" in screen_text(second), timeout=60)
            second.open_screen("train", voice="bo")  # no options: attach to what is on disk
            screen = monitor(second)
            await wait_for(pilot, lambda: screen.state.events > 0, timeout=30)
            assert screen.pid in (pid, None)  # None: it finished meanwhile
            assert screen.proc is None
            assert screen.state.phases["sovits"].step >= 1  # everything so far, from events.jsonl
            assert "RUNNING" in screen_text(second) or screen.state.finished
            assert "sovits" in screen_text(second)
            await wait_for(pilot, lambda: screen.state.finished)
            assert screen.state.status == "done", stderr_tail(studio, "bo")
            assert "FINISHED" in screen_text(second)
            assert screen.state.events == len(read_file(train / EVENTS_FILE))
            assert (studio.root / "voices" / "bo" / "voice.json").is_file()
    finally:
        if read_run(train).pid is not None:
            os.kill(pid, signal.SIGKILL)


async def test_review_offers_training_once_the_session_is_prepared(tmp_path):
    """T on Review (and in the 'prepared' dialog) opens Train with the session ticked; not before t."""
    from rich.text import Text
    from test_train_start import ready_session

    from tui.screens.review import PreparedDialog, ReviewScreen
    from tui.screens.train_start import TrainStartScreen

    session = ready_session(tmp_path, n=6)
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        review = app.open_screen("review", session=session)
        await wait_for(pilot, lambda: "Review" in screen_text(app), timeout=60)
        assert any(b.id == "review.train" for b in review.screen_bindings())  # palette and help list it
        assert "T (shift+t)" in review.HELP
        await pilot.press("T")
        await wait_for(pilot, lambda: any("Prepare the session" in n.message for n in app._notifications), 30)
        assert isinstance(app.screen, ReviewScreen)
        review.session.ready = True  # what 't' (prepare) leaves behind
        review.session.save()
        await pilot.press("T")
        await wait_for(pilot, lambda: isinstance(app.screen, TrainStartScreen), timeout=30)
        await wait_for(pilot, lambda: "Usable speech" in screen_text(app), timeout=60)
        assert app.screen.chosen_sessions() == [session.id]
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is review, timeout=30)
        await wait_for(pilot, lambda: "ready for training (T)" in screen_text(app), timeout=30)
        # the dialog that 'prepare for training' ends with offers it too
        app.push_screen(PreparedDialog(Text("Prepared."), offer_voice=True), callback=review._prepared_closed)
        await wait_for(pilot, lambda: "[T] train a voice on this session" in screen_text(app), timeout=30)
        await pilot.press("T")
        await wait_for(pilot, lambda: isinstance(app.screen, TrainStartScreen), timeout=30)
        assert app.screen.preselected == [session.id]


def test_resume_repeats_the_recipe_and_the_extra_args_knob(tmp_path, monkeypatch):
    """What r passes again (the start event's config), and $TIMBRE_TRAIN_EXTRA_ARGS appended last."""
    from engine.errors import TimbreError
    from engine.train.config import TrainConfig
    from engine.train.launch import resume_options, trainer_command

    config = TrainConfig(
        voice="ana", sessions=["s1"], sovits_epochs=2, gpt_epochs=3, batch_size=8, device="cpu",
        max_steps=6, samples=False, checkpoint_every=2,
    ).to_dict()  # fmt: skip
    monkeypatch.delenv(EXTRA_ARGS_ENV, raising=False)
    cmd = trainer_command(tmp_path, resume_options("ana", config), python="py")
    for flag, value in (("--sovits-epochs", "2"), ("--gpt-epochs", "3"), ("--batch-size", "8"),
                        ("--max-steps", "6"), ("--checkpoint-every", "2"), ("--device", "cpu")):  # fmt: skip
        assert cmd[cmd.index(flag) + 1] == value, cmd
    assert "--resume" in cmd and "--no-samples" in cmd and "--threads" not in cmd
    from engine.train.__main__ import build_parser

    build_parser().parse_args(cmd[3:])  # the trainer accepts every option
    monkeypatch.setenv(EXTRA_ARGS_ENV, "--max-steps 2 --sample-max-steps '6'")
    cmd = trainer_command(tmp_path, TrainOptions("ana", ["s1"]), python="py")
    assert cmd[-4:] == ["--max-steps", "2", "--sample-max-steps", "6"]
    monkeypatch.setenv(EXTRA_ARGS_ENV, "--max-steps 'unclosed")
    with pytest.raises(TimbreError, match=EXTRA_ARGS_ENV):
        trainer_command(tmp_path, TrainOptions("ana"))


async def test_a_bad_extra_args_knob_shows_as_an_error(tmp_path, monkeypatch):
    monkeypatch.setenv(EXTRA_ARGS_ENV, "--max-steps 'unclosed")
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        app.open_screen("train", voice="ana", options=TrainOptions("ana", ["s1"]))
        await wait_for(pilot, lambda: "FAILED" in screen_text(app), timeout=30)
        assert EXTRA_ARGS_ENV in "".join(screen_text(app).split())
