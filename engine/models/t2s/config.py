"""Hyperparameters of the text-to-semantic GPT (GPT-SoVITS v2 ``s1longer-v2.yaml``)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class T2SConfig:
    """Sizes of the text-to-semantic decoder; one code path serves every instance."""

    n_layer: int = 24
    hidden_dim: int = 512
    n_head: int = 16
    phoneme_vocab_size: int = 732
    vocab_size: int = 1025  # 1024 semantic codes + EOS
    bert_dim: int = 1024
    eos: int = 1024
    ffn_mult: int = 4  # FFN width = hidden_dim * 4 (the yaml's linear_units is not used)
    layer_dropout: float = 0.1  # inside attention, after attention, inside and after the FFN
    position_dropout: float = 0.1
    embedding_dropout: float = 0.0  # the yaml's ``dropout``
    layer_norm_eps: float = 1e-5
    pe_rows: int = 4000  # rows of the sine table built up front (extended on demand)
    max_steps: int = 1500  # decode cap of the reference
    eos_ban_steps: int = 11  # EOS cannot be sampled while step < this

    def __post_init__(self) -> None:
        if self.hidden_dim % self.n_head:
            raise ValueError("hidden_dim must be a multiple of n_head")
        if self.eos != self.vocab_size - 1:
            raise ValueError("EOS must be the last audio token (vocab_size - 1)")

    @property
    def head_dim(self) -> int:
        """Width of one attention head."""
        return self.hidden_dim // self.n_head

    @property
    def ffn_dim(self) -> int:
        """Width of the feed-forward layer."""
        return self.hidden_dim * self.ffn_mult

    def to_yaml_model(self) -> dict[str, int | float]:
        """The ``config['model']`` dict the official s1 files carry for this size."""
        return {
            "vocab_size": self.vocab_size,
            "phoneme_vocab_size": self.phoneme_vocab_size,
            "embedding_dim": self.hidden_dim,
            "hidden_dim": self.hidden_dim,
            "head": self.n_head,
            "linear_units": self.ffn_dim,
            "n_layer": self.n_layer,
            "dropout": self.embedding_dropout,
            "EOS": self.eos,
            "random_bert": 0,
        }

    @classmethod
    def from_yaml_model(cls, model: dict) -> T2SConfig:
        """Build a config from an s1 checkpoint's ``config['model']`` dict."""
        if int(model.get("embedding_dim", model["hidden_dim"])) != int(model["hidden_dim"]):
            raise ValueError("embedding_dim must equal hidden_dim")
        return cls(
            n_layer=int(model["n_layer"]),
            hidden_dim=int(model["hidden_dim"]),
            n_head=int(model["head"]),
            phoneme_vocab_size=int(model["phoneme_vocab_size"]),
            vocab_size=int(model["vocab_size"]),
            eos=int(model["EOS"]),
            embedding_dropout=float(model.get("dropout", 0.0)),
        )


V2 = T2SConfig()
"""The official v2 GPT: 24 post-LN layers, width 512, 16 heads, 77,606,402 parameters."""

TINY = T2SConfig(n_layer=2, hidden_dim=64, n_head=4)
"""Same architecture and vocabularies, 2 layers of width 64: for tests."""
