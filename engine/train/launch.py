"""How to start a trainer subprocess: the command line of ``python -m engine.train``.

Shared by every client that launches one (the TUI's monitor, ``timbre train``), so they agree on it.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class TrainOptions:
    """What a person chose before starting (None: the trainer's own default)."""

    voice: str
    sessions: list[str] = field(default_factory=list)
    sovits_epochs: int | None = None
    gpt_epochs: int | None = None
    batch_size: int | None = None
    device: str | None = None
    seed: int | None = None
    resume: bool = False
    extra: list[str] = field(default_factory=list)


DEFAULT_SOVITS_EPOCHS = 8  # spec §6.2 (official WebUI defaults)
DEFAULT_GPT_EPOCHS = 15  # spec §6.3


def trainer_command(home: Path | str, options: TrainOptions, python: str | None = None) -> list[str]:
    """The argv that runs the trainer for ``options`` in the studio ``home``."""
    cmd = [python or sys.executable, "-m", "engine.train", "--home", str(home), "--voice", options.voice]
    for session in options.sessions:
        cmd += ["--session", session]
    for flag, value in (
        ("--sovits-epochs", options.sovits_epochs),
        ("--gpt-epochs", options.gpt_epochs),
        ("--batch-size", options.batch_size),
        ("--device", options.device),
        ("--seed", options.seed),
    ):
        if value is not None:
            cmd += [flag, str(value)]
    if options.resume:
        cmd.append("--resume")
    return cmd + list(options.extra)


def resume_options(voice: str, config: dict) -> TrainOptions:
    """Options that resume the run of ``voice`` whose ``start`` event carried ``config``."""
    sessions = config.get("sessions") or []
    return TrainOptions(
        voice=voice,
        sessions=[str(s) for s in sessions] if isinstance(sessions, list) else [],
        device=config.get("device") if isinstance(config.get("device"), str) else None,
        resume=True,
    )
