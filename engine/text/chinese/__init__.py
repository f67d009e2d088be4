"""Mandarin text frontend for GPT-SoVITS v2: normalisation, G2P with tone sandhi, v2 phone symbols.

Polyphones are read with pypinyin's phrase dictionary instead of the reference's G2PW ONNX model
(which cannot be downloaded here); see engine.text.chinese.g2p for the details.
"""

from __future__ import annotations

from engine.text.chinese.g2p import g2p_zh
from engine.text.chinese.normalize import normalize_zh

__all__ = ["g2p_zh", "normalize_zh", "zh_phonemes"]


def zh_phonemes(text: str) -> tuple[str, list[str], list[int]]:
    """Normalised text, its phones and word2ph, in one call."""
    normalized = normalize_zh(text)
    phones, word2ph = g2p_zh(normalized)
    return normalized, phones, word2ph
