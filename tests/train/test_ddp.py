"""DDP on the CPU: two gloo processes give the weights one process gets with the same global batch.

Both runs train on global batches of 4: the DDP run as 2 processes x 2 items, the single process as
2 parts x 2 items (``--micro-batches 2``), with the same per-part seeds, so they compute the same
gradients and only the order of the floating-point sums differs (gloo's all-reduce vs accumulation).
Tolerance: the fp16 voice files agree within rtol 1e-3 / atol 1e-4, i.e. at most about one fp16 rounding
step of a value that differed by float32 rounding (on this machine they come out identical).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import torch

from engine.train.events import EVENTS_FILE, parse, read_file
from engine.weights import native

ROOT = Path(__file__).resolve().parents[2]
ARGS = ["--session", "s1", "--sovits-epochs", "1", "--gpt-epochs", "1", "--max-steps", "4", "--no-samples",
        "--device", "cpu", "--batch-size", "4", "--threads", "1"]  # fmt: skip


def _train(world, voice: str, *extra: str):
    studio, env, _ = world
    cmd = [sys.executable, "-m", "engine.train", "--home", str(studio.root), "--voice", voice, *ARGS, *extra]
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return [parse(x) for x in proc.stdout.splitlines() if x.strip()]


def test_two_gloo_processes_match_one_process(world):
    studio, env, _ = world
    ddp = _train(world, "ddp", "--gpus", "2")
    one = _train(world, "one", "--micro-batches", "2")
    assert ddp[-1].kind == one[-1].kind == "done"
    assert [e.kind for e in ddp].count("start") == 1  # only rank 0 reports
    assert [e.kind for e in read_file(studio.root / "voices" / "ddp" / "train" / EVENTS_FILE)] == [
        e.kind for e in ddp
    ]
    for kind in ("sovits", "gpt"):
        a = native.load(studio.root / "voices" / "ddp" / f"{kind}.safetensors").weight
        b = native.load(studio.root / "voices" / "one" / f"{kind}.safetensors").weight
        assert a.keys() == b.keys()
        for name in a:
            assert torch.allclose(a[name].float(), b[name].float(), rtol=1e-3, atol=1e-4), (kind, name)
    # the runs did train: the weights moved away from the pretrained ones
    trained = native.load(studio.root / "voices" / "one" / "gpt.safetensors").weight
    from engine.weights.load import read_weights
    from engine.weights.locate import locate

    base = read_weights(
        locate(("gpt",), root=Path(env["TIMBRE_PRETRAINED"]), cache_dir="/nonexistent").gpt, "gpt"
    )
    base = base.weight
    assert any(not torch.equal(trained[k], base[k].to(trained[k].dtype)) for k in trained)
