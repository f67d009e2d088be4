"""The help dialog (? or F1): what the screen is for and every key it answers to."""

from __future__ import annotations

from typing import ClassVar

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from tui.screens.base import TimbreScreen, key_label

GENERAL_KEYS: tuple[tuple[str, str], ...] = (
    ("ctrl+p", "command palette: every action by name"),
    ("ctrl+q", "quit (asks first while recording; twice quits at once)"),
    ("tab", "move between fields and lists"),
)


def help_paragraphs(text: str) -> list[str]:
    """Blank-line separated paragraphs of ``text``, each joined onto one line (the widget wraps them)."""
    return [" ".join(block.split()) for block in text.strip().split("\n\n") if block.strip()]


class HelpScreen(ModalScreen[None]):
    """Lists the keys of the screen that opened it; esc, q, ? or F1 closes it."""

    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen .help-text { margin-top: 1; }
    HelpScreen > VerticalScroll {
        width: 76; max-width: 100%; height: auto; max-height: 22;
        border: round $primary; padding: 0 1; background: $surface;
    }
    """

    BINDINGS: ClassVar[list[Binding]] = [
        Binding("escape,q,question_mark,f1", "close", "Close", id="help.close"),
    ]

    def __init__(self, owner: TimbreScreen) -> None:
        super().__init__()
        self.owner = owner

    def compose(self) -> ComposeResult:
        table = Table(box=None, show_header=False, padding=(0, 1), expand=True)
        table.add_column("key", style="bold", no_wrap=True)
        table.add_column("what it does", ratio=1)
        for binding in self.owner.screen_bindings():
            detail = binding.description
            if binding.tooltip:
                detail = f"{detail}: {binding.tooltip}"
            table.add_row(self.owner.keys_for(binding.action) or key_label(binding), detail)
        for key, detail in GENERAL_KEYS:
            table.add_row(key, detail)
        with VerticalScroll():
            title = getattr(self.owner, "SUB_TITLE", None) or type(self.owner).__name__
            yield Static(Text(f"Help: {title}", style="bold"))
            yield Static(table)
            for paragraph in help_paragraphs(self.owner.HELP):
                yield Static(Text(paragraph), classes="help-text")
            log_path = getattr(self.app, "native_log_path", None)
            if log_path:
                yield Static(Text(f"Low-level audio messages are logged to {log_path}", style="dim"))
            yield Static(Text("esc, q, ? or F1 closes this help.", style="dim"))

    def action_close(self) -> None:
        self.dismiss(None)
