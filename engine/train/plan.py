"""What a training run will do, told before it starts: usable speech, takes left out, reference, time.

Cheap by design (session files only, no features): the Train start screen calls it every time the
person changes the sessions, and the trainer's own prepare phase later applies the full filters.
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from engine.errors import TimbreError
from engine.studio import Studio
from engine.train.runs import find_runs

REF_MIN_S, REF_MAX_S = 3.0, 10.0
MIN_SPEECH_S = 20.0  # the trainer refuses below this
GOOD_SPEECH_S = 60.0  # and warns below this


@dataclass
class Device:
    """A device training can run on."""

    name: str  # what --device takes: "cpu", "cuda:0"
    label: str  # what the person reads
    free_mb: float | None = None


@dataclass
class TrainPlan:
    """The preview of a run."""

    sessions: list[str]
    takes: int = 0
    speech_s: float = 0.0
    left_out: list[tuple[str, str]] = field(default_factory=list)  # ("session/take", reason)
    reference: str | None = None  # "session/take (6.2 s): transcript"
    estimate: str | None = None  # "about 4 min (from the run of 'ana')"
    problems: list[str] = field(default_factory=list)  # what stops a start
    warnings: list[str] = field(default_factory=list)

    @property
    def ready(self) -> bool:
        return not self.problems


def plan(studio: Studio, session_ids: list[str]) -> TrainPlan:
    """The preview for training on ``session_ids`` (reads session.json files only)."""
    from engine.session import Session

    out = TrainPlan(list(session_ids))
    if not session_ids:
        out.problems.append("Choose at least one recording session.")
        return out
    best: tuple[float, str] | None = None
    for sid in session_ids:
        try:
            session = Session.load(studio, sid)
        except TimbreError as exc:
            out.problems.append(f"{sid}: {exc.message}")
            continue
        included, excluded = session.training_takes()
        for take, why in excluded:
            if take.status != "pending":
                out.left_out.append((f"{sid}/{take.id}", why))
        for take in included:
            seconds = take.speech_or_length
            out.takes += 1
            out.speech_s += seconds
            if REF_MIN_S <= seconds <= REF_MAX_S:
                verdict = (take.quality or {}).get("verdict") if isinstance(take.quality, dict) else None
                score = {"ok": 0.0, "warn": -100.0, "fail": -1000.0}.get(str(verdict), -50.0) - abs(
                    seconds - 6
                )
                if best is None or score > best[0]:
                    best = (score, f"{sid}/{take.id} ({seconds:.1f} s): {take.text}")
    out.reference = best[1] if best else None
    if out.takes == 0:
        out.problems.append(
            "No accepted takes with a transcript: accept takes on Review (a), then come back."
        )
    elif out.speech_s < MIN_SPEECH_S:
        out.problems.append(
            f"Only {out.speech_s:.0f} s of usable speech; training needs at least {MIN_SPEECH_S:.0f} s. "
            "Record or accept more takes."
        )
    elif out.speech_s < GOOD_SPEECH_S:
        out.warnings.append(f"{out.speech_s:.0f} s of speech: a minute or more gives a closer voice.")
    if out.takes and out.reference is None:
        out.problems.append("No accepted take lasts 3–10 s, which the reference clip needs. Record one.")
    out.estimate = estimate(studio, out.speech_s)
    return out


def estimate(studio: Studio, speech_s: float) -> str | None:
    """A time estimate from the last finished run in this studio, scaled by speech length."""
    from engine.session import Session

    for run in find_runs(studio.voices):
        state = run.state
        if state.status != "done" or not state.seconds:
            continue
        sessions = state.config.get("sessions") if isinstance(state.config, dict) else None
        prev_speech = 0.0
        for sid in sessions if isinstance(sessions, list) else []:
            try:
                included, _ = Session.load(studio, str(sid)).training_takes()
            except (TimbreError, OSError, ValueError):
                continue
            prev_speech += sum(t.speech_or_length for t in included)
        scale = speech_s / prev_speech if prev_speech > 0 else 1.0
        minutes = state.seconds * scale / 60
        when = f"about {minutes:.0f} min" if minutes >= 1.5 else f"about {state.seconds * scale:.0f} s"
        return f"{when} on {state.device or 'the same device'} (from the run of {run.voice!r})"
    return None


def devices(nvidia_smi: str | None = None) -> list[Device]:
    """GPUs with their free memory (from nvidia-smi, no torch import), then the CPU."""
    found: list[Device] = []
    exe = nvidia_smi or shutil.which("nvidia-smi")
    if exe:
        try:
            out = subprocess.run(
                [exe, "--query-gpu=index,name,memory.free", "--format=csv,noheader,nounits"],
                capture_output=True, text=True, timeout=10, check=True,
            ).stdout  # fmt: skip
        except (OSError, subprocess.SubprocessError):
            out = ""
        for line in out.splitlines():
            parts = [p.strip() for p in line.split(",")]
            if len(parts) < 3 or not parts[0].isdigit():
                continue
            try:
                free = float(parts[2])
            except ValueError:
                free = None
            label = f"GPU {parts[0]}: {parts[1]}" + (
                f", {free / 1024:.1f} GB free" if free is not None else ""
            )
            found.append(Device(f"cuda:{parts[0]}", label, free))
    found.append(
        Device(
            "cpu", "CPU (no GPU found: training takes hours)" if not found else "CPU (much slower than a GPU)"
        )
    )
    return found


def voice_taken(studio: Studio, name: str) -> Path | None:
    """The folder of an existing voice called ``name``, or None when the name is free."""
    folder = studio.voice_dir(name)
    return folder if (folder / "voice.json").is_file() or (folder / "train").is_dir() else None
