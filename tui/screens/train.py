"""Train monitor: watch a fine-tune run, hear every epoch's sample, pick the epoch to keep.

The trainer is a subprocess (``python -m engine.train``) speaking JSON-lines events (engine.train.events).
When this screen starts it, a worker reads the subprocess's stdout; when it opens on a run that is already
going (the app was restarted), it tails ``voices/<name>/train/events.jsonl``. Either way every event is
folded into an :class:`engine.train.runs.RunState`, and a timer redraws the panes a few times a second
from that state, so a trainer sending hundreds of events a second costs the UI the same as one sending
a few. Quitting the app leaves the trainer running (it is started in its own session).
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
from pathlib import Path
from typing import Any, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Header, Static

from engine.train.events import EVENTS_FILE, EventError, parse
from engine.train.launch import TrainOptions, resume_options, trainer_command
from engine.train.runs import STATUS_TEXT, EventTail, RunState, format_eta, read_run
from tui.screens.base import TimbreScreen, compact_footer, explain
from tui.widgets.sparkline import bar, sparkline

REFRESH_S = 0.2  # how often the panes are redrawn from the state (not per event)
TAIL_S = 0.25  # how often a reattached run's event file is read


class TrainMonitorScreen(TimbreScreen):
    """Progress, losses, samples and log of one training run."""

    SUB_TITLE = "Train"
    HELP = """
The voice is being fine-tuned in a separate process: first SoVITS (how your voice sounds), then the
GPT (how you speak). Each phase shows a progress bar with the time left, and a small curve for every
loss it reports (lower is better; the curves wobble, what matters is the trend).

After each epoch the trainer speaks a test sentence with the new weights. The samples are listed with
their similarity to your reference clip (1.0 = the same voice). Select one with the arrow keys and
press p to hear it. When an epoch sounds best, press u to make the voice speak with that epoch.
Too much training shows as similarity falling, a noisy sound (SoVITS) or repeated words (GPT): the
screen says so when it sees it.

