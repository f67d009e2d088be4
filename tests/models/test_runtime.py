"""Device, precision and thread settings: picked sensibly, and clear errors for impossible choices."""

from __future__ import annotations

import pytest
import torch

from engine.errors import ModelError
from engine.models import runtime


def test_the_gpu_is_chosen_when_usable_and_refused_clearly_when_not(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert runtime.resolve_device(None) == torch.device("cuda")
    assert runtime.resolve_device("auto") == torch.device("cuda")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert runtime.resolve_device(None) == torch.device("cpu")
    assert runtime.resolve_device("cpu") == torch.device("cpu")
    with pytest.raises(ModelError, match="no usable GPU") as info:
        runtime.resolve_device("cuda")
    assert "--device cpu" in info.value.hint
    for bad in ("tpu", "meta", "gpu0"):
        with pytest.raises(ModelError):
            runtime.resolve_device(bad)


def test_precision_names():
    cpu, cuda = torch.device("cpu"), torch.device("cuda")
    assert runtime.resolve_precision(None, cuda) == torch.float32
    assert runtime.resolve_precision("fp16", cuda) == torch.float16
    assert runtime.resolve_precision("bf16", cpu) == torch.bfloat16  # allowed, with a warning
    with pytest.raises(ModelError, match="fp8"):
        runtime.resolve_precision("fp8", cuda)


def test_threads_come_from_the_argument_or_the_environment_else_stay(monkeypatch):
    before = torch.get_num_threads()
    try:
        monkeypatch.delenv(runtime.THREADS_ENV, raising=False)
        assert runtime.configure_threads() == before  # a quiet machine keeps torch's own choice
        monkeypatch.setenv(runtime.THREADS_ENV, "1")
        assert runtime.configure_threads() == 1 == torch.get_num_threads()
        torch.set_num_threads(before)
        assert runtime.configure_threads(1) == 1  # the argument wins over the environment
        for bad in ("two", "0"):
            monkeypatch.setenv(runtime.THREADS_ENV, bad)
            with pytest.raises(ModelError, match=runtime.THREADS_ENV if bad == "two" else "at least 1"):
                runtime.configure_threads()
    finally:
        torch.set_num_threads(before)


def test_a_busy_cpu_gets_a_one_thread_tip_and_a_quiet_one_none(monkeypatch):
    monkeypatch.setattr(runtime.os, "getloadavg", lambda: (3.3, 2.0, 1.0))
    assert "--threads 1" in runtime.busy_cpu_tip(2)
    assert runtime.busy_cpu_tip(1) is None  # already one thread
    monkeypatch.setattr(runtime.os, "getloadavg", lambda: (0.2, 0.1, 0.1))
    assert runtime.busy_cpu_tip(2) is None
