"""Speak benchmarks: speak key → first audio sample at the output, and the UI's frame rate while it speaks.

First audio: the Speak screen runs headless (80x24) with a TINY voice; the time from the speak key to
the player's first sample (the callback of a real output stream when a PulseAudio null sink can be
started, else the moment the first piece is handed to the player) is compared with the baseline measured
in the same run: the synthesiser's own time to its first piece, called directly. The ratio is our
overhead around the model (thread hop, player start). With TIMBRE_BENCH_V2=1 the same is measured with
V2-size random GPT/SoVITS weights on the CPU (slow: minutes).

Frame rate: a 60 Hz timer on the Speak screen counts how often the event loop gets to run it, idle (the
baseline) and while a long text is synthesised; the ratio shows how much synthesis starves the UI.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import sys
import tempfile
import time
from contextlib import nullcontext
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
TESTS = REPO / "tests"
RUNS = 3
TEXT = "Hello world. This is a benchmark of the speak screen."
LONG_TEXT = " ".join(f"Sentence number {i} is here." for i in range(1, 9))


def _setup_paths() -> None:
    for p in (TESTS / "tui", TESTS):
        if str(p) not in sys.path:
            sys.path.insert(0, str(p))


class TimingPlayer:
    """A player that notes when the first sample arrives (no sound device needed)."""

    def __init__(self, device, samplerate) -> None:
        self.first_sample_at: float | None = None

    def feed(self, chunk) -> None:
        if self.first_sample_at is None:
            self.first_sample_at = time.perf_counter()

    def finish(self) -> None: ...
    def stop(self) -> None: ...

    def wait(self, timeout=None) -> bool:
        return True

    @property
    def active(self) -> bool:
        return False


async def _wait(pilot, condition, timeout: float = 300.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        await pilot.pause(0.01)
    raise TimeoutError("the Speak screen did not get there in time")


async def _speak_runs(home: Path, factory, player_factory, output) -> tuple[list[float], list[float]]:
    """(speak key → first audio, per run), (the synthesiser's own first-piece time, per run)."""
    from tui_fakes import FakeAudio, make_app

    from tui.screens.speak import SpeakScreen

    app = make_app(home, FakeAudio())
    ui, direct = [], []
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        screen = SpeakScreen(voice="bench", output=output, text=TEXT, synthesizer_factory=factory,
                             player_factory=player_factory)  # fmt: skip
        app.push_screen(screen)
        await _wait(pilot, lambda: screen.state == "ready")
        for _ in range(RUNS):
            count = len(screen.history)
            await pilot.press("ctrl+r")
            await _wait(pilot, lambda c=count: len(screen.history) > c and screen.state == "ready")
            ui.append(screen.history[-1][1].first_audio_s)
            synth = screen.synth
            params = screen._params()
            t0 = time.perf_counter()
            next(iter(synth.stream(TEXT, params)))
            direct.append(time.perf_counter() - t0)
    return ui, direct


async def _frame_rate(home: Path, factory) -> tuple[float, float]:
    """Timer ticks per second on the Speak screen: idle, then while synthesising LONG_TEXT."""
    from tui_fakes import FakeAudio, make_app

    from tui.screens.speak import FILES, SpeakScreen

    app = make_app(home, FakeAudio())
    ticks: list[float] = []
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        screen = SpeakScreen(voice="bench", output=FILES, text=LONG_TEXT, synthesizer_factory=factory)
        app.push_screen(screen)
        await _wait(pilot, lambda: screen.state == "ready")
        screen.set_interval(1 / 60, lambda: ticks.append(time.perf_counter()))
        await pilot.pause(2.0)
        idle = len(ticks) / 2.0
        ticks.clear()
        start = time.perf_counter()
        await pilot.press("ctrl+r")
        await _wait(pilot, lambda: screen.history and screen.state == "ready")
        busy = len(ticks) / max(time.perf_counter() - start, 1e-6)
    return idle, busy


def _tiny_env(root: Path) -> Path:
    from tiny_voice import REF_TEXT, build_pretrained, espeak, make_voice

    pretrained = build_pretrained(root / "pretrained")
    os.environ["TIMBRE_PRETRAINED"] = str(pretrained)
    home = root / "studio"
    (home / "voices").mkdir(parents=True)
    (home / "recordings").mkdir()
    make_voice(home, "bench", espeak(REF_TEXT, root / "ref.wav"))
    return home


def _v2_factory(root: Path):
    """Synthesisers over V2-size random GPT/SoVITS (tiny HuBERT/BERT of V2 widths), built once."""
    import torch

    sys.path.insert(0, str(TESTS / "models"))
    import tiny_weights as tw
    from tiny_voice import CappedSynth

    from engine.models.sovits.config import V2 as SOVITS_V2
    from engine.models.sovits.synthesizer import SynthesizerTrn
    from engine.models.ssl import SslModel
    from engine.models.t2s.config import V2 as GPT_V2
    from engine.models.t2s.model import Text2Semantic
    from engine.synth import Models, Synthesizer

    torch.manual_seed(0)
    hubert = tw.write_tiny_hubert(root / "v2-hubert", hidden=SOVITS_V2.ssl_dim)
    models = Models(
        Text2Semantic(GPT_V2).eval(), SynthesizerTrn(SOVITS_V2).eval(), SslModel.load(hubert, "cpu")
    )

    def factory(voice):
        return CappedSynth(Synthesizer(voice, models=models))

    return factory


def main() -> None:
    _setup_paths()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from tiny_voice import capped_factory

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        home = _tiny_env(root)
        sink = nullcontext(None)
        player, output = TimingPlayer, 0
        try:
            from virtual_mic import tools_available, virtual_microphone

            if tools_available():
                sink = virtual_microphone(32000)
                player, output = None, None  # the real StreamPlayer on the default (null sink) output
        except ImportError:
            pass
        with sink as mic:
            where = "a real output stream (PulseAudio null sink)" if mic is not None else "the player's feed"
            ui, direct = asyncio.run(_speak_runs(home, capped_factory(), player, output))
        ui_ms, direct_ms = statistics.median(ui) * 1e3, statistics.median(direct) * 1e3
        print(f"TINY voice, speak key → first audio sample at {where}: {ui_ms:.0f} ms (median of {RUNS})")
        print(f"  baseline, the synthesiser's own first piece: {direct_ms:.0f} ms")
        print(f"  ratio (our overhead around the model): {ui_ms / max(direct_ms, 1e-6):.2f}x")
        idle, busy = asyncio.run(_frame_rate(home, capped_factory()))
        print(f"UI timer rate on Speak: idle {idle:.1f}/s, while synthesising {busy:.1f}/s "
              f"(ratio {busy / max(idle, 1e-6):.2f}; 1.00 means synthesis never starves the UI)")  # fmt: skip
        if os.environ.get("TIMBRE_BENCH_V2") == "1":
            ui, direct = asyncio.run(_speak_runs(home, _v2_factory(root), TimingPlayer, 0))
            ui_ms, direct_ms = statistics.median(ui) * 1e3, statistics.median(direct) * 1e3
            print(f"V2-size random weights (CPU): key → first audio {ui_ms:.0f} ms, synthesiser alone "
                  f"{direct_ms:.0f} ms, ratio {ui_ms / max(direct_ms, 1e-6):.2f}x")  # fmt: skip
        else:
            print("V2-size random weights: skipped (set TIMBRE_BENCH_V2=1; takes minutes on a CPU)")


if __name__ == "__main__":
    main()
