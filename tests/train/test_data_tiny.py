"""`timbre models make-tiny DIR`: TINY pretrained files that locate finds and our readers load."""

from __future__ import annotations

import huggingface_hub
import torch

from engine.models.sovits.discriminator import MultiPeriodDiscriminator
from engine.weights import locate, official
from engine.weights.configs import sovits_config_from_dict
from engine.weights.load import load_gpt, load_sovits, read_weights
from engine.weights.tiny import make_tiny

ALL = ("gpt", "sovits", "hubert", "bert", "sovits-d")


def test_cli_writes_a_folder_locate_finds(tmp_path, monkeypatch, capsys):
    from tui.cli import main

    folder = tmp_path / "tiny"
    assert main(["models", "make-tiny", str(folder)]) == 0
    assert "TIMBRE_PRETRAINED=" in capsys.readouterr().out
    monkeypatch.setenv(locate.PRETRAINED_ENV, str(folder))
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(tmp_path / "no-hf-cache"))
    found = [locate.find(key) for key in ALL]
    assert all(f.source == locate.PRETRAINED_ENV and f.path is not None for f in found), found
    paths = locate.locate(ALL)
    gpt, sovits = load_gpt(paths.gpt), load_sovits(paths.sovits)
    assert gpt.config.n_layer == 2 and sovits.config.ssl_dim == 64
    cfg = sovits_config_from_dict(read_weights(paths.sovits, "sovits").config)
    disc = MultiPeriodDiscriminator.from_config(cfg)  # D sizes come from the G file's config
    weight = official.read_discriminator(paths.sovits_d)
    disc.load_state_dict({k: v.float() for k, v in weight.items()}, strict=True)
    assert "enc_q.pre.weight" in read_weights(paths.sovits, "sovits").weight  # pretrained G keeps enc_q


def test_same_seed_same_weights(tmp_path):
    a = official.read_gpt(make_tiny(tmp_path / "a", seed=5) / locate.part("gpt").files[0].path).weight
    b = official.read_gpt(make_tiny(tmp_path / "b", seed=5) / locate.part("gpt").files[0].path).weight
    c = official.read_gpt(make_tiny(tmp_path / "c", seed=6) / locate.part("gpt").files[0].path).weight
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert not all(torch.equal(a[k], c[k]) for k in a)
