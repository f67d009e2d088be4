"""Out of GPU memory: the step is retried with half the batch, and a log event says so."""

from __future__ import annotations

import io

import pytest
import torch

from engine.train.config import TrainConfig
from engine.train.events import EventWriter, parse
from engine.train.runner import Runner


class FlakyTrainer:
    """Runs out of memory while a part holds more than 2 items."""

    def __init__(self) -> None:
        self.calls: list[int] = []

    def step(self, batch, step: int, parts: int = 1) -> dict[str, float]:
        self.calls.append(parts)
        if len(batch) / parts > 2:
            raise torch.OutOfMemoryError("CUDA out of memory (simulated)")
        return {"loss": 1.0}


def test_out_of_memory_halves_the_batch_and_says_so(tmp_path):
    out = io.StringIO()
    runner = Runner(tmp_path, TrainConfig("v"), EventWriter(out))
    trainer = FlakyTrainer()
    losses, micro = runner._step_with_oom_retry(trainer, [0] * 8, step=0, micro=1)
    assert losses == {"loss": 1.0} and micro == 4 and trainer.calls == [1, 2, 4]
    events = [parse(line) for line in out.getvalue().splitlines()]
    assert [e.get("level") for e in events] == ["warning", "warning"]
    assert all("half the batch" in e.get("message") for e in events)
    # later steps keep the smaller parts; a batch that cannot be split further re-raises
    assert runner._step_with_oom_retry(trainer, [0] * 8, step=1, micro=micro)[1] == 4
    always = FlakyTrainer()
    always.step = lambda batch, step, parts=1: (_ for _ in ()).throw(torch.OutOfMemoryError("simulated"))
    with pytest.raises(torch.OutOfMemoryError):
        runner._step_with_oom_retry(always, [0] * 2, step=2, micro=1)  # parts of one item still too big
