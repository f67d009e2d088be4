"""A two-line input level meter: a dBFS bar with a peak-hold marker, a scale, and the numbers."""

from __future__ import annotations

import math

from rich.text import Text
from textual.widget import Widget

FLOOR_DBFS = -60.0
WARN_DBFS = -18.0  # from here the bar turns yellow
HOT_DBFS = -6.0  # from here it turns red
SCALE_MARKS = (-60, -48, -36, -24, -18, -12, -6, 0)
NUMBER_WIDTH = 17  # " -12.3 dBFS peak" beside the bar


def db_text(value: float) -> str:
    """A dBFS number for display: '-12.3', or '-inf' for silence."""
    if value is None or math.isnan(value) or value <= -120:
        return " -inf"
    return f"{value:5.1f}"


def db_to_cells(value: float, width: int) -> int:
    """How many of ``width`` cells a level of ``value`` dBFS fills (linear in dB from FLOOR_DBFS to 0)."""
    if value is None or math.isnan(value) or value <= FLOOR_DBFS:
        return 0
    fraction = min(1.0, (value - FLOOR_DBFS) / -FLOOR_DBFS)
    return max(0, min(width, round(fraction * width)))


class LevelMeter(Widget):
    """Shows the latest peak as a bar, the held peak as a marker, with a dBFS scale underneath.

    The screen polls the recorder and calls :meth:`show`; nothing here touches audio threads.
    ``updates`` counts calls to :meth:`show` (used by tests and the refresh-rate benchmark).
    """

    DEFAULT_CSS = """
    LevelMeter { height: 2; width: 1fr; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.peak_dbfs = -math.inf
        self.hold_dbfs = -math.inf
        self.updates = 0

    def show(self, peak_dbfs: float, hold_dbfs: float) -> None:
        """Display a new level (called ~30 times a second)."""
        self.updates += 1
        if (peak_dbfs, hold_dbfs) != (self.peak_dbfs, self.hold_dbfs):
            self.peak_dbfs = peak_dbfs
            self.hold_dbfs = hold_dbfs
            self.refresh()

    def bar_width(self) -> int:
        """Cells used by the bar itself (the rest holds the numbers)."""
        return max(10, self.size.width - NUMBER_WIDTH - 2)

    def render(self) -> Text:
        width = self.bar_width()
        filled = db_to_cells(self.peak_dbfs, width)
        hold = db_to_cells(self.hold_dbfs, width)
        warn_at = db_to_cells(WARN_DBFS, width)
        hot_at = db_to_cells(HOT_DBFS, width)
        bar = Text("▕")
        for cell in range(width):
            if cell < filled:
                colour = "red" if cell >= hot_at else "yellow" if cell >= warn_at else "green"
                bar.append("█", style=colour)
            elif hold > 0 and cell == hold - 1:
                bar.append("┃", style="bold red" if cell >= hot_at else "bold")
            else:
                bar.append("·", style="dim")
        bar.append("▏")
        bar.append(f" {db_text(self.peak_dbfs)} dBFS peak", style="bold")
        scale = [" "] * (width + 2)
        for mark in SCALE_MARKS:
            label = str(mark)
            pos = 1 + db_to_cells(mark, width) - (len(label) if mark == 0 else len(label) // 2)
            pos = max(0, min(width + 2 - len(label), pos))
            if all(ch == " " for ch in scale[max(0, pos - 1) : pos + len(label) + 1]):
                scale[pos : pos + len(label)] = list(label)
        line2 = Text("".join(scale), style="dim")
        line2.append(f" {db_text(self.hold_dbfs)} dBFS hold")
        return Text("\n").join([bar, line2])