Quitting Timbre does not stop training; open the voice from Home to see it again. Cancel with c
(the trainer saves a checkpoint first); resume a cancelled or stopped run with r.
"""

    BINDINGS: ClassVar[list[Binding]] = [
        Binding("p", "play", "Play sample", tooltip="Play the selected epoch's sample", id="train.play"),
        Binding(
            "u", "use_epoch", "Use epoch", tooltip="Make the voice speak with this epoch", id="train.use"
        ),
        Binding(
            "c", "cancel", "Cancel", tooltip="Stop training (saves a checkpoint first)", id="train.cancel"
        ),
        Binding("r", "resume", "Resume", tooltip="Continue a cancelled or stopped run", id="train.resume"),
        Binding("escape,h", "home", "Home", key_display="esc", tooltip="Back to Home", id="train.home"),
    ]

    def __init__(
        self,
        voice: str,
        options: TrainOptions | None = None,
        command: list[str] | None = None,
    ) -> None:
        super().__init__()
        self.voice = voice
        self.options = options
        self.command = command  # an explicit argv (tests: a replayer); else built from options
        self.state = RunState(voice=voice)
        self.proc: subprocess.Popen[bytes] | None = None
        self.pid: int | None = None
        self.cancel_requested = False
        self._dirty = True
        self._tail: EventTail | None = None
        self._sample_rows: list[str] = []
        self.played: str | None = None  # what the player line says
        self.bad_lines = 0
        self._shown_running: tuple[str, bool] | None = None

    # ------------------------------------------------------------------ layout
    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("", id="run-status")
        yield Static("", id="phases")
        yield Static("", id="losses")
        yield Static("", id="advice")
        table: DataTable = DataTable(id="samples", cursor_type="row", zebra_stripes=True)
        table.add_column(" ", key="mark", width=1)
        table.add_columns("Phase", "Epoch", "Similar", "Length", "Curve")
        yield table
        yield Static("", id="player")
        yield Static("", id="log")
        yield compact_footer()

    @property
    def train_dir(self) -> Path:
        return self.app.studio.voice_dir(self.voice) / "train"

    def on_mount(self) -> None:
        if self.command is not None or self.options is not None:
            self.launch(self.command or self.options)
        else:
            self.attach()
        self.set_interval(REFRESH_S, self._refresh_if_dirty)
        self.redraw()
        self.query_one("#samples", DataTable).focus()

    # ------------------------------------------------------------------ events
    def apply(self, line: str | bytes) -> None:
        """Fold one line of trainer output into the state (non-event lines are counted, not shown)."""
        try:
            event = parse(line)
        except EventError:
            self.bad_lines += 1
            return
        if event is None:
            return
        self.state.apply(event)
        if event.kind == "cancelled":
            self.cancel_requested = False
        self._dirty = True

    def attach(self) -> None:
        """Show a run started earlier: everything in its event file, then whatever it appends."""
        info = read_run(self.train_dir, self.voice)
        self.state = info.state
        self.pid = info.pid
        self._tail = EventTail(self.train_dir / EVENTS_FILE)
        self._tail.read()  # everything so far is already in the state
        if info.pid is not None:
            self.set_interval(TAIL_S, self._poll_tail)

    def _poll_tail(self) -> None:
        if self._tail is None or self.proc is not None:
            return
        for event in self._tail.read():
            self.state.apply(event)
            self._dirty = True
        if not self.state.finished and self.pid is not None:
            info_pid = read_run(self.train_dir, self.voice).pid if self.state.events else self.pid
            if info_pid is None:  # the trainer died without a last word
                for event in self._tail.read():
                    self.state.apply(event)
                if not self.state.finished:
                    self.state.status = "stopped"
                self.pid = None
                self._dirty = True

    def launch(self, what: list[str] | TrainOptions | None) -> None:
        """Start the trainer for ``what`` (an argv, or options to build one); a bad one shows as an error."""
        from engine.errors import TimbreError

        assert what is not None
        try:
            argv = what if isinstance(what, list) else trainer_command(self.app.studio.root, what)
        except TimbreError as exc:
            self.state = RunState(voice=self.voice, status="error", error=(exc.message, exc.hint or ""))
            self._dirty = True
            return
        self.start_trainer(argv)

    @work(exclusive=True, group="trainer", exit_on_error=False)
    async def start_trainer(self, argv: list[str]) -> None:
        """Run the trainer and read its events until it exits.

        The process is a plain ``subprocess.Popen`` whose stdout is read through the event loop: an
        asyncio subprocess transport would kill the trainer when it is closed or collected (the app
        quitting), and training must outlive the app.
        """
        self.state = RunState(voice=self.voice, status="starting")
        self.cancel_requested = False
        self._dirty = True
        log_dir = self.train_dir
        log_dir.mkdir(parents=True, exist_ok=True)
        stderr_file = open(log_dir / "stderr.log", "ab")  # noqa: SIM115 - closed when the process ends
        try:
            proc = subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=stderr_file,
                start_new_session=True,  # Ctrl+C in the terminal and quitting the app leave it running
                env={**os.environ, "PYTHONUNBUFFERED": "1"},
            )
        except OSError as exc:
            stderr_file.close()
            self.state.status = "error"
            self.state.error = (f"Could not start the trainer: {exc}", "Check the installation (make run).")
            self._dirty = True
            return
        self.proc = proc
        self.pid = proc.pid
        assert proc.stdout is not None
        reader = asyncio.StreamReader(limit=2**20)
        transport = None
        try:
            transport, _ = await asyncio.get_running_loop().connect_read_pipe(
                lambda: asyncio.StreamReaderProtocol(reader), proc.stdout
            )
            while True:
                line = await reader.readline()
                if not line:
                    break
                self.apply(line)
        finally:  # also when the app quits: only our end of the pipe closes, the trainer goes on
            if transport is not None:
                transport.close()
            else:
                proc.stdout.close()
            stderr_file.close()
        code = await asyncio.to_thread(proc.wait)
        if not self.state.finished:
            if code == 0 and self.state.events:
                self.state.status = "done"
            else:
                self.state.status = "error" if code else "stopped"
                self.state.error = self.state.error or (
                    f"The trainer stopped (exit code {code}) without saying why.",
                    f"See {log_dir / 'stderr.log'}; press r to resume.",
                )
        self.proc = None
        self.pid = None
        self._dirty = True

    # ------------------------------------------------------------------ drawing
    def _refresh_if_dirty(self) -> None:
        if self._dirty:
            self.redraw()

    def redraw(self) -> None:
        """Draw every pane from the state."""
        self._dirty = False
        s = self.state
        running = (s.status, self.proc is not None or self.pid is not None)
        if running != self._shown_running:  # the footer offers cancel or resume to match
            self._shown_running = running
            self.refresh_bindings()
        width = max(40, self.size.width or 80)
        status = STATUS_TEXT.get(s.status, s.status)
        if self.cancel_requested and not s.finished:
            status = STATUS_TEXT["cancelling"]
        bits = [f"Voice {self.voice}", status.upper()]
        if s.device:
            bits.append(s.device)
        if s.gpu_name:
            bits.append(s.gpu_name + (f" {s.gpu_mem_mb:.0f} MB" if s.gpu_mem_mb is not None else ""))
        elif s.gpu_mem_mb is not None:
            bits.append(f"GPU {s.gpu_mem_mb:.0f} MB")
        if s.steps_per_s is not None:
            bits.append(f"{s.steps_per_s:.2f} steps/s")
        if s.lr is not None:
            bits.append(f"lr {s.lr:.1e}")
        self.query_one("#run-status", Static).update(
            Text(" · ".join(bits), overflow="ellipsis", no_wrap=True)
        )

        lines = []
        for ph in s.phases.values():
            mark = "✓" if ph.finished else ("▶" if ph.name == s.current else " ")
            epoch = (
                f"epoch {ph.epoch}/{ph.epochs}" if ph.epochs else (f"epoch {ph.epoch}" if ph.epoch else "")
            )
            steps = f"step {ph.step}/{ph.total_steps}" if ph.total_steps else ""
            eta = "" if ph.finished or ph.name != s.current else f"ETA {format_eta(ph.eta_s)}"
            right = "  ".join(x for x in (epoch, steps, eta) if x)
            bar_w = max(8, width - 14 - len(right) - 6)
            lines.append(f"{mark} {ph.name:<7} {bar(ph.fraction, bar_w)} {ph.fraction * 100:3.0f}%  {right}")
        self.query_one("#phases", Static).update(Text("\n".join(lines) or "Waiting for the trainer…"))

        loss_lines = []
        current = s.phases.get(s.current or "")
        if current is None or not current.losses:  # between phases: the last curves seen
            current = next((ph for ph in reversed(s.phases.values()) if ph.losses), None)
        if current is not None:
            for name, series in list(current.losses.items())[:4]:
                label = f"  {current.name}.{name}"[:18].ljust(18) + f"{series.last:9.4f} "
                loss_lines.append(label + sparkline(series.values(), max(10, width - len(label) - 2)))
        self.query_one("#losses", Static).update(Text("\n".join(loss_lines)))

        advice: list[Text] = []
        if s.status == "error" and s.error:
            advice.append(Text(f"✗ {s.error[0]} {s.error[1]}".strip(), style="bold"))
        elif s.status == "stopped":
            advice.append(
                Text(
                    "✗ The trainer stopped unexpectedly. Press r to resume from its last checkpoint.",
                    style="bold",
                )
            )
        elif s.status == "cancelled":
            advice.append(Text("■ Cancelled; a checkpoint was saved. Press r to resume.", style="bold"))
        elif s.status == "done":
            advice.append(Text(f"✓ Finished: the voice {self.voice} is ready to speak.", style="bold"))
        advice += [Text(f"! {w}") for w in s.warnings()]
        self.query_one("#advice", Static).update(Text("\n").join(advice))
        self._draw_samples()

        player = self.query_one("#player", Static)
        player.update(Text(self.played or "", overflow="ellipsis"))
        player.display = bool(self.played)
        log_lines = []
        for level, message in list(s.log)[-4:]:
            prefix = {"warning": "! ", "error": "✗ "}.get(level, "  ")
            log_lines.append(
                Text(
                    prefix + message,
                    style="bold" if level in ("warning", "error") else "",
                    overflow="ellipsis",
                    no_wrap=True,
                )
            )
        self.query_one("#log", Static).update(Text("\n").join(log_lines))

    def _draw_samples(self) -> None:
        table = self.query_one("#samples", DataTable)
        samples = self.state.samples
        keys = [f"{x.phase}-{x.epoch}-{i}" for i, x in enumerate(samples)]
        if keys == self._sample_rows:
            return
        chosen = self.chosen_epochs()
        for i, sample in enumerate(samples):
            key = keys[i]
            if key in self._sample_rows:
                continue
            same = [
                x.similarity for x in samples[: i + 1] if x.phase == sample.phase and x.similarity is not None
            ]
            kept = " ✓ in use" if chosen.get(sample.phase) == sample.epoch else ""
            table.add_row(
                " ",
                sample.phase,
                f"{sample.epoch}{kept}",
                f"{sample.similarity:.3f}" if sample.similarity is not None else "—",
                f"{sample.seconds:.1f} s" if sample.seconds else "—",
                sparkline(same, 12),
                key=key,
            )
        self._sample_rows = keys

    def chosen_epochs(self) -> dict[str, int]:
        """Which epoch of each phase the voice speaks with (from voice.json), when one was chosen."""
        from engine.fsutil import read_json

        try:
            data = read_json(self.app.studio.voice_dir(self.voice) / "voice.json")
        except Exception:  # no voice yet, or a damaged file: nothing chosen
            return {}
        chosen = data.get("epochs") if isinstance(data, dict) else None
        if not isinstance(chosen, dict):
            return {}
        return {k: v for k, v in chosen.items() if isinstance(v, int)}

    @on(DataTable.RowHighlighted, "#samples")
    def _mark_row(self, event: DataTable.RowHighlighted) -> None:
        table = event.data_table
        for key in table.rows:
            table.update_cell(key, "mark", "▶" if key == event.row_key else " ")

    def selected_sample(self) -> Any:
        table = self.query_one("#samples", DataTable)
        if table.row_count == 0:
            return None
        row_key, _ = table.coordinate_to_cell_key(table.cursor_coordinate)
        try:
            return self.state.samples[self._sample_rows.index(str(row_key.value))]
        except ValueError:
            return None

    # ------------------------------------------------------------------ actions
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        running = not self.state.finished and (self.proc is not None or self.pid is not None)
        if action == "cancel":
            return running
        if action == "resume":
            return not running and self.state.status in ("cancelled", "stopped", "error")
        return True

    async def action_play(self) -> None:
        """p: play the selected sample (its path is shown when there is no output device)."""
        from engine.errors import TimbreError

        sample = self.selected_sample()
        if sample is None:
            self.notify("No sample yet: one comes after every epoch.")
            return
        path = Path(sample.wav)
        if not path.is_absolute():
            path = self.train_dir / path
        try:
            await asyncio.to_thread(self.app.services.play, path)
            self.played = f"♪ {sample.phase} epoch {sample.epoch}: {path}"
        except TimbreError as exc:
            self.played = f"♪ No sound here. {sample.phase} epoch {sample.epoch} is at {path}"
            self.notify(explain(exc), severity="warning", timeout=8)
        self._dirty = True

    async def action_use_epoch(self) -> None:
        """u: make the voice speak with the selected sample's epoch."""
        from engine.errors import TimbreError

        sample = self.selected_sample()
        if sample is None:
            self.notify("No epoch to choose yet.")
            return
        try:
            from engine.train.epochs import use_epoch
        except ImportError:
            self.notify(
                "Choosing an epoch needs the trainer's epoch store, which is missing.", severity="error"
            )
            return
        try:
            await asyncio.to_thread(
                use_epoch, self.app.studio.voice_dir(self.voice), sample.phase, sample.epoch
            )
        except TimbreError as exc:
            self.notify(explain(exc), severity="error", timeout=10)
            return
        table = self.query_one("#samples", DataTable)
        row = table.cursor_row
        self._sample_rows = []
        table.clear()
        self.redraw()  # the rows again, with the new "✓ in use" marks
        table.move_cursor(row=row)  # the cursor stays on the epoch just chosen
        self.notify(f"The voice {self.voice} now speaks with {sample.phase} epoch {sample.epoch}.")

    def action_cancel(self) -> None:
        """c: ask, then stop the trainer cleanly (SIGINT: it saves a checkpoint and says 'cancelled')."""
        from tui.screens.dialogs import ConfirmDialog

        self.app.push_screen(
            ConfirmDialog(
                "Stop training? A checkpoint is saved first; r resumes later.", "stop", "keep training"
            ),
            callback=self._confirmed_cancel,
        )

    def _confirmed_cancel(self, yes: bool | None) -> None:
        if not yes:
            return
        pid = self.proc.pid if self.proc is not None else self.pid
        if pid is None:
            return
        try:
            os.kill(pid, signal.SIGINT)
        except ProcessLookupError:
            return
        self.cancel_requested = True
        self._dirty = True

    def action_resume(self) -> None:
        """r: continue the run from its last checkpoint."""
        options = resume_options(self.voice, self.state.config)
        if self.options is not None:
            options.sessions = options.sessions or list(self.options.sessions)
        self.options = options
        self._sample_rows = []
        self.query_one("#samples", DataTable).clear()
        self.launch(options)

    def action_home(self) -> None:
        """esc: back to Home (training goes on)."""
        self.app.pop_screen()
