"""Review: every take with its quality verdict, the full report of one, and 'prepare for training'.

Verdicts are written as glyph and word (✓ ok, ! warn, ✗ fail), never colour alone. Analysis and
cleaning run in thread workers that report through ``call_from_thread`` (importing runs in the worker
of tui.screens.dialogs.ImportDialog, shared with Home), so the screen never blocks; the engine
(and noisereduce, which imports torch) is imported only inside them.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import DataTable, ProgressBar, Static
from textual.worker import get_current_worker

from tui.screens.base import TimbreScreen, compact_footer, explain
from tui.screens.dialogs import ImportDialog, ImportOutcome, TextDialog

VERDICT_TEXT: dict[str, str] = {"ok": "✓ ok", "warn": "! warn", "fail": "✗ fail", None: "… new"}
STATUS_TEXT: dict[str, str] = {
    "pending": "○ to record",
    "recorded": "◆ to review",
    "accepted": "✓ accepted",
    "skipped": "↷ skipped",
    "rejected": "✗ rejected",
}
CUT_SHORT_TEXT = "◐ cut short"
ANALYSED = ("recorded", "accepted")


def needs_analysis(take: Any) -> bool:
    """A recorded or accepted take without a stored report or without its speech seconds."""
    return take.status in ANALYSED and (not take.quality or take.speech_seconds is None)


def status_text(take: Any) -> str:
    """The status column: glyph and word ("◐ cut short" for a take cut short by a crash or a quit)."""
    if getattr(take, "cut_short", False):
        return CUT_SHORT_TEXT
    return STATUS_TEXT.get(take.status, take.status)


def training_line(session: Any) -> str:
    """One line saying what training gets: accepted takes only, how much speech, what waits for the person."""
    included, excluded = session.training_takes()
    to_review = sum(1 for t, _ in excluded if t.status == "recorded" and not t.cut_short)
    cut = sum(1 for t, _ in excluded if t.cut_short)
    line = f"Training uses accepted takes only: {len(included)} ({session.training_seconds:.0f} s of speech)"
    if to_review:
        line += f" · {to_review} to review (a)"
    if cut:
        line += f" · {cut} cut short"
    return line


def consent_line(session: Any) -> str:
    """The summary's consent line: the consent take and its speaker check, or what to do without one."""
    from engine import consent

    if consent.record_of(session) is None:
        return f"✗ No consent: press C, or timbre consent {session.id} --import FILE"
    if not consent.has_speech(session):
        return "✗ Consent take holds no speech: press C to record it again"
    return consent.summary_line(session)


def prepared_text(result: Any, session: Any) -> Text:
    """What 'prepare for training' did: the takes cleaned, then every take left out with the reason."""
    from engine.session import left_out_lines

    out = Text()
    n = len(result.cleaned)
    out.append(f"Prepared for training: {n} accepted take{'' if n == 1 else 's'}", style="bold")
    out.append(f", {result.seconds:.1f} s.\n" if n else ".\n")
    if not n:
        out.append("Nothing to train on yet: accept takes (a) that have a transcript.\n")
    by_id = {t.id: t for t in session.takes}
    left = [(by_id[i], why) for i, why in result.excluded if i in by_id]
    if left:
        out.append(f"\nLeft out ({len(left)}):\n", style="bold")
        for line in left_out_lines(left):
            out.append(f"• {line}\n")
    return out


