"""The Speak screen's side panel: speed, temperature, top_k, top_p, seed, pause, max tokens (defaults)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Input, Label

# (key, label, default text, kind); defaults are SynthParams' (the official WebUI/API ones)
FIELDS: tuple[tuple[str, str, str, str], ...] = (
    ("speed", "speed", "1.0", "float"),
    ("temperature", "temperature", "1.0", "float"),
    ("top_k", "top_k", "15", "int"),
    ("top_p", "top_p", "1.0", "float"),
    ("seed", "seed", "", "seed"),
    ("pause_s", "pause s", "0.3", "float"),
    ("max_steps", "max tokens", "", "optional_int"),  # per sentence; empty: the GPT's own cap (1500)
)


class SettingsError(ValueError):
    """A setting that is not a number (the message names it)."""


@dataclass(frozen=True)
class SpeakSettings:
    """What the panel holds, as numbers (seed None: a new random seed each time)."""

    speed: float = 1.0
    temperature: float = 1.0
    top_k: int = 15
    top_p: float = 1.0
    seed: int | None = None
    pause_s: float = 0.3
    max_steps: int | None = None

    def as_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for engine.synth.SynthParams."""
        return {
            "speed": self.speed,
            "temperature": self.temperature,
            "top_k": self.top_k,
            "top_p": self.top_p,
            "seed": self.seed,
            "pause_s": self.pause_s,
            "max_steps": self.max_steps,
        }


def parse_settings(values: dict[str, str]) -> SpeakSettings:
    """The panel's texts as SpeakSettings; SettingsError names the first one that is not a number."""
    out: dict[str, Any] = {}
    for key, label, default, kind in FIELDS:
        text = values.get(key, default).strip()
        try:
            if kind in ("seed", "optional_int"):
                out[key] = int(text) if text else None
            elif kind == "int":
                out[key] = int(text or default)
            else:
                out[key] = float(text or default)
        except ValueError:
            raise SettingsError(f"{label} must be a number (got {text!r})") from None
    return SpeakSettings(**out)


class SynthSettings(Vertical):
    """Labelled one-line inputs, one a row, fitting a 26-column side panel."""

    DEFAULT_CSS = """
    SynthSettings { width: 26; height: auto; padding: 0 1; }
    SynthSettings Horizontal { height: 1; }
    SynthSettings Label { width: 12; }
    SynthSettings Input { width: 1fr; height: 1; border: none; padding: 0; }
    SynthSettings Input:focus { text-style: reverse; }
    SynthSettings .title { text-style: bold; width: 1fr; }
    """

    def compose(self) -> ComposeResult:
        yield Label("Settings", classes="title")
        for key, label, default, _kind in FIELDS:
            with Horizontal():
                yield Label(label)
                yield Input(
                    default,
                    placeholder={"seed": "random", "max_steps": "1500"}.get(key, default),
                    id=f"set-{key}",
                )

    def values(self) -> dict[str, str]:
        """The texts typed, by key."""
        return {key: self.query_one(f"#set-{key}", Input).value for key, *_ in FIELDS}

    def settings(self) -> SpeakSettings:
        """Parsed settings (SettingsError when one is not a number)."""
        return parse_settings(self.values())
