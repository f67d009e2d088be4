"""Official checkpoint formats: reading what the reference writes, refusing code, lossless round trips."""

from __future__ import annotations

import io
import os
import sys
import zipfile
from pathlib import Path

import pytest
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))

import tiny_weights as tw  # noqa: E402

from engine.errors import ModelError  # noqa: E402
from engine.models.sovits.config import TINY as SOVITS_TINY  # noqa: E402
from engine.models.sovits.config import V2 as SOVITS_V2  # noqa: E402
from engine.models.sovits.synthesizer import SynthesizerTrn  # noqa: E402
from engine.models.t2s.config import TINY as GPT_TINY  # noqa: E402
from engine.models.t2s.config import V2 as GPT_V2  # noqa: E402
from engine.models.t2s.model import Text2Semantic  # noqa: E402
from engine.weights import configs, convert, native, official  # noqa: E402
from engine.weights.load import build_gpt, build_sovits, load_gpt, load_sovits, read_weights  # noqa: E402


@pytest.fixture(scope="module")
def tiny_models():
    torch.manual_seed(0)
    return SynthesizerTrn(SOVITS_TINY).eval(), Text2Semantic(GPT_TINY).eval()


@pytest.fixture
def official_files(tmp_path, tiny_models):
    sovits, gpt = tiny_models
    s2 = tmp_path / "tiny_e8_s96.pth"
    s2.write_bytes(tw.official_sovits_bytes(sovits.state_dict(), configs.sovits_config_to_dict(SOVITS_TINY)))
    s1 = tmp_path / "tiny-e15.ckpt"
    s1.write_bytes(tw.official_gpt_bytes(gpt.state_dict(), configs.gpt_config_to_dict(GPT_TINY)))
    return s2, s1


def _data_pkl(data: bytes) -> bytes:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        name = next(n for n in z.namelist() if n.endswith("/data.pkl"))
        return z.read(name)


def test_sovits_file_as_the_reference_writes_it_loads_with_every_key(official_files, tiny_models):
    s2, _ = official_files
    f = official.read_sovits(s2)
    assert f.version == "v2" and f.header is None and f.info == "8epoch_96iteration"
    assert isinstance(f.config["model"], dict) and f.config["model"]["upsample_rates"] == [10, 8, 8]
    assert all(t.dtype == torch.float16 for t in f.weight.values())
    assert set(f.weight) == set(tiny_models[0].state_dict())
    model = build_sovits(read_weights(s2, "sovits"))
    assert model.config == SOVITS_TINY
    assert not hasattr(model, "enc_q")
    # weight norm folded away: no legacy weight_g/weight_v parameters are left
    assert not any(k.endswith(("weight_g", "weight_v")) for k in model.state_dict())


def test_missing_or_extra_keys_are_reported(tmp_path, tiny_models):
    sovits, gpt = tiny_models
    weight = dict(gpt.state_dict())
    weight.pop("bert_proj.bias")
    weight["surprise.weight"] = torch.zeros(2)
    bad = tmp_path / "bad.ckpt"
    bad.write_bytes(tw.official_gpt_bytes(weight, configs.gpt_config_to_dict(GPT_TINY)))
    with pytest.raises(ModelError, match=r"missing: 1 .*unexpected: 1"):
        load_gpt(bad)
    # a v2 config with tiny weights: shapes disagree
    wrong = tmp_path / "wrong.pth"
    wrong.write_bytes(
        tw.official_sovits_bytes(sovits.state_dict(), tw.s2_config(SOVITS_V2.constructor_args()))
    )
    with pytest.raises(ModelError, match="does not fit"):
        load_sovits(wrong)


def test_version_header_files_load_and_name_their_version(tmp_path, tiny_models):
    sovits, _ = tiny_models
    cfg = configs.sovits_config_to_dict(SOVITS_TINY)
    path = tmp_path / "header.pth"
    path.write_bytes(tw.official_sovits_bytes(sovits.state_dict(), cfg, header=b"05"))
    assert path.read_bytes()[:2] == b"05"
    with pytest.raises(Exception, match="Unsupported operand|zip|magic|failed"):
        torch.load(path, weights_only=True)  # what a plain loader does with it
    f = official.read_sovits(path)
    assert f.header == b"05" and f.version == "v2Pro"
    with pytest.raises(ModelError, match="v2Pro"):
        load_sovits(path)  # v2Pro needs the speaker-verification parts Timbre does not build yet
    path.write_bytes(tw.official_sovits_bytes(sovits.state_dict(), cfg, header=b"01"))
    assert official.read_sovits(path).version == "v2"
    assert load_sovits(path).config == SOVITS_TINY


