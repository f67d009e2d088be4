"""A TINY voice for the Speak tests: tiny pretrained files in the official layout and a voice folder.

Uses ``engine.weights.tiny.make_tiny`` when it exists, else the builders in tests/models/tiny_weights.py.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
from dataclasses import fields, replace
from pathlib import Path

import numpy as np
import pytest

REF_TEXT = "The north wind and the sun were disputing which was the stronger"
MAX_STEPS = 12  # random TINY weights rarely say EOS: cap each sentence


def espeak(text: str, out: Path) -> Path:
    """A speech clip from espeak-ng (fails in CI, skips elsewhere, when it is missing)."""
    if shutil.which("espeak-ng") is None:
        if os.environ.get("CI"):
            pytest.fail("espeak-ng is not installed (the CI script must install it)")
        pytest.skip("espeak-ng is not installed")
    subprocess.run(["espeak-ng", "-v", "en-us", "-s", "150", "-w", str(out), text], check=True, timeout=30)
    return out


def build_pretrained(root: Path) -> Path:
    """TINY GPT/SoVITS files and tiny HuBERT/BERT folders laid out like the HF repo, under ``root``."""
    try:
        from engine.weights.tiny import make_tiny  # type: ignore[import-not-found]
    except ImportError:
        make_tiny = None
    if make_tiny is not None:
        make_tiny(root)
        return root
    import torch

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "models"))
    import tiny_weights as tw

    from engine.models.sovits.config import TINY as SOVITS_TINY
    from engine.models.sovits.synthesizer import SynthesizerTrn
    from engine.models.t2s.config import TINY as GPT_TINY
    from engine.models.t2s.model import Text2Semantic
    from engine.weights import configs
    from engine.weights.registry import part

    torch.manual_seed(1234)
    sovits, gpt = SynthesizerTrn(SOVITS_TINY), Text2Semantic(GPT_TINY)
    s2 = root / part("sovits").files[0].path
    s1 = root / part("gpt").files[0].path
    s2.parent.mkdir(parents=True, exist_ok=True)
    s2.write_bytes(tw.official_sovits_bytes(sovits.state_dict(), configs.sovits_config_to_dict(SOVITS_TINY)))
    s1.write_bytes(tw.official_gpt_bytes(gpt.state_dict(), configs.gpt_config_to_dict(GPT_TINY)))
    tw.write_tiny_hubert(root / "chinese-hubert-base", hidden=SOVITS_TINY.ssl_dim)
    tw.write_tiny_bert(root / "chinese-roberta-wwm-ext-large", hidden=GPT_TINY.bert_dim)
    return root


def make_voice(home: Path, name: str, reference: Path, text: str = REF_TEXT) -> Path:
    """A zero-shot voice folder (voice.json + reference.wav) in the studio at ``home``."""
    folder = home / "voices" / name
    folder.mkdir(parents=True)
    shutil.copyfile(reference, folder / "reference.wav")
    voice = {
        "name": name,
        "version": "v2",
        "language": "en",
        "reference": {"wav": "reference.wav", "text": text},
        "kind": "zero-shot",
        "created": 1767225600.0,
    }
    (folder / "voice.json").write_text(json.dumps(voice))
    return folder


class CappedSynth:
    """A real Synthesizer whose sentences stop after MAX_STEPS tokens (and, optionally, wait on a gate)."""

    def __init__(self, synth, gate=None) -> None:
        self.inner = synth
        self.voice = synth.voice
        self.gate = gate
        self.calls = 0

    def reference(self):
        return self.inner.reference()

    def stream(self, text, params=None):
        from engine.synth import SynthParams

        params = replace(params or SynthParams(), max_steps=MAX_STEPS)
        if "max_attempts" in {f.name for f in fields(params)}:
            params = replace(params, max_attempts=1)  # random weights: no second GPT pass
        for chunk in self.inner.stream(text, params):
            self.calls += 1
            yield chunk
            if self.gate is not None:
                self.gate.wait(timeout=60)


_MODELS: dict[str, object] = {}


def capped_factory(gate=None):
    """A synthesizer_factory for SpeakScreen giving CappedSynth around the real one."""
    made: list[CappedSynth] = []

    def factory(voice):
        from engine.synth import Synthesizer, check_reference, load_models

        root = os.environ.get("TIMBRE_PRETRAINED", "")
        if root not in _MODELS:  # load the TINY networks once per test run, as the app loads them once
            _MODELS[root] = load_models(voice, device="cpu")
        check_reference(voice.reference_wav)
        synth = CappedSynth(Synthesizer(voice, models=_MODELS[root]), gate)
        made.append(synth)
        return synth

    factory.made = made  # type: ignore[attr-defined]
    return factory


class SinkRecorder:
    """parec on the null sink's monitor, 32 kHz float mono, into memory."""

    def __init__(self, mic) -> None:
        env = {**os.environ, **mic.env}
        self.proc = subprocess.Popen(
            ["parec", f"--device={mic.source}", "--format=float32le", "--rate=32000", "--channels=1",
             "--latency-msec=20", "--raw"],
            env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        self.data = bytearray()
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        while block := self.proc.stdout.read1(4096):
            self.data.extend(block)

    def stop(self) -> np.ndarray:
        self.proc.terminate()
        self.proc.wait(timeout=10)
        self.thread.join(timeout=10)
        n = len(self.data) // 4 * 4
        return np.frombuffer(bytes(self.data[:n]), dtype=np.float32)


def best_correlation(recorded: np.ndarray, original: np.ndarray) -> float:
    """Peak normalised cross-correlation of ``original`` within ``recorded``."""
    n = recorded.size + original.size
    size = 1 << (n - 1).bit_length()
    corr = np.fft.irfft(np.fft.rfft(recorded, size) * np.conj(np.fft.rfft(original, size)), size)
    lag = int(np.argmax(corr[: recorded.size]))
    seg = recorded[lag : lag + original.size]
    if seg.size < original.size // 2:
        return 0.0
    o = original[: seg.size]
    return float(np.dot(seg, o) / (np.linalg.norm(seg) * np.linalg.norm(o) + 1e-12))
