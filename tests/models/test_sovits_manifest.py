"""The V2 SoVITS modules have exactly the official state-dict layout (built on the meta device)."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest
import torch

from engine.models.sovits import TINY, V2, V2_PRO_PLUS, MultiPeriodDiscriminator, SynthesizerTrn

DATA = Path(__file__).resolve().parents[1] / "data"  # copies of the spec manifests (tests/data/README.md)
MANIFEST = DATA / "manifest-s2-v2.json.gz"


def read_manifest(path: Path) -> dict:
    """A gzipped JSON manifest from tests/data."""
    return json.loads(gzip.decompress(path.read_bytes()))


@pytest.fixture(scope="module")
def manifest() -> dict:
    return read_manifest(MANIFEST)


@pytest.fixture(scope="module")
def v2_meta() -> tuple[SynthesizerTrn, MultiPeriodDiscriminator]:
    with torch.device("meta"):
        return SynthesizerTrn(V2), MultiPeriodDiscriminator.from_config(V2)


def _shapes(module: torch.nn.Module) -> dict[str, list[int]]:
    return {k: list(v.shape) for k, v in module.state_dict().items()}


def test_generator_keys_and_shapes_equal_manifest(manifest, v2_meta):
    gen, _ = v2_meta
    ref = {k: v["shape"] for k, v in manifest["generator"]["state_dict"].items()}
    ours = _shapes(gen)
    assert set(ours) - set(ref) == set()
    assert set(ref) - set(ours) == set()
    assert ours == ref
    assert len(ours) == manifest["generator"]["num_tensors"] == 776


def test_generator_counts_and_buffer_kinds(manifest, v2_meta):
    gen, _ = v2_meta
    total = sum(v.numel() for v in gen.state_dict().values())
    assert total == manifest["generator"]["num_elements"]
    export = sum(v.numel() for k, v in gen.state_dict().items() if "enc_q" not in k)
    assert export == manifest["generator"]["num_elements_export(no enc_q)"]
    buffers = {name for name, _ in gen.named_buffers()}
    assert buffers == {
        f"quantizer.vq.layers.0._codebook.{n}" for n in ("inited", "cluster_size", "embed", "embed_avg")
    }
    params = {name for name, _ in gen.named_parameters()}
    assert params | buffers == set(manifest["generator"]["state_dict"])
    for group, info in manifest["generator"]["groups"].items():
        assert (
            sum(v.numel() for k, v in gen.state_dict().items() if k.split(".")[0] == group)
            == info["elements"]
        )
    exported = {k for k, v in manifest["generator"]["state_dict"].items() if v["in_finetune_export"]}
    assert exported == {k for k in gen.state_dict() if "enc_q" not in k}


def test_legacy_weight_norm_keys_and_naming_gotchas(v2_meta):
    gen, _ = v2_meta
    keys = set(gen.state_dict())
    assert "dec.ups.0.weight_g" in keys and "dec.ups.0.weight_v" in keys and "dec.ups.0.weight" not in keys
    assert not any("parametrizations" in k for k in keys)
    assert {int(k.split(".")[2]) for k in keys if k.startswith("flow.flows.")} == {0, 2, 4, 6}
    assert "enc_p.encoder_ssl.norm_layers_1.0.gamma" in keys and "enc_p.encoder2.norm_layers_2.2.beta" in keys
    assert "ssl_proj.weight" in keys and "enc_p.ssl_proj.weight" in keys
    assert "dec.conv_post.bias" not in keys and "dec.conv_pre.weight" in keys


def test_discriminator_keys_and_shapes_equal_manifest(manifest, v2_meta):
    _, disc = v2_meta
    ref = {k: v["shape"] for k, v in manifest["discriminator"]["state_dict"].items()}
    assert _shapes(disc) == ref
    assert sum(p.numel() for p in disc.parameters()) == manifest["discriminator"]["num_elements"]


def test_v2_config_equals_manifest_constructor_args(manifest):
    ours = V2.constructor_args()
    for key, value in manifest["constructor_args"].items():
        if key in ours:
            assert ours[key] == value, key
    data = manifest["data_config"]
    assert (V2.sampling_rate, V2.filter_length, V2.hop_length, V2.win_length, V2.n_mel_channels) == (
        data["sampling_rate"],
        data["filter_length"],
        data["hop_length"],
        data["win_length"],
        data["n_mel_channels"],
    )
    assert V2.segment_size * V2.hop_length == manifest["train_config"]["segment_size"]
    assert V2.samples_per_token == 1280 and TINY.samples_per_token == 1280


def test_tiny_has_the_same_key_structure_as_v2(v2_meta):
    gen, _ = v2_meta
    tiny = SynthesizerTrn(TINY)

    def pattern(key: str) -> str:
        return ".".join("N" if part.isdigit() else part for part in key.split("."))

    assert {pattern(k) for k in tiny.state_dict()} == {pattern(k) for k in gen.state_dict()}


def test_inference_only_build_matches_the_finetune_export_keys(manifest):
    with torch.device("meta"):
        gen = SynthesizerTrn(V2, with_posterior=False)
    exported = {k for k, v in manifest["generator"]["state_dict"].items() if v["in_finetune_export"]}
    assert set(gen.state_dict()) == exported
    assert len(exported) == 673


def test_v2proplus_keys_and_shapes_equal_its_manifest():
    pro = read_manifest(DATA / "manifest-s2-v2ProPlus.json.gz")
    with torch.device("meta"):
        gen, disc = SynthesizerTrn(V2_PRO_PLUS), MultiPeriodDiscriminator.from_config(V2_PRO_PLUS)
    assert _shapes(gen) == {k: v["shape"] for k, v in pro["generator"]["state_dict"].items()}
    assert _shapes(disc) == {k: v["shape"] for k, v in pro["discriminator"]["state_dict"].items()}
    ours = V2_PRO_PLUS.constructor_args()
    assert {k: v for k, v in pro["constructor_args"].items() if k in ours} == {
        k: ours[k] for k in pro["constructor_args"] if k in ours
    }
