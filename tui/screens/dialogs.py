"""Small modal dialogs: a yes/no question."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Static


class ConfirmDialog(ModalScreen[bool]):
    """Asks a yes/no question: y or enter answers yes, n or esc answers no."""

    DEFAULT_CSS = """
    ConfirmDialog { align: center middle; }
    ConfirmDialog > Vertical {
        width: 64; max-width: 100%; height: auto;
        border: thick $warning; padding: 1 2; background: $surface;
    }
    ConfirmDialog .keys { margin-top: 1; text-style: bold; }
    """

    BINDINGS: ClassVar[list[Binding]] = [
        Binding("y,enter", "answer(True)", "Yes", id="confirm.yes"),
        Binding("n,escape", "answer(False)", "No", id="confirm.no"),
    ]

    def __init__(self, question: str, yes: str = "yes", no: str = "no") -> None:
        super().__init__()
        self.question = question
        self.yes = yes
        self.no = no

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(Text(self.question))
            yield Static(Text(f"[y] {self.yes}    [n] {self.no}"), classes="keys")

    def action_answer(self, answer: bool) -> None:
        self.dismiss(answer)
