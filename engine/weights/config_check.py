"""The config a weight file carries, checked against what we can build, before any model is built.

A config value reaches a model constructor only after it has the right type and lies in a range that a
real GPT-SoVITS model (or our TINY test models) could have. The bounds are generous, a few times the
official v2 sizes, and small enough that building the model cannot exhaust memory or take minutes.
Errors name the key and say what was expected.
"""

from __future__ import annotations

from typing import Any

from engine.errors import ModelError


class ConfigError(ModelError):
    """A config value in a weight file that no model we can build would have."""


# ("int"|"num", low, high); ("str", choices); ("bool",); ("ints"|"nested", min_len, max_len, low, high)
Rule = tuple[Any, ...]

SOVITS_DATA: dict[str, Rule] = {
    "sampling_rate": ("int", 8000, 96000),
    "filter_length": ("int", 64, 8192),
    "hop_length": ("int", 16, 4096),
    "win_length": ("int", 16, 8192),
    "n_mel_channels": ("int", 8, 512),
    "mel_fmin": ("num", 0, 48000),
}
SOVITS_MODEL: dict[str, Rule] = {
    "inter_channels": ("int", 1, 2048),
    "hidden_channels": ("int", 1, 2048),
    "filter_channels": ("int", 1, 8192),
    "n_heads": ("int", 1, 64),
    "n_layers": ("int", 1, 48),
    "kernel_size": ("int", 1, 31),
    "p_dropout": ("num", 0, 1),
    "resblock_kernel_sizes": ("ints", 1, 8, 1, 63),
    "resblock_dilation_sizes": ("nested", 1, 8, 1, 63),
    "upsample_rates": ("ints", 1, 8, 1, 64),
    "upsample_initial_channel": ("int", 1, 4096),
    "upsample_kernel_sizes": ("ints", 1, 8, 1, 128),
    "gin_channels": ("int", 1, 4096),
    "semantic_frame_rate": ("str", ("25hz", "50hz")),
    "freeze_quantizer": ("bool",),
    "version": ("str", ("v1", "v2", "v2Pro", "v2ProPlus", "v3", "v4")),
}
SOVITS_EXTRA: dict[str, Rule] = {
    "n_symbols": ("int", 1, 100_000),
    "ssl_dim": ("int", 1, 4096),
    "codebook_size": ("int", 1, 65_536),
    "n_q": ("int", 1, 16),
    "ref_bins": ("int", 1, 8192),
    "sv_dim": ("int", 1, 65_536),
    "style_hidden": ("int", 1, 2048),
    "style_kernel_size": ("int", 1, 31),
    "style_heads": ("int", 1, 64),
    "window_size": ("int", 1, 64),
}
GPT_MODEL: dict[str, Rule] = {
    "n_layer": ("int", 1, 64),
    "hidden_dim": ("int", 1, 4096),
    "embedding_dim": ("int", 1, 4096),
    "head": ("int", 1, 128),
    "phoneme_vocab_size": ("int", 1, 100_000),
    "vocab_size": ("int", 2, 65_537),
    "EOS": ("int", 1, 65_536),
    "dropout": ("num", 0, 1),
}
GPT_REQUIRED = ("n_layer", "hidden_dim", "head", "phoneme_vocab_size", "vocab_size", "EOS")


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _check(where: str, key: str, value: Any, rule: Rule) -> None:
    kind = rule[0]
    name = f"{where}.{key}"
    if kind == "int":
        if not _is_int(value) or not rule[1] <= value <= rule[2]:
            raise ConfigError(
                f"the config value {name} = {value!r} is not a whole number in {rule[1]}–{rule[2]}"
            )
    elif kind == "num":
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        if not ok or not rule[1] <= value <= rule[2]:
            raise ConfigError(f"the config value {name} = {value!r} is not a number in {rule[1]}–{rule[2]}")
    elif kind == "str":
        if value not in rule[1]:
            raise ConfigError(f"the config value {name} = {value!r} is not one of {', '.join(rule[1])}")
    elif kind == "bool":
        if not isinstance(value, bool):
            raise ConfigError(f"the config value {name} = {value!r} is not true or false")
    elif kind in ("ints", "nested"):
        _, n_lo, n_hi, lo, hi = rule
        if not isinstance(value, list | tuple) or not n_lo <= len(value) <= n_hi:
            raise ConfigError(f"the config value {name} is not a list of {n_lo}–{n_hi} entries")
        for item in value:
            inner = item if kind == "nested" else [item]
            if not isinstance(inner, list | tuple) or not 1 <= len(inner) <= 8:
                raise ConfigError(f"the config value {name} holds {item!r}, not a list of whole numbers")
            if not all(_is_int(x) and lo <= x <= hi for x in inner):
                raise ConfigError(f"the config value {name} holds {item!r}; expected whole numbers {lo}–{hi}")


