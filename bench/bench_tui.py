"""TUI benchmarks: time to the app's first frame, and the level meter's refresh rate.

First frame: ``python -m tui.launch --first-frame`` in a fresh process (headless, 80x24), timed from
spawn to its report; the baseline is ``python -c "import textual.app"`` timed the same way in this
run. Target: under 0.5 s, with no torch/transformers/noisereduce/librosa loaded.

Meter: the Record screen runs headless for a few seconds against a synthetic recorder whose level
moves every call; we count meter redraws per second (target: at least 20; the poll runs at 30 Hz).

Take under the UI: the real app (headless, 80x24) with the real recorder on the virtual microphone
(tests/virtual_mic.py) records one take of 60 s (TIMBRE_BENCH_SECONDS overrides) while looped espeak-ng
speech plays into the mic. Reported: overflows in the take (target 0), the take's length against the
wall time between the key presses, the meter refresh rate the screen saw, and this process's CPU use
during the take against the process idle and against the app idle on the Record screen (same run).
Skipped, with a line saying so, when pulseaudio, espeak-ng or sox is missing.
"""

from __future__ import annotations

import asyncio
import json
import math
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
TESTS = REPO / "tests"
MIC_RATE = 48000
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


def _cpu_seconds() -> float:
    """User + system CPU seconds used so far by this process (all threads, PortAudio's included)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _speech(folder: Path, seconds: float) -> Path:
    """espeak-ng reading the built-in English script, looped with sox to ``seconds`` at MIC_RATE."""
    import soundfile as sf

    from engine.prompts import builtin_script

    text = folder / "en.txt"
    text.write_text("\n".join(builtin_script("en")), encoding="utf-8")
    raw, out = folder / "raw.wav", folder / "speech.wav"
    subprocess.run(["espeak-ng", "-v", "en-us", "-s", "150", "-f", str(text), "-w", str(raw)], check=True)
    repeats = max(0, math.ceil(seconds / max(sf.info(raw).duration, 0.1)))
    subprocess.run(
        ["sox", str(raw), "-b", "16", str(out), "rate", "-v", str(MIC_RATE)]
        + ["repeat", str(repeats), "trim", "0", f"{seconds:g}"],
        check=True,
        capture_output=True,
    )
    return out


async def _wait_phase(screen, phases: tuple[str, ...], timeout: float) -> None:  # noqa: ANN001
    deadline = time.monotonic() + timeout
    while screen.phase not in phases:
        if time.monotonic() > deadline:
            raise RuntimeError(f"the Record screen stayed in {screen.phase!r}, expected {phases}")
        await asyncio.sleep(0.02)


async def _take_under_ui(home: Path, mic, speech: Path, seconds: float, idle_s: float) -> dict:  # noqa: ANN001
    """Record one take through the real app and recorder; return what was measured."""
    import soundfile as sf
    from virtual_mic import play_into_mic

    from engine.session import Session
    from engine.studio import Studio
    from tui.app import TimbreApp
    from tui.services import AudioServices

    out: dict = {}
    cpu0, wall0 = _cpu_seconds(), time.monotonic()
    await asyncio.sleep(idle_s)  # baseline: this process idle, the mic daemon running
    out["idle_cpu"] = (_cpu_seconds() - cpu0) / (time.monotonic() - wall0)

    studio = Studio.locate(home).ensure()
    services = AudioServices.real(None)
    app = TimbreApp(studio, services, room_tone_seconds=1.0)
    async with app.run_test(size=(80, 24)) as pilot:
        recorder = await app.open_recorder(None, mic.rate)
        if recorder is None:
            raise RuntimeError("the app could not open the virtual microphone")
        session = Session.create(
            studio,
            "en",
            ["Read for a minute."],
            device=None,
            samplerate=recorder.samplerate,
            script_name="bench",
        )
        screen = app.open_screen("record", session=session, recorder=recorder)
        await pilot.pause()
        await _wait_phase(screen, ("ready",), 15.0)  # the real room tone comes first

        meter = screen.meter_widget
        renders = [0]
        render = meter.render

        def counted_render():  # noqa: ANN202 - the meter's own render, counted
            renders[0] += 1
            return render()

        meter.render = counted_render
        cpu0, ui0, wall0 = _cpu_seconds(), time.thread_time(), time.monotonic()
        await asyncio.sleep(idle_s)  # baseline: app on the Record screen, stream open, meter polling
        out["ready_cpu"] = (_cpu_seconds() - cpu0) / (time.monotonic() - wall0)
        out["ready_ui_cpu"] = (time.thread_time() - ui0) / (time.monotonic() - wall0)

        player = play_into_mic(speech, wait=False, mic=mic)
        try:
            press = time.monotonic()
            await pilot.press("space")
            await _wait_phase(screen, ("recording",), 10.0)
            started = time.monotonic()
            cpu0, ui0, blocks0 = _cpu_seconds(), time.thread_time(), recorder.meter().blocks
            updates0, renders0 = meter.updates, renders[0]
            await asyncio.sleep(max(0.0, seconds - (started - press)))
            stop = time.monotonic()
            out["take_cpu"] = (_cpu_seconds() - cpu0) / (stop - started)
            out["take_ui_cpu"] = (time.thread_time() - ui0) / (stop - started)  # the event-loop thread
            out["updates_hz"] = (meter.updates - updates0) / (stop - started)
            out["renders_hz"] = (renders[0] - renders0) / (stop - started)
            out["blocks_hz"] = (recorder.meter().blocks - blocks0) / (stop - started)
            await pilot.press("space")
            await _wait_phase(screen, ("recorded",), 15.0)
            out["press_to_press_s"] = stop - press
            out["recording_wall_s"] = stop - started
        finally:
            if player.poll() is None:
                player.terminate()
            player.wait(timeout=10)
        take = session.takes[0]
        out["take_s"] = take.seconds
        out["overflows"] = take.overflow_count
        out["file_s"] = sf.info(session.take_path(0)).duration
    return out


def bench_take_under_ui(home: Path) -> None:
    """Print overflows, take length, meter rate and CPU for one take recorded through the app."""
    missing = [
        tool
        for tool in ("pulseaudio", "pactl", "paplay", "parec", "espeak-ng", "sox")
        if not shutil.which(tool)
    ]
    if missing:
        print(f"take under the UI: SKIPPED ({', '.join(missing)} not installed)")
        return
    if str(TESTS) not in sys.path:
        sys.path.insert(0, str(TESTS))
    from virtual_mic import VirtualMicUnavailable, virtual_microphone

    seconds = float(os.environ.get("TIMBRE_BENCH_SECONDS", "60"))
    folder = home / "speech"
    folder.mkdir(parents=True)
    speech = _speech(folder, seconds + 2.0)
    try:
        with virtual_microphone(rate=MIC_RATE) as mic:
            r = asyncio.run(_take_under_ui(home / "studio", mic, speech, seconds, idle_s=3.0))
    except VirtualMicUnavailable as exc:
        print(f"take under the UI: SKIPPED (virtual microphone unavailable: {exc})")
        return
    wall = r["press_to_press_s"]
    print(
        f"take under the UI (real app 80x24 + real recorder, virtual mic at {MIC_RATE} Hz, speech playing):"
    )
    verdict = "meets" if r["overflows"] == 0 else "MISSES"
    print(f"  overflows in the take: {r['overflows']}   (target 0: {verdict})")
    print(
        f"  take length {r['take_s']:.2f} s (file {r['file_s']:.2f} s) vs wall {wall:.2f} s between the "
        f"space presses ({r['recording_wall_s']:.2f} s in the recording phase): "
        f"ratio {r['take_s'] / wall:.3f}"
    )
    print(
        f"  meter during the take: {r['updates_hz']:.1f} updates/s, {r['renders_hz']:.1f} redraws/s "
        f"(audio blocks {r['blocks_hz']:.0f}/s; target >= {METER_TARGET_HZ:g}/s: "
        f"{'meets' if r['renders_hz'] >= METER_TARGET_HZ else 'MISSES'})"
    )
    idle, ready, take = r["idle_cpu"], r["ready_cpu"], r["take_cpu"]
    print(
        f"  CPU of this process (getrusage, % of one core): idle {idle * 100:.1f}%, app ready on the "
        f"Record screen {ready * 100:.1f}%, recording {take * 100:.1f}% "
        f"(recording - idle = {(take - idle) * 100:.1f} points; "
        f"recording / ready = {take / max(ready, 1e-9):.2f}x)"
    )
    print(
        f"  of which the UI (event-loop) thread: ready {r['ready_ui_cpu'] * 100:.1f}%, "
        f"recording {r['take_ui_cpu'] * 100:.1f}%; audio, writer and other threads: "
        f"ready {(ready - r['ready_ui_cpu']) * 100:.1f}%, recording {(take - r['take_ui_cpu']) * 100:.1f}%"
    )


def main() -> None:
    """Run the TUI benchmarks in temporary studios."""
    with tempfile.TemporaryDirectory(prefix="timbre-bench-tui-") as tmp:
        home = Path(tmp)
        bench_first_frame(home / "first-frame")
        bench_meter(home / "meter")
        bench_take_under_ui(home / "take")


if __name__ == "__main__":
    sys.path.insert(0, str(REPO))
    main()
