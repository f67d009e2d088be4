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


def test_auto_precision_follows_the_hardware_and_explicit_choices_win(monkeypatch):
    cpu, cuda = torch.device("cpu"), torch.device("cuda")
    monkeypatch.delenv(runtime.PRECISION_ENV, raising=False)
    fast = runtime.choose_precision(None, cpu, fast_bf16=True)
    assert fast.fast_cpu and fast.auto and fast.dtype == torch.float32 and "fast" in fast.describe()
    plain = runtime.choose_precision("auto", cpu, fast_bf16=False)
    assert not plain.fast_cpu and plain.dtype == torch.float32 and plain.describe() == "auto: fp32"
    assert runtime.choose_precision(None, cuda, cuda_capability=(8, 0)).dtype == torch.float16
    assert (
        runtime.choose_precision(None, cuda, cuda_capability=(6, 1)).dtype == torch.float32
    )  # no tensor cores
    exact = runtime.choose_precision("fp32", cpu, fast_bf16=True)
    assert not exact.fast_cpu and not exact.auto and exact.describe() == "fp32"
    assert runtime.choose_precision("bf16", cuda).dtype == torch.bfloat16
    assert runtime.choose_precision("fast", cpu, fast_bf16=False).fast_cpu  # asked for: allowed, warned
    with pytest.raises(ModelError, match="CPU"):
        runtime.choose_precision("fast", cuda)
    with pytest.raises(ModelError, match="fp8") as info:
        runtime.choose_precision("fp8", cpu)
    assert "auto" in info.value.hint
    monkeypatch.setenv(runtime.PRECISION_ENV, "FP32")  # the environment stands in for the argument
    assert not runtime.choose_precision(None, cpu, fast_bf16=True).fast_cpu
    assert runtime.choose_precision("fast", cpu, fast_bf16=True).fast_cpu


def test_cpu_bf16_detection_reads_the_instruction_flags(monkeypatch):
    assert not runtime.cpu_has_fast_bf16(False)  # e.g. avx2/avx512f without bf16
    monkeypatch.setattr(torch.ops.mkldnn, "_is_mkldnn_bf16_supported", lambda: True)
    assert runtime.cpu_has_fast_bf16(True)
    for avx512_bf16, amx in ((True, False), (False, True), (False, False)):
        monkeypatch.setattr(torch.cpu, "_is_avx512_bf16_supported", lambda v=avx512_bf16: v)
        monkeypatch.setattr(torch.cpu, "_is_amx_tile_supported", lambda v=amx: v)
        assert runtime.cpu_bf16_instructions() == (avx512_bf16 or amx)
        assert runtime.cpu_has_fast_bf16() == (avx512_bf16 or amx)
    monkeypatch.setattr(torch.ops.mkldnn, "_is_mkldnn_bf16_supported", lambda: False)
    assert not runtime.cpu_has_fast_bf16(True)  # oneDNN cannot use them
    monkeypatch.undo()
    assert isinstance(runtime.cpu_bf16_instructions(), bool)


def test_the_cli_offers_the_engines_precisions():
    from tui.commands import say

    assert say.PRECISION_CHOICES == runtime.PRECISION_CHOICES


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


def test_say_streams_below_the_sentence_when_playing_unless_told_otherwise():
    import argparse

    from tui.commands import say

    def parts(play: bool, chunk: int | None) -> int | None:
        return say._stream_parts(argparse.Namespace(play=play, chunk_tokens=chunk))

    assert parts(True, None) == say.PLAY_CHUNK_TOKENS
    assert parts(False, None) is None  # a WAV keeps the one-shot decode of each sentence
    assert parts(True, 0) is None and parts(False, 16) == 16
    with pytest.raises(argparse.ArgumentTypeError):
        say._chunk_tokens("2")
    assert say._chunk_tokens("0") == 0


def test_the_cli_and_the_speak_screen_stream_in_parts_of_the_same_size():
    from engine.utterance import STREAM_CHUNK_TOKENS
    from tui.commands import say

    assert say.PLAY_CHUNK_TOKENS == STREAM_CHUNK_TOKENS
