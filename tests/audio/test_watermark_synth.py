"""The TINY engine's output carries the watermark (issue 14): whole sentences and streamed parts."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "models"))

import tiny_weights as tw  # noqa: E402

from engine.audio import watermark as wm  # noqa: E402
from engine.models.sovits.config import TINY as SOVITS_TINY  # noqa: E402
from engine.models.sovits.synthesizer import SynthesizerTrn  # noqa: E402
from engine.models.t2s.config import TINY as GPT_TINY  # noqa: E402
from engine.models.t2s.model import Text2Semantic  # noqa: E402
from engine.synth import SAMPLE_RATE, Synthesizer, SynthParams, load_models  # noqa: E402
from engine.voice import Voice  # noqa: E402
from engine.weights import configs, locate  # noqa: E402
from engine.weights.registry import part  # noqa: E402

REF_TEXT = "The north wind and the sun were disputing which was the stronger"
TEXTS = ["Hello world, this is Timbre.", "How are you today? I am fine.", "Good morning to you all."]
PARAMS = SynthParams(seed=3, max_steps=60)


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    if shutil.which("espeak-ng") is None:
        if os.environ.get("CI"):
            pytest.fail("espeak-ng is not installed (the CI script must install it)")
        pytest.skip("espeak-ng is not installed")
    root = tmp_path_factory.mktemp("pretrained")
    torch.manual_seed(1234)
    sovits, gpt = SynthesizerTrn(SOVITS_TINY), Text2Semantic(GPT_TINY)
    s2, s1 = root / part("sovits").files[0].path, root / part("gpt").files[0].path
    s2.parent.mkdir(parents=True)
    s2.write_bytes(tw.official_sovits_bytes(sovits.state_dict(), configs.sovits_config_to_dict(SOVITS_TINY)))
    s1.write_bytes(tw.official_gpt_bytes(gpt.state_dict(), configs.gpt_config_to_dict(GPT_TINY)))
    tw.write_tiny_hubert(root / "chinese-hubert-base", hidden=SOVITS_TINY.ssl_dim)
    tw.write_tiny_bert(root / "chinese-roberta-wwm-ext-large", hidden=GPT_TINY.bert_dim)
    ref = root / "ref.wav"
    subprocess.run(
        ["espeak-ng", "-v", "en-us", "-s", "150", "-w", str(ref), REF_TEXT], check=True, timeout=30
    )
    voice = Voice.zero_shot(ref, REF_TEXT, "en")
    return voice, load_models(voice, locate.locate(root=root, cache_dir="/nonexistent"), "cpu")


@pytest.fixture(scope="module")
def outputs(models) -> list[np.ndarray]:
    voice, loaded = models
    synth = Synthesizer(voice, models=loaded)
    return [synth.synthesize(text, PARAMS) for text in TEXTS]


def test_synthesised_audio_carries_the_watermark(outputs):
    for audio in outputs:
        assert audio.size > SAMPLE_RATE // 2
        present, confidence = wm.detect(audio, SAMPLE_RATE)
        assert present and confidence > 0.6, confidence  # measured 0.75-0.88 on the TINY buzz


def test_streamed_parts_carry_it_and_keep_their_lengths(models):
    voice, loaded = models
    synth = Synthesizer(voice, models=loaded)
    chunks = list(synth.stream(TEXTS[0], PARAMS, chunk_tokens=16))
    assert len(chunks) >= 2
    for chunk in chunks:
        assert chunk.audio.dtype == np.float32 and np.isfinite(chunk.audio).all()
    joined = np.concatenate([c.audio for c in chunks])
    assert wm.detect(joined, SAMPLE_RATE)[0]


def test_without_the_engine_step_there_is_no_mark(models, monkeypatch):
    voice, loaded = models
    monkeypatch.setattr(wm.StreamEmbedder, "mark", lambda self, chunk: np.asarray(chunk, np.float32))
    raw = Synthesizer(voice, models=loaded).synthesize(TEXTS[0], PARAMS)
    assert not wm.detect(raw, SAMPLE_RATE)[0]


def test_tiny_output_survives_the_usual_transformations(outputs, tmp_path):
    from engine.audio.io import read_audio, resample

    results = {}
    for i, audio in enumerate(outputs):
        wav, mp3 = tmp_path / f"{i}.wav", tmp_path / f"{i}.mp3"
        sf.write(wav, audio, SAMPLE_RATE)
        subprocess.run(["sox", str(wav), "-C", "64", str(mp3)], check=True, timeout=60)
        decoded = read_audio(mp3)
        cases = {
            "16 kHz": (resample(audio, SAMPLE_RATE, 16000), 16000),
            "44.1 kHz": (resample(audio, SAMPLE_RATE, 44100), 44100),
            "MP3 64 kbps": (decoded.samples, decoded.samplerate),
            "+6 dB": (np.clip(audio * 2.0, -1, 1), SAMPLE_RATE),
            "-6 dB": (audio * 0.5, SAMPLE_RATE),
        }
        for name, (x, rate) in cases.items():
            results.setdefault(name, []).append(wm.detect(x, rate)[0])
    rates = {name: float(np.mean(hits)) for name, hits in results.items()}
    for name in ("16 kHz", "44.1 kHz", "+6 dB", "-6 dB"):
        assert rates[name] == 1.0, rates
    assert rates["MP3 64 kbps"] >= 2 / 3, rates  # measured: 2 or 3 of 3 on the TINY buzz (README)
    # not asserted: white noise at 20 dB SNR defeats the mark in the TINY engine's random-weight buzz
    # (0 of 3; the buzz peaks at -34 dBFS); on speech it is 11 of 12 (test_watermark_robustness.py)
