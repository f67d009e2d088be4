"""The fine-tune's settings: the official WebUI recipe as defaults (spec §6.2, §6.3), every knob an option."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

PHASES = ("prepare", "sovits", "gpt", "export")


@dataclass
class TrainConfig:
    """Everything one training run needs to know besides the data."""

    voice: str
    sessions: list[str] = field(default_factory=list)
    sovits_epochs: int = 8
    gpt_epochs: int = 15
    batch_size: int | None = None  # None: from the GPU's memory (GiB / 2), RAM / 4 on the CPU, capped
    device: str = "auto"
    seed: int = 1234
    keep_epochs: int = 0  # per-epoch weight files kept per phase; 0 keeps all
    max_steps: int | None = None  # per phase; for tests and quick tries
    precision: str = "auto"  # auto (bf16 if supported, else fp16 + GradScaler on CUDA; fp32 on CPU) | fp32
    # SoVITS (configs/s2.json + WebUI)
    sovits_lr: float = 1e-4
    sovits_betas: tuple[float, float] = (0.8, 0.99)
    sovits_eps: float = 1e-9
    text_low_lr_rate: float = 0.4
    lr_decay: float = 0.999875
    # GPT (s1longer-v2.yaml + s1_train.py)
    gpt_lr: float = 0.002
    gpt_first_lr: float = 0.01  # the official scheduler's quirk: the very first step runs at 0.01
    gpt_betas: tuple[float, float] = (0.9, 0.95)
    gpt_accumulate: int = 4  # optimiser step every 4 batches, losses not divided by 4 (as official)
    gpt_optimizer: str = "scaled_adam"  # or "adamw" (for comparisons)
    max_batch: int = 40
    # samples
    samples: bool = True
    sample_max_steps: int = 500  # GPT tokens per sample sentence (20 s at 25 Hz)
    sample_text: str | None = None  # None: a fixed sentence in the voice's language
    threads: int | None = None
    checkpoint_every: int = 0  # also checkpoint every N steps inside an epoch (0: at epoch ends only)
    micro_batches: int = 1  # split each batch into this many parts (OOM halves the batch by doubling it)

    def to_dict(self) -> dict[str, Any]:
        """Plain data for events, checkpoints and voice.json."""
        return asdict(self)


SAMPLE_TEXT = {
    "en": "This is my own voice, speaking a sentence it has never read before.",
    "zh": "今天天气很好，我们一起出去走走吧。",
}


def auto_batch_size(device, n_items: int, max_batch: int = 40) -> int:
    """The official default batch: GPU GiB / 2 (RAM GiB / 4 on the CPU), at most max_batch and n_items / 4."""
    import torch

    if getattr(device, "type", str(device)) == "cuda" and torch.cuda.is_available():
        gib = torch.cuda.get_device_properties(device).total_memory / 2**30
        size = int(gib // 2)
    else:
        try:
            import os

            gib = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
        except (ValueError, OSError, AttributeError):
            gib = 8.0
        size = min(int(gib // 4), 8)  # the CPU is slow: small batches keep progress visible
    return max(1, min(size, max_batch, max(1, n_items // 4)))