def test_gpt_file_loads_strictly_and_drops_the_prefix(official_files, tiny_models):
    _, s1 = official_files
    f = official.read_gpt(s1)
    assert f.info == "GPT-e15" and not any(k.startswith("model.") for k in f.weight)
    assert f.config["model"]["n_layer"] == GPT_TINY.n_layer
    model = load_gpt(s1)
    assert model.config == GPT_TINY
    ref = tiny_models[1].state_dict()
    for key, value in model.state_dict().items():
        assert torch.equal(value, ref[key].half().float()), key


class _RunsCode:
    def __reduce__(self):
        return (os.system, ("echo pwned > /dev/null",))


class _Callable:
    def __reduce__(self):
        return (eval, ("1+1",))


@pytest.mark.parametrize("payload", [_RunsCode(), _Callable()])
def test_pickles_that_would_run_code_are_refused(tmp_path, payload, monkeypatch):
    path = tmp_path / "evil.pth"
    buf = io.BytesIO()
    torch.save({"weight": {"x": torch.zeros(1)}, "config": payload, "info": ""}, buf)
    path.write_bytes(buf.getvalue())
    calls = []
    monkeypatch.setattr(os, "system", lambda *a: calls.append(a) or 0)
    with pytest.raises(ModelError, match=r"Refused to load .*(system|eval)"):
        official.read_sovits(path)
    with pytest.raises(ModelError, match="Refused"):
        official.read_gpt(path)
    assert calls == []


def test_not_a_checkpoint_and_truncated_files_are_clear_errors(tmp_path, official_files):
    junk = tmp_path / "junk.pth"
    junk.write_bytes(b"hello, not a checkpoint")
    with pytest.raises(ModelError, match="not a PyTorch checkpoint"):
        official.read_sovits(junk)
    cut = tmp_path / "cut.pth"
    cut.write_bytes(official_files[0].read_bytes()[:5000])
    with pytest.raises(ModelError, match="Could not read"):
        official.read_sovits(cut)
    with pytest.raises(ModelError, match="not found"):
        official.read_gpt(tmp_path / "absent.ckpt")
    nodict = tmp_path / "list.pth"
    torch.save([torch.zeros(1)], nodict)
    with pytest.raises(ModelError, match="no 'weight'"):
        official.read_sovits(nodict)


def test_our_writer_pickles_hparams_exactly_like_the_reference(tiny_models):
    sovits, _ = tiny_models
    cfg = configs.sovits_config_to_dict(SOVITS_TINY)
    weight = {k: v for k, v in sovits.state_dict().items() if "enc_q" not in k}
    theirs = tw.official_sovits_bytes(weight, cfg, info="3epoch_9iteration")
    ours = official.sovits_export_bytes(weight, cfg, "3epoch_9iteration")
    assert _data_pkl(ours) == _data_pkl(theirs)
    assert b"cutils\nHParams\n" in _data_pkl(ours)
    with tw.fake_utils_module():  # what the WebUI does: unpickle with its own utils.HParams
        obj = torch.load(io.BytesIO(ours), weights_only=False)
    assert type(obj["config"]).__module__ == "utils" and obj["config"].model.upsample_rates == [10, 8, 8]
    assert set(obj["weight"]) == set(weight) and obj["info"] == "3epoch_9iteration"


