"""Learning, not just running: on a fixed tiny batch both fine-tunes lower their losses clearly."""

from __future__ import annotations

import torch
from synthetic import make_items

from engine.models.sovits import TINY as SOVITS_TINY
from engine.models.sovits import MultiPeriodDiscriminator, SynthesizerTrn
from engine.models.t2s import TINY as GPT_TINY
from engine.models.t2s import Text2Semantic
from engine.train.amp import make_amp
from engine.train.batching import collate_gpt, collate_sovits
from engine.train.config import TrainConfig
from engine.train.gpt_loop import GPTTrainer
from engine.train.sovits_loop import SoVITSTrainer

CPU = make_amp(torch.device("cpu"))


def test_sovits_overfits_a_fixed_batch():
    torch.manual_seed(0)
    trainer = SoVITSTrainer(
        SynthesizerTrn(SOVITS_TINY), MultiPeriodDiscriminator.from_config(SOVITS_TINY), TrainConfig("t"), CPU
    )
    batch = collate_sovits(make_items(3, seed=2))
    history = [trainer.step(batch, step) for step in range(30)]
    first, last = history[0], history[-1]
    assert last["mel"] < 0.75 * first["mel"], (first, last)
    assert last["kl"] < 0.5 * first["kl"], (first, last)
    assert last["g_total"] < 0.75 * first["g_total"]


def test_gpt_overfits_a_fixed_batch_with_scaled_adam():
    torch.manual_seed(0)
    config = TrainConfig("t", gpt_accumulate=1)  # one optimiser step per batch; official lr and optimiser
    trainer = GPTTrainer(Text2Semantic(GPT_TINY), config, CPU)
    batch = collate_gpt(make_items(3, seed=2))
    history = [trainer.step(batch, step)["loss"] for step in range(120)]
    assert trainer.updates == 120
    assert history[-1] < 0.7 * history[0], (history[0], history[-1])


def test_gpt_steps_every_four_batches_and_flushes_at_epoch_end():
    torch.manual_seed(0)
    model = Text2Semantic(GPT_TINY)
    trainer = GPTTrainer(model, TrainConfig("t"), CPU)
    batch = collate_gpt(make_items(2, seed=3))
    before = [p.detach().clone() for p in model.parameters()]
    for step in range(3):
        trainer.step(batch, step)
    assert trainer.updates == 0 and all(
        torch.equal(a, b) for a, b in zip(before, model.parameters(), strict=True)
    )
    assert trainer.lr == 0.01  # the official first step runs at the optimiser's initial lr
    trainer.step(batch, 3)
    assert trainer.updates == 1 and trainer.lr == 0.002
    trainer.step(batch, 4)
    trainer.end_epoch()
    assert trainer.updates == 2 and trainer.pending == 0
