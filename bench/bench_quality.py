"""Quality analysis + noise reduction of 60 s of 48 kHz speech, and import + slicing of a 30-minute file.

Baselines measured in the same run:
- analysis/denoise: noisereduce's default call (non-stationary, on the whole 48 kHz file), which is
  what a pipeline without a room-tone profile or a 32 kHz target would run. Ours: read the file once,
  every quality check on the 48 kHz take, then the clean step (32 kHz, high-pass, stationary gate
  with a room tone, trim, normalise, write). Target: ≤ 2 s for 60 s (≥ 30× real time) on 2 cores.
- import: ``soundfile.read`` of the whole 30-minute file into memory (no slicing at all). Ours:
  the streaming importer (envelope pass, cut plan, second pass writing WAV takes into a session).
- listening score: DNSMOS (onnxruntime) on an 8 s take against the rule-based checks of the same
  take (``analyse_audio(learned=False)``), both on audio already read; the model load is timed apart.
- transcript alignment: ``align_lines`` (one take per line, 150 lines of a 30-minute reading)
  against ``plan_slices`` (pauses only) on the same level envelope.
- check memory: peak resident memory (ru_maxrss, a fresh process each) of `timbre check` on the
  30-minute file against the same checks run on the whole file read into memory (before issue 13).
Peak memory elsewhere is Python-tracked allocations (tracemalloc; numpy reports its buffers there).
Test speech comes from espeak-ng and sox (machine-recipes §4); the bench fails if they are missing.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
import tracemalloc
from pathlib import Path

import numpy as np
import soundfile as sf

TEXT = (
    "The north wind and the sun were disputing which was the stronger, when a traveler came along "
    "wrapped in a warm cloak. They agreed that the one who first succeeded in making the traveler "
    "take his cloak off should be considered stronger than the other. Then the north wind blew as "
    "hard as he could, but the more he blew the more closely did the traveler fold his cloak around "
    "him; and at last the north wind gave up the attempt. Then the sun shined out warmly, and "
    "immediately the traveler took off his cloak. And so the north wind was obliged to confess that "
    "the sun was the stronger of the two. When the sunlight strikes raindrops in the air, they act "
    "as a prism and form a rainbow. The rainbow is a division of white light into many beautiful "
    "colors."
)


def _sh(*cmd: str) -> None:
    subprocess.run(cmd, check=True, capture_output=True)


def _white_noise(path: Path, seconds: float) -> None:
    """48 kHz 16-bit white noise at sox's 'vol 0.006' (the take's noise and its room tone alike)."""
    synth = ("synth", str(seconds), "whitenoise", "vol", "0.006")
    _sh("sox", "-R", "-n", "-r", "48000", "-c", "1", "-b", "16", str(path), *synth)


def _timed(fn) -> tuple[float, float, object]:
    """(wall seconds, CPU seconds of this process, result) of one call (no tracing overhead)."""
    wall, cpu = time.perf_counter(), time.process_time()
    result = fn()
    return time.perf_counter() - wall, time.process_time() - cpu, result


def _measure(fn) -> tuple[float, float, object]:
    """(seconds, peak MiB tracked, result) of one call."""
    tracemalloc.start()
    start = time.perf_counter()
    result = fn()
    seconds = time.perf_counter() - start
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    return seconds, peak, result


def bench_analysis(folder: Path) -> None:
    from engine.audio.denoise import DenoiseSettings, clean_audio, load_noise_profile
    from engine.audio.io import read_audio
    from engine.audio.quality import analyse_audio

    raw = folder / "para.wav"
    take = folder / "take48.wav"
    room = folder / "room.wav"
    _sh("espeak-ng", "-v", "en-us", "-s", "150", "-w", str(raw), TEXT)
    _sh(
        "sox",
        str(raw),
        "-r",
        "48000",
        "-b",
        "16",
        str(folder / "speech48.wav"),
        "trim",
        "0",
        "60",
        "gain",
        "-3",
    )
    _white_noise(folder / "noise.wav", 60)
    _sh("sox", "-m", str(folder / "speech48.wav"), str(folder / "noise.wav"), str(take))
    _white_noise(room, 3)
    audio = read_audio(take)
    print(f"input: {audio.seconds:.1f} s at {audio.samplerate} Hz (speech + white noise)")

    import noisereduce  # warm the import so neither side pays it

    noisereduce.reduce_noise(y=audio.samples[:48000], sr=48000)

    def baseline():
        return noisereduce.reduce_noise(y=audio.samples, sr=audio.samplerate)

    split: dict[str, float] = {}

    def ours():  # what "prepare for training" does with a take not yet checked: one read, both steps
        start = time.perf_counter()
        raw = read_audio(take)
        report = analyse_audio(raw, learned=False)  # the listening score is measured below
        split["analysis"] = min(split.get("analysis", 1e9), time.perf_counter() - start)
        start = time.perf_counter()
        noise = load_noise_profile(room)
        result = clean_audio(raw, folder / "clean.wav", noise, DenoiseSettings())
        split["clean"] = min(split.get("clean", 1e9), time.perf_counter() - start)
        return report, result

    base_runs = [_timed(baseline) for _ in range(2)]
    base_s, base_cpu = min(r[0] for r in base_runs), min(r[1] for r in base_runs)
    runs = [_timed(ours) for _ in range(2)]
    ours_s, ours_cpu = min(r[0] for r in runs), min(r[1] for r in runs)
    report, result = runs[0][2]
    print(
        f"quality report: {report.verdict}, SNR {report.get('snr').figure}, denoise {result.info.mode} "
        f"prop_decrease {result.info.prop_decrease:.2f}"
    )
    print(f"baseline noisereduce default (48 kHz, non-stationary): {base_s:.2f} s (CPU {base_cpu:.2f} s)")
    print(
        f"ours analysis + clean:                               {ours_s:.2f} s "
        f"(analysis {split['analysis']:.2f} s, clean {split['clean']:.2f} s; "
        f"{audio.seconds / ours_s:.0f}x real time; {ours_s / base_s:.2f}x the baseline's time; "
        f"target <= 2 s: {'met' if ours_s <= 2.0 else 'MISSED'})"
    )
    print(
        f"ours CPU time: {ours_cpu:.2f} s ({audio.seconds / ours_cpu:.0f}x real time; "
        f"{ours_cpu / base_cpu:.2f}x the baseline's CPU time; the fairer figure on a busy machine)"
    )
    print(f"load average while measuring: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")


def bench_import(folder: Path) -> None:
    from engine.audio.importer import import_files
    from engine.session import Session
    from engine.studio import Studio

    long = folder / "long.wav"
    raw = folder / "para.wav"
    seconds = sf.info(str(raw)).duration
    repeats = int(np.ceil(1800 / seconds))
    _sh(
        "sox", str(raw), "-r", "44100", "-b", "16", str(long), "repeat", str(repeats - 1), "trim", "0", "1800"
    )
    info = sf.info(str(long))
    print(
        f"input: {info.duration / 60:.1f} min at {info.samplerate} Hz, {long.stat().st_size / 2**20:.0f} MiB"
    )

    def baseline():
        x, _ = sf.read(str(long), dtype="float32")
        return x.size

    studio = Studio(folder / "studio").ensure()

    def ours():
        session = Session.create(studio, "en", [], device=None, samplerate=0, script_name="imported")
        return import_files(session, [long])

    base_s, base_mem, _ = _measure(baseline)
    ours_s, ours_mem, result = _measure(ours)
    lengths = [t for f in result.files for t in [f.seconds / max(1, len(f.take_ids))]]
    print(f"baseline sf.read whole file: {base_s:.2f} s, peak {base_mem:.0f} MiB")
    print(
        f"ours import + slicing:       {ours_s:.2f} s, peak {ours_mem:.0f} MiB "
        f"({ours_s / base_s:.1f}x the time, {ours_mem / max(base_mem, 1e-9):.2f}x the memory; "
        f"{info.duration / ours_s:.0f}x real time)"
    )
    print(
        f"takes: {len(result.take_ids)}, mean {lengths[0] if lengths else 0:.1f} s, "
        f"{result.seconds:.0f} s kept"
    )


_PEAK_RSS = """
import resource, sys, contextlib, io
from tui.cli import main
from engine.audio.io import read_audio
from engine.audio.quality import analyse_audio
with contextlib.redirect_stdout(io.StringIO()):
    if sys.argv[1] == "check":
        main(["check", "--json", sys.argv[2]])
    else:  # what `check` did before issue 13: the whole file read, then every check on all of it
        analyse_audio(read_audio(sys.argv[2]))
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


