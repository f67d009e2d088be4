"""Where and how inference runs: the device, the float precision and the CPU thread count."""

from __future__ import annotations

import logging
import os

import torch

from engine.errors import ModelError

log = logging.getLogger(__name__)

THREADS_ENV = "TIMBRE_THREADS"
PRECISIONS = {"fp32": torch.float32, "fp16": torch.float16, "bf16": torch.bfloat16}


def resolve_device(device: str | torch.device | None = None) -> torch.device:
    """The torch device to run on: ``None``/"auto" picks CUDA when a GPU is usable, else the CPU."""
    if device is None or str(device) == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError) as exc:
        raise ModelError(f"Unknown device {str(device)!r}.", "Use cpu, cuda, cuda:N or auto.") from exc
    if dev.type == "cuda":
        if not torch.cuda.is_available():
            raise ModelError(
                "A CUDA GPU was asked for, but this PyTorch has no usable GPU.",
                "Use --device cpu (or auto), or install a CUDA build of PyTorch.",
            )
        if dev.index is not None and dev.index >= torch.cuda.device_count():
            raise ModelError(
                f"There is no GPU {dev.index} (found {torch.cuda.device_count()}).", "Use cuda:0 or auto."
            )
    elif dev.type != "cpu":
        raise ModelError(f"Timbre does not run on {dev.type!r} devices.", "Use cpu, cuda or auto.")
    return dev


def resolve_precision(precision: str | None, device: torch.device) -> torch.dtype:
    """The float type of the GPT and SoVITS weights: fp32 unless fp16/bf16 is asked for (meant for GPUs)."""
    if precision is None:
        return torch.float32
    if precision not in PRECISIONS:
        raise ModelError(f"Unknown precision {precision!r}.", f"Use one of: {', '.join(PRECISIONS)}.")
    dtype = PRECISIONS[precision]
    if dtype != torch.float32 and device.type != "cuda":
        log.warning("%s on the CPU is usually slower than fp32; it is meant for GPUs", precision)
    return dtype


def configure_threads(threads: int | None = None) -> int:
    """Set torch's CPU thread count to ``threads`` or $TIMBRE_THREADS; with neither, keep torch's default.

    On a machine whose cores are busy with other work, fewer threads (often 1) can be much faster.
    Returns the count in effect.
    """
    if threads is None:
        raw = os.environ.get(THREADS_ENV, "").strip()
        if raw:
            try:
                threads = int(raw)
            except ValueError as exc:
                raise ModelError(
                    f"{THREADS_ENV}={raw!r} is not a whole number.", f"Set {THREADS_ENV} to e.g. 1 or 2."
                ) from exc
    if threads is not None:
        if threads < 1:
            raise ModelError(f"The thread count must be at least 1 (got {threads}).", "Use e.g. 1 or 2.")
        if threads != torch.get_num_threads():
            torch.set_num_threads(threads)
            log.info("torch uses %d CPU thread(s)", threads)
    return torch.get_num_threads()


def busy_cpu_tip(threads: int | None = None) -> str | None:
    """A tip to use one thread when other work already keeps the CPU busy (None when it is quiet).

    Several torch threads on cores that other processes also use can be many times slower than one.
    """
    threads = threads or torch.get_num_threads()
    try:
        load = os.getloadavg()[0]
    except (AttributeError, OSError):  # not every platform reports it
        return None
    if threads < 2 or load < threads:
        return None
    return (
        f"tip: the CPU is busy (load {load:.1f}, {threads} torch threads); "
        f"--threads 1 or {THREADS_ENV}=1 may be much faster"
    )