def test_export_import_export_is_byte_stable(tmp_path, official_files):
    s2, s1 = official_files
    voice = tmp_path / "voice"
    convert.import_official(s1, s2, voice)
    g = native.load(voice / "gpt.safetensors", "gpt")
    s = native.load(voice / "sovits.safetensors", "sovits")
    src = official.read_sovits(s2)
    assert s.config == src.config and set(s.weight) == set(src.weight)
    assert all(torch.equal(s.weight[k], src.weight[k]) for k in src.weight)
    assert g.weight["bert_proj.weight"].dtype == torch.float16
    a_ckpt, a_pth = convert.export_official(voice, tmp_path / "a", "me")
    # re-import the export and export again: identical bytes
    convert.import_official(a_ckpt, a_pth, tmp_path / "voice2")
    b_ckpt, b_pth = convert.export_official(tmp_path / "voice2", tmp_path / "b", "me")
    assert a_ckpt.read_bytes() == b_ckpt.read_bytes()
    assert a_pth.read_bytes() == b_pth.read_bytes()
    # the export has what the WebUI expects: no enc_q, fp16, the same config and tensors
    exported = official.read_sovits(a_pth)
    assert not any("enc_q" in k for k in exported.weight)
    assert len(exported.weight) == len([k for k in src.weight if "enc_q" not in k])
    assert exported.config == src.config and exported.info == src.info
    assert all(torch.equal(v, src.weight[k]) for k, v in exported.weight.items())
    gpt_back = official.read_gpt(a_ckpt)
    with zipfile.ZipFile(a_ckpt) as z:
        assert any(n.endswith("data.pkl") for n in z.namelist())
    assert gpt_back.config == official.read_gpt(s1).config
    assert load_gpt(a_ckpt).config == GPT_TINY and load_sovits(a_pth).config == SOVITS_TINY


def test_native_files_round_trip_fp32_exactly_and_check_their_kind(tmp_path, tiny_models):
    sovits, gpt = tiny_models
    cfg = configs.gpt_config_to_dict(GPT_TINY)
    w = native.NativeWeights("gpt", gpt.state_dict(), cfg, "GPT-e1")
    path = native.save(tmp_path / "gpt.safetensors", w)
    back = native.load(path, "gpt")
    assert back.config == cfg and back.info == "GPT-e1"
    assert all(torch.equal(back.weight[k], v) for k, v in gpt.state_dict().items())
    assert native.to_bytes(back) == path.read_bytes()
    with pytest.raises(ModelError, match="holds gpt weights"):
        native.load(path, "sovits")
    junk = tmp_path / "junk.safetensors"
    junk.write_bytes(b"\x00" * 4)
    with pytest.raises(ModelError, match="not a valid safetensors"):
        native.load(junk)
    model = build_gpt(read_weights(path, "gpt"))
    assert all(torch.equal(model.state_dict()[k], v) for k, v in gpt.state_dict().items())


def test_the_official_v2_configs_map_to_the_v2_models():
    model = {
        "inter_channels": 192, "hidden_channels": 192, "filter_channels": 768, "n_heads": 2, "n_layers": 6,
        "kernel_size": 3, "p_dropout": 0.1, "resblock": "1", "resblock_kernel_sizes": [3, 7, 11],
        "resblock_dilation_sizes": [[1, 3, 5], [1, 3, 5], [1, 3, 5]], "upsample_rates": [10, 8, 2, 2, 2],
        "upsample_initial_channel": 512, "upsample_kernel_sizes": [16, 16, 8, 2, 2], "n_layers_q": 3,
        "use_spectral_norm": False, "gin_channels": 512, "semantic_frame_rate": "25hz",
        "freeze_quantizer": True,
    }  # fmt: skip
    s2 = tw.s2_config(model)
    assert configs.sovits_config_from_dict(s2) == SOVITS_V2
    assert "timbre" not in configs.sovits_config_to_dict(SOVITS_V2)
    s1 = tw.s1_config(
        {"vocab_size": 1025, "phoneme_vocab_size": 732, "embedding_dim": 512, "hidden_dim": 512, "head": 16,
         "linear_units": 2048, "n_layer": 24, "dropout": 0, "EOS": 1024, "random_bert": 0}
    )  # fmt: skip
    assert configs.gpt_config_from_dict(s1) == GPT_V2
    assert configs.gpt_config_from_dict(s1, bert_dim=1024) == GPT_V2
    assert configs.sovits_config_from_dict(configs.sovits_config_to_dict(SOVITS_TINY)) == SOVITS_TINY


def test_files_whose_config_is_a_plain_dict_load_too(tmp_path, tiny_models):
    """Some reference versions save ``hps.to_dict()`` instead of the HParams object."""
    sovits, _ = tiny_models
    cfg = configs.sovits_config_to_dict(SOVITS_TINY)
    weight = {k: v.half() for k, v in sovits.state_dict().items() if "enc_q" not in k}
    path = tmp_path / "plain.pth"
    torch.save({"weight": weight, "config": cfg, "info": "1epoch_1iteration"}, path)
    f = official.read_sovits(path)
    assert f.config == cfg and f.version == "v2"
    assert load_sovits(path).config == SOVITS_TINY
