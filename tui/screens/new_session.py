"""The new-session dialog: the script (built-in language or a prompt file) and the microphone."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, OptionList, Static
from textual.widgets.option_list import Option

from tui.screens.base import explain

LANGUAGE_NAMES: dict[str, str] = {"zh": "Mandarin Chinese (中文)", "en": "English"}


@dataclass(frozen=True)
class NewSessionChoice:
    """What the person picked: a language, its prompts, where they came from, and the input device."""

    language: str
    prompts: list[str]
    script_name: str
    device: Any  # engine.audio.devices.InputDevice


def default_language() -> str:
    """'zh' when the locale is Chinese, else 'en'."""
    locale = os.environ.get("LC_ALL") or os.environ.get("LANG") or ""
    return "zh" if locale.lower().startswith("zh") else "en"


def load_prompts(language: str, prompt_file: str) -> tuple[list[str], str]:
    """The prompts and script name for a built-in language or a prompt file (raises TimbreError)."""
    from engine.prompts import builtin_script, load_prompt_file

    if prompt_file.strip():
        path = Path(prompt_file.strip()).expanduser()
        return load_prompt_file(path), path.name
    return builtin_script(language), f"builtin-{language}"


def marked(label: str, chosen: bool = False) -> Text:
    """An option's text with a ▶ before the chosen one (the highlight colour alone is not enough)."""
    return Text(f"▶ {label}" if chosen else f"  {label}")


class NewSessionDialog(ModalScreen[NewSessionChoice | None]):
    """Pick the language (or a prompt file) and the microphone; enter starts, esc cancels."""

    DEFAULT_CSS = """
    NewSessionDialog { align: center middle; }
    NewSessionDialog > Vertical {
        width: 76; max-width: 100%; height: auto; max-height: 100%;
        border: round $primary; padding: 0 1; background: $surface;
    }
    NewSessionDialog OptionList { height: auto; max-height: 6; }
    NewSessionDialog #languages { max-height: 4; }
    NewSessionDialog Label { margin-top: 1; text-style: bold; }
    NewSessionDialog #error { color: $error; text-style: bold; height: auto; }
    NewSessionDialog #keys { color: $text-muted; }
    """

    BINDINGS: ClassVar[list[Binding]] = [
        Binding("enter", "start", "Start", priority=True, id="new-session.start"),
        Binding("escape", "cancel", "Cancel", id="new-session.cancel"),
        Binding("f5", "rescan", "Find microphones", id="new-session.rescan"),
    ]

    def __init__(self, devices: list[Any], language: str | None = None) -> None:
        super().__init__()
        self.devices = devices
        self.initial_language = language or default_language()
        self._labels: dict[str, list[str]] = {}

    def compose(self) -> ComposeResult:
        languages = list(LANGUAGE_NAMES)
        try:
            from engine.prompts import SCRIPTS

            languages = list(SCRIPTS) or languages
        except ImportError:
            pass
        choices = {
            "languages": [(code, LANGUAGE_NAMES.get(code, code)) for code in languages],
            "devices": [(str(device.index), device.label()) for device in self.devices],
        }
        self._labels = {name: [label for _, label in pairs] for name, pairs in choices.items()}
        with Vertical():
            yield Static(Text("New recording session", style="bold"))
            yield Label("Language of the built-in script")
            yield OptionList(*[Option(marked(t), id=i) for i, t in choices["languages"]], id="languages")
            yield Label("Or your own prompt file (one sentence a line; blank = built-in script)")
            yield Input(placeholder="path/to/prompts.txt", id="prompt-file")
            yield Label("Microphone")
            yield OptionList(*[Option(marked(t), id=i) for i, t in choices["devices"]], id="devices")
            yield Static("", id="error")
            keys = "tab: next field · ↑↓: choose · enter: start · f5: find mics · esc: cancel"
            yield Static(keys, id="keys")

    def on_mount(self) -> None:
        languages = self.query_one("#languages", OptionList)
        try:
            languages.highlighted = languages.get_option_index(self.initial_language)
        except Exception:  # the language is not offered: keep the first
            languages.highlighted = 0
        devices = self.query_one("#devices", OptionList)
        default = next((i for i, d in enumerate(self.devices) if d.is_default), 0)
        if self.devices:
            devices.highlighted = default
        languages.focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()

    def on_option_list_option_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        """Mark the chosen entry with ▶ so that the choice reads without colour."""
        event.stop()
        options = event.option_list
        labels = self._labels.get(options.id or "", [])
        for index, label in enumerate(labels):
            options.replace_option_prompt_at_index(index, marked(label, index == event.option_index))

    async def action_rescan(self) -> None:
        """f5: look for microphones again (one plugged in or forwarded since the dialog opened)."""
        import asyncio

        from engine.errors import TimbreError

        services = self.app.services
        error = self.query_one("#error", Static)
        try:
            await asyncio.to_thread(services.rescan_devices)
            devices = await asyncio.to_thread(services.list_devices)
        except TimbreError as exc:
            error.update(explain(exc))
            return
        self.devices = list(devices)
        self._labels["devices"] = [device.label() for device in self.devices]
        options = self.query_one("#devices", OptionList)
        options.clear_options()
        options.add_options([Option(marked(d.label()), id=str(d.index)) for d in self.devices])
        if self.devices:
            options.highlighted = next((i for i, d in enumerate(self.devices) if d.is_default), 0)
        error.update("" if self.devices else "Still no microphone: plug one in, then press f5.")
        self.notify(f"{len(self.devices)} input device(s) found.", timeout=3)

    def selected_language(self) -> str:
        languages = self.query_one("#languages", OptionList)
        index = languages.highlighted or 0
        return str(languages.get_option_at_index(index).id)

    def selected_device(self) -> Any:
        devices = self.query_one("#devices", OptionList)
        if not self.devices:
            return None
        return self.devices[devices.highlighted or 0]

    def action_start(self) -> None:
        from engine.errors import TimbreError

        error = self.query_one("#error", Static)
        device = self.selected_device()
        if device is None:
            error.update("No microphone was found: plug one in (or forward audio over SSH) and try again.")
            return
        language = self.selected_language()
        prompt_file = self.query_one("#prompt-file", Input).value
        try:
            prompts, script_name = load_prompts(language, prompt_file)
        except TimbreError as exc:
            error.update(explain(exc))
            return
        except OSError as exc:
            error.update(f"Cannot read the prompt file: {exc}")
            return
        if not prompts:
            error.update("The script has no sentences.")
            return
        self.dismiss(NewSessionChoice(language, prompts, script_name, device))

    def action_cancel(self) -> None:
        self.dismiss(None)
