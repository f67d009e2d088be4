"""Checks on a checkpoint before and after it is unpickled, so a hostile file costs little and says why.

Before ``torch.load``: the bytes must be a zip archive laid out the way ``torch.save`` writes one: every
entry stored, never compressed (torch never compresses, so a compressed entry can only be a zip bomb),
no entry declaring more bytes than the archive holds, a bounded number of entries and a bounded pickle.
After: the object graph is bounded (a pickle can share one list many times, which a naive walk expands
exponentially), and every tensor is a finite floating-point tensor whose storage really holds its shape.
"""

from __future__ import annotations

import io
import zipfile
from typing import Any

import torch

from engine.errors import ModelError

MAX_ENTRIES = 100_000  # an s2 G file has ~1,200 tensors; a D file ~100
MAX_PICKLE_BYTES = 64 << 20  # the pickle of a state dict is a few hundred KB
MAX_NODES = 2_000_000  # containers and values in the unpickled object
MAX_DEPTH = 64


def _damaged(name: str, why: str) -> ModelError:
    return ModelError(
        f"Refused to load {name}: {why}.",
        "The file is damaged or was not written by GPT-SoVITS or Timbre. Download it again from a source "
        "you trust.",
    )


def check_archive(data: bytes, name: str) -> None:
    """Refuse archives that torch.save could not have written (compressed, oversized, too many entries)."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            infos = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError, EOFError) as exc:
        raise ModelError(
            f"Could not read {name}: the archive is truncated or damaged ({exc}).",
            "Download the file again from a source you trust.",
        ) from exc
    if not infos:
        raise _damaged(name, "the archive is empty")
    if len(infos) > MAX_ENTRIES:
        raise _damaged(name, f"it has {len(infos):,} entries")
    size = len(data)
    pickles = 0
    for info in infos:
        if info.compress_type != zipfile.ZIP_STORED:
            raise _damaged(name, f"the entry {info.filename!r} is compressed (a checkpoint never is)")
        if info.file_size > size or info.compress_size > size or info.header_offset > size:
            raise _damaged(name, f"the entry {info.filename!r} declares more bytes than the file has")
        if info.filename.endswith(".pkl"):
            pickles += 1
            if info.file_size > MAX_PICKLE_BYTES:
                raise _damaged(name, f"its pickle is {info.file_size:,} bytes")
    if pickles == 0:
        raise _damaged(name, "it holds no pickle")


def check_object(obj: Any, name: str) -> None:
    """Bound the unpickled object graph (nodes and depth), counting shared parts each time they appear."""
    count = 0
    stack: list[tuple[Any, int]] = [(obj, 0)]
    while stack:
        value, depth = stack.pop()
        count += 1
        if count > MAX_NODES:
            raise _damaged(name, "its data expands to more than two million parts")
        if depth > MAX_DEPTH:
            raise _damaged(name, "its data is nested too deeply")
        if isinstance(value, dict):
            stack.extend((v, depth + 1) for v in value.values())
            stack.extend((k, depth + 1) for k in value.keys() if not isinstance(k, str))
        elif isinstance(value, list | tuple | set | frozenset):
            stack.extend((v, depth + 1) for v in value)
        elif hasattr(value, "__dict__") and not isinstance(value, torch.Tensor):
            stack.extend((v, depth + 1) for v in vars(value).values())


def check_tensors(weight: dict[str, Any], name: str) -> None:
    """Every entry a finite float tensor whose storage covers its shape."""
    for key, tensor in weight.items():
        if not isinstance(key, str):
            raise _damaged(name, f"a state-dict key is {type(key).__name__}, not text")
        if not isinstance(tensor, torch.Tensor):
            raise _damaged(name, f"{key!r} is not a tensor")
        if not tensor.dtype.is_floating_point:
            kind = str(tensor.dtype).removeprefix("torch.")
            raise _damaged(name, f"{key!r} holds {kind} values, not floats")
        if tensor.layout != torch.strided or tensor.is_quantized:
            raise _damaged(name, f"{key!r} is not a plain dense tensor")
        if tensor.numel():
            if any(s < 0 for s in tensor.stride()):
                raise _damaged(name, f"{key!r} has a negative stride")
            span = 1 + sum((n - 1) * s for n, s in zip(tensor.shape, tensor.stride(), strict=True))
            needed = (tensor.storage_offset() + span) * tensor.element_size()
            if needed > tensor.untyped_storage().nbytes():
                raise _damaged(name, f"{key!r} claims more values than its data holds")
            if any(st == 0 and n > 1 for n, st in zip(tensor.shape, tensor.stride(), strict=True)):
                raise _damaged(name, f"{key!r} repeats one value over its shape")
            if not bool(torch.isfinite(tensor).all()):
                raise _damaged(name, f"{key!r} holds NaN or infinite values")
