"""English text frontend: normalisation and ARPAbet G2P without any download."""

from engine.text.english.g2p import en_phonemes, g2p_en
from engine.text.english.normalize import normalize_en

__all__ = ["en_phonemes", "g2p_en", "normalize_en"]
