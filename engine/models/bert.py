"""BERT phone features: chinese-roberta-wwm-ext-large ``hidden_states[-3]`` per character (spec §2.5)."""

from __future__ import annotations

import logging
from pathlib import Path

import torch

from engine.errors import ModelError
from engine.models.hf_util import DOWNLOAD_HINT, PretrainedWrapper, load_pretrained, quiet_transformers

log = logging.getLogger(__name__)

MAX_CHARS = 510  # BERT's 512 positions minus [CLS] and [SEP]
BERT_LANGUAGES = ("zh",)  # every other language gets zeros
FEATURE_LAYER = -3  # the reference reads hidden_states[-3]: the layers after it never matter


class BertFeatures(PretrainedWrapper):
    """Character features from a Chinese BERT (1024 wide for the large model), spread by ``word2ph``."""

    def __init__(self, model: torch.nn.Module, tokenizer) -> None:
        """Wrap ``model``, dropping its encoder layers after the feature layer (in place).

        ``hidden_states[-3]`` of a 24-layer BERT is the output of layer 22: layers 23 and 24 are never
        read, so they are removed (the same numbers, 1/12 less time and memory per call).
        """
        super().__init__(model)
        self.tokenizer = tokenizer
        layers = getattr(getattr(model, "encoder", None), "layer", None)
        self.truncated = False
        if isinstance(layers, torch.nn.ModuleList):
            keep = len(layers) + 1 + FEATURE_LAYER  # hidden_states holds the embeddings + every layer
            if 1 <= keep < len(layers):
                model.encoder.layer = layers[:keep]
                model.config.num_hidden_layers = keep
                self.truncated = True

    @classmethod
    def load(cls, folder: Path | str, device: str | torch.device = "cpu") -> BertFeatures:
        """Load a chinese-roberta-wwm-ext-large-style folder (config, weights, tokenizer) with no network."""
        from transformers import BertModel, BertTokenizer

        folder = Path(folder)
        model = load_pretrained(
            BertModel, folder, "chinese-roberta-wwm-ext-large", ignore=("cls.",), add_pooling_layer=False
        )
        try:
            with quiet_transformers():
                tokenizer = BertTokenizer.from_pretrained(folder, local_files_only=True)
        except (OSError, ValueError) as exc:
            raise ModelError(f"Could not load the BERT tokenizer in {folder}: {exc}", DOWNLOAD_HINT) from exc
        return cls(model.to(device), tokenizer)

    def _ids(self, text: str) -> list[int]:
        ids = self.tokenizer(text, add_special_tokens=False)["input_ids"]
        if len(ids) == len(text):
            return list(ids)
        # one token per character, whatever the tokenizer would merge
        unk = self.tokenizer.unk_token_id
        out = []
        for ch in text:
            sub = self.tokenizer(ch, add_special_tokens=False)["input_ids"]
            out.append(sub[0] if sub else unk)
        return out

    @torch.inference_mode()
    def char_features(self, text: str) -> torch.Tensor:
        """[len(text), hidden]: ``hidden_states[-3]`` of each character ([CLS]/[SEP] dropped)."""
        ids = self._ids(text)
        rows = []
        for start in range(0, len(ids), MAX_CHARS):
            chunk = ids[start : start + MAX_CHARS]
            full = [self.tokenizer.cls_token_id, *chunk, self.tokenizer.sep_token_id]
            input_ids = torch.tensor([full], device=self.device)
            mask = torch.ones_like(input_ids)
            if self.truncated:  # the last layer kept is the feature layer
                hidden = self.model(input_ids=input_ids, attention_mask=mask).last_hidden_state
            else:
                out = self.model(input_ids=input_ids, attention_mask=mask, output_hidden_states=True)
                hidden = out.hidden_states[FEATURE_LAYER]
            rows.append(hidden[0, 1:-1].float())
        if not rows:
            return torch.zeros(0, self.dim, device=self.device)
        return torch.cat(rows, 0)

    def phone_features(self, text: str, word2ph: list[int]) -> torch.Tensor:
        """[hidden, sum(word2ph)]: each character's vector repeated ``word2ph[i]`` times."""
        if len(word2ph) != len(text):
            raise ModelError(
                f"BERT features need one word2ph entry per character ({len(word2ph)} for {len(text)}).",
                "This is a text frontend bug; please report the text.",
            )
        chars = self.char_features(text)
        counts = torch.tensor(word2ph, device=chars.device, dtype=torch.long)
        return chars.repeat_interleave(counts, dim=0).T.contiguous()


def zero_features(n_phones: int, dim: int = 1024, device: str | torch.device = "cpu") -> torch.Tensor:
    """[dim, n_phones] zeros: the BERT feature of every non-Mandarin segment."""
    return torch.zeros(dim, n_phones, device=device)
