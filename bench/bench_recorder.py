"""Recorder benchmark against the PulseAudio null-sink virtual microphone.

Measures, in one run:
* meter latency: how old the newest block is when a 30 fps poller reads ``Recorder.meter()``,
  and PortAudio's own ADC-to-callback latency;
* meter update rate: distinct blocks seen by the poller per second, and the cost of ``meter()``;
* callback cost per block, against a baseline callback that only queues a copy (rec_unlimited);
* CPU use of this process while recording, against the same process idle (baseline) and with the
  stream open but no take running;
* input overflows over a long take (default 60 s; TIMBRE_BENCH_SECONDS overrides).
"""

from __future__ import annotations

import os
import queue
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace

import numpy as np

TESTS = Path(__file__).resolve().parent.parent / "tests"
RATE = 48000
POLL_HZ = 30.0


def _percentile(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else float("nan")


def _cpu_over(seconds: float, during=None) -> float:
    """CPU seconds this process used per wall second over ``seconds`` (optionally while ``during`` runs)."""
    wall0, cpu0 = time.monotonic(), time.process_time()
    if during is not None:
        during(seconds)
    else:
        time.sleep(seconds)
    return (time.process_time() - cpu0) / (time.monotonic() - wall0)


def _speech(folder: Path, seconds: float) -> Path:
    """Looped espeak-ng speech of the built-in English script, ``seconds`` long, at RATE."""
    from engine.prompts import builtin_script

    text = folder / "en.txt"
    text.write_text("\n".join(builtin_script("en")), encoding="utf-8")
    raw = folder / "raw.wav"
    out = folder / "speech.wav"
    subprocess.run(["espeak-ng", "-v", "en-us", "-s", "150", "-f", str(text), "-w", str(raw)], check=True)
    subprocess.run(
        ["sox", str(raw), "-b", "16", str(out), "rate", "-v", str(RATE)]
        + ["repeat", "2", "trim", "0", str(seconds)],
        check=True,
        capture_output=True,
    )
    return out


def _callback_cost(recorder, blocks: int = 5000, frames: int = 441) -> tuple[float, float]:
    """Microseconds per call of the recorder's callback and of a copy-into-queue baseline."""
    rng = np.random.default_rng(1)
    indata = (rng.uniform(-0.3, 0.3, (frames, 1))).astype(np.float32)
    status = SimpleNamespace(input_overflow=False)
    info = SimpleNamespace(currentTime=0.0, inputBufferAdcTime=0.0)
    q: queue.SimpleQueue = queue.SimpleQueue()

    def baseline(indata, frames, time_info, status):
        q.put_nowait(indata.copy())

    def timed(fn) -> float:
        start = time.perf_counter()
        for _ in range(blocks):
            fn(indata, frames, info, status)
        return (time.perf_counter() - start) / blocks * 1e6

    timed(baseline)
    base = timed(baseline)
    ours = timed(recorder._callback)
    return ours, base


def _poll(recorder, seconds: float, stats: dict) -> None:
    """A UI-like poller at POLL_HZ: record the age of the newest block at each new block seen."""
    from tui.commands.record import meter_line

    ages, seen, costs = [], 0, []
    period = 1.0 / POLL_HZ
    end = time.monotonic() + seconds
    next_tick = time.monotonic()
    while time.monotonic() < end:
        t0 = time.perf_counter()
        state = recorder.meter()
        meter_line(state)  # what a text UI would also do each frame
        costs.append((time.perf_counter() - t0) * 1e6)
        now = time.monotonic()
        if state.blocks != seen:
            ages.append((now - state.block_time) * 1e3)
            stats["updates"] += 1
            seen = state.blocks
        next_tick += period
        time.sleep(max(0.0, next_tick - time.monotonic()))
    stats["ages_ms"] = ages
    stats["poll_cost_us"] = costs
    stats["blocks"] = seen


def main() -> None:
    """Run the benchmark and print its report."""
    sys.path.insert(0, str(TESTS))
    from virtual_mic import play_into_mic, virtual_microphone

    from engine.audio.recorder import Recorder

    seconds = float(os.environ.get("TIMBRE_BENCH_SECONDS", "60"))
    with tempfile.TemporaryDirectory(prefix="timbre-bench-") as tmp:
        folder = Path(tmp)
        speech = _speech(folder, seconds)
        with virtual_microphone(rate=RATE) as mic:
            idle = _cpu_over(3.0)
            rec = Recorder(samplerate=RATE)
            try:
                assert rec.wait_ready(), "virtual microphone sends no audio"
                open_only = _cpu_over(3.0)
                ours_us, base_us = _callback_cost(rec)

                stats: dict = {"updates": 0}
                rec.start_take(folder / "take.wav")
                player = play_into_mic(speech, wait=False, mic=mic)
                blocks0 = rec.meter().blocks
                t0 = time.monotonic()
                recording = _cpu_over(seconds, lambda s: _poll(rec, s, stats))
                elapsed = time.monotonic() - t0
                blocks = rec.meter().blocks - blocks0
                adc_latency = rec.last_input_latency
                player.wait(timeout=30)
                result = rec.stop_take()
            finally:
                rec.close()

    ages = stats["ages_ms"]
    print(f"take: {result.seconds:.1f} s at {result.samplerate} Hz, {result.frames} frames")
    print(f"overflows over the take: {result.overflow_count}   (target 0)")
    print(
        f"meter latency (age of newest block when a {POLL_HZ:.0f} fps poll reads it): "
        f"median {statistics.median(ages):.1f} ms, p95 {_percentile(ages, 95):.1f} ms, "
        f"max {max(ages):.1f} ms   (target <= 50 ms)"
    )
    if adc_latency > 0:
        print(f"PortAudio ADC->callback latency: {adc_latency * 1e3:.1f} ms")
    else:
        print("PortAudio ADC->callback latency: not reported by this host API")
    print(f"block -> meter state: updated inside the callback itself ({ours_us:.1f} us per block)")
    print(
        f"meter updates seen by the poller: {stats['updates'] / elapsed:.1f}/s "
        f"(blocks arrive at {blocks / elapsed:.0f}/s; target >= 20/s)"
    )
    costs = stats["poll_cost_us"]
    print(f"meter() + text render per poll: median {statistics.median(costs):.0f} us")
    print(
        f"callback per block: {ours_us:.1f} us vs copy-into-queue baseline {base_us:.1f} us "
        f"(ratio {ours_us / base_us:.2f}x)"
    )
    print(
        f"CPU of this process: idle {idle * 100:.1f}%, stream open {open_only * 100:.1f}%, "
        f"recording + {POLL_HZ:.0f} fps polling {recording * 100:.1f}% of one core "
        f"(recording - idle = {(recording - idle) * 100:.1f} points; ratio to stream-open "
        f"{recording / max(open_only, 1e-9):.2f}x)"
    )


if __name__ == "__main__":
    main()
