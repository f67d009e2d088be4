"""Mandarin text frontend for GPT-SoVITS v2: normalisation, G2P with tone sandhi, v2 phone symbols.

Polyphones are read with pypinyin's phrase dictionary instead of the reference's G2PW ONNX model
(which cannot be downloaded here); see engine.text.chinese.g2p for the details.
"""

from __future__ import annotations

from engine.text.chinese.g2p import g2p_zh
from engine.text.chinese.normalize import normalize_zh
from engine.text.chinese.punctuation import pause_symbol

__all__ = ["g2p_zh", "normalize_zh", "zh_chunks", "zh_phonemes"]

ZH_CHUNK_CHARS = 200
_CUT_AFTER = frozenset("。！？；，、.!?;, \n…")


def _inside_number(text: str, i: int) -> bool:
    return text[i] in ".," and 0 < i < len(text) - 1 and text[i - 1].isdigit() and text[i + 1].isdigit()


def zh_chunks(text: str, limit: int = ZH_CHUNK_CHARS) -> list[str]:
    """``text`` cut after punctuation or spaces (blindly where there are none) into pieces <= ``limit``."""
    chunks: list[str] = []
    start = 0
    while len(text) - start > limit:
        end = start + limit
        marks = (i + 1 for i in range(end - 1, start, -1) if text[i] in _CUT_AFTER)
        cut = next((i for i in marks if not _inside_number(text, i - 1)), end)
        chunks.append(text[start:cut])
        start = cut
    chunks.append(text[start:])
    return [c for c in chunks if c]


def zh_phonemes(text: str) -> tuple[str, list[str], list[int]]:
    """Normalised text, its phones and word2ph, in one call.

    Long texts go through in pieces of at most ZH_CHUNK_CHARS characters (cut at punctuation), so the
    cost stays linear in the length. A pause sign (``punctuation.PAUSE_SIGNS``) anywhere in ``text``
    turns every comma phone into its pause symbol, as the reference does.
    """
    pause = pause_symbol(text)
    normalized_parts: list[str] = []
    phones: list[str] = []
    word2ph: list[int] = []
    for chunk in zh_chunks(text):
        chunk_normalized = normalize_zh(chunk)
        chunk_phones, chunk_word2ph = g2p_zh(chunk_normalized)
        normalized_parts.append(chunk_normalized)
        phones += chunk_phones
        word2ph += chunk_word2ph
    if pause is not None:
        phones = [pause if p == "," else p for p in phones]
    return "".join(normalized_parts), phones, word2ph
