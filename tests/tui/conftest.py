"""Fixtures for the TUI tests: fake audio and a studio holding a session."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from tui_fakes import FakeAudio  # noqa: E402


@pytest.fixture
def audio() -> FakeAudio:
    return FakeAudio()
