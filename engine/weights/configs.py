"""Model configs ↔ the config dicts stored in weight files (the file's config decides the model's sizes).

The official s2 config is ``{train, data, model, ...}`` where ``model`` holds the constructor arguments;
sizes the reference hard-codes (SSL width, MRTE width, …) are stored, only when they differ from v2, under
a top-level ``"timbre"`` key that the official WebUI ignores. The s1 config is the yaml dict whose
``model`` entry gives the GPT sizes.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from engine.models.sovits.config import V2 as SOVITS_V2
from engine.models.sovits.config import SoVITSConfig
from engine.models.t2s.config import V2 as T2S_V2
from engine.models.t2s.config import T2SConfig

_DATA_KEYS = (
    "sampling_rate",
    "filter_length",
    "hop_length",
    "win_length",
    "n_mel_channels",
    "mel_fmin",
    "mel_fmax",
)
_MODEL_KEYS = (
    "inter_channels",
    "hidden_channels",
    "filter_channels",
    "n_heads",
    "n_layers",
    "kernel_size",
    "p_dropout",
    "resblock_kernel_sizes",
    "resblock_dilation_sizes",
    "upsample_rates",
    "upsample_initial_channel",
    "upsample_kernel_sizes",
    "gin_channels",
    "semantic_frame_rate",
    "freeze_quantizer",
    "version",
)
_EXTRA_KEYS = tuple(
    f.name
    for f in dataclasses.fields(SoVITSConfig)
    if f.name not in _DATA_KEYS + _MODEL_KEYS + ("spec_channels", "segment_size")
)


def _tuples(value: Any) -> Any:
    if isinstance(value, list | tuple):
        return tuple(_tuples(v) for v in value)
    return value


def _lists(value: Any) -> Any:
    if isinstance(value, list | tuple):
        return [_lists(v) for v in value]
    return value


def sovits_config_from_dict(config: dict[str, Any]) -> SoVITSConfig:
    """The SoVITSConfig an s2 file's config describes (v2 defaults for anything it leaves out)."""
    fields = {f.name for f in dataclasses.fields(SoVITSConfig)}
    data = config.get("data") or {}
    model = config.get("model") or {}
    extra = config.get("timbre") or {}
    changes: dict[str, Any] = {}
    for key in _DATA_KEYS:
        if key in data:
            changes[key] = data[key]
    for key, value in model.items():
        if key in fields:
            changes[key] = _tuples(value)
    for key, value in extra.items():
        if key in fields:
            changes[key] = _tuples(value)
    if "filter_length" in data:
        changes["spec_channels"] = int(data["filter_length"]) // 2 + 1
    train = config.get("train") or {}
    if "segment_size" in train and "hop_length" in data:
        changes["segment_size"] = int(train["segment_size"]) // int(data["hop_length"])
    if "version" not in model and isinstance(config.get("version"), str):
        changes["version"] = config["version"]
    return dataclasses.replace(SOVITS_V2, **changes)


def sovits_config_to_dict(
    cfg: SoVITSConfig, name: str = "timbre", base: dict[str, Any] | None = None
) -> dict:
    """An s2 config dict in the shape of the official fine-tune export for ``cfg``."""
    out: dict[str, Any] = {
        "train": {"segment_size": cfg.segment_size * cfg.hop_length},
        "data": {"max_wav_value": 32768.0, "n_speakers": 300, "add_blank": True, "cleaned_text": True},
        "model": {},
        "s2_ckpt_dir": f"logs/{name}",
        "content_module": "cnhubert",
        "save_weight_dir": "SoVITS_weights_v2",
        "name": name,
        "version": cfg.version,
    }
    if base:
        out.update({k: v for k, v in base.items() if k not in ("model", "timbre")})
        out["train"] = dict(base.get("train") or {}, segment_size=cfg.segment_size * cfg.hop_length)
        out["data"] = dict(base.get("data") or {})
    for key in _DATA_KEYS:
        out["data"][key] = getattr(cfg, key)
    model = {k: _lists(getattr(cfg, k)) for k in _MODEL_KEYS}
    model.update({"resblock": "1", "n_layers_q": 3, "use_spectral_norm": False})
    out["model"] = model
    extra = {k: _lists(getattr(cfg, k)) for k in _EXTRA_KEYS if getattr(cfg, k) != getattr(SOVITS_V2, k)}
    if extra:
        out["timbre"] = extra
    return out


def gpt_config_from_dict(config: dict[str, Any], bert_dim: int | None = None) -> T2SConfig:
    """The T2SConfig an s1 file's config describes (``bert_dim`` from the weights when given)."""
    model = config.get("model")
    if not isinstance(model, dict):
        return T2S_V2 if bert_dim is None else dataclasses.replace(T2S_V2, bert_dim=bert_dim)
    cfg = T2SConfig.from_yaml_model(model)
    return cfg if bert_dim is None else dataclasses.replace(cfg, bert_dim=bert_dim)


def s1_sections(model: dict[str, Any] | None = None) -> dict[str, Any]:
    """A fresh s1 config dict with the non-model sections of ``s1longer-v2.yaml`` and ``model``."""
    return {
        "train": {"seed": 1234, "epochs": 20, "batch_size": 8, "precision": "16-mixed", "gradient_clip": 1.0},
        "optimizer": {
            "lr": 0.01,
            "lr_init": 1e-05,
            "lr_end": 0.0001,
            "warmup_steps": 2000,
            "decay_steps": 40000,
        },
        "data": {"max_eval_sample": 8, "max_sec": 54, "num_workers": 4, "pad_val": 1024},
        "model": dict(model or {}),
        "inference": {"top_k": 15},
    }


def gpt_config_to_dict(cfg: T2SConfig, base: dict[str, Any] | None = None) -> dict:
    """An s1 config dict shaped like ``s1longer-v2.yaml`` for ``cfg``."""
    out = s1_sections()
    if base:
        out.update(base)
    out["model"] = cfg.to_yaml_model()
    return out
