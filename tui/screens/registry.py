"""Screens by name: ``app.open_screen("record", session=..., recorder=...)`` imports and pushes one.

To add a screen, add one line to ``SCREENS`` (or call :func:`register_screen`), mapping a name to
``"module:Class"``. The module is imported only when the screen first opens, which keeps the app's
start-up light. Subclass :class:`tui.screens.base.TimbreScreen` to get ``?``/F1 help and command
palette entries made from the screen's bindings.
"""

from __future__ import annotations

import importlib
import importlib.util

from textual.screen import Screen

SCREENS: dict[str, str] = {
    "home": "tui.screens.home:HomeScreen",
    "record": "tui.screens.record:RecordScreen",
    "help": "tui.screens.help:HelpScreen",
    "new-session": "tui.screens.new_session:NewSessionDialog",
    "review": "tui.screens.review:ReviewScreen",
    "train": "tui.screens.train:TrainMonitorScreen",
    "train-start": "tui.screens.train_start:TrainStartScreen",
    "speak": "tui.screens.speak:SpeakScreen",
}


def register_screen(name: str, target: str) -> None:
    """Make ``target`` ("package.module:Class") openable as ``name``."""
    if ":" not in target:
        raise ValueError(f"screen target must look like 'module:Class', got {target!r}")
    SCREENS[name] = target


def screen_class(name: str) -> type[Screen]:
    """The screen class registered as ``name`` (imported on first use)."""
    try:
        target = SCREENS[name]
    except KeyError:
        raise KeyError(f"no screen named {name!r}; known: {', '.join(sorted(SCREENS))}") from None
    module_name, _, class_name = target.partition(":")
    cls = getattr(importlib.import_module(module_name), class_name)
    if not (isinstance(cls, type) and issubclass(cls, Screen)):
        raise TypeError(f"{target} is not a Textual Screen")
    return cls


def available(name: str) -> bool:
    """True when the screen ``name`` is registered and its module can be imported."""
    try:
        screen_class(name)
    except (KeyError, ImportError, AttributeError, TypeError):
        return False
    return True


def present(name: str) -> bool:
    """True when ``name`` is registered and its module exists (found without importing it)."""
    target = SCREENS.get(name)
    if target is None:
        return False
    try:
        return importlib.util.find_spec(target.partition(":")[0]) is not None
    except (ImportError, ValueError):
        return False
