"""Text sparklines and progress bars: cheap to render, readable without colour."""

from __future__ import annotations

BLOCKS = "▁▂▃▄▅▆▇█"


def sparkline(values: list[float], width: int) -> str:
    """The last ``width`` values as block characters scaled between their min and max."""
    if width <= 0 or not values:
        return ""
    if len(values) > width:  # average into ``width`` buckets so the whole curve shows
        step = len(values) / width
        values = [
            sum(values[int(i * step) : max(int((i + 1) * step), int(i * step) + 1)])
            / max(1, len(values[int(i * step) : max(int((i + 1) * step), int(i * step) + 1)]))
            for i in range(width)
        ]
    lo, hi = min(values), max(values)
    span = hi - lo
    if span <= 0:
        return BLOCKS[3] * len(values)
    top = len(BLOCKS) - 1
    return "".join(BLOCKS[min(top, int((v - lo) / span * top + 0.5))] for v in values)


def bar(fraction: float, width: int) -> str:
    """A progress bar of ``width`` cells: '█████░░░░░'."""
    width = max(0, width)
    filled = int(round(max(0.0, min(1.0, fraction)) * width))
    return "█" * filled + "░" * (width - filled)
