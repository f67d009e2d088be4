"""Speaker similarity with the GE2E encoder shipped in resemblyzer's wheel, on espeak-ng voices."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from engine.audio.io import resample
from engine.train import similarity as S

TEXTS = (
    "The north wind and the sun were disputing which was the stronger, when a traveler came along.",
    "They agreed that the one who first made the traveler take his cloak off should be the stronger.",
)


def _speak(folder: Path, voice: str, text: str) -> tuple[np.ndarray, int]:
    if shutil.which("espeak-ng") is None:
        if os.environ.get("CI"):
            pytest.fail("espeak-ng is not installed (the CI script must install it)")
        pytest.skip("espeak-ng is not installed")
    path = folder / f"{voice}-{len(text)}.wav"
    subprocess.run(["espeak-ng", "-v", voice, "-s", "160", "-w", str(path), text], check=True, timeout=30)
    x, sr = sf.read(str(path), dtype="float32")
    return x, sr


@pytest.fixture(scope="module")
def clips(tmp_path_factory):
    d = tmp_path_factory.mktemp("voices")
    return {(v, i): _speak(d, v, t) for v in ("en-us", "en+f4") for i, t in enumerate(TEXTS)}


@pytest.fixture(scope="module")
def embeddings(clips):
    return {key: S.speaker_embedding(x, sr) for key, (x, sr) in clips.items()}


def test_same_voice_scores_higher_than_another_voice(clips, embeddings):
    e = embeddings
    same = [S.cosine(e["en-us", 0], e["en-us", 1]), S.cosine(e["en+f4", 0], e["en+f4", 1])]
    cross = [S.cosine(e["en-us", 0], e["en+f4", 1]), S.cosine(e["en+f4", 0], e["en-us", 1])]
    for score in (*same, *cross):
        assert 0.0 <= score <= 1.0
    # measured: same voice 0.92-0.94, these two voices 0.70 (different sentences in each pair)
    assert min(same) > max(cross) + 0.1, (same, cross)
    (a0, ra0), (a1, ra1) = clips["en-us", 0], clips["en-us", 1]
    assert S.speaker_similarity(a0, ra0, a1, ra1) == pytest.approx(same[0], abs=1e-5)


def test_a_clip_matches_itself_at_any_rate(clips, embeddings):
    x, sr = clips["en-us", 0]
    again = embeddings["en-us", 0]
    assert S.cosine(S.speaker_embedding(x, sr), again) == pytest.approx(1.0, abs=1e-5)
    assert S.cosine(S.speaker_embedding(resample(x, sr, 32000), 32000), again) > 0.99
    stereo = np.stack([x, x], axis=1)
    assert S.cosine(S.speaker_embedding(stereo, sr), again) == pytest.approx(1.0, abs=1e-5)


def test_embeddings_are_unit_length_and_short_clips_work(clips):
    x, sr = clips["en-us", 0]
    emb = S.speaker_embedding(x[: int(0.5 * sr)], sr)  # shorter than one 1.6 s window: padded
    assert emb.shape == (256,) and emb.dtype == np.float32
    assert float(np.linalg.norm(emb)) == pytest.approx(1.0, abs=1e-5) and emb.min() >= 0
    assert S.encoder() is S.encoder()  # loaded once


def test_silent_clip_is_a_clear_error():
    from engine.errors import ModelError

    with pytest.raises(ModelError, match="silent"):
        S.speaker_embedding(np.zeros(16000, np.float32), 16000)


def test_importing_it_pulls_neither_librosa_nor_resemblyzer():
    code = (
        "import sys, engine.train.similarity as s; s.weights_path();"
        "print('librosa' in sys.modules, 'resemblyzer' in sys.modules, 'webrtcvad' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False", "False"]