def _peak_rss_mib(mode: str, path: Path) -> float:
    """Peak resident memory (MiB) of a fresh process that checks ``path`` in blocks or whole."""
    import sys

    done = subprocess.run(
        [sys.executable, "-c", _PEAK_RSS, mode, str(path)], check=True, capture_output=True, text=True
    )
    return int(done.stdout.split()[-1]) / 1024


def bench_check_memory(folder: Path) -> None:
    """`timbre check` of the 30-minute file (issue 13: analysed in blocks) against reading it whole."""
    long = folder / "long.wav"
    base = _peak_rss_mib("whole", long)
    ours = _peak_rss_mib("check", long)
    print(f"baseline whole-file read + every check on it: peak RSS {base:.0f} MiB")
    print(f"ours `timbre check` (blocks + a 30 s excerpt): peak RSS {ours:.0f} MiB ({ours / base:.2f}x)")


def bench_listening(folder: Path) -> None:
    from engine.audio import dnsmos
    from engine.audio.io import read_audio
    from engine.audio.quality import analyse_audio

    take = folder / "take8.wav"
    _sh("sox", str(folder / "speech48.wav"), str(take), "trim", "0", "8")
    audio = read_audio(take)
    load_s, _, _ = _timed(dnsmos._model)
    base = min(_timed(lambda: analyse_audio(audio, learned=False))[0] for _ in range(3))
    runs = []
    for _ in range(3):
        dnsmos._cache.clear()  # time the model, not the cache
        runs.append(_timed(lambda: dnsmos.score(audio.samples, audio.samplerate)))
    ours_s, ours_cpu = min(r[0] for r in runs), min(r[1] for r in runs)
    print(f"model load (once per process): {load_s:.2f} s; scores {runs[0][2].describe()}")
    print(f"baseline rule-based checks of an 8 s take: {base:.2f} s")
    print(
        f"ours DNSMOS of the same take: {ours_s:.2f} s (CPU {ours_cpu:.2f} s; "
        f"{ours_s / base:.1f}x the rule checks' time; {audio.seconds / ours_s:.0f}x real time)"
    )


