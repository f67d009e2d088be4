"""Text-to-semantic GPT of GPT-SoVITS v2 (the ``s1`` model)."""

from engine.models.t2s.config import TINY, V2, T2SConfig
from engine.models.t2s.model import DecodeStep, T2SLoss, Text2Semantic, prefix_mask
from engine.models.t2s.sampling import SamplingParams

__all__ = [
    "TINY",
    "V2",
    "DecodeStep",
    "SamplingParams",
    "T2SConfig",
    "T2SLoss",
    "Text2Semantic",
    "prefix_mask",
]
