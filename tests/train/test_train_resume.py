"""Stops of every kind: SIGTERM checkpoints and says ``cancelled``; SIGKILL then --resume ends equal;
a torn last checkpoint is skipped with a warning.

Every step seeds its randomness from (seed, phase, step, part) and every epoch's order from (seed,
epoch), and checkpoints hold the optimiser and scheduler states, so a resumed run must end with the
*same* weights as one that never stopped: the comparison is exact (CPU, one thread, same machine).
"""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import torch

from engine.train import checkpoint as ckpt
from engine.train.events import parse
from engine.weights import native

ROOT = Path(__file__).resolve().parents[2]
ARGS = [
    "--session",
    "s1",
    "--sovits-epochs",
    "2",
    "--gpt-epochs",
    "1",
    "--max-steps",
    "5",
    "--checkpoint-every",
    "2",
    "--no-samples",
    "--device",
    "cpu",
    "--batch-size",
    "8",
    "--threads",
    "1",
]


def _cmd(world, voice: str, *extra: str) -> list[str]:
    studio, _, _ = world
    return [sys.executable, "-m", "engine.train", "--home", str(studio.root), "--voice", voice, *ARGS, *extra]


def _run(world, voice: str, *extra: str):
    _, env, _ = world
    proc = subprocess.run(
        _cmd(world, voice, *extra), cwd=ROOT, env=env, capture_output=True, text=True, timeout=600
    )
    return proc.returncode, [parse(x) for x in proc.stdout.splitlines() if x.strip()], proc.stderr


def _stop_when(world, voice: str, sig: int, condition):
    """Start a run, send ``sig`` once an event satisfies ``condition``; (exit status, events)."""
    _, env, _ = world
    proc = subprocess.Popen(
        _cmd(world, voice), cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    )
    events, sent = [], False
    for line in proc.stdout:
        event = parse(line)
        if event is None:
            continue
        events.append(event)
        if not sent and condition(event):
            proc.send_signal(sig)
            sent = True
    rc = proc.wait(timeout=120)
    assert sent, [(e.kind, e.get("message")) for e in events if e.kind in ("error", "cancelled", "done")]
    return rc, events


def _weights(world, voice: str) -> dict[str, torch.Tensor]:
    studio, _, _ = world
    folder = studio.root / "voices" / voice
    out = {}
    for kind in ("gpt", "sovits"):
        out.update({f"{kind}.{k}": v for k, v in native.load(folder / f"{kind}.safetensors").weight.items()})
    return out


def _same(a: dict, b: dict) -> None:
    assert a.keys() == b.keys()
    differ = [k for k in a if not torch.equal(a[k], b[k])]
    assert not differ, differ[:5]


def test_sigterm_cancels_with_a_checkpoint_then_sigkill_and_resume_end_equal(world):
    rc, straight, err = _run(world, "whole")
    assert rc == 0 and straight[-1].kind == "done", err[-2000:]
    reference = _weights(world, "whole")

    # SIGTERM in the middle of the SoVITS phase: the step finishes, a checkpoint, "cancelled", exit 0
    rc, events = _stop_when(
        world, "term", signal.SIGTERM, lambda e: e.kind == "progress" and e.get("step") == 1
    )
    assert rc == 0 and events[-1].kind == "cancelled", [e.kind for e in events]
    path = Path(events[-1].get("checkpoint"))
    payload = ckpt.load(path)
    assert payload["phase"] == "sovits" and payload["step"] == events[-1].get("step") >= 1
    assert "enc_p.text_embedding.weight" in payload["trainer"]["net_g"]
    rc, resumed, err = _run(world, "term", "--resume")
    assert rc == 0 and resumed[-1].kind == "done", err[-2000:]
    first = next(e for e in resumed if e.kind == "progress")
    assert first.get("phase") == "sovits" and first.get("step") == payload["step"] + 1  # the count continues
    _same(reference, _weights(world, "term"))

    # SIGKILL during the GPT phase just after its second mid-epoch checkpoint, which is then found torn
    # (as a full disk would leave it): --resume warns, falls back to the one before, and still ends equal
    rc, events = _stop_when(
        world,
        "kill",
        signal.SIGKILL,
        lambda e: e.kind == "checkpoint" and e.get("phase") == "gpt" and e.get("step") == 4,
    )
    assert rc == -signal.SIGKILL and events[-1].kind != "done"
    studio, _, _ = world
    last = ckpt.checkpoints(studio.root / "voices" / "kill" / "train" / ckpt.FOLDER)[-1]
    assert last.name.endswith("-gpt.pt") and ckpt.load(last)["step"] == 4
    last.write_bytes(last.read_bytes()[:1000])
    rc, resumed, err = _run(world, "kill", "--resume")
    assert rc == 0 and resumed[-1].kind == "done", err[-2000:]
    warnings = [e.get("message") for e in resumed if e.kind == "log" and e.get("level") == "warning"]
    assert any(last.name in w and "damaged" in w for w in warnings), warnings
    phases = [e.get("name") for e in resumed if e.kind == "phase"]
    assert phases == ["prepare", "gpt", "export"]  # the finished SoVITS phase is not trained again
    first = next(e for e in resumed if e.kind == "progress")
    assert first.get("phase") == "gpt" and first.get("step") == 3  # from the step-2 checkpoint
    _same(reference, _weights(world, "kill"))
