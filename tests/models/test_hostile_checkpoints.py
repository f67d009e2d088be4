"""Hostile weight files: every outcome is a clean load or a ModelError naming the file, fast and small.

A seeded corpus of mutated official-format checkpoints (bytes flipped, cut, spliced, entries rewritten),
pickles that try to run code, zip bombs, shared-reference pickle bombs, oversized declared sizes, NaN and
integer weights, and configs with impossible sizes.
"""

from __future__ import annotations

import io
import os
import pickle
import random
import struct
import sys
import time
import zipfile
from collections import OrderedDict
from pathlib import Path

import pytest
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))

import tiny_weights as tw  # noqa: E402

from engine.errors import ModelError  # noqa: E402
from engine.models.sovits.config import TINY as SOVITS_TINY  # noqa: E402
from engine.models.sovits.synthesizer import SynthesizerTrn  # noqa: E402
from engine.models.t2s.config import TINY as GPT_TINY  # noqa: E402
from engine.models.t2s.model import Text2Semantic  # noqa: E402
from engine.weights import configs, official  # noqa: E402
from engine.weights.load import load_gpt, load_sovits  # noqa: E402

MUTANTS = 240


@pytest.fixture(scope="module")
def tiny_files(tmp_path_factory):
    torch.manual_seed(0)
    folder = tmp_path_factory.mktemp("tiny")
    s2 = folder / "g.pth"
    s2.write_bytes(tw.official_sovits_bytes(SynthesizerTrn(SOVITS_TINY).state_dict(),
                                            configs.sovits_config_to_dict(SOVITS_TINY)))  # fmt: skip
    s1 = folder / "g.ckpt"
    s1.write_bytes(
        tw.official_gpt_bytes(Text2Semantic(GPT_TINY).state_dict(), configs.gpt_config_to_dict(GPT_TINY))
    )
    return s2, s1


def _entries(data: bytes) -> list[tuple[str, bytes]]:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return [(n, z.read(n)) for n in z.namelist()]


def _rezip(entries: list[tuple[str, bytes]], compression: int = zipfile.ZIP_STORED) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=compression) as z:
        for name, body in entries:
            z.writestr(name, body)
    return out.getvalue()


def _mutate(data: bytes, rng: random.Random) -> bytes:
    kind = rng.randrange(6)
    b = bytearray(data)
    if kind == 0:  # flip random bytes anywhere
        for _ in range(rng.randint(1, 20)):
            i = rng.randrange(len(b))
            b[i] ^= 1 << rng.randrange(8)
        return bytes(b)
    if kind == 1:  # cut the file
        return bytes(b[: rng.randrange(len(b))])
    if kind == 2:  # splice a random chunk
        i = rng.randrange(len(b))
        return bytes(b[:i] + os.urandom(rng.randint(1, 64)) + b[i:])
    entries = _entries(data)
    pkl = next(i for i, (n, _) in enumerate(entries) if n.endswith("data.pkl"))
    name, body = entries[pkl]
    body = bytearray(body)
    if kind == 3:  # damage the pickle itself
        for _ in range(rng.randint(1, 8)):
            body[rng.randrange(len(body))] = rng.randrange(256)
    elif kind == 4:  # truncate the pickle
        body = body[: rng.randrange(1, len(body))]
    else:  # drop or shrink a tensor record
        records = [i for i, (n, _) in enumerate(entries) if "/data/" in n]
        j = rng.choice(records)
        entries[j] = (entries[j][0], entries[j][1][: rng.randrange(len(entries[j][1]) + 1)])
    entries[pkl] = (name, bytes(body))
    return _rezip(entries)


def _outcome(path: Path, kind: str) -> str:
    try:
        (load_sovits if kind == "sovits" else load_gpt)(path)
    except ModelError as exc:
        assert str(path.name) in exc.message or path.name in str(exc)
        return "refused"
    return "loaded"


def test_fuzzed_checkpoints_load_or_give_a_model_error(tiny_files, tmp_path):
    rng = random.Random(1234)
    outcomes = {"loaded": 0, "refused": 0}
    for i in range(MUTANTS):
        kind = "sovits" if i % 2 == 0 else "gpt"
        source = tiny_files[0] if kind == "sovits" else tiny_files[1]
        bad = tmp_path / f"mutant-{i}.{'pth' if kind == 'sovits' else 'ckpt'}"
        bad.write_bytes(_mutate(source.read_bytes(), rng))
        outcomes[_outcome(bad, kind)] += 1  # anything other than ModelError fails the test here
    assert outcomes["refused"] > MUTANTS // 2
    assert sum(outcomes.values()) == MUTANTS


class _Payload:
    def __reduce__(self):
        marker = os.environ["TIMBRE_TEST_MARKER"]
        return (os.system, (f"touch {marker}",))


def test_a_pickle_that_would_run_code_is_refused_and_runs_nothing(tiny_files, tmp_path, monkeypatch):
    marker = tmp_path / "pwned"
    monkeypatch.setenv("TIMBRE_TEST_MARKER", str(marker))
    entries = _entries(tiny_files[1].read_bytes())
    pkl = next(i for i, (n, _) in enumerate(entries) if n.endswith("data.pkl"))
    entries[pkl] = (entries[pkl][0], pickle.dumps({"weight": {}, "config": _Payload()}, protocol=2))
    bad = tmp_path / "evil.ckpt"
    bad.write_bytes(_rezip(entries))
    with pytest.raises(ModelError, match="could run code"):
        load_gpt(bad)
    assert not marker.exists()