def _section(config: dict[str, Any], key: str) -> dict[str, Any]:
    section = config.get(key)
    if section is None:
        return {}
    if not isinstance(section, dict):
        raise ConfigError(f"the config entry {key!r} is {type(section).__name__}, not a mapping")
    return section


def check_sovits_config(config: Any) -> None:
    """Raise ConfigError unless an s2 config's sizes are ones we can build."""
    if not isinstance(config, dict):
        raise ConfigError("the config is not a mapping")
    for where, rules in (("data", SOVITS_DATA), ("model", SOVITS_MODEL), ("timbre", SOVITS_EXTRA)):
        section = _section(config, where)
        for key, rule in rules.items():
            if key in section:
                _check(where, key, section[key], rule)
    model = _section(config, "model")
    data = _section(config, "data")
    hidden, heads = model.get("hidden_channels"), model.get("n_heads")
    if _is_int(hidden) and _is_int(heads) and hidden % heads:
        raise ConfigError(f"model.hidden_channels ({hidden}) is not a multiple of model.n_heads ({heads})")
    rates, kernels = model.get("upsample_rates"), model.get("upsample_kernel_sizes")
    if rates is not None and kernels is not None and len(rates) != len(kernels):
        raise ConfigError("model.upsample_rates and model.upsample_kernel_sizes differ in length")
    res_k, res_d = model.get("resblock_kernel_sizes"), model.get("resblock_dilation_sizes")
    if res_k is not None and res_d is not None and len(res_k) != len(res_d):
        raise ConfigError("model.resblock_kernel_sizes and model.resblock_dilation_sizes differ in length")
    if rates is not None and _is_int(data.get("hop_length")):
        product = 1
        for r in rates:
            product *= r
        if product != data["hop_length"]:
            raise ConfigError(
                f"model.upsample_rates multiply to {product}, not data.hop_length ({data['hop_length']})"
            )
    segment = _section(config, "train").get("segment_size")
    if segment is not None and (not _is_int(segment) or not 1 <= segment <= 10_000_000):
        raise ConfigError(f"the config value train.segment_size = {segment!r} is out of range")


def check_gpt_config(config: Any) -> None:
    """Raise ConfigError unless an s1 config's ``model`` sizes are ones we can build."""
    if not isinstance(config, dict):
        raise ConfigError("the config is not a mapping")
    if config.get("model") is None:
        return  # no sizes: the v2 defaults are used
    model = _section(config, "model")
    missing = [k for k in GPT_REQUIRED if k not in model]
    if missing:
        raise ConfigError(f"the config's model section lacks {', '.join(missing)}")
    for key, rule in GPT_MODEL.items():
        if key in model:
            _check("model", key, model[key], rule)
    if model["hidden_dim"] % model["head"]:
        raise ConfigError(f"model.hidden_dim ({model['hidden_dim']}) is not a multiple of model.head")
    if model["EOS"] != model["vocab_size"] - 1:
        raise ConfigError(
            f"model.EOS ({model['EOS']}) must be model.vocab_size − 1 ({model['vocab_size'] - 1})"
        )
    if "embedding_dim" in model and model["embedding_dim"] != model["hidden_dim"]:
        raise ConfigError("model.embedding_dim must equal model.hidden_dim")
