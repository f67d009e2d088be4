"""Train monitor benchmarks: the UI while a trainer streams events, and memory after 100,000 events.

Frame rate and input latency: the real app (headless, 80x24) runs the monitor on a replaying trainer
subprocess (tests/tui/replay_trainer.py) that prints 50 events/s for a few seconds. A 30 Hz timer on the
screen stands for the frame loop: we report how many of its ticks fire per second, and how long a key
press takes to be handled (the help dialog opening and closing), against the same app showing the
monitor of a finished run (no events arriving) in the same process.

Memory: 100,000 progress/log events folded into a RunState, against 1,000 (tracemalloc, same process):
the state's curves are downsampled and its log is a ring, so the ratio should stay near 1.
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "tui"))

SECONDS = 4.0
RATE = 50.0


async def _measure(home: Path, command: list[str] | None) -> tuple[float, float]:
    from tui_fakes import make_app

    app = make_app(home)
    ticks = 0

    def tick() -> None:
        nonlocal ticks
        ticks += 1

    async with app.run_test(size=(80, 24)) as pilot:
        app.open_screen("train", voice="ana", command=command)
        await pilot.pause(0.5)
        app.screen.set_interval(1 / 30, tick)
        start = time.perf_counter()
        latencies = []
        while time.perf_counter() - start < SECONDS:
            t0 = time.perf_counter()
            await pilot.press("question_mark")
            await pilot.press("escape")
            latencies.append(time.perf_counter() - t0)
            await pilot.pause(0.2)
        elapsed = time.perf_counter() - start
    return ticks / elapsed, statistics.median(latencies)


def bench_ui(tmp: Path) -> None:
    from replay_trainer import recorded_stream, write_stream

    n = int(SECONDS * RATE)
    per_epoch = 10
    stream = recorded_stream(sovits_epochs=n // (2 * per_epoch) + 1, gpt_epochs=1, steps_per_epoch=per_epoch)
    events = write_stream(tmp / "run.jsonl", stream)
    idle_home = tmp / "idle"
    train_idle = idle_home / "voices" / "ana" / "train"
    train_idle.mkdir(parents=True)
    (train_idle / "events.jsonl").write_text(write_stream(tmp / "done.jsonl", recorded_stream()).read_text())
    base_fps, base_lat = asyncio.run(_measure(idle_home, None))
    busy_home = tmp / "busy"
    train = busy_home / "voices" / "ana" / "train"
    cmd = [sys.executable, str(REPO / "tests" / "tui" / "replay_trainer.py"), str(events), str(train),
           "--delay", str(1 / RATE)]  # fmt: skip
    fps, lat = asyncio.run(_measure(busy_home, cmd))
    print(
        f"baseline (finished run, no events): {base_fps:5.1f} ticks/s of 30, "
        f"key latency {base_lat * 1e3:6.1f} ms"
    )
    print(
        f"trainer streaming {RATE:.0f} events/s:   {fps:5.1f} ticks/s of 30, key latency {lat * 1e3:6.1f} ms"
    )
    print(
        f"ratio frame rate streaming / idle: {fps / base_fps:.2f}x; key latency ratio {lat / base_lat:.2f}x"
    )


def bench_memory() -> None:
    from engine.train.events import dumps, make, parse
    from engine.train.runs import RunState

    def measure(n: int) -> int:
        tracemalloc.start()
        state = RunState()
        for i in range(n):
            state.apply(parse(dumps(make("progress", phase="gpt", step=i, total_steps=n,
                                         losses={"ce": 1 / (i + 1), "acc": 0.5}))))  # fmt: skip
            if i % 10 == 0:
                state.apply(parse(dumps(make("log", level="info", message=f"step {i}"))))
        size = tracemalloc.get_traced_memory()[0]
        tracemalloc.stop()
        return size

    small, large = measure(1_000), measure(100_000)
    print(f"run state after 1,000 events: {small / 1024:7.1f} KiB; after 100,000: {large / 1024:7.1f} KiB "
          f"(ratio {large / small:.2f}x)")  # fmt: skip


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        bench_ui(Path(tmp))
    bench_memory()


if __name__ == "__main__":
    main()
