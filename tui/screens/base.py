"""The base class of Timbre screens: help on ?/F1 and command-palette entries from the bindings."""

from __future__ import annotations

from collections.abc import Iterable
from functools import partial
from typing import Any, ClassVar

from textual.app import SystemCommand
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Footer


def key_label(binding: Binding) -> str:
    """How a binding's key is written for people: 'space', 'enter', '?', 'f1'."""
    if binding.key_display:
        return binding.key_display
    names = {"question_mark": "?", "escape": "esc"}
    return ", ".join(names.get(key, key) for key in binding.key.split(","))


def explain(exc: Any) -> str:
    """A TimbreError as one line for a notification: the message, then what to do about it."""
    return f"{exc.message} {exc.hint}".strip()


def compact_footer() -> Footer:
    """The key bar: compact, without the palette hint, so a screen's main keys fit 80 columns.

    ctrl+p still opens the palette; the help dialog (? or F1) lists it with every other key.
    """
    return Footer(compact=True, show_command_palette=False)


class TimbreScreen(Screen):
    """A screen with a help text, ``?``/F1 help, and every described binding in the command palette."""

    HELP: ClassVar[str] = ""
    """Plain text shown at the top of the help dialog."""

    BINDINGS: ClassVar[list[Binding]] = [
        Binding(
            "question_mark",
            "help",
            "Help",
            key_display="?",
            tooltip="What this screen is for and every key it answers to",
            id="help",
        ),
        Binding("f1", "help", "Help", show=False, id="help-f1"),
    ]

    def screen_bindings(self) -> list[Binding]:
        """This screen's own bindings (those with an id and a description), one per action."""
        seen: set[str] = set()
        found: list[Binding] = []
        for active in self.active_bindings.values():
            binding = active.binding
            if active.node is not self or not binding.id or not binding.description or binding.action in seen:
                continue
            seen.add(binding.action)
            found.append(binding)
        return found

    def keys_for(self, action: str) -> str:
        """Every key of this screen bound to ``action``, for help texts ('?, f1')."""
        keys: list[str] = []
        for active in self.active_bindings.values():
            binding = active.binding
            if active.node is self and binding.id and binding.action == action:
                label = key_label(binding)
                if label not in keys:
                    keys.append(label)
        return ", ".join(keys)

    def palette_commands(self) -> Iterable[SystemCommand]:
        """Commands for the palette (ctrl+p); screens may extend this with non-key commands."""
        for binding in self.screen_bindings():
            help_text = binding.tooltip or binding.description
            yield SystemCommand(
                f"{binding.description} ({key_label(binding)})",
                help_text,
                partial(self.run_action, binding.action),
            )

    def action_help(self) -> None:
        """Show the help dialog for this screen."""
        from tui.screens.help import HelpScreen

        self.app.push_screen(HelpScreen(self))
