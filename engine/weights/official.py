"""Readers and writers for the official GPT-SoVITS checkpoint formats (spec §3.2, §3.3).

Files are read with ``torch.load(weights_only=True)``: the only class allowed beyond plain containers and
tensors is :class:`HParams`, a data-only stand-in for the reference's pickled ``utils.HParams``. A pickle
that asks for anything else (for example a function that would run code) is refused with a ModelError.
"""

from __future__ import annotations

import io
import logging
import pickle
import re
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from engine.errors import ModelError
from engine.fsutil import atomic_write_bytes
from engine.weights.guard import check_archive, check_object, check_tensors

log = logging.getLogger(__name__)

# The two-byte header that replaces "PK" in newer s2 files, and the version each one stands for.
VERSION_HEADERS: dict[bytes, str] = {
    b"00": "v1",
    b"01": "v2",
    b"02": "v3",
    b"03": "v3-lora",
    b"04": "v4-lora",
    b"05": "v2Pro",
    b"06": "v2ProPlus",
}
ZIP_MAGIC = b"PK"
GPT_PREFIX = "model."


class HParams:
    """Data-only stand-in for the official ``utils.HParams`` (attributes only; nested dicts are HParams)."""

    def __init__(self, **kwargs: Any) -> None:
        for key, value in kwargs.items():
            setattr(self, key, HParams(**value) if isinstance(value, dict) else value)

    def __setstate__(self, state: Any) -> None:
        if not isinstance(state, dict) or not all(isinstance(k, str) for k in state):
            raise pickle.UnpicklingError("HParams state must be a dict with string keys")
        self.__dict__.update(state)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, HParams) and self.__dict__ == other.__dict__

    def __repr__(self) -> str:
        return f"HParams({self.__dict__!r})"


# Pickles written by the reference name the class ``utils.HParams``.
HParams.__module__ = "utils"
HParams.__qualname__ = "HParams"


