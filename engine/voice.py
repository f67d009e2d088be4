"""A voice: what synthesis speaks with.

Either zero-shot (the pretrained models + a reference clip and its transcript) or fine-tuned (weights in
``voices/<name>/`` described by ``voice.json``). ``voice.json`` looks like::

    {"name": "ana", "version": "v2", "language": "en",
     "reference": {"wav": "reference.wav", "text": "The transcript of the clip."},
     "weights": {"gpt": "gpt.safetensors", "sovits": "sovits.safetensors"}}

Paths are relative to the voice folder. ``weights`` may be missing or partial: a missing entry means
"use the pretrained model", so a voice made only of a chosen reference clip is valid.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engine.errors import StudioError
from engine.fsutil import atomic_write_json, read_json
from engine.studio import Studio

VOICE_FILE = "voice.json"
LANGUAGES = ("zh", "en", "auto")


class UnknownVoice(StudioError):
    """No voice of that name in the studio."""


@dataclass
class Voice:
    """Everything synthesis needs to know about a voice."""

    name: str
    reference_wav: Path
    reference_text: str
    language: str = "auto"
    gpt_path: Path | None = None  # None: the pretrained GPT
    sovits_path: Path | None = None  # None: the pretrained SoVITS
    folder: Path | None = None
    version: str = "v2"
    extra: dict[str, Any] = field(default_factory=dict)  # other voice.json entries, kept on save

    @property
    def fine_tuned(self) -> bool:
        """True when the voice has its own GPT or SoVITS weights."""
        return self.gpt_path is not None or self.sovits_path is not None

    @classmethod
    def zero_shot(cls, reference_wav: Path | str, reference_text: str, language: str = "auto") -> Voice:
        """A voice from the pretrained models and a 3–10 s reference clip with its exact transcript."""
        _check_language(language)
        return cls("zero-shot", Path(reference_wav), reference_text, language)

    @classmethod
    def load(cls, name: str, home: Path | str | None = None) -> Voice:
        """The voice called ``name`` in the studio (``home``, $TIMBRE_HOME or the current folder)."""
        studio = Studio.locate(home)
        folder = studio.voice_dir(name)
        path = folder / VOICE_FILE
        if not path.is_file():
            known = studio.voice_names()
            listing = ", ".join(known) if known else "none yet"
            raise UnknownVoice(
                f"There is no voice called {name!r} in {studio.voices} (voices: {listing}).",
                'Check the name, or speak zero-shot with --ref WAV --ref-text "…".',
            )
        return cls.from_json(read_json(path), folder)

    @classmethod
    def from_json(cls, data: dict[str, Any], folder: Path) -> Voice:
        """Build a voice from a parsed ``voice.json`` in ``folder``."""
        try:
            ref = data["reference"]
            wav, text = ref["wav"], ref["text"]
        except (KeyError, TypeError) as exc:
            raise StudioError(
                f"{folder / VOICE_FILE} has no reference clip and transcript.",
                'Add "reference": {"wav": "reference.wav", "text": "…"} to it.',
            ) from exc
        weights = data.get("weights") or {}
        language = str(data.get("language", "auto"))
        _check_language(language)
        known = {"name", "version", "language", "reference", "weights"}
        return cls(
            name=str(data.get("name", folder.name)),
            reference_wav=folder / wav,
            reference_text=str(text),
            language=language,
            gpt_path=folder / weights["gpt"] if weights.get("gpt") else None,
            sovits_path=folder / weights["sovits"] if weights.get("sovits") else None,
            folder=folder,
            version=str(data.get("version", "v2")),
            extra={k: v for k, v in data.items() if k not in known},
        )

    def to_json(self) -> dict[str, Any]:
        """The ``voice.json`` content (paths relative to the voice folder when inside it)."""

        def rel(p: Path | None) -> str | None:
            if p is None:
                return None
            if self.folder is not None and p.parent == self.folder:
                return p.name
            return str(p)

        weights = {k: v for k, v in (("gpt", rel(self.gpt_path)), ("sovits", rel(self.sovits_path))) if v}
        out: dict[str, Any] = {
            "name": self.name,
            "version": self.version,
            "language": self.language,
            "reference": {"wav": rel(self.reference_wav), "text": self.reference_text},
        }
        if weights:
            out["weights"] = weights
        out.update(self.extra)
        return out

    def save(self, folder: Path | str | None = None) -> Path:
        """Write ``voice.json`` atomically into ``folder`` (default: the voice's own folder)."""
        target = Path(folder) if folder is not None else self.folder
        if target is None:
            raise StudioError(
                "This voice has no folder to save into.", "Pass a folder, e.g. studio.voice_dir(name)."
            )
        self.folder = target
        path = target / VOICE_FILE
        atomic_write_json(path, self.to_json())
        return path


def _check_language(language: str) -> None:
    if language not in LANGUAGES:
        raise StudioError(f"Unknown language {language!r}.", f"Use one of: {', '.join(LANGUAGES)}.")
