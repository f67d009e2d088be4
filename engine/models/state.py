"""State-dict checks shared by every weight loader: the key sets and shapes must match exactly."""

from __future__ import annotations

from collections.abc import Mapping

import torch


def mismatch(
    own: Mapping[str, torch.Tensor],
    given: Mapping[str, torch.Tensor],
    optional: str = "",
    counts: bool = False,
) -> str:
    """Describe how ``given`` differs from ``own`` (missing, unexpected, wrong shape); "" when it fits.

    Keys of ``own`` starting with ``optional`` (when set) may be absent from ``given``. Each kind lists
    its first three keys, or with ``counts`` its number and first key.
    """
    missing = sorted(k for k in own if k not in given and not (optional and k.startswith(optional)))
    unexpected = sorted(k for k in given if k not in own)
    wrong = sorted(k for k in own if k in given and tuple(own[k].shape) != tuple(given[k].shape))
    return "; ".join(
        f"{what}: {len(keys)} (first {keys[0]})"
        if counts
        else f"{what}: {', '.join(keys[:3])}{f' … ({len(keys)} in all)' if len(keys) > 3 else ''}"
        for what, keys in (("missing", missing), ("unexpected", unexpected), ("wrong shape", wrong))
        if keys
    )
