"""The monitor's fold of trainer events, run discovery from files, and the launch command line."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import tracemalloc

import pytest

from engine.train.events import EVENTS_FILE, dumps, make, parse
from engine.train.launch import TrainOptions, resume_options, trainer_command
from engine.train.runs import (
    BoundedSeries,
    EventTail,
    fold,
    format_eta,
    read_run,
    trainer_pid,
    write_pid_file,
)


def ev(kind, **fields):
    return parse(dumps(make(kind, **fields)))


def stream(sims=(0.7, 0.8, 0.75, 0.7), gpt_seconds=(2.0, 2.1, 2.0, 5.0)):
    out = [ev("start", phases=["sovits", "gpt"], device="cpu", voice="ana", config={"sessions": ["s1"]})]
    out.append(ev("phase", name="sovits", epochs=4, steps=8))
    for step in range(1, 9):
        out.append(
            ev(
                "progress",
                phase="sovits",
                epoch=(step + 1) // 2,
                step=step,
                total_steps=8,
                losses={"mel": 20.0 / step, "kl": 1.0},
                lr=1e-4,
                steps_per_s=3.0,
                eta_s=8 - step,
            )
        )
        if step % 2 == 0:
            out.append(
                ev(
                    "sample",
                    phase="sovits",
                    epoch=step // 2,
                    wav=f"s{step}.wav",
                    similarity=sims[step // 2 - 1],
                )
            )
    out.append(ev("phase", name="gpt", epochs=4, steps=4))
    for epoch in range(1, 5):
        out.append(
            ev("progress", phase="gpt", epoch=epoch, step=epoch, total_steps=4, losses={"ce": 5.0 / epoch})
        )
        out.append(
            ev(
                "sample",
                phase="gpt",
                epoch=epoch,
                wav=f"g{epoch}.wav",
                similarity=0.8,
                seconds=gpt_seconds[epoch - 1],
            )
        )
    return out


def test_fold_tracks_phases_losses_samples_and_the_end():
    state = fold(
        [*stream(), ev("log", level="warning", message="slow"), ev("done", voice="ana", seconds=3.0)]
    )
    assert state.status == "done" and state.finished
    assert list(state.phases) == ["sovits", "gpt"]
    sovits = state.phases["sovits"]
    assert sovits.finished and sovits.step == 8 and sovits.total_steps == 8 and sovits.fraction == 1.0
    assert sovits.losses["mel"].last == pytest.approx(2.5) and sovits.losses["mel"].count == 8
    assert [s.epoch for s in state.samples if s.phase == "sovits"] == [1, 2, 3, 4]
    assert state.best_sample().similarity == pytest.approx(0.8)
    assert ("warning", "slow") in state.log
    assert state.config == {"sessions": ["s1"]}


def test_overtraining_is_said_in_plain_words():
    warnings = fold(stream(sims=(0.7, 0.8, 0.75, 0.7))).warnings()
    assert any("sovits" in w and "fell two epochs in a row" in w for w in warnings)
    assert any("gpt" in w and "repeating words" in w for w in warnings)
    calm = fold(stream(sims=(0.7, 0.75, 0.78, 0.8), gpt_seconds=(2.0, 2.1, 2.0, 2.2))).warnings()
    assert calm == []


def test_error_and_cancelled_end_the_run():
    state = fold([*stream()[:5], ev("error", message="Out of memory.", hint="Use a smaller batch.")])
    assert state.status == "error" and state.error == ("Out of memory.", "Use a smaller batch.")
    assert fold([*stream()[:5], ev("cancelled", checkpoint="c.pt")]).checkpoint == "c.pt"


def test_unknown_kinds_and_fields_are_ignored():
    odd = parse('{"event": "telemetry", "t": 1.0, "x": [1, 2]}')
    state = fold([odd, ev("progress", phase="sovits", step=1, total_steps=2, new_field={"a": 1})])
    assert state.phases["sovits"].step == 1 and state.events == 2


def test_bounded_series_keeps_the_shape_in_bounded_memory():
    series = BoundedSeries(capacity=64)
    for i in range(100_000):
        series.add(float(i))
    values = series.values()
    assert len(values) <= 65 and series.count == 100_000 and series.last == 99_999.0
    assert values == sorted(values)  # a rising curve stays rising after downsampling
    assert values[0] < 5_000 and values[-1] > 90_000


def test_state_memory_does_not_grow_with_events():
    def measure(n):
        tracemalloc.start()
        state = fold([])
        for i in range(n):
            state.apply(ev("progress", phase="gpt", step=i, total_steps=n, losses={"ce": 1.0 / (i + 1)}))
            state.apply(ev("log", level="info", message=f"line {i}"))
        size = tracemalloc.get_traced_memory()[0]
        tracemalloc.stop()
        return size

    small, large = measure(2_000), measure(20_000)
    assert large < small * 1.5


def test_read_run_tells_running_finished_and_killed(tmp_path):
    train = tmp_path / "voices" / "ana" / "train"
    train.mkdir(parents=True)
    (train / EVENTS_FILE).write_text("".join(dumps(make(e.kind, **e.data)) + "\n" for e in stream()) + '{"ev')
    # no pid file and no last word: the trainer was killed
    info = read_run(train)
    assert info.state.status == "stopped" and info.pid is None and info.voice == "ana"
    # a live trainer
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        write_pid_file(train, proc.pid)
        assert trainer_pid(train) == proc.pid
        assert read_run(train).state.status == "running"
    finally:
        proc.kill()
        proc.wait()
    assert trainer_pid(train) is None  # dead now: the stale pid file is ignored
    # a reused pid (another process, other start time) is not the trainer
    (train / "trainer.pid").write_text(f"{os.getpid()} 1\n")
    assert trainer_pid(train) is None


def test_event_tail_waits_for_a_torn_line(tmp_path):
    path = tmp_path / EVENTS_FILE
    tail = EventTail(path)
    assert tail.read() == []
    line = dumps(make("log", level="info", message="hello"))
    path.write_text(line[:10])
    assert tail.read() == []
    with open(path, "a") as f:
        f.write(line[10:] + "\n")
    got = tail.read()
    assert [e.data["message"] for e in got] == ["hello"]


def test_trainer_command_and_resume_options(tmp_path):
    cmd = trainer_command(
        tmp_path, TrainOptions("ana", ["s1", "s2"], sovits_epochs=2, device="cpu"), python="py"
    )
    assert cmd[:3] == ["py", "-m", "engine.train"]
    assert cmd[cmd.index("--home") + 1] == str(tmp_path)
    assert [cmd[i + 1] for i, a in enumerate(cmd) if a == "--session"] == ["s1", "s2"]
    assert "--sovits-epochs" in cmd and "--resume" not in cmd and "--gpt-epochs" not in cmd
    resumed = resume_options("ana", {"sessions": ["s1"], "device": "cpu"})
    assert resumed.resume and resumed.sessions == ["s1"] and "--resume" in trainer_command(tmp_path, resumed)


def test_format_eta():
    assert format_eta(None) == "—"
    assert format_eta(42.4) == "42 s"
    assert format_eta(185) == "3 min 05 s"
    assert format_eta(3720) == "1 h 02 min"
    assert time.time() > 0
