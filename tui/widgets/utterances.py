"""The Speak screen's history: one row per utterance (text, length, timing, where it went)."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.widgets import DataTable


def where(utt: Any) -> str:
    """'▶ played', '■ stopped' or the WAV file's name (readable without colour)."""
    if utt.path is not None:
        return f"▣ {utt.path.name}"
    if utt.stopped:
        return "■ stopped"
    return "▶ played" if utt.played else "-"


class UtteranceTable(DataTable):
    """Utterances of this visit to Speak, newest first; the row key is the utterance's number."""

    DEFAULT_CSS = """
    UtteranceTable { height: 1fr; min-height: 3; }
    """

    def on_mount(self) -> None:
        self.cursor_type = "row"
        self.add_column("#", key="n", width=3)
        self.add_column("Text", key="text", width=28)
        self.add_column("Len", key="len", width=6)
        self.add_column("Where", key="where")

    def show(self, items: list[tuple[int, Any]]) -> None:
        """Replace the rows with ``items`` (number, utterance), newest first, keeping the cursor row."""
        keep = self.cursor_row
        self.clear()
        for number, utt in reversed(items):
            self.add_row(
                str(number),
                Text(" ".join(utt.text.split()), overflow="ellipsis", no_wrap=True),
                f"{utt.seconds:4.1f}s",
                where(utt),
                key=str(number),
            )
        if self.row_count:
            self.move_cursor(row=min(max(keep, 0), self.row_count - 1))

    def selected_number(self) -> int | None:
        """The number of the utterance under the cursor."""
        if self.row_count == 0:
            return None
        row_key, _ = self.coordinate_to_cell_key(self.cursor_coordinate)
        return int(str(row_key.value))
