"""The voices list (Home) and the "make a voice from this session" step shared by Home and Review.

:class:`VoicesTable` lists the studio's voices (language, kind and base version, created date, reference
length, training data length) and answers its own keys while focused: s speaks with the voice, r renames,
x/delete deletes (asks first), e exports, f takes the reference from the selected session.
:func:`make_voice_from_session` asks for a name, creates a zero-shot voice in a thread and opens Speak.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from functools import partial
from typing import Any, ClassVar

from rich.text import Text
from textual.binding import Binding
from textual.widgets import DataTable


def _length(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    return f"{seconds:.1f}s" if seconds < 120 else f"{seconds / 60:.1f}m"


def _explain(exc: Any) -> str:
    return f"{exc.message} {exc.hint}".strip()


class VoicesTable(DataTable):
    """The studio's voices, one row each; the row key is the voice's folder name."""

    BINDINGS: ClassVar[list[Binding]] = [
        Binding("s", "speak", "Speak", tooltip="Speak with the selected voice", id="voices.speak"),
        Binding("r", "rename", "Rename", tooltip="Rename the selected voice", id="voices.rename"),
        Binding(
            "x,delete",
            "delete",
            "Delete",
            tooltip="Delete the selected voice (asks first)",
            id="voices.delete",
        ),
        Binding(
            "e",
            "export",
            "Export",
            tooltip="Write .ckpt/.pth and the reference to export/",
            id="voices.export",
        ),
        Binding(
            "f",
            "reference",
            "Reference",
            tooltip="Use a take of the selected session as reference",
            id="voices.reference",
        ),
    ]

    def __init__(self, *, session_id: Callable[[], str | None] | None = None, **kwargs: Any) -> None:
        super().__init__(cursor_type="row", zebra_stripes=True, **kwargs)
        self._session_id = session_id or (lambda: None)
        self.empty_text = "No voices yet: select a session and press m to make one."

    def on_mount(self) -> None:
        self.add_column("Voice", key="name", width=18)
        self.add_column("Lang", key="lang", width=4)
        self.add_column("Kind", key="kind", width=13)
        self.add_column("Created", key="created", width=10)
        self.add_column("Ref", key="ref", width=5)
        self.add_column("Trained", key="trained", width=7)

    def _refresh_screen(self) -> None:
        """After a change: let the screen redraw everything that depends on the voices (Home shows or
        hides this list and its "no voices" line), else just this list."""
        refresh = getattr(self.screen, "refresh_studio", None)
        if callable(refresh):
            refresh()
        else:
            self.refresh_voices()

    def refresh_voices(self) -> None:
        """Re-read the voices from disk."""
        from engine.voice import list_voices

        keep = self.selected_name()
        self.clear()
        try:
            voices = list_voices(self.app.studio)
        except Exception as exc:  # a broken voice must not hide Home
            self.app.notify(f"Could not read the voices: {exc}", severity="error")
            voices = []
        for v in voices:
            kind = f"✗ {v.problem}" if v.problem and v.language == "?" else f"{v.kind} {v.version}"
            self.add_row(
                Text(v.name, overflow="ellipsis", no_wrap=True),
                v.language,
                Text(kind, overflow="ellipsis", no_wrap=True),
                v.created_text,
                _length(v.reference_seconds),
                _length(v.training_seconds),
                key=v.name,
            )
        if keep is not None and keep in {str(k.value) for k in self.rows}:
            self.move_cursor(row=self.get_row_index(keep))

    def selected_name(self) -> str | None:
        """The voice under the cursor."""
        if self.row_count == 0:
            return None
        row_key, _ = self.coordinate_to_cell_key(self.cursor_coordinate)
        return str(row_key.value)

    # ------------------------------------------------------------------ actions
    def action_speak(self) -> None:
        """Open Speak with the selected voice."""
        self.app.open_screen("speak", voice=self.selected_name())

    def action_rename(self) -> None:
        """Ask for a new name."""
        from tui.screens.dialogs import TextDialog

        name = self.selected_name()
        if name is None:
            return
        self.app.push_screen(
            TextDialog(f"New name for voice {name} (letters, digits, '-', '_' and '.'):", name),
            callback=partial(self._rename, name),
        )

    async def _rename(self, old: str, new: str | None) -> None:
        from engine.errors import TimbreError
        from engine.voice import rename_voice

        if new is None or not new.strip() or new.strip() == old:
            return
        try:
            dest = await asyncio.to_thread(rename_voice, self.app.studio, old, new.strip())
        except TimbreError as exc:
            self.app.notify(_explain(exc), title="Not renamed", severity="error", timeout=10)
            return
        self._refresh_screen()
        self.app.notify(f"Voice {old} is now {dest.name}.", title="Renamed")

    def action_delete(self) -> None:
        """Ask, then delete the selected voice's folder."""
        from tui.screens.home import DeleteDialog  # only y deletes (enter keeps)

        name = self.selected_name()
        if name is None:
            return
        folder = self.app.studio.voices / name
        question = f"Delete the voice {name} and everything in {folder}? This cannot be undone."
        self.app.push_screen(DeleteDialog(question), callback=partial(self._delete, name))

    async def _delete(self, name: str, yes: bool | None) -> None:
        from engine.errors import TimbreError
        from engine.voice import delete_voice

        if not yes:
            return
        try:
            await asyncio.to_thread(delete_voice, self.app.studio, name)
        except TimbreError as exc:
            self.app.notify(_explain(exc), title="Not deleted", severity="error", timeout=10)
            return
        self._refresh_screen()
        self.app.notify(f"Voice {name} was deleted.", title="Deleted")

    async def action_export(self) -> None:
        """Export the selected voice in the official formats (in a thread)."""
        from engine.errors import TimbreError
        from engine.voice import export_voice

        name = self.selected_name()
        if name is None:
            return
        try:
            paths = await asyncio.to_thread(export_voice, self.app.studio, name)
        except TimbreError as exc:
            self.app.notify(_explain(exc), title="Not exported", severity="error", timeout=10)
            return
        folder = paths[0].parent if paths else ""
        names = ", ".join(p.name for p in paths)
        self.app.notify(f"Exported to {folder}: {names}", title="Exported", timeout=10)

    async def action_reference(self) -> None:
        """Use the best take of the session selected on Home as the voice's reference."""
        from engine.errors import TimbreError
        from engine.session import Session
        from engine.voice import set_reference

        name, session_id = self.selected_name(), self._session_id()
        if name is None:
            return
        if session_id is None:
            self.app.notify("Select a session first: its best take becomes the reference.", timeout=5)
            return

        def change() -> Any:
            return set_reference(self.app.studio, name, Session.load(self.app.studio, session_id))

        try:
            voice = await asyncio.to_thread(change)
        except TimbreError as exc:
            self.app.notify(_explain(exc), title="Reference not changed", severity="error", timeout=10)
            return
        self._refresh_screen()
        take = voice.extra.get("source", {}).get("take", "?")
        self.app.notify(f"Voice {name} now uses take {take} of {session_id}.", title="Reference", timeout=6)


