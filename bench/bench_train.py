"""Fine-tune speed and memory on CPU: SoVITS and GPT training steps at TINY and V2 size, as ratios.

Baselines measured in the same run: each phase's TINY step (V2 / TINY ratios), and for the GPT the
optimiser comparison the issue asks for (ScaledAdam, the official one, against AdamW on the same TINY
data and seed: the loss each ends at).
"""

from __future__ import annotations

import os
import resource
import time

import numpy as np
import torch

BATCH = 2
STEPS = 3
THREADS = int(os.environ.get("TIMBRE_THREADS") or 1)  # 1: the shared CI machine's cores are busy


def _rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _items(n: int, ssl_dim: int, bert_dim: int, frames: tuple[int, int], seed: int = 0):
    from types import SimpleNamespace

    from engine.models.spec import spectrogram

    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        t = int(rng.integers(*frames)) // 2 * 2
        wav = (0.3 * np.sin(np.arange(t * 640) / 32000 * 2 * np.pi * (120 + 30 * i))).astype(np.float32)
        p = int(rng.integers(10, 30))
        out.append(
            SimpleNamespace(
                key=str(i),
                phone_ids=torch.from_numpy(rng.integers(1, 300, p)),
                bert=torch.zeros(bert_dim, p),
                ssl=torch.randn(ssl_dim, t),
                semantic=torch.from_numpy(rng.integers(0, 1024, t // 2)),
                wav=torch.from_numpy(wav),
                spec=spectrogram(torch.from_numpy(wav)),
            )
        )
    return out


def _time_steps(step, steps: int = STEPS) -> float:
    """Steps per second after one warm-up step."""
    step(0)
    start = time.perf_counter()
    for s in range(1, steps + 1):
        step(s)
    return steps / (time.perf_counter() - start)


def _sovits(size: str) -> tuple[float, float]:
    from engine.models.sovits import TINY, V2, MultiPeriodDiscriminator, SynthesizerTrn
    from engine.train.amp import make_amp
    from engine.train.batching import collate_sovits
    from engine.train.config import TrainConfig
    from engine.train.sovits_loop import SoVITSTrainer

    cfg = TINY if size == "TINY" else V2
    before = _rss_mib()
    torch.manual_seed(0)
    trainer = SoVITSTrainer(
        SynthesizerTrn(cfg),
        MultiPeriodDiscriminator.from_config(cfg),
        TrainConfig("bench"),
        make_amp(torch.device("cpu")),
    )
    batch = collate_sovits(_items(BATCH, cfg.ssl_dim, 1024, (cfg.segment_size + 8, cfg.segment_size + 20)))
    rate = _time_steps(lambda s: trainer.step(batch, s))
    return rate, _rss_mib() - before


def _gpt(size: str, optimizer: str = "scaled_adam") -> tuple[float, float]:
    from engine.models.t2s import TINY, V2, Text2Semantic
    from engine.train.amp import make_amp
    from engine.train.batching import collate_gpt
    from engine.train.config import TrainConfig
    from engine.train.gpt_loop import GPTTrainer

    cfg = TINY if size == "TINY" else V2
    before = _rss_mib()
    torch.manual_seed(0)
    trainer = GPTTrainer(
        Text2Semantic(cfg),
        TrainConfig("bench", gpt_accumulate=1, gpt_optimizer=optimizer),
        make_amp(torch.device("cpu")),
    )
    batch = collate_gpt(_items(BATCH, 64, cfg.bert_dim, (100, 150)))
    rate = _time_steps(lambda s: trainer.step(batch, s))
    return rate, _rss_mib() - before


def _optimizer_race(optimizer: str, lr: float, first: float) -> float:
    """Per-token GPT loss on the whole TINY set after 40 epochs (160 batches, official accumulation)."""
    from engine.models.t2s import TINY, Text2Semantic
    from engine.train.amp import make_amp
    from engine.train.batching import collate_gpt, epoch_batches, gpt_length
    from engine.train.config import TrainConfig
    from engine.train.gpt_loop import GPTTrainer

    items = _items(16, 64, 1024, (30, 80), seed=1)
    torch.manual_seed(0)
    model = Text2Semantic(TINY)
    config = TrainConfig("bench", gpt_optimizer=optimizer, gpt_lr=lr, gpt_first_lr=first)
    trainer = GPTTrainer(model, config, make_amp(torch.device("cpu")))
    lengths = [gpt_length(i) for i in items]
    step = 0
    for epoch in range(40):
        for b in epoch_batches(lengths, 4, 1234, epoch):
            trainer.step(collate_gpt([items[i] for i in b]), step)
            step += 1
        trainer.end_epoch()
    model.eval()
    with torch.no_grad():
        full = collate_gpt(items)
        out = model.training_loss(full.phone_ids, full.phone_lens, full.bert, full.codes, full.code_lens)
    return float(out.loss) / out.num_targets


def _measure(job: tuple[str, str]) -> tuple[float, float]:
    """(steps/s, peak RSS growth MiB) of one phase and size, run in a fresh process."""
    torch.set_num_threads(THREADS)
    phase, size = job
    return (_sovits if phase == "sovits" else _gpt)(size)


def main() -> None:
    """Print steps/s, peak-memory growth and V2/TINY ratios; then the optimiser comparison."""
    import multiprocessing

    print(
        f"CPU, {THREADS} thread(s), batch {BATCH}, {STEPS} timed steps after one warm-up "
        "(each size in its own process)"
    )
    ctx = multiprocessing.get_context("spawn")
    for phase in ("sovits", "gpt"):
        with ctx.Pool(1, maxtasksperchild=1) as pool:
            (tiny_rate, tiny_mem), (v2_rate, v2_mem) = pool.map(
                _measure, [(phase, "TINY"), (phase, "V2")], chunksize=1
            )
        print(
            f"{phase:6s} TINY {tiny_rate:8.2f} steps/s (peak +{tiny_mem:6.0f} MiB)   "
            f"V2 {v2_rate:8.3f} steps/s (peak +{v2_mem:6.0f} MiB)   "
            f"V2 step = {tiny_rate / v2_rate:7.1f} x TINY"
        )
    torch.set_num_threads(THREADS)
    print(
        "GPT optimiser on TINY (seed 0, 16 items, batch 4, 40 epochs): per-token loss at the end, from 6.96"
    )
    for name, lr, first in (("scaled_adam", 0.002, 0.01), ("adamw", 0.002, 0.01), ("adamw", 1e-4, 1e-4)):
        print(f"  {name:11s} lr {lr:g} (first step {first:g}): {_optimizer_race(name, lr, first):.3f}")


if __name__ == "__main__":
    main()
