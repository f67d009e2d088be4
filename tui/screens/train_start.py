"""Train start: choose the voice name, sessions, epochs, batch and device, see what will happen, start."""

from __future__ import annotations

import asyncio
from typing import Any, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Header, Input, Label, Select, SelectionList, Static

from engine.train.launch import DEFAULT_GPT_EPOCHS, DEFAULT_SOVITS_EPOCHS, TrainOptions
from tui.screens.base import TimbreScreen, compact_footer


class TrainStartScreen(TimbreScreen):
    """The choices before a fine-tune, and a preview of the run."""

    SUB_TITLE = "Train a voice"
    HELP = """
Fine-tuning turns your accepted takes into a voice of your own: first SoVITS learns how your voice
sounds, then the GPT learns how you speak. The official defaults (8 and 15 epochs) suit one minute of
speech; more epochs can over-train (the monitor warns you when it sees it).

Tab moves between the fields; space ticks a session in the list. Batch size "auto" lets the trainer
pick from the free GPU memory (on the CPU, from the RAM). Press ctrl+s to start. The preview below
says how much speech will be used, which takes are left out and why, and the reference clip chosen.
"""

    BINDINGS: ClassVar[list[Binding]] = [
        Binding(
            "ctrl+s",
            "start",
            "Start",
            priority=True,
            tooltip="Start training with these choices",
            id="start.go",
        ),
        Binding(
            "escape", "back", "Back", key_display="esc", tooltip="Leave without training", id="start.back"
        ),
    ]

    def __init__(self, session_ids: list[str] | None = None, voice: str | None = None) -> None:
        super().__init__()
        self.preselected = list(session_ids or [])
        self.default_voice = voice or (self.preselected[0] if self.preselected else "my-voice")
        self.plan: Any = None
        self.devices: list[Any] = []

    def compose(self) -> ComposeResult:
        yield Header()
        with VerticalScroll(id="start-form"):
            with Horizontal(classes="row"):
                yield Label("Voice name ", classes="label")
                yield Input(self.default_voice, id="voice-name")
            yield Label("Sessions to train on (space ticks):", classes="label")
            yield SelectionList[str](id="sessions")
            with Horizontal(classes="row"):
                yield Label("SoVITS epochs", classes="label")
                yield Input(str(DEFAULT_SOVITS_EPOCHS), id="sovits-epochs", type="integer")
                yield Label(" GPT epochs", classes="label")
                yield Input(str(DEFAULT_GPT_EPOCHS), id="gpt-epochs", type="integer")
                yield Label(" Batch", classes="label")
                yield Input("auto", id="batch-size")
            with Horizontal(classes="row"):
                yield Label("Device ", classes="label")
                yield Select([("looking for GPUs…", "")], id="device", allow_blank=False)
            yield Static("", id="refusal")
            yield Static("Working out what training will use…", id="preview")
        yield compact_footer()

    def on_mount(self) -> None:
        lst = self.query_one("#sessions", SelectionList)
        for sid in self.app.studio.session_ids():
            lst.add_option((sid, sid, sid in self.preselected))
        self.find_devices()
        self.refresh_plan()
        self.query_one("#voice-name", Input).focus()

    @work(exclusive=True, group="train-devices", exit_on_error=False)
    async def find_devices(self) -> None:
        from engine.train.plan import devices

        self.devices = await asyncio.to_thread(devices)
        select = self.query_one("#device", Select)
        select.set_options([(d.label, d.name) for d in self.devices])
        select.value = self.devices[0].name
        self.refresh_plan()  # the CPU warning depends on the device

    @on(SelectionList.SelectedChanged, "#sessions")
    def _sessions_changed(self) -> None:
        self.refresh_plan()

    def chosen_sessions(self) -> list[str]:
        return [str(v) for v in self.query_one("#sessions", SelectionList).selected]

    @work(exclusive=True, group="train-plan", exit_on_error=False)
    async def refresh_plan(self) -> None:
        from engine.train.plan import plan

        self.plan = await asyncio.to_thread(plan, self.app.studio, self.chosen_sessions())
        self.query_one("#preview", Static).update(self.describe(self.plan))

    def describe(self, p: Any) -> Text:
        """The preview as text (readable without colour)."""
        out = Text()
        out.append(f"Usable speech: {p.speech_s:.1f} s in {p.takes} takes\n", style="bold")
        if p.reference:
            out.append(f"Reference clip: {p.reference}\n")
        if p.estimate:
            out.append(f"Estimated time: {p.estimate}\n")
        else:
            out.append("Estimated time: not known yet (no earlier run here)\n")
        for line in p.problems:
            out.append(f"✗ {line}\n", style="bold")
        for line in p.warnings:
            out.append(f"! {line}\n")
        if p.left_out:
            out.append(f"Left out ({len(p.left_out)}):\n")
            for key, why in p.left_out[:8]:
                out.append(f"  {key}: {why}\n")
            if len(p.left_out) > 8:
                out.append(f"  … and {len(p.left_out) - 8} more\n")
        if self.query_one("#device", Select).value == "cpu":
            out.append("! Training on the CPU is slow: expect hours for the default recipe.\n")
        return out

    def options(self) -> TrainOptions | str:
        """The chosen options, or what is wrong with them."""
        from engine.errors import TimbreError
        from engine.fsutil import safe_name
        from engine.train.plan import voice_taken

        raw = self.query_one("#voice-name", Input).value.strip()
        try:
            name = safe_name(raw, what="voice name")
        except TimbreError as exc:
            return exc.message
        if name != raw:
            return f"The voice name {raw!r} would be saved as {name!r}: use letters, digits, '-', '_' or '.'."
        if voice_taken(self.app.studio, name):
            return f"A voice called {name!r} exists already: choose another name (its run is on Home)."
        numbers: dict[str, int | None] = {}
        for field, low, high in (("sovits-epochs", 1, 100), ("gpt-epochs", 1, 100), ("batch-size", 1, 256)):
            text = self.query_one(f"#{field}", Input).value.strip().lower()
            if field == "batch-size" and text in ("", "auto"):
                numbers[field] = None
                continue
            if not text.isdigit() or not low <= int(text) <= high:
                return f"{field.replace('-', ' ').capitalize()} must be a whole number from {low} to {high}."
            numbers[field] = int(text)
        device = self.query_one("#device", Select).value
        return TrainOptions(
            voice=name,
            sessions=self.chosen_sessions(),
            sovits_epochs=numbers["sovits-epochs"],
            gpt_epochs=numbers["gpt-epochs"],
            batch_size=numbers["batch-size"],
            device=str(device) if isinstance(device, str) and device else None,
        )

    async def action_start(self) -> None:
        """ctrl+s: check the choices and open the monitor on a new run."""
        from engine.train.plan import plan

        chosen = self.options()
        refusal = self.query_one("#refusal", Static)
        if isinstance(chosen, str):
            refusal.update(Text(f"✗ {chosen}", style="bold"))
            return
        refusal.update("")
        self.plan = await asyncio.to_thread(plan, self.app.studio, chosen.sessions)
        self.query_one("#preview", Static).update(self.describe(self.plan))
        if not self.plan.ready:
            refusal.update(Text(f"✗ {self.plan.problems[0]}", style="bold"))
            return
        self.app.pop_screen()
        self.app.open_screen("train", voice=chosen.voice, options=chosen)

    def action_back(self) -> None:
        """esc: leave without training."""
        self.app.pop_screen()
