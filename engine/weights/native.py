"""Timbre's own weight files: ``gpt.safetensors`` and ``sovits.safetensors``, config in the metadata."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from engine.errors import ModelError
from engine.fsutil import atomic_write_bytes

FORMAT_VERSION = "1"
KINDS = ("gpt", "sovits")
META_KEY = "timbre"


@dataclass
class NativeWeights:
    """A state dict with its official-style config (plain dicts) and info string."""

    kind: str  # "gpt" or "sovits"
    weight: dict[str, torch.Tensor]
    config: dict[str, Any]
    info: str = ""
    version: str = "v2"


def to_bytes(w: NativeWeights) -> bytes:
    """Serialise to safetensors bytes; tensors keep their dtype, so the round trip is lossless."""
    from safetensors.torch import save

    if w.kind not in KINDS:
        raise ValueError(f"unknown kind {w.kind!r}")
    header = {
        "format": FORMAT_VERSION,
        "kind": w.kind,
        "version": w.version,
        "info": w.info,
        "config": w.config,
        "order": list(w.weight),  # safetensors sorts tensors; this keeps the state-dict order
    }
    # one metadata entry: safetensors writes several in no fixed order, one keeps the bytes stable
    metadata = {META_KEY: json.dumps(header, ensure_ascii=False)}
    tensors = {k: v.detach().to("cpu").contiguous() for k, v in w.weight.items()}
    return save(tensors, metadata=metadata)


def save(path: Path | str, w: NativeWeights) -> Path:
    """Write ``w`` atomically to ``path``."""
    atomic_write_bytes(path, to_bytes(w))
    return Path(path)


def load(path: Path | str, kind: str | None = None) -> NativeWeights:
    """Read a Timbre safetensors file (checking its kind when given)."""
    from safetensors import SafetensorError
    from safetensors.torch import load as load_bytes

    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError as exc:
        raise ModelError(f"Weights file not found: {path}", "Check the voice folder.") from exc
    try:
        tensors = load_bytes(data)
        meta = _metadata(data)
    except (SafetensorError, ValueError) as exc:
        raise ModelError(
            f"{path} is not a valid safetensors file: {exc}", "The file may be damaged."
        ) from exc
    try:
        header = json.loads(meta.get(META_KEY, "{}"))
    except ValueError as exc:
        raise ModelError(f"{path}: its Timbre header is not valid JSON.", "The file may be damaged.") from exc
    if (
        not isinstance(header, dict)
        or header.get("format") != FORMAT_VERSION
        or header.get("kind") not in KINDS
    ):
        raise ModelError(
            f"{path} is not a Timbre weights file.", "Expected gpt.safetensors or sovits.safetensors."
        )
    if kind is not None and header["kind"] != kind:
        raise ModelError(f"{path} holds {header['kind']} weights, not {kind}.", "Check the voice folder.")
    order = header.get("order") or []
    if sorted(order) == sorted(tensors):
        tensors = {k: tensors[k] for k in order}
    config = header.get("config") or {}
    return NativeWeights(
        header["kind"], tensors, config, str(header.get("info", "")), str(header.get("version", "v2"))
    )


def _metadata(data: bytes) -> dict[str, str]:
    if len(data) < 8:
        raise ValueError("file too short")
    size = int.from_bytes(data[:8], "little")
    header = json.loads(data[8 : 8 + size])
    return dict(header.get("__metadata__") or {})
