"""Small modal dialogs: a yes/no question, one line of text, and importing audio files into a session."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, ProgressBar, RadioButton, RadioSet, Static

from tui.screens.base import explain


class ConfirmDialog(ModalScreen[bool]):
    """Asks a yes/no question: y or enter answers yes, n or esc answers no."""

    DEFAULT_CSS = """
    ConfirmDialog { align: center middle; }
    ConfirmDialog > Vertical {
        width: 64; max-width: 100%; height: auto;
        border: thick $warning; padding: 1 2; background: $surface;
    }
    ConfirmDialog .keys { margin-top: 1; text-style: bold; }
    """

    BINDINGS: ClassVar[list[Binding]] = [
        Binding("y,enter", "answer(True)", "Yes", id="confirm.yes"),
        Binding("n,escape", "answer(False)", "No", id="confirm.no"),
    ]

    def __init__(self, question: str, yes: str = "yes", no: str = "no") -> None:
        super().__init__()
        self.question = question
        self.yes = yes
        self.no = no

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(Text(self.question))
            yield Static(Text(f"[y] {self.yes}    [n] {self.no}"), classes="keys")

    def action_answer(self, answer: bool) -> None:
        self.dismiss(answer)


class TextDialog(ModalScreen[str | None]):
    """One line of text: enter keeps it, esc cancels."""

    DEFAULT_CSS = """
    TextDialog { align: center middle; }
    TextDialog > Vertical { width: 76; max-width: 100%; height: auto; border: thick $accent;
                            padding: 0 1; background: $surface; }
    TextDialog .keys { color: $text-muted; }
    """
    BINDINGS: ClassVar[list[Binding]] = [Binding("escape", "cancel", "Cancel", id="text.cancel")]

    def __init__(self, question: str, value: str = "", placeholder: str = "") -> None:
        super().__init__()
        self.question = question
        self.value = value
        self.placeholder = placeholder

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(Text(self.question))
            yield Input(self.value, placeholder=self.placeholder, id="text-input")
            yield Static("enter: keep   esc: cancel", classes="keys")

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.dismiss(event.value)

    def action_cancel(self) -> None:
        self.dismiss(None)


# ---------------------------------------------------------------------------------------- importing
LANGUAGES: tuple[tuple[str, str], ...] = (("en", "English (en)"), ("zh", "Mandarin (zh)"))


@dataclass
class ImportOutcome:
    """What an import from the TUI did: the session it went into and the takes it added (or why none)."""

    session: Any = None
    created: bool = False
    take_ids: list[str] = field(default_factory=list)
    seconds: float = 0.0
    problems: list[str] = field(default_factory=list)  # one line per file that was not imported
    notes: list[str] = field(default_factory=list)

    @property
    def severity(self) -> str:
        """'information' when every file was imported, otherwise 'warning' (or 'error' for nothing)."""
        if not self.take_ids:
            return "error"
        return "warning" if self.problems else "information"

    def message(self) -> str:
        """One notification: what was added where, then each file's problem, then the notes."""
        if self.take_ids and self.session is not None:
            where = f"new session {self.session.id}" if self.created else f"session {self.session.id}"
            head = f"{len(self.take_ids)} take(s) added to {where} ({self.seconds:.0f} s)."
        else:
            head = "Nothing was imported."
        return " ".join([head, *self.problems, *self.notes])


def parse_paths(text: str) -> list[Path]:
    """The paths typed in one line (shell quoting understood, ~ expanded); ValueError says why not."""
    import shlex

    try:
        words = shlex.split(text)
    except ValueError as exc:
        raise ValueError(f"Could not read the paths ({exc}): put quotes around names with spaces.") from exc
    return [Path(word).expanduser() for word in words]


def unreadable(path: Path) -> str | None:
    """Why ``path`` cannot be read as a file (missing, a folder, no permission), or None when it can."""
    if not path.exists():
        return f"{path} does not exist."
    if path.is_dir():
        return f"{path} is a folder: name the files in it."
    if not os.access(path, os.R_OK):
        return f"{path} cannot be read (permission denied)."
    return None


