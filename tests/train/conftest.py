"""tests/train helpers are importable as plain modules (synthetic, studio_helpers)."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import pytest  # noqa: E402
import torch  # noqa: E402


@pytest.fixture(autouse=True)
def one_thread():
    """One torch thread: on a shared 2-core machine more threads only fight each other."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def world(tmp_path_factory):
    """A studio with an English espeak-ng session "s1", TINY pretrained files, and the env to run in."""
    import os

    from studio_helpers import english_studio

    from engine.weights.tiny import make_tiny

    base = tmp_path_factory.mktemp("train-world")
    studio = english_studio(base / "studio", base / "clips")
    pre = make_tiny(base / "pretrained")
    env = dict(
        os.environ, TIMBRE_PRETRAINED=str(pre), HF_HUB_OFFLINE="1", TIMBRE_THREADS="1", PYTHONPATH=str(ROOT)
    )
    env.pop("TIMBRE_HOME", None)
    return studio, env, base
