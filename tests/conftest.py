"""Shared test setup: never touch the network, never read the developer's own studio."""

from __future__ import annotations

import os

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ["HF_HUB_DISABLE_PROGRESS_BARS"] = "1"
os.environ.pop("TIMBRE_PRETRAINED", None)

import pytest  # noqa: E402


@pytest.fixture
def studio_home(tmp_path, monkeypatch):
    """An empty studio folder, also set as $TIMBRE_HOME."""
    home = tmp_path / "studio"
    home.mkdir()
    monkeypatch.setenv("TIMBRE_HOME", str(home))
    return home
