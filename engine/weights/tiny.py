"""TINY pretrained files in the official layout: the whole chain (synthesis, fine-tuning), no download.

:func:`make_tiny` writes a folder that :mod:`engine.weights.locate` finds through ``TIMBRE_PRETRAINED``:
the TINY-config GPT (``.ckpt``), SoVITS generator and discriminator (``.pth``), and tiny HuBERT and
BERT transformers folders, with the file names of the ``lj1995/GPT-SoVITS`` repo. The weights are
random (seeded): the audio they make is noise, but every shape, format and code path is the real one.

The GPT/SoVITS files are written the way the reference writes them (``torch.save`` of a dict whose
config is a pickled ``utils.HParams``), using a stand-in ``utils`` module that exists only while saving.
"""

from __future__ import annotations

import io
import sys
import types
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import torch

ZH_CHARS = "你好世界今天天气很好我们是中国人说话声音朋友一二三四五六七八九十的了在有这个来到大小"
PUNCT = "，。！？、；：,.!?"


@contextmanager
def fake_utils_module() -> Iterator[type]:
    """A module called ``utils`` holding an ``HParams`` like the reference's, only while the block runs."""

    class HParams:
        def __init__(self, **kwargs: Any) -> None:
            for k, v in kwargs.items():
                if type(v) is dict:
                    v = HParams(**v)
                self[k] = v

        def __setitem__(self, key: str, value: Any) -> None:
            setattr(self, key, value)

    HParams.__module__ = "utils"
    HParams.__qualname__ = "HParams"
    module = types.ModuleType("utils")
    module.HParams = HParams  # type: ignore[attr-defined]
    saved = sys.modules.get("utils")
    sys.modules["utils"] = module
    try:
        yield HParams
    finally:
        if saved is None:
            del sys.modules["utils"]
        else:
            sys.modules["utils"] = saved


def official_sovits_bytes(
    weight: dict[str, torch.Tensor],
    config: dict,
    info: str = "8epoch_96iteration",
    header: bytes | None = None,
) -> bytes:
    """Bytes of an s2 .pth as the reference writes it: fp16 weights, config pickled as utils.HParams."""
    with fake_utils_module() as HParams:
        obj = {
            "weight": OrderedDict((k, v.detach().half()) for k, v in weight.items()),
            "config": HParams(**config),
            "info": info,
        }
        buf = io.BytesIO()
        torch.save(obj, buf)
    data = buf.getvalue()
    return header + data[2:] if header else data


def official_discriminator_bytes(weight: dict[str, torch.Tensor]) -> bytes:
    """Bytes of an s2D .pth as the fine-tune recipe reads it (``torch.load(f)["weight"]``), fp16."""
    buf = io.BytesIO()
    torch.save({"weight": OrderedDict((k, v.detach().half()) for k, v in weight.items())}, buf)
    return buf.getvalue()


def official_gpt_bytes(weight: dict[str, torch.Tensor], config: dict, info: str = "GPT-e15") -> bytes:
    """Bytes of an s1 .ckpt as the reference exports it: 'model.'-prefixed fp16 weights and the yaml dict."""
    obj = {
        "weight": OrderedDict(("model." + k, v.detach().half()) for k, v in weight.items()),
        "config": config,
        "info": info,
    }
    buf = io.BytesIO()
    torch.save(obj, buf)
    return buf.getvalue()


def s2_config(model_args: dict, version: str = "v2") -> dict:
    """An s2 config shaped like the reference's fine-tune export (train/data/model/... keys)."""
    return {
        "train": {
            "seed": 1234,
            "epochs": 8,
            "learning_rate": 0.0001,
            "betas": [0.8, 0.99],
            "segment_size": 20480,
        },
        "data": {
            "max_wav_value": 32768.0,
            "sampling_rate": 32000,
            "filter_length": 2048,
            "hop_length": 640,
            "win_length": 2048,
            "n_mel_channels": 128,
            "mel_fmin": 0.0,
            "mel_fmax": None,
            "add_blank": True,
            "n_speakers": 300,
            "cleaned_text": True,
        },
        "model": dict(model_args, version=version),
        "s2_ckpt_dir": "logs/tiny",
        "content_module": "cnhubert",
        "save_weight_dir": "SoVITS_weights_v2",
        "name": "tiny",
        "version": version,
    }


