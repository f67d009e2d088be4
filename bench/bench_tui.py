"""TUI benchmarks: time to the app's first frame, and the level meter's refresh rate.

First frame: ``python -m tui.launch --first-frame`` in a fresh process (headless, 80x24), timed from
spawn to its report; the baseline is ``python -c "import textual.app"`` timed the same way in this
run. Target: under 0.5 s, with no torch/transformers/noisereduce/librosa loaded.

Meter: the Record screen runs headless for a few seconds against a synthetic recorder whose level
moves every call; we count meter redraws per second (target: at least 20; the poll runs at 30 Hz).
"""

from __future__ import annotations

import asyncio
import json
import math
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
FIRST_FRAME_TARGET_S = 0.5
METER_TARGET_HZ = 20.0
RUNS = 5


def _timed(cmd: list[str]) -> tuple[float, str]:
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO, timeout=120)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed: {proc.stderr[-2000:]}")
    return elapsed, proc.stdout


def _first_frame(home: Path) -> tuple[float, float, dict]:
    """Spawn the app; return (seconds from spawn to the first-frame report, to exit, the report)."""
    start = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "tui.launch", "--first-frame", "--home", str(home)],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    line = proc.stdout.readline() if proc.stdout else ""
    frame = time.perf_counter() - start
    _, err = proc.communicate(timeout=120)
    total = time.perf_counter() - start
    if proc.returncode != 0 or not line:
        raise RuntimeError(f"the first-frame run failed: {err[-2000:]}")
    return frame, total, json.loads(line)


def bench_first_frame(home: Path) -> None:
    """Print the median time to the first frame against the bare Textual import."""
    baseline = [_timed([sys.executable, "-c", "import textual.app"])[0] for _ in range(RUNS)]
    runs = [_first_frame(home) for _ in range(RUNS)]
    heavy = sorted({m for _, _, report in runs for m in report["heavy_modules"]})
    base = statistics.median(baseline)
    frame = statistics.median(r[0] for r in runs)
    print(f"baseline  python -c 'import textual.app':  {base:.3f} s (spawn to exit, median of {RUNS})")
    print(f"first frame (spawn to first-frame report): {frame:.3f} s (median of {RUNS})")
    inside = statistics.median(r[2]["seconds"] for r in runs)
    print(f"  measured inside the process:              {inside:.3f} s")
    print(f"  spawn to exit:                            {statistics.median(r[1] for r in runs):.3f} s")
    print(f"ratio first frame / textual import:         {frame / base:.2f}x")
    verdict = "meets" if frame < FIRST_FRAME_TARGET_S else "MISSES"
    print(f"target < {FIRST_FRAME_TARGET_S} s: {verdict} ({frame / FIRST_FRAME_TARGET_S:.2f} of the target)")
    print(f"heavy modules before the first frame: {', '.join(heavy) or 'none'}")


class SyntheticRecorder:
    """A recorder whose level sweeps, so that every meter poll changes what is drawn."""

    def __init__(self, device: object = None, samplerate: int | None = None) -> None:
        self.samplerate = int(samplerate or 48000)
        self.device = device
        self.calls = 0

    def open(self) -> None:
        pass

    def meter(self):  # noqa: ANN201 - returns engine.audio.recorder.MeterState
        from engine.audio.recorder import MeterState

        self.calls += 1
        level = -30.0 + 25.0 * math.sin(self.calls / 7.0)
        return MeterState(level, level - 3, level + 3, False, 0, 0, 0.0, False, time.monotonic(), None)

    def start_take(self, path: Path) -> None:
        pass

    def stop_take(self):  # noqa: ANN201
        raise RuntimeError("not used")

    def cancel_take(self) -> None:
        pass

    def close(self) -> None:
        pass


async def _meter_rate(home: Path, seconds: float) -> tuple[float, float]:
    from engine.session import Session
    from engine.studio import Studio
    from tui.app import TimbreApp
    from tui.services import AudioServices
    from tui.widgets.meter import LevelMeter

    studio = Studio.locate(home).ensure()
    session = Session.create(
        studio, "en", ["A sentence to read."], device=None, samplerate=48000, script_name="bench"
    )
    session.room_tone_path().parent.mkdir(parents=True, exist_ok=True)
    session.room_tone_path().write_bytes(b"")  # skip room tone: only the meter is measured
    services = AudioServices(None, list, SyntheticRecorder, lambda *a: None, lambda p: None, lambda: None)
    app = TimbreApp(studio, services)
    async with app.run_test(size=(80, 24)) as pilot:
        recorder = SyntheticRecorder()
        app.open_screen("record", session=session, recorder=recorder)
        await pilot.pause(0.3)
        meter = app.screen.query_one(LevelMeter)
        before, start = meter.updates, time.perf_counter()
        await asyncio.sleep(seconds)
        updates, elapsed = meter.updates - before, time.perf_counter() - start
    return updates / elapsed, recorder.calls / max(elapsed, 1e-9)


def bench_meter(home: Path, seconds: float = 3.0) -> None:
    """Print the meter's redraw rate under the synthetic recorder."""
    from tui.screens.record import POLL_HZ

    rate, _ = asyncio.run(_meter_rate(home, seconds))
    print(f"meter updates: {rate:.1f}/s over {seconds:g} s (poll timer {POLL_HZ:g} Hz, headless 80x24)")
    print(
        f"ratio to poll rate: {rate / POLL_HZ:.2f}; target >= {METER_TARGET_HZ:g}/s: "
        f"{'meets' if rate >= METER_TARGET_HZ else 'MISSES'} ({rate / METER_TARGET_HZ:.2f}x)"
    )


def main() -> None:
    """Run both TUI benchmarks in temporary studios."""
    with tempfile.TemporaryDirectory(prefix="timbre-bench-tui-") as tmp:
        home = Path(tmp)
        bench_first_frame(home / "first-frame")
        bench_meter(home / "meter")


if __name__ == "__main__":
    sys.path.insert(0, str(REPO))
    main()
