"""Fixtures for the TUI tests: fake audio and a studio holding a session."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from tui_fakes import FakeAudio  # noqa: E402

from engine.session import Session  # noqa: E402
from engine.studio import Studio  # noqa: E402

PROMPTS_EN = [
    "The quick brown fox jumps over the lazy dog.",
    "Please read this sentence at a normal pace.",
    "A third sentence closes the short script.",
]


@pytest.fixture
def audio() -> FakeAudio:
    return FakeAudio()


def make_session(
    home: Path,
    prompts: list[str] | None = None,
    language: str = "en",
    room_tone: bool = True,
    session_id: str | None = None,
) -> Session:
    """A session on disk; with ``room_tone`` its room_tone.wav exists, so recording starts at once."""
    studio = Studio.locate(home).ensure()
    session = Session.create(
        studio,
        language,
        prompts or PROMPTS_EN,
        device="default",
        samplerate=16000,
        script_name="test",
        session_id=session_id,
    )
    if room_tone:
        import numpy as np
        import soundfile as sf

        sf.write(session.room_tone_path(), np.zeros(1600, dtype=np.float32), 16000)
    return session