def s1_config(model_args: dict) -> dict:
    """An s1 config shaped like ``s1longer-v2.yaml`` (its training sections are the exporter's)."""
    from engine.weights.configs import s1_sections

    return s1_sections(model_args)


def write_tiny_hubert(folder: Path, hidden: int = 64, seed: int = 0) -> Path:
    """A tiny HuBERT in the chinese-hubert-base layout (config, preprocessor config, legacy .bin)."""
    from transformers import HubertConfig, HubertModel

    torch.manual_seed(seed)
    cfg = HubertConfig(
        hidden_size=hidden,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        conv_dim=(16,) * 7,
        num_conv_pos_embeddings=16,
        num_conv_pos_embedding_groups=2,
        feat_extract_norm="group",
        conv_bias=False,
        do_stable_layer_norm=False,
    )
    model = HubertModel(cfg).eval()
    folder.mkdir(parents=True, exist_ok=True)
    cfg.save_pretrained(folder)
    (folder / "preprocessor_config.json").write_text(
        '{"feature_size": 1, "sampling_rate": 16000, "do_normalize": true, "return_attention_mask": false}\n'
    )
    legacy = {}
    for key, value in model.state_dict().items():
        key = key.replace("parametrizations.weight.original0", "weight_g")
        legacy[key.replace("parametrizations.weight.original1", "weight_v")] = value
    torch.save(legacy, folder / "pytorch_model.bin")
    return folder


def write_tiny_bert(folder: Path, hidden: int = 1024, layers: int = 3, seed: int = 0) -> Path:
    """A tiny Chinese BERT in the chinese-roberta-wwm-ext-large layout (MLM weights as .bin, tokenizer)."""
    from transformers import BertConfig, BertForMaskedLM, BertTokenizer

    torch.manual_seed(seed)
    folder.mkdir(parents=True, exist_ok=True)
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *dict.fromkeys(ZH_CHARS + PUNCT)]
    vocab_path = folder / "vocab.txt"
    vocab_path.write_text("\n".join(vocab) + "\n", encoding="utf-8")
    cfg = BertConfig(
        vocab_size=len(vocab),
        hidden_size=hidden,
        num_hidden_layers=layers,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=512,
    )
    model = BertForMaskedLM(cfg).eval()
    cfg.save_pretrained(folder)
    torch.save(model.state_dict(), folder / "pytorch_model.bin")
    BertTokenizer(vocab=str(vocab_path)).save_pretrained(folder)
    for extra in ("vocab.txt", "tokenizer_config.json", "special_tokens_map.json"):
        (folder / extra).unlink(missing_ok=True)  # the official folder ships tokenizer.json only
    return folder


def make_tiny(folder: Path, seed: int = 0) -> Path:
    """Write TINY HuBERT, BERT, GPT, SoVITS G and D under ``folder`` in the official layout; returns it.

    Use it with ``TIMBRE_PRETRAINED=folder``. The same seed writes the same weights.
    """
    from engine.models.sovits.config import TINY as SOVITS_TINY
    from engine.models.sovits.discriminator import MultiPeriodDiscriminator
    from engine.models.sovits.synthesizer import SynthesizerTrn
    from engine.models.t2s.config import TINY as GPT_TINY
    from engine.models.t2s.model import Text2Semantic
    from engine.weights import configs
    from engine.weights.registry import part

    folder = Path(folder)
    torch.manual_seed(seed)
    sovits = SynthesizerTrn(SOVITS_TINY)  # with enc_q, as the pretrained G files are
    disc = MultiPeriodDiscriminator.from_config(SOVITS_TINY)
    gpt = Text2Semantic(GPT_TINY)
    files = {
        "sovits": official_sovits_bytes(
            sovits.state_dict(), configs.sovits_config_to_dict(SOVITS_TINY, name="tiny"), info="pretrained"
        ),
        "sovits-d": official_discriminator_bytes(disc.state_dict()),
        "gpt": official_gpt_bytes(gpt.state_dict(), configs.gpt_config_to_dict(GPT_TINY), info="pretrained"),
    }
    for key, data in files.items():
        path = folder / part(key).files[0].path
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    write_tiny_hubert(folder / part("hubert").folder, hidden=SOVITS_TINY.ssl_dim, seed=seed)
    write_tiny_bert(folder / part("bert").folder, hidden=GPT_TINY.bert_dim, seed=seed)
    return folder
