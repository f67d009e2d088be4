"""How to start a trainer subprocess: the command line of ``python -m engine.train``.

Shared by every client that launches one (the TUI's monitor, ``timbre train``), so they agree on it.

``TIMBRE_TRAIN_EXTRA_ARGS`` is a developer and testing knob: trainer options (shell-quoted, e.g.
``"--max-steps 2 --no-samples"``) appended to every trainer command line, so a test or a quick try can
drive the app's Train screens with a run of a few steps. People training a voice never need it.
"""

from __future__ import annotations

import os
import shlex
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engine.errors import StudioError

EXTRA_ARGS_ENV = "TIMBRE_TRAIN_EXTRA_ARGS"


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


def env_extra_args(environ: Mapping[str, str] | None = None) -> list[str]:
    """The trainer options in ``$TIMBRE_TRAIN_EXTRA_ARGS`` (a developer/testing knob; empty when unset)."""
    raw = (os.environ if environ is None else environ).get(EXTRA_ARGS_ENV, "")
    try:
        return shlex.split(raw)
    except ValueError as exc:
        raise StudioError(
            f"{EXTRA_ARGS_ENV} cannot be read as trainer options ({exc}): {raw!r}",
            f"Quote it like a shell command line, or unset {EXTRA_ARGS_ENV}.",
        ) from exc


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
    return cmd + list(options.extra) + env_extra_args()


def _whole(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


# the trainer options that change what a run computes, as (flag, key in the start event's config)
_RESUMED_NUMBERS = (
    ("--max-steps", "max_steps"),
    ("--keep-epochs", "keep_epochs"),
    ("--sample-max-steps", "sample_max_steps"),
    ("--checkpoint-every", "checkpoint_every"),
    ("--micro-batches", "micro_batches"),
    ("--threads", "threads"),
)


def resume_options(voice: str, config: dict) -> TrainOptions:
    """Options that resume the run of ``voice`` whose ``start`` event carried ``config``.

    Everything the run was started with is passed again (epochs, batch, seed, step caps, samples), so
    the resumed run continues the same recipe instead of falling back to the defaults.
    """
    sessions = config.get("sessions") or []
    extra: list[str] = []
    for flag, key in _RESUMED_NUMBERS:
        value = _whole(config.get(key))
        if value is not None:
            extra += [flag, str(value)]
    if config.get("samples") is False:
        extra.append("--no-samples")
    if config.get("precision") in ("auto", "fp32", "bf16", "fp16"):
        extra += ["--precision", str(config["precision"])]
    return TrainOptions(
        voice=voice,
        sessions=[str(s) for s in sessions] if isinstance(sessions, list) else [],
        sovits_epochs=_whole(config.get("sovits_epochs")),
        gpt_epochs=_whole(config.get("gpt_epochs")),
        batch_size=_whole(config.get("batch_size")),
        device=config.get("device") if isinstance(config.get("device"), str) else None,
        seed=_whole(config.get("seed")),
        resume=True,
        extra=extra,
    )