def test_a_zip_bomb_is_refused_before_anything_is_inflated(tiny_files, tmp_path):
    entries = _entries(tiny_files[1].read_bytes())
    entries.append((entries[0][0].split("/")[0] + "/data/999", b"\0" * (64 << 20)))
    bomb = tmp_path / "bomb.ckpt"
    bomb.write_bytes(_rezip(entries, zipfile.ZIP_DEFLATED))
    assert bomb.stat().st_size < 2 << 20
    start = time.process_time()
    with pytest.raises(ModelError, match="compressed"):
        load_gpt(bomb)
    assert time.process_time() - start < 5  # refused from the directory, not after inflating 64 MB


def test_declared_sizes_larger_than_the_file_are_refused(tiny_files, tmp_path):
    data = bytearray(tiny_files[1].read_bytes())
    central = data.index(b"PK\x01\x02")
    struct.pack_into("<I", data, central + 24, 0x7FFFFFF0)  # uncompressed size of the first entry
    bad = tmp_path / "huge.ckpt"
    bad.write_bytes(bytes(data))
    with pytest.raises(ModelError, match="declares more bytes"):
        load_gpt(bad)


def test_a_shared_reference_pickle_bomb_is_refused(tmp_path):
    node: list = [0]
    for _ in range(40):  # 2**40 parts when walked, a few hundred bytes pickled
        node = [node, node]
    buf = io.BytesIO()
    torch.save({"weight": OrderedDict(), "config": node}, buf)
    bad = tmp_path / "laughs.ckpt"
    bad.write_bytes(buf.getvalue())
    start = time.process_time()
    with pytest.raises(ModelError, match="expands|nested"):
        official.read_gpt(bad)
    assert time.process_time() - start < 10


@pytest.mark.parametrize(
    "change, message",
    [
        (
            lambda w: w.__setitem__("bert_proj.bias", torch.full_like(w["bert_proj.bias"], float("nan"))),
            "NaN",
        ),
        (
            lambda w: w.__setitem__("bert_proj.bias", torch.full_like(w["bert_proj.bias"], float("inf"))),
            "infinite",
        ),
        (lambda w: w.__setitem__("bert_proj.bias", w["bert_proj.bias"].to(torch.int32)), "int32"),
        (lambda w: w.__setitem__("bert_proj.bias", w["bert_proj.bias"].to(torch.complex64)), "complex64"),
        (
            lambda w: w.__setitem__("bert_proj.bias", torch.zeros(1).expand(w["bert_proj.bias"].shape[0])),
            "repeats",
        ),
    ],
)
def test_weights_that_are_not_finite_floats_are_refused(tmp_path, change, message):
    torch.manual_seed(0)
    weight = dict(Text2Semantic(GPT_TINY).state_dict())
    change(weight)
    bad = tmp_path / "bad.ckpt"
    buf = io.BytesIO()  # written as is (the tiny writer would turn every tensor into fp16)
    obj = {
        "weight": OrderedDict(("model." + k, v) for k, v in weight.items()),
        "config": configs.gpt_config_to_dict(GPT_TINY),
    }
    torch.save(obj, buf)
    bad.write_bytes(buf.getvalue())
    with pytest.raises(ModelError, match=message):
        load_gpt(bad)


def _gpt_with_model(tmp_path, model: dict) -> Path:
    torch.manual_seed(0)
    config = configs.gpt_config_to_dict(GPT_TINY)
    config["model"] = model
    path = tmp_path / "cfg.ckpt"
    path.write_bytes(tw.official_gpt_bytes(Text2Semantic(GPT_TINY).state_dict(), config))
    return path


@pytest.mark.parametrize(
    "key, value, message",
    [
        ("n_layer", 100_000, "model.n_layer"),
        ("n_layer", 0, "model.n_layer"),
        ("n_layer", -3, "model.n_layer"),
        ("n_layer", "2", "model.n_layer"),
        ("hidden_dim", 63, "multiple"),
        ("head", True, "model.head"),
        ("vocab_size", 10**9, "model.vocab_size"),
        ("n_layer", None, "model.n_layer"),
    ],
)
def test_impossible_gpt_configs_are_refused_naming_the_key(tmp_path, key, value, message):
    model = configs.gpt_config_to_dict(GPT_TINY)["model"]
    if value is None:
        model.pop(key)
        message = "lacks n_layer"
    else:
        model[key] = value
    start = time.process_time()
    with pytest.raises(ModelError, match=message):
        load_gpt(_gpt_with_model(tmp_path, model))
    assert time.process_time() - start < 10


@pytest.mark.parametrize(
    "section, key, value, message",
    [
        ("model", "n_layers", 100_000, "model.n_layers"),
        ("model", "hidden_channels", "192", "model.hidden_channels"),
        ("model", "upsample_rates", [], "model.upsample_rates"),
        ("model", "resblock_kernel_sizes", [3, -7, 11], "model.resblock_kernel_sizes"),
        ("model", "gin_channels", 0, "model.gin_channels"),
        ("data", "hop_length", 10**7, "data.hop_length"),
        ("model", "upsample_rates", [10, 8, 4], "multiply"),
    ],
)
def test_impossible_sovits_configs_are_refused_naming_the_key(tmp_path, section, key, value, message):
    torch.manual_seed(0)
    config = configs.sovits_config_to_dict(SOVITS_TINY)
    config[section][key] = value
    path = tmp_path / "cfg.pth"
    path.write_bytes(tw.official_sovits_bytes(SynthesizerTrn(SOVITS_TINY).state_dict(), config))
    with pytest.raises(ModelError, match=message):
        load_sovits(path)
