"""Training checkpoints: atomic pairs with a sha256, damaged ones skipped for the one before."""

from __future__ import annotations

import random

import numpy as np
import torch

from engine.train import checkpoint as ckpt


def _payload(step: int) -> dict:
    return {
        "phase": "sovits",
        "step": step,
        "trainer": {"w": torch.full((3,), float(step))},
        "rng": ckpt.rng_state(),
    }


def test_round_trip_and_pruning(tmp_path):
    for step in range(1, 5):
        ckpt.save(tmp_path, "sovits", _payload(step))
    ckpt.save(tmp_path, "gpt", _payload(9))
    names = [p.name for p in ckpt.checkpoints(tmp_path)]
    assert names == ["ckpt-000003-sovits.pt", "ckpt-000004-sovits.pt", "ckpt-000005-gpt.pt"]  # 2 per phase
    latest = ckpt.load_latest(tmp_path)
    assert latest.path.name == "ckpt-000005-gpt.pt" and latest.payload["step"] == 9
    assert torch.equal(latest.payload["trainer"]["w"], torch.full((3,), 9.0))


def test_truncated_last_checkpoint_falls_back_with_a_warning(tmp_path):
    ckpt.save(tmp_path, "sovits", _payload(1))
    last = ckpt.save(tmp_path, "sovits", _payload(2))
    data = last.read_bytes()
    last.write_bytes(data[: len(data) // 2])  # a kill or a full disk cut it short
    warnings: list[str] = []
    loaded = ckpt.load_latest(tmp_path, warn=warnings.append)
    assert loaded.payload["step"] == 1
    assert len(warnings) == 1 and last.name in warnings[0] and "damaged" in warnings[0]


def test_checkpoint_without_its_checksum_is_not_trusted(tmp_path):
    ckpt.save(tmp_path, "gpt", _payload(1))
    last = ckpt.save(tmp_path, "gpt", _payload(2))
    last.with_name(last.name + ".sha256").unlink()  # killed between the two writes
    warnings: list[str] = []
    assert ckpt.load_latest(tmp_path, warn=warnings.append).payload["step"] == 1
    assert "checksum" in warnings[0]
    assert ckpt.load_latest(tmp_path / "nothing-here") is None


def test_rng_states_restore_every_generator():
    state = ckpt.rng_state()
    first = (torch.rand(3), random.random(), np.random.rand())
    ckpt.set_rng_state(state)
    again = (torch.rand(3), random.random(), np.random.rand())
    assert torch.equal(first[0], again[0]) and first[1:] == again[1:]
