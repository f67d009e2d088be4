"""Text-to-semantic GPT of GPT-SoVITS v2 (the ``s1`` model).

Typical use (the synthesiser does this per text segment)::

    model = Text2Semantic(V2)                      # state-dict keys == official keys minus "model."
    model.load_official(ckpt["weight"])            # strict; fp16 files are upcast to the module dtype
    model.eval()
    tokens = model.infer(
        phone_ids,     # LongTensor [1, T]: reference-transcript phones + target-text phones
        bert,          # FloatTensor [1, 1024, T]: their BERT features, concatenated the same way
        prompt_tokens, # LongTensor [1, P]: the reference clip's semantic codes (None: reference-free)
        top_k=15, top_p=1.0, temperature=1.0, repetition_penalty=1.35, seed=0,
    )                  # LongTensor [1, N] on the model's device: new codes only, EOS stripped
    # SoVITS then decodes `tokens` with the *target* phones only and the reference spectrogram.

``infer_stream`` yields the tokens one at a time as they are sampled (those ``infer`` keeps, except
at the step cap); ``decode_steps`` exposes every raw sample with its stop reason; ``judge_tokens``
(``engine.models.t2s.judge``) tells a pass that loops, leaks or skips words; ``training_loss`` is the
fine-tune objective.
"""

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
