"""SSL (HuBERT) and BERT features with tiny models saved in the official folder layouts."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))

import tiny_weights as tw  # noqa: E402

from engine.errors import ModelError  # noqa: E402
from engine.models.bert import BertFeatures, zero_features  # noqa: E402
from engine.models.ssl import REFERENCE_PAD, SslModel, frames_for  # noqa: E402


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    root = tmp_path_factory.mktemp("pretrained")
    return tw.write_tiny_hubert(root / "chinese-hubert-base"), tw.write_tiny_bert(
        root / "chinese-roberta-wwm-ext-large"
    )


def test_hubert_loads_the_legacy_weight_norm_layout_with_every_tensor(folders):
    from transformers import HubertModel

    ssl = SslModel.load(folders[0])
    raw = torch.load(folders[0] / "pytorch_model.bin", weights_only=True)
    assert any(k.endswith("pos_conv_embed.conv.weight_g") for k in raw)  # the official file's key style
    # the loaded model computes what a model built from those very tensors computes
    reference = HubertModel(ssl.model.config).eval()
    own = reference.state_dict()
    mapped = {}
    for key, value in raw.items():
        key = key.replace("weight_g", "parametrizations.weight.original0")
        mapped[key.replace("weight_v", "parametrizations.weight.original1")] = value
    assert set(mapped) == set(own)
    reference.load_state_dict(mapped)
    wav = torch.randn(1, 16000) * 0.1
    with torch.no_grad():
        expected = reference(wav).last_hidden_state.transpose(1, 2)
    assert torch.allclose(ssl.features(wav), expected, atol=1e-6)


def test_ssl_frames_follow_the_conv_formula_and_references_get_zero_padding(folders):
    ssl = SslModel.load(folders[0])
    assert frames_for(3 * 16000 + REFERENCE_PAD) == 179  # spec §2.4: 3 s + 0.6 s -> 179 frames
    wav = (np.random.default_rng(0).standard_normal(48000) * 0.1).astype(np.float32)
    feats = ssl.features(wav)
    assert feats.shape == (1, ssl.dim, frames_for(48000))
    ref = ssl.reference_features(wav)
    assert REFERENCE_PAD == 9600 and ref.shape == (1, ssl.dim, 179)
    padded = np.concatenate([wav, np.zeros(9600, np.float32)])
    assert torch.equal(ref, ssl.features(padded))
    with pytest.raises(ModelError, match="too short"):
        ssl.features(np.zeros(100, np.float32))


def test_missing_model_folders_are_clear_errors(tmp_path):
    with pytest.raises(ModelError, match="timbre models download"):
        SslModel.load(tmp_path)
    with pytest.raises(ModelError, match="timbre models download"):
        BertFeatures.load(tmp_path)


def test_bert_features_are_hidden_state_minus_three_repeated_by_word2ph(folders):
    bert = BertFeatures.load(folders[1])
    assert not (folders[1] / "vocab.txt").exists()  # the tokenizer comes from tokenizer.json, as officially
    text = "你好，世界。"
    word2ph = [2, 2, 1, 2, 2, 1]
    feats = bert.phone_features(text, word2ph)
    assert feats.shape == (bert.dim, sum(word2ph))
    ids = [
        bert.tokenizer.cls_token_id,
        *bert.tokenizer.convert_tokens_to_ids(list(text)),
        bert.tokenizer.sep_token_id,
    ]
    assert bert.tokenizer.unk_token_id not in ids
    from transformers import BertModel

    full = BertModel.from_pretrained(folders[1], add_pooling_layer=False).eval()  # all 3 layers
    assert bert.truncated and len(bert.model.encoder.layer) == 1 < len(full.encoder.layer) == 3
    with torch.no_grad():
        hidden = full(input_ids=torch.tensor([ids]), output_hidden_states=True).hidden_states
    assert len(hidden) == 4  # embeddings + 3 layers: [-3] is the output of the first layer
    chars = hidden[-3][0, 1:-1]
    column = 0
    for i, count in enumerate(word2ph):
        for _ in range(count):
            assert torch.allclose(feats[:, column], chars[i], atol=1e-5)
            column += 1
    assert not torch.allclose(chars[0], chars[1])
    # unknown characters still take exactly one position each
    odd = bert.phone_features("你Z好", [2, 1, 2])
    assert odd.shape == (bert.dim, 5)


def test_bert_rejects_a_misaligned_word2ph_and_zeros_have_the_right_shape(folders):
    bert = BertFeatures.load(folders[1])
    with pytest.raises(ModelError, match="word2ph"):
        bert.phone_features("你好", [2])
    z = zero_features(7, 1024)
    assert z.shape == (1024, 7) and not z.any()
