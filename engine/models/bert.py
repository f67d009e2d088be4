"""BERT phone features: chinese-roberta-wwm-ext-large ``hidden_states[-3]`` per character (spec §2.5)."""

from __future__ import annotations

import logging
from pathlib import Path

import torch

from engine.errors import ModelError
from engine.models.hf_util import quiet_transformers

log = logging.getLogger(__name__)

MAX_CHARS = 510  # BERT's 512 positions minus [CLS] and [SEP]
BERT_LANGUAGES = ("zh",)  # every other language gets zeros


class BertFeatures:
    """Character features from a Chinese BERT, spread over phones by ``word2ph``."""

    def __init__(self, model: torch.nn.Module, tokenizer) -> None:
        self.model = model.eval()
        self.tokenizer = tokenizer

    @classmethod
    def load(cls, folder: Path | str, device: str | torch.device = "cpu") -> BertFeatures:
        """Load a chinese-roberta-wwm-ext-large-style folder (config, weights, tokenizer) with no network."""
        from transformers import BertModel, BertTokenizer

        folder = Path(folder)
        if not (folder / "config.json").is_file():
            raise ModelError(
                f"No BERT model in {folder} (config.json is missing).", "Run `timbre models download`."
            )
        try:
            with quiet_transformers():
                tokenizer = BertTokenizer.from_pretrained(folder, local_files_only=True)
                model, info = BertModel.from_pretrained(
                    folder, local_files_only=True, add_pooling_layer=False, output_loading_info=True
                )
        except (OSError, ValueError) as exc:
            raise ModelError(
                f"Could not load BERT from {folder}: {exc}", "Run `timbre models download`."
            ) from exc
        if info.get("missing_keys"):
            raise ModelError(
                f"The BERT weights in {folder} lack {len(info['missing_keys'])} tensors "
                f"(first: {sorted(info['missing_keys'])[0]}).",
                "The folder holds a different model; download chinese-roberta-wwm-ext-large again.",
            )
        unexpected = [k for k in info.get("unexpected_keys", []) if not k.startswith("cls.")]
        if unexpected:
            log.info("BERT: %d unused tensors in %s", len(unexpected), folder)
        return cls(model.to(device), tokenizer)

    @property
    def dim(self) -> int:
        """Feature width (1024 for the large model)."""
        return int(self.model.config.hidden_size)

    @property
    def device(self) -> torch.device:
        return next(self.model.parameters()).device

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
            out = self.model(
                input_ids=input_ids, attention_mask=torch.ones_like(input_ids), output_hidden_states=True
            )
            rows.append(out.hidden_states[-3][0, 1:-1].float())
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
