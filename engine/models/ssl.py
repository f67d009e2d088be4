"""SSL content features: chinese-hubert-base ``last_hidden_state`` of a raw 16 kHz waveform (spec §2.4)."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import torch

from engine.errors import ModelError
from engine.models.hf_util import PretrainedWrapper, load_pretrained

log = logging.getLogger(__name__)

SAMPLE_RATE = 16000
REFERENCE_PAD = int(0.3 * 32000)  # zeros appended to a reference at 16 kHz (0.6 s), as the reference does


def frames_for(samples: int) -> int:
    """Number of 50 Hz HuBERT frames for ``samples`` at 16 kHz (the conv-stack length formula)."""
    n = samples
    for kernel, stride in zip((10, 3, 3, 3, 3, 2, 2), (5, 2, 2, 2, 2, 2, 2), strict=True):
        n = (n - kernel) // stride + 1
    return max(n, 0)


class SslModel(PretrainedWrapper):
    """A HuBERT wrapper: raw float waveform in [-1, 1] at 16 kHz → features [B, hidden, T50] (768 wide)."""

    @classmethod
    def load(cls, folder: Path | str, device: str | torch.device = "cpu") -> SslModel:
        """Load a chinese-hubert-base-style folder (config.json + weights) with no network."""
        from transformers import HubertModel

        model = load_pretrained(HubertModel, Path(folder), "chinese-hubert-base")
        return cls(model.to(device))

    @torch.inference_mode()
    def features(self, wav16k: np.ndarray | torch.Tensor) -> torch.Tensor:
        """``last_hidden_state`` as [B, hidden, T] for a waveform [N] or [B, N] (not normalised)."""
        wav = torch.as_tensor(wav16k, dtype=torch.float32)
        if wav.dim() == 1:
            wav = wav.unsqueeze(0)
        if wav.shape[-1] < 400:
            raise ModelError(
                "The audio is too short for HuBERT features.", "Use at least a few seconds of speech."
            )
        out = self.model(wav.to(self.device)).last_hidden_state
        return out.transpose(1, 2).float()

    def reference_features(self, wav16k: np.ndarray) -> torch.Tensor:
        """Features of a reference clip with 0.6 s of zeros appended (as the reference does)."""
        padded = np.concatenate([np.asarray(wav16k, dtype=np.float32), np.zeros(REFERENCE_PAD, np.float32)])
        return self.features(padded)
