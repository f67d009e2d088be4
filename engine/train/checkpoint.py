"""Resumable training checkpoints: atomic files with a sha256 beside them, newest good one wins.

A checkpoint is ``train/checkpoints/ckpt-NNNNNN-<phase>.pt`` (a ``torch.save`` dict of tensors and plain
containers: weights, optimiser, scheduler and scaler states, step, epoch, position in the epoch, the
epoch's batch order and the RNG states) plus ``….pt.sha256``. The data file is written first and the
checksum second, both atomically, so a kill at any moment leaves either a complete pair or a pair that
fails the check; :func:`load_latest` then falls back to the one before, with a warning.
Checkpoints are read with ``torch.load(weights_only=True)`` (through the official reader's safe loader).
"""

from __future__ import annotations

import hashlib
import io
import random
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from engine.errors import ModelError
from engine.fsutil import atomic_write_bytes
from engine.weights.official import load_checkpoint_bytes

FOLDER = "checkpoints"
_NAME = re.compile(r"^ckpt-(\d{6})-(\w+)\.pt$")


@dataclass
class Loaded:
    """A checkpoint that passed its checksum: its payload and path."""

    payload: dict[str, Any]
    path: Path


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def checkpoints(folder: Path | str) -> list[Path]:
    """Checkpoint files in ``folder``, oldest first (by sequence number)."""
    folder = Path(folder)
    if not folder.is_dir():
        return []
    found = [(int(m.group(1)), p) for p in folder.iterdir() if (m := _NAME.match(p.name))]
    return [p for _, p in sorted(found)]


def save(folder: Path | str, phase: str, payload: dict[str, Any], keep: int = 2) -> Path:
    """Write a checkpoint atomically (data, then checksum), keep the phase's newest ``keep``, return it."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    existing = checkpoints(folder)
    seq = int(_NAME.match(existing[-1].name).group(1)) + 1 if existing else 1
    path = folder / f"ckpt-{seq:06d}-{phase}.pt"
    buf = io.BytesIO()
    torch.save(payload, buf)
    data = buf.getvalue()
    atomic_write_bytes(path, data)
    atomic_write_bytes(path.with_name(path.name + ".sha256"), (_sha256(data) + "\n").encode())
    same = [p for p in checkpoints(folder) if p.name.endswith(f"-{phase}.pt")]
    for old in same[: -max(1, keep)]:
        old.unlink(missing_ok=True)
        old.with_name(old.name + ".sha256").unlink(missing_ok=True)
    return path


def verify(path: Path) -> bytes:
    """The bytes of a checkpoint whose checksum matches; ModelError otherwise."""
    side = path.with_name(path.name + ".sha256")
    try:
        expected = side.read_text().strip()
    except FileNotFoundError as exc:
        raise ModelError(f"{path.name} has no checksum (it was cut short).", "") from exc
    data = path.read_bytes()
    if _sha256(data) != expected:
        raise ModelError(f"{path.name} is damaged (checksum mismatch, {len(data)} bytes).", "")
    return data


def load(path: Path | str) -> dict[str, Any]:
    """Read one checkpoint after checking its sha256."""
    path = Path(path)
    obj, _ = load_checkpoint_bytes(verify(path), path.name)
    if not isinstance(obj, dict):
        raise ModelError(f"{path.name} is not a Timbre training checkpoint.", "")
    return obj


def load_latest(folder: Path | str, warn: Callable[[str], None] | None = None) -> Loaded | None:
    """The newest checkpoint that passes its checksum (each bad one skipped with ``warn``), or None."""
    for path in reversed(checkpoints(folder)):
        try:
            return Loaded(load(path), path)
        except (ModelError, OSError) as exc:
            if warn is not None:
                warn(f"checkpoint {path.name} skipped: {getattr(exc, 'message', exc)}; using the one before")
    return None


def rng_state() -> dict[str, Any]:
    """Every RNG state a run uses (torch CPU and CUDA, Python, NumPy) as checkpointable data."""
    np_state = np.random.get_state()
    state: dict[str, Any] = {
        "torch": torch.get_rng_state(),
        "python": _plain(random.getstate()),
        "numpy": {"key": torch.from_numpy(np_state[1].astype(np.int64)), "pos": int(np_state[2])},
    }
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict[str, Any]) -> None:
    """Restore :func:`rng_state` output."""
    torch.set_rng_state(state["torch"])
    version, internal, gauss = state["python"]
    random.setstate((version, tuple(internal), gauss))
    key = state["numpy"]["key"].numpy().astype(np.uint32)
    np.random.set_state(("MT19937", key, state["numpy"]["pos"], 0, 0.0))
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def _plain(value: Any) -> Any:
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    return value