def bench_alignment(folder: Path) -> None:
    from engine.audio.io import iter_blocks
    from engine.audio.slicer import Envelope, align_lines, plan_slices

    long = folder / "long.wav"
    env = None
    for block, _ in iter_blocks(long):
        env = env or Envelope(sf.info(str(long)).samplerate)
        env.add(block)
    assert env is not None
    levels = env.levels_db()
    base_s, _, plan = _timed(lambda: plan_slices(levels))
    weights = [60.0] * 150  # 150 lines of about 12 s each
    ours_s, _, result = _timed(lambda: align_lines(levels, weights))
    print(f"baseline plan_slices (pauses only): {base_s:.3f} s, {len(plan)} takes")
    print(
        f"ours align_lines, {len(weights)} lines: {ours_s:.2f} s ({ours_s / max(base_s, 1e-9):.0f}x the "
        f"baseline's time; confidence {np.mean(result.confidence):.0%})"
    )


def main() -> None:
    """Run every measurement in a temporary folder."""
    for tool in ("espeak-ng", "sox"):
        if shutil.which(tool) is None:
            raise RuntimeError(f"{tool} is needed for the quality benchmark")
    with tempfile.TemporaryDirectory(prefix="timbre-bench-quality-") as tmp:
        folder = Path(tmp)
        print("-- analysis + noise reduction, 60 s of 48 kHz speech")
        bench_analysis(folder)
        print("-- import + slicing, a 30-minute file")
        bench_import(folder)
        print("-- memory of `check` on the 30-minute file (a subprocess each, ru_maxrss)")
        bench_check_memory(folder)
        print("-- listening score (DNSMOS), an 8 s take")
        bench_listening(folder)
        print("-- transcript alignment, the 30-minute file")
        bench_alignment(folder)


if __name__ == "__main__":
    main()
