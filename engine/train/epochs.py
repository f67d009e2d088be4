"""Each epoch's weights, kept so a person can pick an epoch by ear (``timbre voices use-epoch``).

The trainer writes ``voices/<name>/train/epochs/<phase>-epoch-N.safetensors`` (fp16) and a sample
``train/samples/<phase>-epoch-N.wav`` after every epoch. :func:`use_epoch` makes one of them the voice's
weights (``voices/<name>/<phase>.safetensors``) and records the choice in ``voice.json``.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from engine.errors import StudioError
from engine.fsutil import atomic_path

PHASES = ("sovits", "gpt")


@dataclass(frozen=True)
class EpochWeights:
    """One kept epoch: its weights file and its sample (None when there is none)."""

    phase: str
    epoch: int
    path: Path
    sample: Path | None


def _check_phase(phase: str) -> None:
    if phase not in PHASES:
        raise StudioError(f"Unknown phase {phase!r}.", "Use sovits or gpt.")


def list_epochs(voice_dir: Path | str, phase: str) -> list[EpochWeights]:
    """The epochs of ``phase`` whose weights are kept, oldest first."""
    _check_phase(phase)
    train = Path(voice_dir) / "train"
    out = []
    for path in (train / "epochs").glob(f"{phase}-epoch-*.safetensors"):
        try:
            n = int(path.name.removesuffix(".safetensors").rsplit("-", 1)[1])
        except ValueError:
            continue
        sample = train / "samples" / f"{phase}-epoch-{n}.wav"
        out.append(EpochWeights(phase, n, path, sample if sample.is_file() else None))
    return sorted(out, key=lambda e: e.epoch)


def use_epoch(voice_dir: Path | str, phase: str, epoch: int) -> Path:
    """Make epoch ``epoch`` of ``phase`` the voice's weights; returns the voice's weights file."""
    from engine.fsutil import read_json
    from engine.voice import VOICE_FILE, Voice

    folder = Path(voice_dir)
    kept = {e.epoch: e for e in list_epochs(folder, phase)}
    if epoch not in kept:
        listing = ", ".join(str(n) for n in sorted(kept)) or "none"
        raise StudioError(
            f"Epoch {epoch} of the {phase} phase is not kept for the voice {folder.name!r} "
            f"(kept: {listing}).",
            "Pick a kept epoch; train with --keep-epochs 0 to keep them all.",
        )
    if not (folder / VOICE_FILE).is_file():
        raise StudioError(
            f"The voice {folder.name!r} has no voice.json yet (its training has not finished).",
            "Let the training finish (or resume it with --resume), then choose an epoch.",
        )
    target = folder / f"{phase}.safetensors"
    with atomic_path(target) as tmp:
        shutil.copyfile(kept[epoch].path, tmp)
    voice = Voice.from_json(read_json(folder / VOICE_FILE), folder)
    if phase == "gpt":
        voice.gpt_path = target
    else:
        voice.sovits_path = target
    chosen = dict(voice.extra.get("epochs") or {})
    chosen[phase] = epoch
    voice.extra["epochs"] = chosen
    voice.save(folder)
    return target