def default_voice_name(app: Any, session_id: str) -> str:
    """A free name for a voice made from ``session_id``."""
    from engine.fsutil import safe_name

    taken = set(app.studio.voice_names())
    base = safe_name(f"voice-{session_id}", what="voice name")
    name, n = base, 2
    while name in taken or (app.studio.voices / name).exists():
        name, n = f"{base}-{n}", n + 1
    return name


def make_voice_from_session(app: Any, session_id: str, on_done: Callable[[str], Any] | None = None) -> None:
    """Ask for a name, make a zero-shot voice from the session's best take, then open Speak with it."""
    from tui.screens.dialogs import TextDialog

    question = (
        f"Name of the new voice made from session {session_id} (its best 3–10 s take is the reference):"
    )
    app.push_screen(
        TextDialog(question, default_voice_name(app, session_id)),
        callback=partial(_create, app, session_id, on_done),
    )


async def _create(app: Any, session_id: str, on_done: Callable[[str], Any] | None, name: str | None) -> None:
    from engine.errors import TimbreError
    from engine.session import Session
    from engine.voice import create_from_session

    if name is None or not name.strip():
        return

    def create() -> Any:
        return create_from_session(app.studio, name.strip(), Session.load(app.studio, session_id))

    app.notify(f"Making the voice {name.strip()} from session {session_id}…", timeout=4)
    try:
        voice = await asyncio.to_thread(create)
    except TimbreError as exc:
        app.notify(_explain(exc), title="No voice made", severity="error", timeout=10)
        return
    except Exception as exc:  # an unexpected failure is shown, not fatal
        app.notify(f"{type(exc).__name__}: {exc}", title="No voice made", severity="error", timeout=10)
        return
    take = voice.extra.get("source", {}).get("take", "?")
    app.notify(f"Voice {voice.name} made from take {take}.", title="Voice ready", timeout=6)
    if on_done is not None:
        on_done(voice.name)
    app.open_screen("speak", voice=voice.name)