def import_audio(
    studio: Any,
    session: Any,
    paths: list[Path],
    *,
    transcripts: Path | None = None,
    language: str = "en",
    progress: Callable[[int, int, str], None] | None = None,
) -> ImportOutcome:
    """Import ``paths`` into ``session``, or into a new session when it is None (run it in a thread).

    A new session that ends up with no take is removed again, so a failed import leaves nothing behind.
    TimbreError (a recording in progress, an unreadable transcripts file) propagates.
    """
    import shutil

    from engine.audio.importer import import_files
    from engine.session import Session

    created = session is None
    if created:
        session = Session.create(
            studio,
            language,
            [],
            device=None,
            samplerate=48000,  # used if takes are re-recorded later; imported takes keep their own rate
            script_name="imported",
        )
    result = None
    try:
        result = import_files(session, list(paths), transcripts=transcripts, progress=progress)
    finally:
        if created and not session.takes:
            shutil.rmtree(session.dir, ignore_errors=True)
    problems = [f"{p.name}: {e.message}" for p, e in result.errors]
    outcome = ImportOutcome(session, created, result.take_ids, result.seconds, problems, result.notes)
    if not result.files:
        outcome.session = None if created else session
        outcome.notes = []
        outcome.problems = [f"{p.name}: {explain(e)}" for p, e in result.errors]
    return outcome


