"""espeak-ng sessions and TINY pretrained files for the trainer tests."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
import soundfile as sf

RATE = 32000
EN_TAKES = [
    "The north wind and the sun were disputing which was the stronger, when a traveler came along.",
    "They agreed that the one who first made the traveler take his cloak off should be the stronger.",
    "Then the north wind blew as hard as he could, but the more he blew the closer the traveler held on.",
    "At last the north wind gave up the attempt, and then the sun shone out warmly.",
    "And at once the traveler took off his cloak, so the north wind had to confess the sun was stronger.",
]


def need(tool: str) -> None:
    """Fail under CI, skip elsewhere, when a system tool is missing."""
    if shutil.which(tool) is None:
        if os.environ.get("CI"):
            pytest.fail(f"{tool} is not installed (the CI script must install it)")
        pytest.skip(f"{tool} is not installed")


def speak(out: Path, text: str, voice: str = "en-us") -> Path:
    """espeak-ng speech with 0.3 s of silence each side, 32 kHz 16-bit mono."""
    need("espeak-ng")
    need("sox")
    raw = out.with_suffix(".raw.wav")
    subprocess.run(["espeak-ng", "-v", voice, "-s", "160", "-w", str(raw), text], check=True, timeout=30)
    subprocess.run(
        [
            "sox",
            str(raw),
            "-b",
            "16",
            "-c",
            "1",
            str(out),
            "pad",
            "0.3",
            "0.3",
            "gain",
            "-3",
            "rate",
            str(RATE),
        ],
        check=True,
        timeout=30,
    )
    raw.unlink()
    return out


def make_session(
    studio, sid: str, language: str, takes: list[tuple[str, Path | None, str]], consent: bool = True
):
    """A session of (transcript, wav or None for pending, status) takes, with its consent statement read."""
    from engine.session import Session

    session = Session.create(
        studio,
        language,
        [t[0] or "x" for t in takes],
        device=None,
        samplerate=RATE,
        script_name="t",
        session_id=sid,
    )
    for index, (text, wav, status) in enumerate(takes):
        session.takes[index].text = text
        if wav is not None:
            shutil.copy(wav, session.take_path(index))
            session.takes[index].seconds = sf.info(str(wav)).duration
        session.takes[index].status = status
    session.save()
    _consent_on_record(session)
    return session


def _consent_on_record(session) -> None:
    """Training needs the speaker's consent statement on record (issue 14): espeak-ng reads it."""
    from engine.consent import import_file, pending_text

    voice = "cmn" if session.language == "zh" else "en-us"
    import_file(session, speak(session.dir / "consent-source.wav", pending_text(session), voice))


def english_studio(root: Path, clips: Path):
    """A studio with one accepted English session "s1" of five espeak-ng takes (about 25 s)."""
    from engine.studio import Studio

    clips.mkdir(parents=True, exist_ok=True)
    studio = Studio(root).ensure()
    takes = [(t, speak(clips / f"en{i}.wav", t), "accepted") for i, t in enumerate(EN_TAKES)]
    make_session(studio, "s1", "en", takes)
    return studio
