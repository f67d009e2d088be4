"""Synthetic TrainItems from the TINY configs (no HuBERT, BERT or audio files needed)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from engine.models.sovits.config import TINY as SOVITS_TINY
from engine.models.t2s.config import TINY as GPT_TINY


@dataclass
class Item:
    """Duck-typed like engine.train.data.TrainItem."""

    key: str
    text: str
    language: str
    phone_ids: np.ndarray
    bert: np.ndarray
    ssl: np.ndarray
    semantic: np.ndarray
    wav: np.ndarray
    spec: np.ndarray
    seconds: float


def make_items(n: int = 4, seed: int = 0, frames: tuple[int, int] = (12, 20)) -> list[Item]:
    """``n`` items of random phones/features with a real spectrogram of a random tone wave."""
    from engine.models.spec import spectrogram

    rng = np.random.default_rng(seed)
    items = []
    for i in range(n):
        t50 = int(rng.integers(frames[0], frames[1] + 1))
        t50 += t50 % 2
        samples = t50 * 640
        time = np.arange(samples) / 32000
        f0 = 120 + 40 * i
        wav = (0.3 * np.sin(2 * np.pi * f0 * time) + 0.02 * rng.standard_normal(samples)).astype(np.float32)
        spec = spectrogram(torch.from_numpy(wav)).numpy()
        p = int(rng.integers(5, 12))
        items.append(
            Item(
                key=f"{i + 1:04d}",
                text="hello",
                language="en",
                phone_ids=rng.integers(1, 300, size=p).astype(np.int64),
                bert=np.zeros((GPT_TINY.bert_dim, p), np.float32),
                ssl=rng.standard_normal((SOVITS_TINY.ssl_dim, t50)).astype(np.float32),
                semantic=rng.integers(0, 1024, size=t50 // 2).astype(np.int64),
                wav=wav,
                spec=spec,
                seconds=samples / 32000,
            )
        )
    return items