class ImportDialog(ModalScreen["ImportOutcome | None"]):
    """Asks for audio files (and a transcripts file, and the language of a new session), then imports them.

    The import runs in a thread worker with a progress bar here; the dialog closes with the outcome once
    at least one take was added. Missing or unreadable files are named before anything is created, and
    the typed paths stay in place so nothing has to be typed again.
    """

    DEFAULT_CSS = """
    ImportDialog { align: center middle; }
    ImportDialog > Vertical { width: 76; max-width: 100%; height: auto; border: thick $accent;
                              padding: 0 1; background: $surface; }
    ImportDialog .title { text-style: bold; }
    ImportDialog .label { margin-top: 1; }
    ImportDialog RadioSet { layout: horizontal; width: 100%; height: auto; border: none; padding: 0; }
    ImportDialog RadioButton { width: auto; margin-right: 2; }
    ImportDialog Input { margin: 0 1; }
    ImportDialog #import-error { color: $error; text-style: bold; }
    ImportDialog #import-progress-row { height: 1; }
    ImportDialog #import-progress-label { width: auto; }
    ImportDialog #import-progress { width: 1fr; }
    ImportDialog #import-progress Bar { width: 1fr; }
    ImportDialog .keys { color: $text-muted; }
    """
    BINDINGS: ClassVar[list[Binding]] = [
        Binding("enter", "start", "Import", priority=True, id="import.start"),  # from any field
        Binding("escape", "cancel", "Cancel", id="import.cancel"),
    ]

    def __init__(self, studio: Any, session: Any = None, language: str = "en") -> None:
        super().__init__()
        self.studio = studio
        self.session = session
        self.language = language
        self.running = False

    def compose(self) -> ComposeResult:
        with Vertical():
            where = f"session {self.session.id}" if self.session is not None else "a new session"
            yield Static(Text(f"Import audio files into {where}"), classes="title")
            yield Static(Text("Audio files (WAV, FLAC, OGG, MP3), separated by spaces:"), classes="label")
            yield Input(placeholder="~/voice/memo.wav ~/voice/podcast.mp3", id="import-files", compact=True)
            yield Static(
                Text("Transcripts file (optional): one line per take, or a metadata.csv:"),
                classes="label",
            )
            yield Input(placeholder="~/voice/transcripts.txt", id="import-transcripts", compact=True)
            if self.session is None:
                yield Static(Text("Language spoken:"), classes="label")
                with RadioSet(id="import-language"):
                    for code, name in LANGUAGES:
                        yield RadioButton(name, value=code == self.language, id=f"import-lang-{code}")
            yield Static("", id="import-language-chosen", classes="keys")
            yield Static("", id="import-error")
            with Horizontal(id="import-progress-row"):
                yield Static("", id="import-progress-label")
                yield ProgressBar(total=1, show_eta=False, id="import-progress")
            choose = "   space: choose" if self.session is None else ""
            yield Static(f"enter: import   tab: next field{choose}   esc: cancel", classes="keys")

    def on_mount(self) -> None:
        self.query_one("#import-error").display = False
        self.query_one("#import-progress-row").display = False
        self.query_one("#import-files", Input).focus()
        self._say_language()

    @on(RadioSet.Changed, "#import-language")
    def _language_changed(self) -> None:
        self._say_language()

    def _say_language(self) -> None:
        """Name the chosen language in words, so the choice reads without colour."""
        if self.session is None:
            names = dict(LANGUAGES)
            chosen = self.query_one("#import-language-chosen", Static)
            name = names[self.selected_language()]
            chosen.update(Text(f"▶ chosen: {name}  (tab to it, then ←/→ and space)"))

    def selected_language(self) -> str:
        """The language chosen for a new session ('en' or 'zh')."""
        if self.session is not None:
            return str(self.session.language)
        pressed = self.query_one("#import-language", RadioSet).pressed_button
        return str(pressed.id).removeprefix("import-lang-") if pressed is not None else self.language

    def show_error(self, message: str) -> None:
        """Say what is wrong under the fields (the dialog stays open with what was typed)."""
        error = self.query_one("#import-error", Static)
        error.update(Text(message))
        error.display = bool(message)

    def show_progress(self, done: int, total: int, name: str) -> None:
        """Progress of the import (called on the UI thread)."""
        self.query_one("#import-progress-row").display = True
        label = f"Importing {min(done + 1, total)}/{total} {name} " if name else f"Imported {done}/{total} "
        self.query_one("#import-progress-label", Static).update(Text(label, overflow="ellipsis"))
        self.query_one("#import-progress", ProgressBar).update(total=max(total, 1), progress=done)

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.start()

    def action_start(self) -> None:
        """enter: import (from the path fields or the language buttons)."""
        self.start()

    def start(self) -> None:
        """Check the paths, then import in a worker; problems are shown here and nothing is created."""
        if self.running:
            return
        try:
            paths = parse_paths(self.query_one("#import-files", Input).value)
            extra = parse_paths(self.query_one("#import-transcripts", Input).value)
        except ValueError as exc:
            self.show_error(str(exc))
            return
        if not paths:
            self.show_error("Type the path of at least one audio file.")
            self.query_one("#import-files", Input).focus()
            return
        if len(extra) > 1:
            self.show_error("Give one transcripts file (or none).")
            return
        transcripts = extra[0] if extra else None
        problems = [p for p in map(unreadable, [*paths, *extra]) if p]
        if problems:
            self.show_error("Nothing was imported. " + " ".join(problems))
            return
        self.show_error("")
        self.running = True
        for field_ in self.query(Input):
            field_.disabled = True
        self.show_progress(0, len(paths), paths[0].name)
        self._import_worker(paths, transcripts, self.selected_language())

    @work(thread=True, exclusive=True, group="import", exit_on_error=False)
    def _import_worker(self, paths: list[Path], transcripts: Path | None, language: str) -> None:
        from engine.errors import TimbreError

        def progress(done: int, total: int, name: str) -> None:
            self.app.call_from_thread(self.show_progress, done, total, name)

        try:
            outcome = import_audio(
                self.studio,
                self.session,
                paths,
                transcripts=transcripts,
                language=language,
                progress=progress,
            )
        except TimbreError as exc:
            outcome = ImportOutcome(self.session, problems=[explain(exc)])
        except Exception as exc:  # an unexpected failure is said here, never lost in the worker
            outcome = ImportOutcome(self.session, problems=[f"The import failed: {exc}"])
        self.app.call_from_thread(self._finished, outcome)

    def _finished(self, outcome: ImportOutcome) -> None:
        self.running = False
        if outcome.take_ids:
            self.dismiss(outcome)
            return
        for field_ in self.query(Input):
            field_.disabled = False
        self.query_one("#import-progress-row").display = False
        self.show_error(outcome.message())
        self.query_one("#import-files", Input).focus()

    def action_cancel(self) -> None:
        if self.running:
            self.notify("Please wait: the files are being imported…", timeout=3)
            return
        self.dismiss(None)
