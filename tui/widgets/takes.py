"""The per-take status list: a window of rows around the current prompt, one glyph per status."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rich.text import Text
from textual.widget import Widget

STATUS_GLYPHS: dict[str, str] = {
    "pending": "○ pending  ",
    "recorded": "◆ recorded ",
    "accepted": "✓ accepted ",
    "skipped": "↷ skipped  ",
    "rejected": "✗ rejected ",
}
CUT_SHORT_GLYPH = "◐ cut short"
"""A recorded take cut short (crash, quit, lost microphone): left out of training until redone or kept."""
STATUS_STYLES: dict[str, str] = {
    "pending": "dim",
    "recorded": "yellow",
    "accepted": "green",
    "skipped": "dim",
    "rejected": "red",
}


def take_row(take: Any, current: bool) -> Text:
    """One line describing a take: marker, id, status, length, problems, text."""
    row = Text("▶ " if current else "  ", style="bold" if current else "")
    row.append(f"{take.id} ")
    if getattr(take, "cut_short", False):
        row.append(CUT_SHORT_GLYPH, style="bold yellow")
    else:
        row.append(STATUS_GLYPHS.get(take.status, take.status), style=STATUS_STYLES.get(take.status, ""))
    row.append(f" {take.seconds:5.1f} s" if take.seconds else "        ")
    if take.clip_count:
        row.append(f" CLIP ×{take.clip_count}", style="bold red")
    if take.overflow_count:
        row.append(f" OVERFLOW ×{take.overflow_count}", style="bold red")
    row.append("  ")
    row.append(take.text.replace("\n", " "), style="bold" if current else "")
    row.no_wrap = True
    row.overflow = "ellipsis"
    return row


class TakeList(Widget):
    """Rows for the takes near ``current``; not focusable, so every key goes to the screen."""

    DEFAULT_CSS = """
    TakeList {
        height: 1fr; min-height: 3; border-top: solid $panel-lighten-2;
        text-wrap: nowrap; text-overflow: ellipsis;
    }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._takes: Sequence[Any] = ()
        self._current: int | None = None

    def show(self, takes: Sequence[Any], current: int | None) -> None:
        """Show ``takes`` with the row for index ``current`` marked."""
        self._takes = list(takes)
        self._current = current
        self.refresh()

    def render(self) -> Text:
        rows = max(1, self.size.height)
        count = len(self._takes)
        centre = self._current if self._current is not None else count - 1
        first = max(0, min(centre - rows // 2, count - rows))
        lines = [
            take_row(take, index == self._current)
            for index, take in enumerate(self._takes[first : first + rows], start=first)
        ]
        text = Text("\n").join(lines) if lines else Text("(no prompts)")
        text.no_wrap = True
        text.overflow = "ellipsis"
        return text
