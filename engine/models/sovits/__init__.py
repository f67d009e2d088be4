"""SoVITS v2 (GPT-SoVITS s2): the semantic-token-to-waveform VITS model and its discriminator."""

from engine.models.sovits.config import TINY, V2, V2_PRO, V2_PRO_PLUS, SoVITSConfig
from engine.models.sovits.discriminator import MultiPeriodDiscriminator
from engine.models.sovits.synthesizer import SoVITSTrainOutput, SynthesizerTrn

__all__ = [
    "TINY",
    "V2",
    "V2_PRO",
    "V2_PRO_PLUS",
    "MultiPeriodDiscriminator",
    "SoVITSConfig",
    "SoVITSTrainOutput",
    "SynthesizerTrn",
]