def to_plain(value: Any) -> Any:
    """A nested HParams (or dict holding them) as plain dicts, keeping key order."""
    if isinstance(value, HParams):
        return {k: to_plain(v) for k, v in value.__dict__.items()}
    if isinstance(value, dict):
        return {k: to_plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [to_plain(v) for v in value]
    return value


def to_hparams(value: dict[str, Any]) -> HParams:
    """A plain nested dict as HParams, keeping key order."""
    return HParams(**value)


@dataclass
class SovitsFile:
    """Content of an s2 ``.pth``: the state dict, its config as plain dicts, the info string, the version."""

    weight: dict[str, torch.Tensor]
    config: dict[str, Any]
    info: str = ""
    version: str = "v2"
    header: bytes | None = None  # the two-byte version header, when the file had one
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class GptFile:
    """Content of an s1 ``.ckpt``: state dict without the ``model.`` prefix, the yaml config, the info."""

    weight: dict[str, torch.Tensor]
    config: dict[str, Any]
    info: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


def _refusal(path: Path | str, exc: Exception) -> ModelError:
    found = re.search(r"GLOBAL ([\w.]+)", str(exc))
    asked = f"it asks for {found.group(1)}, which could run code" if found else "it holds more than weights"
    return ModelError(
        f"Refused to load {path}: {asked}.",
        "Only official GPT-SoVITS checkpoints (tensors, plain containers, utils.HParams) are accepted. "
        "Get the file from a source you trust.",
    )


def load_checkpoint_bytes(data: bytes, name: str = "<bytes>") -> tuple[Any, bytes | None]:
    """Unpickle a torch checkpoint safely; returns (object, version header or None)."""
    header: bytes | None = None
    if data[:2] != ZIP_MAGIC and data[:2] in VERSION_HEADERS and data[2:4] == b"\x03\x04":
        header = data[:2]
        data = ZIP_MAGIC + data[2:]
    if data[:2] != ZIP_MAGIC:
        raise ModelError(
            f"{name} is not a PyTorch checkpoint (it is not a zip archive).", "Check the file path."
        )
    check_archive(data, name)
    try:
        with torch.serialization.safe_globals([HParams]):
            obj = torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        if "GLOBAL" in str(exc) or "weights_only" in str(exc).lower():
            raise _refusal(name, exc) from exc
        raise _unreadable(name, exc) from exc
    except MemoryError as exc:
        raise _unreadable(name, "it asks for more memory than the machine has") from exc
    except Exception as exc:  # noqa: BLE001 - any other failure to read is a damaged file, never a crash
        raise _unreadable(name, exc) from exc
    check_object(obj, name)
    return obj, header


def _unreadable(name: str, exc: Exception | str) -> ModelError:
    detail = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else type(exc).__name__
    return ModelError(
        f"Could not read {name}: {detail}",
        "The file is damaged or truncated; download it again from a source you trust.",
    )


def _read(path: Path | str) -> tuple[Any, bytes | None]:
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError as exc:
        raise ModelError(f"Checkpoint not found: {path}", "Check the path.") from exc
    return load_checkpoint_bytes(data, str(path))


def _tensors(obj: Any, path: Path | str, key: str = "weight") -> dict[str, torch.Tensor]:
    if not isinstance(obj, dict) or key not in obj or not isinstance(obj[key], dict):
        raise ModelError(
            f"{path} has no '{key}' state dict; it is not a GPT-SoVITS weights file.", "Check the file."
        )
    weight = obj[key]
    bad = [k for k, v in weight.items() if not isinstance(v, torch.Tensor)]
    if bad:
        raise ModelError(f"{path}: entries that are not tensors in '{key}': {bad[:3]}", "Check the file.")
    check_tensors(weight, str(path))
    return dict(weight)


def _sovits_version(weight: dict[str, torch.Tensor], config: dict[str, Any], header: bytes | None) -> str:
    if header is not None:
        return VERSION_HEADERS[header]
    model_version = config.get("model", {}).get("version") if isinstance(config.get("model"), dict) else None
    if isinstance(model_version, str):
        return model_version
    emb = weight.get("enc_p.text_embedding.weight")
    return "v1" if emb is not None and emb.shape[0] == 322 else "v2"


def read_sovits(path: Path | str) -> SovitsFile:
    """Read an s2 generator ``.pth`` (pretrained or fine-tune export, with or without the version header)."""
    obj, header = _read(path)
    weight = _tensors(obj, path)
    config = to_plain(obj.get("config", {}))
    if not isinstance(config, dict):
        raise ModelError(f"{path}: the config is not a mapping.", "Check the file.")
    info = obj.get("info", "")
    extra = {k: v for k, v in obj.items() if k not in ("weight", "config", "info")}
    return SovitsFile(weight, config, str(info), _sovits_version(weight, config, header), header, extra)


def read_discriminator(path: Path | str) -> dict[str, torch.Tensor]:
    """Read an s2 discriminator ``.pth`` state dict."""
    obj, _ = _read(path)
    return _tensors(obj, path)


def read_gpt(path: Path | str) -> GptFile:
    """Read an s1 ``.ckpt`` (pretrained or export); keys lose their ``model.`` prefix."""
    obj, _ = _read(path)
    raw = _tensors(obj, path)
    weight = {k.removeprefix(GPT_PREFIX): v for k, v in raw.items()}
    config = to_plain(obj.get("config", {}))
    if not isinstance(config, dict):
        raise ModelError(f"{path}: the config is not a mapping.", "Check the file.")
    extra = {k: v for k, v in obj.items() if k not in ("weight", "config", "info")}
    return GptFile(weight, config, str(obj.get("info", "")), extra)


class _Pickler(pickle._Pickler):  # type: ignore[name-defined]
    """Pure-Python pickler that writes our stand-in class under the official name ``utils.HParams``."""

    def save_global(self, obj: Any, name: str | None = None) -> None:
        if obj is HParams:
            self.write(pickle.GLOBAL + b"utils\nHParams\n")
            self.memoize(obj)
            return
        super().save_global(obj, name)


class _PickleModule:
    """What torch.save needs from a pickle module: our Pickler."""

    Pickler = _Pickler
    __name__ = "timbre_pickle"


def checkpoint_bytes(obj: Any, header: bytes | None = None) -> bytes:
    """``torch.save`` of ``obj`` to bytes (archive folder ``archive/``), optionally with a version header."""
    buf = io.BytesIO()
    torch.save(obj, buf, pickle_module=_PickleModule, pickle_protocol=2)
    data = buf.getvalue()
    if header is not None:
        if header not in VERSION_HEADERS:
            raise ValueError(f"unknown version header {header!r}")
        data = header + data[2:]
    return data


def _half(weight: dict[str, torch.Tensor], drop: str | None = None) -> OrderedDict[str, torch.Tensor]:
    out: OrderedDict[str, torch.Tensor] = OrderedDict()
    for key, value in weight.items():
        if drop and drop in key:
            continue
        out[key] = value.detach().to("cpu", torch.float16).contiguous().clone()
    return out


def sovits_export_bytes(
    weight: dict[str, torch.Tensor], config: dict[str, Any], info: str, header: bytes | None = None
) -> bytes:
    """The official s2 fine-tune export: no ``enc_q``, fp16, config as ``utils.HParams``."""
    obj = {"weight": _half(weight, drop="enc_q"), "config": to_hparams(config), "info": info}
    return checkpoint_bytes(obj, header)


def write_sovits_export(
    path: Path | str,
    weight: dict[str, torch.Tensor],
    config: dict[str, Any],
    info: str = "0epoch_0iteration",
    header: bytes | None = None,
) -> Path:
    """Write an s2 export that the GPT-SoVITS WebUI loads (v2: no header; v2Pro: b"05", v2ProPlus: b"06")."""
    atomic_write_bytes(path, sovits_export_bytes(weight, config, info, header))
    return Path(path)


def gpt_export_bytes(weight: dict[str, torch.Tensor], config: dict[str, Any], info: str) -> bytes:
    """The official s1 export: ``model.``-prefixed fp16 state dict, yaml config dict, info."""
    prefixed = {GPT_PREFIX + k.removeprefix(GPT_PREFIX): v for k, v in weight.items()}
    obj = {"weight": _half(prefixed), "config": config, "info": info}
    return checkpoint_bytes(obj)


def write_gpt_export(
    path: Path | str, weight: dict[str, torch.Tensor], config: dict[str, Any], info: str = "GPT-e0"
) -> Path:
    """Write an s1 ``.ckpt`` export that the GPT-SoVITS WebUI loads."""
    atomic_write_bytes(path, gpt_export_bytes(weight, config, info))
    return Path(path)