class PreparedDialog(ModalScreen["str | None"]):
    """The outcome of 'prepare for training': enter or esc closes it; m makes a voice from the session."""

    DEFAULT_CSS = """
    PreparedDialog { align: center middle; }
    PreparedDialog > Vertical { width: 76; max-width: 100%; height: auto; max-height: 90%;
                                border: thick $accent; padding: 0 1; background: $surface; }
    PreparedDialog VerticalScroll { height: auto; max-height: 18; }
    PreparedDialog .keys { text-style: bold; }
    """

    BINDINGS: ClassVar[list[Binding]] = [
        Binding("enter,escape", "close", "Close", id="prepared.close"),
        Binding("m", "make_voice", "Make a voice now", id="prepared.voice"),
        Binding("T", "train", "Train a voice", key_display="shift+t", id="prepared.train"),
    ]

    def __init__(self, body: Text, offer_voice: bool = False) -> None:
        super().__init__()
        self.body = body
        self.offer_voice = offer_voice  # m: make a zero-shot voice from this session now

    def compose(self) -> ComposeResult:
        with Vertical():
            with VerticalScroll():
                yield Static(self.body, id="prepared-body")
            keys = "[enter] close" + ("   [m] make a voice from this session now" if self.offer_voice else "")
            keys += "\n[T] train a voice on this session (fine-tune)" if self.offer_voice else ""
            yield Static(Text(keys), classes="keys")

    def action_close(self) -> None:
        self.dismiss(None)

    def action_make_voice(self) -> None:
        if self.offer_voice:
            self.dismiss("voice")

    def action_train(self) -> None:
        if self.offer_voice:
            self.dismiss("train")


def update_transcript_check(quality: dict[str, Any], text: str) -> None:
    """Bring a stored take report's transcript check and overall verdict in step with ``text``."""
    from engine.audio.quality import worst

    has = bool(text.strip())
    missing = "No transcript: type what is said, or it is left out of training."
    for check in quality.get("checks", []):
        if check.get("key") == "transcript":
            check.update(
                verdict="ok" if has else "warn",
                figure=f"{len(text.strip())} characters" if has else "missing",
                advice="Has text." if has else missing,
            )
    quality["verdict"] = worst([c.get("verdict", "ok") for c in quality.get("checks", [])])


def report_text(take: Any) -> Text:
    """The full report of one take: a line per check (glyph, label, figure) and advice under problems."""
    out = Text()
    out.append(f"Take {take.id}", style="bold")
    out.append(f" · {status_text(take)} · {take.seconds:.1f} s")
    if take.speech_seconds is not None and take.status in ANALYSED:
        out.append(f" ({take.speech_seconds:.1f} s speech)")
    out.append("\n")
    if getattr(take, "cut_short", False):
        out.append(
            f"◐ Cut short ({take.interrupted_text}): left out of training until you record it again (r), "
            "edit the transcript to what was said (e), or accept it as it is (a).\n",
            style="bold",
        )
    out.append(take.text or "⟨no transcript: press e to type it⟩", style="italic" if take.text else "bold")
    out.append("\n")
    quality = take.quality
    if not quality:
        out.append("\nNot analysed yet." if take.status in ANALYSED else "\nNothing recorded.", style="dim")
        return out
    for check in quality.get("checks", []):
        verdict = check.get("verdict", "ok")
        glyph = {"ok": "✓", "warn": "!", "fail": "✗"}.get(verdict, "?")
        style = {"warn": "yellow", "fail": "bold red"}.get(verdict, "")
        out.append(f"\n{glyph} {check.get('label', '')}: ", style=style)
        out.append(str(check.get("figure", "")))
        if verdict != "ok" or check.get("key") == "dnsmos":  # the listening score explains itself
            out.append(f"\n    {check.get('advice', '')}", style="dim")
    return out


