"""The sentence to read, shown large and wrapped by display cells (CJK characters take two)."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static


class PromptView(Static):
    """A bordered, bold prompt; Rich wraps by cell width and folds long CJK runs."""

    DEFAULT_CSS = """
    PromptView {
        height: 7;
        border: round $primary;
        border-title-align: left;
        padding: 1 2;
        text-style: bold;
        content-align: center middle;
    }
    """

    def show_prompt(self, text: str, position: str) -> None:
        """Show ``text``; ``position`` (e.g. 'Prompt 3 of 25') goes in the border title."""
        self.border_title = position
        self.update(Text(text or "(no text)", justify="center", overflow="fold"))
