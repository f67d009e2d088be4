"""Build ready-to-run GPT and SoVITS modules from weight files (official .ckpt/.pth or our safetensors)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from engine.errors import ModelError
from engine.models.state import mismatch
from engine.weights import native, official
from engine.weights.config_check import ConfigError, check_gpt_config, check_sovits_config
from engine.weights.configs import gpt_config_from_dict, sovits_config_from_dict
from engine.weights.guard import check_tensors

log = logging.getLogger(__name__)

TRAIN_ONLY_PREFIX = "enc_q."  # the posterior encoder: training only, absent from fine-tune exports


@dataclass
class Weights:
    """A state dict and its config, whatever file it came from."""

    weight: dict[str, torch.Tensor]
    config: dict[str, Any]
    info: str
    version: str
    path: Path


def read_weights(path: Path | str, kind: str) -> Weights:
    """Read ``kind`` ("gpt" or "sovits") weights from an official file or a Timbre safetensors file."""
    path = Path(path)
    if path.suffix == ".safetensors":
        w = native.load(path, kind)
        check_tensors(w.weight, str(path))
        return Weights(w.weight, w.config, w.info, w.version, path)
    if kind == "gpt":
        g = official.read_gpt(path)
        return Weights(g.weight, g.config, g.info, "v2", path)
    s = official.read_sovits(path)
    return Weights(s.weight, s.config, s.info, s.version, path)


def _check_keys(
    module: torch.nn.Module, weight: dict[str, torch.Tensor], path: Path, optional: str = ""
) -> None:
    detail = mismatch(module.state_dict(), weight, optional, counts=True)
    if detail:
        raise ModelError(
            f"{path.name} does not fit the model its config describes ({detail}).",
            "The file is damaged or from an unsupported GPT-SoVITS version (Timbre reads v2).",
        )


def _checked(check, w: Weights) -> None:
    try:
        check(w.config)
    except ConfigError as exc:
        raise ModelError(
            f"{w.path.name} cannot be used: {exc.message}.",
            "The file is damaged or was not written by GPT-SoVITS or Timbre; get it again from a source "
            "you trust.",
        ) from exc


def build_gpt(w: Weights, device: str | torch.device = "cpu"):
    """A Text2Semantic in eval mode with ``w`` loaded (sizes from its config and weights)."""
    from engine.models.t2s.model import Text2Semantic

    bert = w.weight.get("bert_proj.weight")
    _checked(check_gpt_config, w)
    if bert is not None and (bert.dim() != 2 or not 1 <= bert.shape[1] <= 4096):
        raise ModelError(
            f"{w.path.name}: bert_proj.weight has the shape {tuple(bert.shape)}.", "Check the file."
        )
    cfg = gpt_config_from_dict(w.config, bert_dim=int(bert.shape[1]) if bert is not None else None)
    with torch.device("meta"):  # check names and shapes before allocating anything
        _check_keys(Text2Semantic(cfg), w.weight, w.path)
    model = Text2Semantic(cfg)
    model.load_state_dict(w.weight, strict=True)
    return model.to(device).eval()


def build_sovits(w: Weights, device: str | torch.device = "cpu"):
    """An inference SynthesizerTrn: ``w`` loaded, weight norm folded, the training-only encoder dropped."""
    from engine.models.sovits.synthesizer import SynthesizerTrn

    if w.version not in ("v2",):
        raise ModelError(
            f"{w.path.name} is a GPT-SoVITS {w.version} model; Timbre reads v2.",
            "Use the v2 pretrained files or a v2 fine-tune.",
        )
    _checked(check_sovits_config, w)
    cfg = sovits_config_from_dict(w.config)
    with torch.device("meta"):
        _check_keys(SynthesizerTrn(cfg), w.weight, w.path, optional=TRAIN_ONLY_PREFIX)
    model = SynthesizerTrn(cfg)
    model.load_state_dict(w.weight, strict=False)
    del model.enc_q
    model.remove_weight_norm()
    return model.to(device).eval()


def load_gpt(path: Path | str, device: str | torch.device = "cpu"):
    """Read and build the GPT from ``path``."""
    return build_gpt(read_weights(path, "gpt"), device)


def load_sovits(path: Path | str, device: str | torch.device = "cpu"):
    """Read and build the SoVITS generator from ``path``."""
    return build_sovits(read_weights(path, "sovits"), device)
