"""Home: the sessions and voices in the studio; start a new session or resume an unfinished one."""

from __future__ import annotations

import asyncio
from typing import Any, ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Header, Label, Static

from tui.screens.base import TimbreScreen, compact_footer, explain
from tui.screens.registry import present


class HomeScreen(TimbreScreen):
    """The studio at a glance."""

    SUB_TITLE = "Home"
    HELP = """
Timbre records about a minute of your voice in a guided session, cleans it, fine-tunes a voice
model and then speaks any text in your voice.

Start a new session with n: pick the language of the built-in script (or your own prompt file,
one sentence a line) and the microphone. Unfinished sessions are listed below; select one with
the arrow keys and press enter to resume it. Files live in the studio folder shown at the top.

Already have recordings (a phone memo, a podcast)? Press i to import audio files (WAV, FLAC, OGG,
MP3) into a new session: long files are split at pauses into takes, and Review opens on the new
session. Importing works even when recording is disabled.
"""

    BINDINGS: ClassVar[list[Binding]] = [
        Binding("n", "new_session", "New session", tooltip="Record a new guided session", id="home.new"),
        Binding(
            "enter",
            "resume",
            "Resume",
            priority=True,
            tooltip="Continue the selected session",
            id="home.resume",
        ),
        Binding(
            "i", "import_files", "Import", tooltip="Import audio files into a new session", id="home.import"
        ),
        Binding("v", "review", "Review", tooltip="Check and clean the selected session", id="home.review"),
        Binding("q", "quit", "Quit", tooltip="Leave Timbre", id="home.quit"),
    ]

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("", id="studio")
        yield Static("", id="audio-status")
        yield Label("Recording sessions", classes="section")
        table: DataTable = DataTable(id="sessions", cursor_type="row", zebra_stripes=True)
        table.add_column(" ", key="mark", width=1)  # ▶ marks the selected row, readable without colour
        table.add_columns("Session", "Lang", "Takes kept", "Speech", "State")
        yield table
        yield Static("No sessions yet: press n to record your first one.", id="no-sessions")
        yield Label("Voices", classes="section")
        yield Static("", id="voices")
        yield compact_footer()

    def on_mount(self) -> None:
        self.refresh_studio()
        self.query_one("#sessions", DataTable).focus()

    def on_screen_resume(self) -> None:
        self.refresh_studio()

    # ------------------------------------------------------------------ data
    def _input_device_count(self) -> int:
        """How many input devices PortAudio sees now (0 when listing fails)."""
        try:
            return len(self.app.services.list_devices())
        except Exception:  # a broken sound stack reads as "no microphone"; the dialog says why
            return 0

    def refresh_studio(self) -> None:
        """Re-read the sessions and voices from disk."""
        studio = self.app.studio
        self.query_one("#studio", Static).update(Text(f"Studio: {studio.root}", overflow="ellipsis"))
        status = self.query_one("#audio-status", Static)
        problem = self.app.services.portaudio_error
        if problem:
            reason = problem.removeprefix("Recording is disabled: ")
            status.update(Text(f"✗ RECORDING DISABLED: {reason}", style="bold"))
            status.add_class("problem")
        elif not self._input_device_count():
            status.update(
                Text(
                    "! NO MICROPHONE FOUND: plug one in, or press i to import audio files.",
                    style="bold",
                )
            )
            status.add_class("problem")
        else:
            status.update(Text("✓ Audio ready: press n to record a new session.", style="dim"))
            status.remove_class("problem")
        table = self.query_one("#sessions", DataTable)
        table.clear()
        for summary in self.sessions():
            if not summary.complete:
                state = "… unfinished"
            else:  # every prompt was answered; with nothing accepted there is nothing to train on
                state = "✓ complete" if summary.accepted else "↷ complete, none kept"
            table.add_row(
                " ",
                summary.id,
                summary.language,
                f"{summary.accepted}/{summary.takes}",
                f"{summary.accepted_seconds:5.1f} s",
                state,
                key=summary.id,
            )
        empty = self.query_one("#no-sessions", Static)
        empty.display = table.row_count == 0
        empty.update(
            "No sessions yet: press i to import audio files (recording is disabled)."
            if problem
            else "No sessions yet: press n to record your first one, or i to import audio files."
        )
        if self.app.last_session_id and self.app.last_session_id in {str(k.value) for k in table.rows}:
            table.move_cursor(row=table.get_row_index(self.app.last_session_id))
        voices = studio.voice_names()
        self.query_one("#voices", Static).update(
            Text("  ".join(voices))
            if voices
            else Text("No voices yet: record a session, then train.", style="dim")
        )

    def sessions(self) -> list[Any]:
        """Session summaries, newest first."""
        from engine.session import list_sessions

        try:
            found = list(list_sessions(self.app.studio))
        except Exception as exc:  # a broken session file must not hide the others or the app
            self.notify(f"Could not read the sessions: {exc}", severity="error")
            return []
        return list(reversed(found))

    def selected_session_id(self) -> str | None:
        table = self.query_one("#sessions", DataTable)
        if table.row_count == 0:
            return None
        row_key, _ = table.coordinate_to_cell_key(table.cursor_coordinate)
        return str(row_key.value)

    # --------------------------------------------------------------- actions
    async def action_new_session(self) -> None:
        """Ask for the script and microphone, then open the Record screen."""
        from engine.errors import TimbreError
        from tui.screens.new_session import NewSessionDialog

        if self.app.refuse_recording():
            return
        try:
            devices = await asyncio.to_thread(self.app.services.list_devices)
        except TimbreError as exc:
            self.notify(explain(exc), title="No microphone", severity="error", timeout=10)
            return
        if not devices:
            self.notify(
                "No microphone or other input device was found. Plug one in, or forward audio over SSH "
                "(see README).",
                title="No microphone",
                severity="error",
                timeout=10,
            )
            return
        self.app.push_screen(NewSessionDialog(devices), callback=self._create_session)

    async def _create_session(self, choice: Any) -> None:
        if choice is None:
            return
        from engine.errors import TimbreError
        from engine.session import Session

        recorder = await self.app.open_recorder(choice.device, None)
        if recorder is None:
            return
        try:
            session = Session.create(
                self.app.studio,
                choice.language,
                choice.prompts,
                device=choice.device.name,
                samplerate=int(recorder.samplerate),
                script_name=choice.script_name,
            )
        except TimbreError as exc:
            self.app.release_recorder(recorder)
            self.notify(explain(exc), severity="error", timeout=10)
            return
        self.app.last_session_id = session.id
        self.app.open_screen("record", session=session, recorder=recorder)

    async def action_resume(self) -> None:
        """Open the selected session on the Record screen."""
        session = await self.load_selected()
        if session is None:
            return
        if self.app.refuse_recording():
            return
        recorder = await self.app.open_recorder(session.device, session.samplerate, fallback=True)
        if recorder is not None:
            self.app.open_screen("record", session=session, recorder=recorder)

    @on(DataTable.RowHighlighted, "#sessions")
    def _mark_row(self, event: DataTable.RowHighlighted) -> None:
        table = event.data_table
        for key in table.rows:
            table.update_cell(key, "mark", "▶" if key == event.row_key else " ")

    @on(DataTable.RowSelected, "#sessions")
    async def _row_chosen(self, event: DataTable.RowSelected) -> None:
        event.stop()
        await self.action_resume()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "review":  # offered once a Review screen is registered (found without importing it)
            return present("review")
        return True

    async def action_review(self) -> None:
        """Open the selected session on the Review screen."""
        session = await self.load_selected()
        if session is not None:
            self.app.open_screen("review", session=session)

    async def load_selected(self) -> Any:
        """Load the selected session in a thread; None (after saying why) if there is none or it is broken."""
        from engine.errors import TimbreError
        from engine.session import Session

        session_id = self.selected_session_id()
        if session_id is None:
            self.notify("There is no session yet: press n to start one.")
            return None
        try:
            session = await asyncio.to_thread(Session.load, self.app.studio, session_id)
        except TimbreError as exc:
            self.notify(explain(exc), severity="error", timeout=10)
            return None
        self.app.last_session_id = session.id
        return session

    def action_import_files(self) -> None:
        """i: ask for audio files and import them into a new session (works without recording)."""
        from tui.screens.dialogs import ImportDialog

        self.app.push_screen(ImportDialog(self.app.studio), callback=self._imported)

    def _imported(self, outcome: Any) -> None:
        if outcome is None or outcome.session is None:
            return
        self.app.last_session_id = outcome.session.id
        self.refresh_studio()
        self.notify(outcome.message(), severity=outcome.severity, timeout=8)
        if present("review"):
            self.app.open_screen("review", session=outcome.session)

    def action_quit(self) -> None:
        self.app.exit(0)
