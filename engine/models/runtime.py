"""Where and how inference runs: the device, the float precision and the CPU thread count."""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass

import torch

from engine.errors import ModelError

log = logging.getLogger(__name__)

THREADS_ENV = "TIMBRE_THREADS"
PRECISION_ENV = "TIMBRE_PRECISION"
PRECISIONS = {"fp32": torch.float32, "fp16": torch.float16, "bf16": torch.bfloat16}
# what --precision accepts: "auto" picks per device (see choose_precision), "fast" is the CPU fast path
PRECISION_CHOICES = ("auto", "fast", *PRECISIONS)
MIN_FP16_CAPABILITY = (7, 0)  # CUDA tensor cores (Volta and newer)


@dataclass(frozen=True)
class Precision:
    """How the GPT and SoVITS run: the weights' float type, and whether the CPU fast paths are on.

    ``fast_cpu``: the GPT decodes with int8 weight copies and prefills in bf16; SoVITS runs its decoder's
    early stages, its flow and its prior encoder's FFNs in bf16. Each passed its quality gate (greedy
    tokens equal to fp32's or parting only at a near tie; audio within rel-L2 1e-2 of fp32's, and z too;
    tests/models/test_t2s_fast.py and test_sovits_fast.py).
    """

    name: str  # "fp32", "fp16", "bf16" or "fast"
    dtype: torch.dtype
    fast_cpu: bool = False
    auto: bool = False  # chosen by "auto" rather than asked for

    def describe(self) -> str:
        """A few words for the user, e.g. "auto: fast CPU path (int8 GPT decode, …)" or "fp16"."""
        text = "fast CPU path (int8 GPT decode, bf16 prefill and SoVITS)" if self.fast_cpu else self.name
        return f"auto: {text}" if self.auto else text


def cpu_bf16_instructions() -> bool:
    """Whether the CPU has AVX512-BF16 or AMX tiles (as PyTorch's own CPU feature probe reports)."""
    probes = ("_is_avx512_bf16_supported", "_is_amx_tile_supported")
    return any(bool(getattr(torch.cpu, name, lambda: False)()) for name in probes)


def cpu_has_fast_bf16(instructions: bool | None = None) -> bool:
    """Whether this CPU has bf16 instructions (AVX512-BF16 or AMX) and PyTorch's oneDNN can use them.

    ``instructions`` stands in for :func:`cpu_bf16_instructions` (tests).
    """
    if not (cpu_bf16_instructions() if instructions is None else instructions):
        return False
    try:
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):  # a build without oneDNN
        return False


def choose_precision(
    precision: str | None,
    device: torch.device,
    *,
    cuda_capability: tuple[int, int] | None = None,
    fast_bf16: bool | None = None,
) -> Precision:
    """The precision to run in: ``precision`` (or $TIMBRE_PRECISION, else "auto") resolved for ``device``.

    "auto": on a GPU with tensor cores fp16 (the reference's half precision), else fp32; on a CPU with
    bf16 instructions the fast path, else fp32. "fast" asks for the CPU fast path; "fp32" keeps the
    reference's numerics everywhere. ``cuda_capability``/``fast_bf16`` stand in for the hardware (tests).
    """
    if precision is None:
        precision = os.environ.get(PRECISION_ENV, "").strip().lower() or "auto"
    if precision not in PRECISION_CHOICES:
        raise ModelError(f"Unknown precision {precision!r}.", f"Use one of: {', '.join(PRECISION_CHOICES)}.")
    if precision == "fast":
        if device.type != "cpu":
            raise ModelError(
                "The fast precision is the CPU's (int8 and bf16 kernels).",
                "On a GPU use --precision auto, fp16 or bf16.",
            )
        if not (cpu_has_fast_bf16() if fast_bf16 is None else fast_bf16):
            log.warning("this CPU has no bf16 instructions: the fast path may be slower than fp32")
        return Precision("fast", torch.float32, fast_cpu=True)
    if precision != "auto":
        return Precision(precision, resolve_precision(precision, device))
    if device.type == "cuda":
        if cuda_capability is None:
            cuda_capability = tuple(torch.cuda.get_device_capability(device))
        if tuple(cuda_capability) >= MIN_FP16_CAPABILITY:
            return Precision("fp16", torch.float16, auto=True)
        return Precision("fp32", torch.float32, auto=True)
    if cpu_has_fast_bf16() if fast_bf16 is None else fast_bf16:
        return Precision("fast", torch.float32, fast_cpu=True, auto=True)
    return Precision("fp32", torch.float32, auto=True)


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
