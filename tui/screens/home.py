"""Home: the sessions and voices in the studio; start a new session or resume an unfinished one."""

from __future__ import annotations

import asyncio
from functools import partial
from typing import Any, ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Header, Label, Static

from tui.screens.base import TimbreScreen, compact_footer, explain
from tui.screens.dialogs import ConfirmDialog
from tui.screens.registry import present
from tui.widgets.voices import VoicesTable


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

Every voice needs its speaker's consent on record: a statement read aloud (a recording session asks
for it before the first prompt). "✗ no consent" marks a session without one: record it from Review
(C), or import a recording of it with: timbre consent SESSION --import FILE.

Plugged in a microphone, or started forwarding PulseAudio over SSH, after Timbre started? Press d to
look for devices again (starting or resuming a session also looks again). Rename the selected session
with r; delete it with x or delete (it asks first; voices already trained are kept).

Voices are listed at the bottom. m makes a voice from the selected session at once (its best 3–10 s
accepted take and transcript become the reference; no training needed) and opens Speak; s opens Speak.
Tab to the voices list, then: s speak with the selected voice, r rename, x delete (asks first), e export
in the official formats (voices/NAME/export/), f use the selected session's best take as the reference.
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
        Binding(
            "d",
            "rescan_devices",
            "Devices",
            show=False,  # the key bar stays for the main keys; ? and the palette list it
            tooltip="Look for microphones again (one plugged in or forwarded since start)",
            id="home.rescan",
        ),
        Binding(
            "r",
            "rename_session",
            "Rename",
            show=False,
            tooltip="Rename the selected session",
            id="home.rename",
        ),
        Binding(
            "x,delete",
            "delete_session",
            "Delete",
            show=False,
            tooltip="Delete the selected session and its recordings (asks first)",
            id="home.delete",
        ),
        Binding("s", "speak", "Speak", tooltip="Type text and hear it in a voice", id="home.speak"),
        Binding(
            "m",
            "make_voice",
            "Make voice",
            show=False,
            tooltip="Make a voice from the selected session now (its best take is the reference)",
            id="home.make_voice",
        ),
        Binding("t", "train", "Train", tooltip="Fine-tune a voice on the selected session", id="home.train"),
        Binding(
            "w",
            "watch_run",
            "Training run",
            show=False,
            tooltip="Open the training monitor on the selected (or latest) training run",
            id="home.watch",
        ),
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
        yield VoicesTable(id="voices", session_id=self.selected_session_id)
        no_voices = Static("", id="no-voices")
        no_voices.styles.padding = (0, 1)
        yield no_voices
        yield Label("Training runs", classes="section", id="runs-label")
        runs: DataTable = DataTable(id="runs", cursor_type="row", zebra_stripes=True)
        runs.add_columns("Voice", "State", "Phase", "Epoch", "ETA")
        yield runs
        yield compact_footer()

    def on_mount(self) -> None:
        self.refresh_studio()
        self.refresh_runs()
        self.set_interval(2.0, self.refresh_runs)  # a trainer elsewhere moves on: keep its line current
        self.query_one("#sessions", DataTable).focus()

    def on_screen_resume(self) -> None:
        self.refresh_studio()
        self.refresh_runs()

    def refresh_runs(self) -> None:
        """List the training runs found on disk (running, finished, cancelled, failed or killed)."""
        from engine.train.runs import STATUS_TEXT, find_runs, format_eta

        table = self.query_one("#runs", DataTable)
        try:
            runs = find_runs(self.app.studio.voices)
        except OSError:
            runs = []
        self.runs = runs
        rows = []
        for run in runs:
            state = run.state
            phase = state.phases.get(state.current or "")
            mark = {"running": "▶", "done": "✓", "error": "✗", "stopped": "✗", "cancelled": "■"}.get(
                state.status, " "
            )
            epoch = (
                f"{phase.epoch}/{phase.epochs}"
                if phase and phase.epochs
                else (str(phase.epoch) if phase else "")
            )
            eta = format_eta(phase.eta_s) if phase and state.status == "running" else ""
            rows.append((run.voice, (run.voice, f"{mark} {STATUS_TEXT.get(state.status, state.status)}",
                                     state.current or "", epoch, eta)))  # fmt: skip
        shown = [(str(k.value), tuple(str(c) for c in table.get_row(k))) for k in table.rows]
        if shown != [(key, tuple(cells)) for key, cells in rows]:
            table.clear()
            for key, cells in rows:
                table.add_row(*cells, key=key)
        visible = bool(rows)
        table.display = visible
        self.query_one("#runs-label", Label).display = visible

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
                    "! NO MICROPHONE FOUND: plug one in, or press i to import audio files.\n"
                    "  Plugged one in, or forwarding audio now? Press d to look again.",
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
            if not (self.app.studio.session_dir(summary.id) / "consent.wav").is_file():
                state += " · ✗ no consent"  # training and voices need it (Record or Review's C asks)
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
        voices_table = self.query_one("#voices", VoicesTable)
        voices_table.refresh_voices()
        voices_table.display = voices_table.row_count > 0
        no_voices = self.query_one("#no-voices", Static)
        no_voices.display = voices_table.row_count == 0
        no_voices.update(
            Text("No voices yet: select a session and press m to make one (or train one).", style="dim")
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
        await self.rescan_devices()  # a microphone plugged in (or forwarded) since start is offered too
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
        await self.rescan_devices()
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

    # ------------------------------------------------------- devices, rename, delete
    async def rescan_devices(self) -> bool:
        """Make PortAudio look for devices again (in a thread); False, after saying why, if it failed."""
        from engine.errors import TimbreError

        try:
            await asyncio.to_thread(self.app.services.rescan_devices)
        except TimbreError as exc:
            self.notify(explain(exc), title="Devices", severity="error", timeout=10)
            return False
        return True

    async def action_rescan_devices(self) -> None:
        """d: look for microphones again and say what was found."""
        if self.app.refuse_recording() or not await self.rescan_devices():
            return
        self.refresh_studio()
        count = await asyncio.to_thread(self._input_device_count)
        if count:
            self.notify(f"{count} input device(s) found: press n to record.", title="Devices", timeout=5)
        else:
            self.notify(
                "Still no microphone. Plug one in, or forward audio over SSH (see README), then press d.",
                title="Devices",
                severity="warning",
                timeout=8,
            )

    def action_rename_session(self) -> None:
        """r: ask for a new name for the selected session."""
        from tui.screens.dialogs import TextDialog

        session_id = self.selected_session_id()
        if session_id is None:
            self.notify("There is no session to rename yet.")
            return
        question = f"New name for session {session_id} (letters, digits, '-', '_' and '.'):"
        self.app.push_screen(TextDialog(question, session_id), callback=partial(self._rename, session_id))

    async def _rename(self, session_id: str, name: str | None) -> None:
        from engine.errors import TimbreError
        from engine.sessions_admin import rename_session

        if name is None or not name.strip() or name.strip() == session_id:
            return
        try:
            new_id = await asyncio.to_thread(rename_session, self.app.studio, session_id, name)
        except TimbreError as exc:
            self.notify(explain(exc), title="Not renamed", severity="error", timeout=10)
            return
        self.app.last_session_id = new_id
        self.refresh_studio()
        self.notify(f"Session {session_id} is now {new_id}.", title="Renamed")

    def action_delete_session(self) -> None:
        """x / delete: delete the selected session after asking."""
        session_id = self.selected_session_id()
        if session_id is None:
            self.notify("There is no session to delete.")
            return
        summary = next((s for s in self.sessions() if s.id == session_id), None)
        what = (
            f" ({summary.accepted}/{summary.takes} takes kept, {summary.accepted_seconds:.1f} s of speech)"
            if summary
            else ""
        )
        question = f"Delete session {session_id}{what} and all its recordings? This cannot be undone."
        self.app.push_screen(DeleteDialog(question), callback=partial(self._delete, session_id))

    async def _delete(self, session_id: str, yes: bool | None) -> None:
        from engine.errors import TimbreError
        from engine.sessions_admin import delete_session

        if not yes:
            return
        try:
            await asyncio.to_thread(delete_session, self.app.studio, session_id)
        except TimbreError as exc:
            self.notify(explain(exc), title="Not deleted", severity="error", timeout=10)
            return
        if self.app.last_session_id == session_id:
            self.app.last_session_id = None
        self.refresh_studio()
        self.notify(f"Session {session_id} was deleted.", title="Deleted")

    def action_speak(self) -> None:
        """s: open Speak (with the voice selected in the voices list, else the first one)."""
        self.app.open_screen("speak", voice=self.query_one("#voices", VoicesTable).selected_name())

    def action_make_voice(self) -> None:
        """m: make a zero-shot voice from the selected session and open Speak with it."""
        from tui.widgets.voices import make_voice_from_session

        session_id = self.selected_session_id()
        if session_id is None:
            self.notify("There is no session yet: record or import one first.")
            return
        make_voice_from_session(self.app, session_id)

    def action_train(self) -> None:
        """t: choose what to train on (the selected session ticked) and start fine-tuning."""
        session_id = self.selected_session_id()
        self.app.open_screen("train-start", session_ids=[session_id] if session_id else [])

    def action_watch_run(self) -> None:
        """w: open the training monitor on the selected run (the latest when the list is not focused)."""
        table = self.query_one("#runs", DataTable)
        if table.row_count == 0:
            self.notify("No training runs yet: press t to train a voice.")
            return
        if table.has_focus:
            row_key, _ = table.coordinate_to_cell_key(table.cursor_coordinate)
            voice = str(row_key.value)
        else:
            voice = str(next(iter(table.rows)).value)
        self.app.open_screen("train", voice=voice)

    @on(DataTable.RowSelected, "#runs")
    def _run_chosen(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.app.open_screen("train", voice=str(event.row_key.value))

    def action_quit(self) -> None:
        self.app.exit(0)


class DeleteDialog(ConfirmDialog, inherit_bindings=False):
    """The yes/no question before deleting: only y deletes (enter does not, to be safe)."""

    BINDINGS: ClassVar[list[Binding]] = [
        Binding("y", "answer(True)", "Delete", id="delete.yes"),
        Binding("n,escape,enter", "answer(False)", "Keep", id="delete.no"),
    ]

    def __init__(self, question: str) -> None:
        super().__init__(question, "delete it", "keep it (also esc)")