class ReviewScreen(TimbreScreen):
    """Check each take, listen raw against cleaned, keep or drop it, then prepare the session for training."""

    SUB_TITLE = "Review"
    HELP = """
Every take of the session with its quality verdict: ✓ ok, ! warning, ✗ fail (… not analysed yet).
The panel on the right is the full report of the selected take: each measurement and, for each
problem, what to do about it. The lines at the bottom sum up the session, worst problems first.
The listening score (DNSMOS) is a model's guess of how a listening panel would rate the take,
1 bad to 5 excellent, for the voice, the background and overall; it ranks reference takes.
◐ cut short marks a take that a crash, a quit or a lost microphone stopped mid-sentence.

a accepts the take, x rejects it, r records it again, e edits its transcript (a take without a
transcript is left out of training). p plays the raw take, c the cleaned one (made on first use),
to compare them. i imports audio files into this session. t prepares the session for training:
it uses accepted takes only, cleaning each one that has a transcript, was not cut short and does
not fail its check into clean/, and then lists every take it left out and why. T (shift+t) then
trains a voice on the session: it opens the Train screen with this session ticked.

The consent line says whether the speaker's consent statement is on record (consent.wav: the
statement read aloud, never used for training) and whether it sounds like the same speaker as the
accepted takes (checked when the session is prepared with t). Training and making a voice need it.
C (shift+c) records it now; or import a recording of it: timbre consent SESSION --import FILE.
"""

    BINDINGS: ClassVar[list[Binding]] = [
        Binding("a", "accept", "Accept", tooltip="Keep this take for training", id="review.accept"),
        Binding("x", "reject", "Reject", tooltip="Leave this take out", id="review.reject"),
        Binding(
            "r", "rerecord", "Re-record", show=False, tooltip="Record this prompt again", id="review.rerecord"
        ),
        Binding("e", "edit_text", "Edit", tooltip="Type or correct the transcript", id="review.edit"),
        Binding("p", "play_raw", "Play", tooltip="Listen to the take as recorded (raw)", id="review.play"),
        Binding("c", "play_clean", "Play clean", tooltip="Listen to the cleaned take", id="review.clean"),
        Binding(
            "t",
            "prepare",
            "Prepare",
            tooltip="Clean the accepted takes and mark the session ready",
            id="review.prepare",
        ),
        Binding("i", "import_files", "Import", tooltip="Add audio files to this session", id="review.import"),
        Binding(
            "T",
            "train",
            "Train",
            key_display="shift+t",
            show=False,  # the key bar is full at 80 columns; the title says "ready for training (T)"
            tooltip="Fine-tune a voice on this session (prepare it first with t)",
            id="review.train",
        ),
        Binding(
            "C",
            "consent",
            "Consent",
            key_display="shift+c",
            show=False,  # the key bar is full at 80 columns; the consent line names the key
            tooltip="Record the speaker's consent statement (training and voices need it)",
            id="review.consent",
        ),
        Binding("h,escape", "home", "Back", tooltip="Leave the Review screen", id="review.home"),
    ]

    DEFAULT_CSS = """
    ReviewScreen #review-title { height: 1; padding: 0 1; background: $panel; text-style: bold; }
    ReviewScreen #review-body { height: 1fr; }
    ReviewScreen #review-takes { width: 1fr; min-width: 36; }
    ReviewScreen #review-report-box { width: 45%; max-width: 60; border-left: solid $panel; padding: 0 1; }
    ReviewScreen #review-summary { height: auto; max-height: 4; padding: 0 1; border-top: solid $panel;
                                   text-wrap: nowrap; text-overflow: ellipsis; }
    ReviewScreen #review-progress-row { height: 1; padding: 0 1; }
    ReviewScreen #review-progress-label { width: auto; }
    ReviewScreen #review-progress { width: 1fr; }
    ReviewScreen #review-progress Bar { width: 1fr; }
    """

    def __init__(self, session: Any) -> None:
        super().__init__()
        self.session = session
        self.busy: str | None = None  # what a worker is doing ("preparing", "cleaning the take", ...)
        self._shown = False
        self._closed = False  # set when the screen is removed: late worker callbacks then do nothing

    # ------------------------------------------------------------- layout
    def compose(self) -> ComposeResult:
        yield Static("", id="review-title")
        with Horizontal(id="review-body"):
            table: DataTable = DataTable(id="review-takes", cursor_type="row", zebra_stripes=True)
            table.add_columns("Take", "Check", "Status", "Secs", "Text")
            yield table
            with VerticalScroll(id="review-report-box"):
                yield Static("", id="review-report")
        yield Static("", id="review-summary")
        with Horizontal(id="review-progress-row"):
            yield Static("", id="review-progress-label")
            yield ProgressBar(total=1, show_eta=False, id="review-progress")
        yield compact_footer()

    def on_mount(self) -> None:
        self.query_one("#review-progress-row").display = False
        self.refresh_all()
        self.query_one("#review-takes", DataTable).focus()
        self.announce_cut_short()
        self.announce_consent()
        if any(needs_analysis(t) for t in self.session.takes):
            self.analyse_missing()

    def on_unmount(self) -> None:
        self._closed = True

    def announce_cut_short(self) -> None:
        """Say which takes were cut short (a crash, a quit) and put the cursor on the first one."""
        cut = [self.session.takes[i] for i in self.session.cut_short_indices()]
        if not cut:
            return
        self.select_take(cut[0].id)
        names = ", ".join(f"{t.id} ({t.interrupted_text})" for t in cut)
        self.notify(
            f"Cut short: take {names}. Left out of training until you record it again (r), edit its "
            "transcript (e), or accept it as it is (a).",
            title="Takes cut short",
            severity="warning",
            timeout=15,
        )

    def announce_consent(self) -> None:
        """Say plainly when the session has no consent statement on record, and how to put one there."""
        from engine import consent

        if consent.record_of(self.session) is not None and consent.has_speech(self.session):
            return
        self.notify(
            f"Session {self.session.id} has no consent statement on record: training and making a voice "
            f"need the speaker reading it aloud. Press C (shift+c) to record it now, or import a "
            f"recording of it: timbre consent {self.session.id} --import FILE",
            title="Consent needed",
            severity="warning",
            timeout=15,
        )

    def on_screen_resume(self) -> None:
        if not self._shown:  # the first resume is the screen opening: on_mount did the work
            self._shown = True
            return
        self.reload_session()  # back from Record (or another screen): the session may have changed

    # ------------------------------------------------------------- data → widgets
    @property
    def index(self) -> int | None:
        table = self.query_one("#review-takes", DataTable)
        if table.row_count == 0:
            return None
        return min(table.cursor_row, len(self.session.takes) - 1)

    def refresh_all(self) -> None:
        """Redraw the table, the report of the selected take, the title and the summary."""
        if self._closed:  # a worker finished after the screen closed
            return
        table = self.query_one("#review-takes", DataTable)
        row = table.cursor_row if table.row_count else 0
        table.clear()
        for take in self.session.takes:
            verdict = (take.quality or {}).get("verdict") if take.status in ANALYSED else None
            check = VERDICT_TEXT.get(verdict, "…") if take.status in ANALYSED else "  –"
            text = take.text.replace("\n", " ") or "⟨no text⟩"
            table.add_row(
                take.id,
                check,
                status_text(take),
                f"{take.seconds:4.1f}" if take.seconds else "  – ",
                text,
                key=take.id,
            )
        if table.row_count:
            table.move_cursor(row=min(row, table.row_count - 1))
        self.refresh_report()
        self.refresh_summary()

    def refresh_report(self) -> None:
        index = self.index
        body = (
            report_text(self.session.takes[index])
            if index is not None
            else Text("No takes yet: press i to import.")
        )
        self.query_one("#review-report", Static).update(body)

    def session_summary(self) -> Any:
        """The session's quality summary built from the stored take reports."""
        from engine.audio.quality import TakeReport, summarise

        rows = []
        for take in self.session.takes:
            if take.status in ANALYSED:
                report = TakeReport.from_dict(take.quality) if take.quality else None
                rows.append((take.id, take.text, take.seconds, report))
        return summarise(self.session.id, rows, self.session.room_tone_path().is_file())

    def refresh_summary(self) -> None:
        summary = self.session_summary()
        ready = "✓ ready for training (T)" if self.session.ready else "not prepared yet (t)"
        seconds = self.session.training_seconds  # speech in the takes training uses (accepted ones)
        title = f"Review · {self.session.id} · {seconds:.0f} s for training of 60 s · {ready}"
        self.query_one("#review-title", Static).update(Text(title, no_wrap=True, overflow="ellipsis"))
        rank = {"fail": 0, "warn": 1}
        items = [
            (rank[c.verdict], f"{c.glyph} {c.label}: {c.figure}. {c.advice}")
            for c in summary.checks
            if c.verdict != "ok" and c.key != "total"  # the training line says how much speech counts
        ]
        items += [(rank[p.verdict], p.line()) for p in summary.problems]
        items.sort(key=lambda item: item[0])  # worst first; stable, so session totals lead each group
        problems = "\n".join(text for _, text in items[:2]) or "✓ No problems found."
        lines = Text(training_line(self.session) + "\n" + consent_line(self.session) + "\n" + problems)
        self.query_one("#review-summary", Static).update(lines)

    def reload_session(self) -> None:
        """Re-read the session from disk (after recording or another screen changed it)."""
        from engine.errors import TimbreError
        from engine.session import Session

        try:
            self.session = Session.load(self.app.studio, self.session.id)
        except TimbreError as exc:
            self.notify(explain(exc), severity="error", timeout=10)
            return
        self.refresh_all()
        if any(needs_analysis(t) for t in self.session.takes):
            self.analyse_missing()

    def select_take(self, take_id: str) -> None:
        """Move the cursor to the take ``take_id`` (e.g. the first one just imported)."""
        if self._closed:
            return
        table = self.query_one("#review-takes", DataTable)
        if take_id in {str(key.value) for key in table.rows}:
            table.move_cursor(row=table.get_row_index(take_id))

    @on(DataTable.RowHighlighted, "#review-takes")
    def _row_moved(self, event: DataTable.RowHighlighted) -> None:
        self.refresh_report()

    # ------------------------------------------------------------- progress (called on the UI thread)
    def show_progress(self, label: str, done: int, total: int) -> None:
        if self._closed:  # a worker finished after the screen closed
            return
        self.query_one("#review-progress-row").display = True
        self.query_one("#review-progress-label", Static).update(f"{label} {done}/{total} ")
        self.query_one("#review-progress", ProgressBar).update(total=max(total, 1), progress=done)

    def hide_progress(self) -> None:
        if self._closed:  # a worker finished after the screen closed
            return
        self.query_one("#review-progress-row").display = False

    def is_busy(self) -> bool:
        if self.busy:
            self.notify(f"Please wait: {self.busy}…", timeout=2)
            return True
        return False

    # ------------------------------------------------------------- workers
    @work(thread=True, exclusive=True, group="review-analysis", exit_on_error=False)
    def analyse_missing(self) -> None:
        """Analyse takes that have no stored report, and measure the speech of those without (thread)."""
        from engine.audio.quality import analyse_file

        todo = [i for i, t in enumerate(self.session.takes) if needs_analysis(t)]
        worker = get_current_worker()
        for n, index in enumerate(todo):
            if worker.is_cancelled:
                return
            take = self.session.takes[index]
            path = self.session.take_path(index)
            if not path.is_file():
                continue
            try:
                if not take.quality:
                    take.quality = analyse_file(
                        path, overflow_count=take.overflow_count, transcript=take.text, take_id=take.id
                    ).to_dict()
            except Exception as exc:  # an unreadable take is shown, not fatal
                self.app.call_from_thread(self.notify, f"Take {take.id}: {exc}", severity="warning")
                continue
            if take.speech_seconds is None:  # e.g. just imported: what counts toward the 60 s
                take.speech_seconds = self.session.measure_speech(index)
            self.app.call_from_thread(self.show_progress, "Checking", n + 1, len(todo))
        self.session.save()
        self.app.call_from_thread(self._analysis_done)

    def _analysis_done(self) -> None:
        if self._closed:  # a worker finished after the screen closed
            return
        if not self.busy:
            self.hide_progress()
        self.refresh_all()

    @work(thread=True, exclusive=True, group="review-prepare", exit_on_error=False)
    def _prepare_worker(self) -> None:
        from engine.audio.denoise import prepare_session
        from engine.errors import TimbreError

        def progress(done: int, total: int, take_id: str) -> None:
            self.app.call_from_thread(self.show_progress, "Cleaning", done, total)

        try:
            result = prepare_session(self.session, progress=progress)
        except TimbreError as exc:
            self.app.call_from_thread(self._finish, explain(exc), "error")
            return
        self._speaker_check()
        excluded = f"; {len(result.excluded)} left out" if result.excluded else ""
        if result.cleaned:
            message = (
                f"{len(result.cleaned)} accepted takes cleaned ({result.seconds:.0f} s){excluded}. "
                "Ready for training."
            )
            self.app.call_from_thread(self._finish, message, "information", result)
        else:
            self.app.call_from_thread(
                self._finish,
                f"No take could be prepared{excluded}: accept takes (a) with a transcript.",
                "warning",
                result,
            )

    def _speaker_check(self) -> None:
        """In the prepare worker: the consent take against the accepted takes (saved to session.json)."""
        from engine import consent

        if consent.record_of(self.session) is None:
            return
        try:
            consent.speaker_check(self.session)
        except Exception as exc:  # noqa: BLE001 - the check is advice; preparing still counts
            self.log.warning(f"speaker check failed: {exc}")

    def _finish(self, message: str, severity: str, prepared: Any = None) -> None:
        self.busy = None
        if self._closed:
            self.app.notify(message, severity=severity, timeout=8)  # type: ignore[arg-type]
            return
        self.hide_progress()
        self.refresh_all()
        self.notify(message, severity=severity, timeout=8)  # type: ignore[arg-type]
        if prepared is not None:  # name every take left out, and why
            self.app.push_screen(
                PreparedDialog(prepared_text(prepared, self.session), offer_voice=bool(prepared.cleaned)),
                callback=self._prepared_closed,
            )

    def _prepared_closed(self, answer: str | None) -> None:
        """m in the prepared dialog: make a voice from this session now and open Speak with it."""
        if answer == "voice":
            from tui.widgets.voices import make_voice_from_session

            make_voice_from_session(self.app, self.session.id)
        elif answer == "train":
            self.action_train()

    @work(thread=True, exclusive=True, group="review-clean-one", exit_on_error=False)
    def _clean_and_play(self, index: int) -> None:
        from engine.audio.denoise import clean_file, load_noise_profile, recording_in_progress
        from engine.errors import TimbreError

        try:
            if recording_in_progress(self.session):
                raise TimbreError("A take is being recorded.", "Stop the recording first.")
            noise = load_noise_profile(self.session.room_tone_path())
            clean_file(self.session.take_path(index), self.session.clean_path(index), noise)
            self.app.services.play(self.session.clean_path(index))
        except TimbreError as exc:
            self.app.call_from_thread(self._finish, explain(exc), "warning")
            return
        self.app.call_from_thread(
            self._finish, f"Playing cleaned take {self.session.takes[index].id}…", "information"
        )

    # ------------------------------------------------------------- actions
    def _set_status(self, status: str) -> None:
        from engine.errors import TimbreError

        index = self.index
        if index is None or self.is_busy():
            return
        try:
            self.session.set_status(index, status)
        except TimbreError as exc:
            self.notify(explain(exc), severity="warning", timeout=6)
            return
        self.refresh_all()

    def action_accept(self) -> None:
        """a: keep the selected take."""
        index = self.index
        if index is not None and not self.session.takes[index].text.strip():
            self.notify(
                "This take has no transcript yet; it is left out of training until you type it (e).",
                severity="warning",
                timeout=6,
            )
        if index is not None and self.session.takes[index].cut_short:
            self.notify("Accepted as it is, although it was cut short.", timeout=4)
        self._set_status("accepted")

    def action_reject(self) -> None:
        """x: leave the selected take out."""
        self._set_status("rejected")

    async def action_rerecord(self) -> None:
        """r: mark the take to be recorded again and open the Record screen."""
        index = self.index
        if index is None or self.is_busy():
            return
        if self.app.refuse_recording():
            return
        recorder = await self.app.open_recorder(self.session.device, self.session.samplerate or None)
        if recorder is None:  # the take keeps its status when the microphone cannot be opened
            return
        self.session.set_status(index, "pending")
        self.refresh_all()
        self.app.open_screen("record", session=self.session, recorder=recorder, start_at=index)

    def action_edit_text(self) -> None:
        """e: type or correct the transcript of the selected take."""
        index = self.index
        if index is None or self.is_busy():
            return
        take = self.session.takes[index]

        def done(value: str | None) -> None:
            if value is None:
                return
            self.session.set_text(index, value)
            if take.quality:
                update_transcript_check(take.quality, take.text)
                self.session.save()
            self.refresh_all()

        self.app.push_screen(
            TextDialog(f"Transcript of take {take.id}:", take.text, "what is said in the take"), callback=done
        )

    async def action_play_raw(self) -> None:
        """p: play the take as recorded."""
        index = self.index
        if index is None:
            return
        path = self.session.take_path(index)
        if not path.is_file():
            self.notify("Nothing recorded for this take.", timeout=2)
            return
        await self._play(path, f"Playing raw take {self.session.takes[index].id}…")

    async def action_play_clean(self) -> None:
        """c: play the cleaned take (cleaning it first if needed)."""
        index = self.index
        if index is None:
            return
        if not self.session.take_path(index).is_file():
            self.notify("Nothing recorded for this take.", timeout=2)
            return
        clean = self.session.clean_path(index)
        if clean.is_file() and clean.stat().st_mtime >= self.session.take_path(index).stat().st_mtime:
            await self._play(clean, f"Playing cleaned take {self.session.takes[index].id}…")
            return
        if self.is_busy():
            return
        self.busy = "cleaning the take"
        self.show_progress("Cleaning", 0, 1)
        self._clean_and_play(index)

    async def _play(self, path: Path, message: str) -> None:
        from engine.errors import TimbreError

        try:
            await asyncio.to_thread(self.app.services.play, path)
        except TimbreError as exc:
            self.notify(explain(exc), title="Playback", severity="warning", timeout=10)
            return
        self.notify(message, timeout=2)

    def action_prepare(self) -> None:
        """t: clean every usable take into clean/ and mark the session ready (in a worker)."""
        if self.is_busy():
            return
        self.busy = "preparing for training"
        accepted = sum(1 for t in self.session.takes if t.status == "accepted")  # accepted takes only
        self.show_progress("Cleaning", 0, max(1, accepted))
        self._prepare_worker()

    def action_train(self) -> None:
        """T: open Train with this session ticked (once it is prepared for training)."""
        if self.is_busy():
            return
        if not self.session.ready:
            self.notify(
                "Prepare the session for training first (t): it cleans the accepted takes.",
                severity="warning",
                timeout=6,
            )
            return
        self.app.open_screen("train-start", session_ids=[self.session.id])

    async def action_consent(self) -> None:
        """C: record the speaker's consent statement (the Record screen's consent step, then back here)."""
        if self.is_busy() or self.app.refuse_recording():
            return
        recorder = await self.app.open_recorder(self.session.device, self.session.samplerate or None)
        if recorder is None:
            return
        self.app.open_screen("record", session=self.session, recorder=recorder, consent_only=True)

    def action_import_files(self) -> None:
        """i: import audio files into this session (the dialog imports them in a worker, with progress)."""
        if self.is_busy():
            return
        self.app.push_screen(ImportDialog(self.app.studio, self.session), callback=self._imported)

    def _imported(self, outcome: ImportOutcome | None) -> None:
        if outcome is None:
            return
        self.notify(outcome.message(), severity=outcome.severity, timeout=8)  # type: ignore[arg-type]
        self.refresh_all()
        if outcome.take_ids:
            self.select_take(outcome.take_ids[0])
        self.analyse_missing()

    def action_home(self) -> None:
        """h/esc: back to the previous screen."""
        self.dismiss()
