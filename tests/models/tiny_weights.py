"""Builders for tiny pretrained files in the official layouts: a re-export of :mod:`engine.weights.tiny`.

Kept so the tests that ``import tiny_weights`` go on working; new code uses ``engine.weights.tiny``.
"""

from __future__ import annotations

from engine.weights.tiny import (  # noqa: F401
    PUNCT,
    ZH_CHARS,
    fake_utils_module,
    make_tiny,
    official_discriminator_bytes,
    official_gpt_bytes,
    official_sovits_bytes,
    s1_config,
    s2_config,
    write_tiny_bert,
    write_tiny_hubert,
)
