"""Speak: choose a voice, type text, hear it while later sentences are still being synthesised.

Models load in a thread worker (torch is imported there, never before the first frame); synthesis and
playback run in another, reporting through ``call_from_thread``. With no output device every utterance
goes to ``voices/NAME/speak/`` and the screen shows its path with commands to hear it elsewhere.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Header, Label, ProgressBar, Select, Static, TextArea

from tui.screens.base import TimbreScreen, compact_footer, explain
from tui.widgets.synth_settings import SettingsError, SynthSettings
from tui.widgets.utterances import UtteranceTable

LANGUAGE_CHOICES: tuple[tuple[str, str], ...] = (("auto", "auto"), ("zh", "zh"), ("en", "en"))
FILES = "files"  # the output choice "write WAV files, play nothing"
KEEP_HISTORY = 50


class SpeakScreen(TimbreScreen):
    """Type text and hear it in a voice; history of this visit below."""

    SUB_TITLE = "Speak"
    HELP = """
Choose a voice at the top, type (or paste) text in Mandarin, English or both, and press ctrl+r (or F5)
to speak. Audio starts as soon as the first sentence is ready; later sentences follow while they are
made. esc stops the speech (and, when nothing is playing, goes back to Home).

The panel on the right holds the synthesis settings (official defaults): speed, temperature, top_k,
top_p, seed (empty: a new one each time; the same seed gives the same audio), the pause between
sentences and the cap on semantic tokens per sentence (empty: 1500, i.e. 60 s). After each utterance
the line below the text shows the time to first audio, the total time and the real-time factor (RTF
below 1: faster than real time).

The history lists what was said. Press tab to reach it, then p to replay, s to save a WAV, y to copy its
path and d to delete it. ctrl+o re-scans the sound devices and switches the output (a forwarded
PulseAudio that appeared after start becomes usable). With no output device, or with output "files",
every utterance is written to voices/NAME/speak/ and the commands to copy or hear it on your own
computer are shown. When pretrained model files are missing, ctrl+g downloads them.
"""

    DEFAULT_CSS = """
    SpeakScreen { overflow: hidden hidden; }
    SpeakScreen #speak-top { height: 1; padding: 0 1; }
    SpeakScreen #speak-top Label { width: auto; padding: 0 1 0 0; }
    SpeakScreen #voice-select { width: 30; }
    SpeakScreen #lang-select { width: 12; }
    SpeakScreen Select > SelectCurrent { border: none; height: 1; padding: 0 1; }
    SpeakScreen #speak-status { height: auto; max-height: 3; padding: 0 1; text-style: bold; }
    SpeakScreen #speak-side { width: 26; }
    SpeakScreen #download-row { height: 1; padding: 0 1; display: none; }
    SpeakScreen #download-row.active { display: block; }
    SpeakScreen #download-bar { width: 30; }
    SpeakScreen #download-text { width: 1fr; }
    SpeakScreen #speak-main { height: 8; }
    SpeakScreen #speak-text { width: 1fr; height: 8; }
    SpeakScreen #speak-stats { height: 1; padding: 0 1; color: $text-muted; }
    SpeakScreen #speak-files { height: auto; max-height: 7; padding: 0 1; }
    """

    BINDINGS: ClassVar[list[Binding]] = [
        Binding("ctrl+r,f5", "speak", "Speak", priority=True, tooltip="Speak the text", id="speak.speak"),
        Binding(
            "escape",
            "stop_or_back",
            "Stop/Back",
            tooltip="Stop speaking; if quiet, back to Home",
            id="speak.stop",
        ),  # fmt: skip
        Binding(
            "ctrl+o",
            "output",
            "Output",
            priority=True,
            tooltip="Re-scan sound devices, switch output",
            id="speak.output",
        ),  # fmt: skip
        Binding(
            "ctrl+g",
            "download",
            "Download",
            priority=True,
            tooltip="Download the missing model files",
            id="speak.download",
        ),  # fmt: skip
        Binding("p", "replay", "Replay", tooltip="Play the selected utterance again", id="speak.replay"),
        Binding("s", "save", "Save", tooltip="Save the selected utterance as a WAV", id="speak.save"),
        Binding("y", "copy_path", "Copy path", tooltip="Copy the selected WAV's path", id="speak.copy"),
        Binding("d,delete", "delete", "Delete", tooltip="Delete the selected utterance", id="speak.delete"),
    ]

    def __init__(
        self,
        voice: str | None = None,
        *,
        output: Any = None,
        text: str = "",
        synthesizer_factory: Any = None,
        player_factory: Any = None,
    ) -> None:
        """``output``: None probes the default device, FILES writes files, else a device index."""
        super().__init__()
        self.voice_name = voice
        self.initial_text = text
        self.output = output
        self.output_label = ""
        self._probe_output = output is None
        self._synthesizer_factory = synthesizer_factory
        self._player_factory = player_factory
        self.synth: Any = None
        self.loaded_voice: str | None = None
        self.state = "idle"  # idle | loading | missing | ready | speaking | stopping | downloading | error
        self.missing: list[str] = []
        self.history: list[tuple[int, Any]] = []
        self._next_number = 1
        self._cancel = threading.Event()
        self._replay: Any = None
        self._closed = False
        self.last_utterance: Any = None
        self._devices: list[Any] = []

    # ------------------------------------------------------------------ layout
    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="speak-top"):
            yield Label("Voice")
            yield Select([], prompt="(no voice)", id="voice-select", allow_blank=True)
            yield Label(" Language")
            yield Select(LANGUAGE_CHOICES, value="auto", id="lang-select", allow_blank=False)
        yield Static("", id="speak-status")
        with Horizontal(id="download-row"):
            yield ProgressBar(total=None, show_eta=False, id="download-bar")
            yield Static("", id="download-text")
        with Horizontal(id="speak-main"):
            yield TextArea(self.initial_text, id="speak-text", soft_wrap=True, show_line_numbers=False)
            with Vertical(id="speak-side"):
                yield SynthSettings(id="speak-settings")
        yield Static("", id="speak-stats")
        yield UtteranceTable(id="speak-history", zebra_stripes=True)
        yield Static("", id="speak-files")
        yield compact_footer()

    def on_mount(self) -> None:
        self._load_started = time.monotonic()
        self.set_interval(0.5, self._tick_loading)
        names = self._voice_names()
        select = self.query_one("#voice-select", Select)
        select.set_options([(n, n) for n in names])
        chosen = self.voice_name if self.voice_name in names else (names[0] if names else None)
        if chosen is not None:
            select.value = chosen
        self.query_one("#speak-text", TextArea).focus()
        if self._probe_output:
            self._probe_output_worker()
        else:
            self.output_label = "files (no playback)" if self.output == FILES else f"device {self.output}"
            self._show_stats()
        if chosen is None:
            self.set_state("idle", "No voices yet: on Home, select a session and press m to make one.")
        else:
            self.load_voice(chosen)

    def on_unmount(self) -> None:
        self._closed = True
        self._cancel.set()
        if self._replay is not None:
            self._replay.stop()

    def _voice_names(self) -> list[str]:
        return self.app.studio.voice_names()

    # ------------------------------------------------------------------ state
    def set_state(self, state: str, message: str) -> None:
        """Show ``message`` as the status line (glyph first, so it reads without colour)."""
        self.state = state
        if self._closed:
            return
        glyph = {"loading": "…", "missing": "✗", "error": "✗", "ready": "✓", "speaking": "▶",
                 "stopping": "■", "downloading": "↓"}.get(state, "·")  # fmt: skip
        self.query_one("#speak-status", Static).update(Text(f"{glyph} {message}", overflow="ellipsis"))
        self.refresh_bindings()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "download":
            return self.state == "missing"
        if action in ("replay", "save", "copy_path", "delete"):
            focused = self.focused
            return isinstance(focused, UtteranceTable) and bool(self.history)
        return True

    # ------------------------------------------------------------------ output
    @work(thread=True, exclusive=True, group="speak-output", exit_on_error=False)
    def _probe_output_worker(self, rescan: bool = False) -> None:
        from engine.audio import stream_player as sp

        devices = sp.rescan_devices() if rescan else sp.list_output_devices()
        default = next((d for d in devices if d.is_default), devices[0] if devices else None)
        self.app.call_from_thread(self._output_found, devices, default, rescan)

    def _output_found(self, devices: list[Any], default: Any, rescanned: bool) -> None:
        if self._closed:
            return
        self._devices = devices
        if rescanned:
            choices: list[Any] = [d.index for d in devices] + [FILES]
            current = self.output if self.output in choices else None
            position = choices.index(current) if current in choices else -1
            self.output = choices[(position + 1) % len(choices)]
        elif default is not None:
            self.output = default.index
        else:
            self.output = FILES
        if self.output == FILES:
            self.output_label = "files (no output device)" if not devices else "files (no playback)"
        else:
            name = next((d.name for d in devices if d.index == self.output), str(self.output))
            self.output_label = f"{name}"
        if rescanned:
            self.notify(f"Output: {self.output_label} ({len(devices)} output devices found)", timeout=4)
        self._show_stats()

    def action_output(self) -> None:
        """ctrl+o: re-scan the sound devices and switch to the next output (ending with 'files')."""
        if self.state in ("speaking", "stopping") or (self._replay is not None and self._replay.active):
            self.notify("Stop the speech first (esc).", timeout=3)
            return
        self._probe_output = True
        self._probe_output_worker(rescan=True)

    # ------------------------------------------------------------------ loading
    @on(Select.Changed, "#voice-select")
    def _voice_changed(self, event: Select.Changed) -> None:
        if event.value is Select.BLANK or event.value in (self.loaded_voice, self.voice_name):
            return  # already loaded, or loading
        if self.state in ("speaking", "stopping", "downloading"):
            return
        self.load_voice(str(event.value))

    def load_voice(self, name: str) -> None:
        """Load the models for ``name`` in a thread (a visible loading state meanwhile)."""
        self.voice_name = name
        self.synth = None
        self.loaded_voice = None
        self.set_state("loading", f"Loading the models for {name}…")
        self._load_started = time.monotonic()
        self._load_worker(name)

    def _tick_loading(self) -> None:
        """Twice a second while models load: the elapsed time, so the wait is visibly alive."""
        if self.state == "loading" and self.voice_name:
            spent = time.monotonic() - self._load_started
            self.set_state("loading", f"Loading the models for {self.voice_name}… {spent:.0f} s")

    @work(thread=True, exclusive=True, group="speak-load", exit_on_error=False)
    def _load_worker(self, name: str) -> None:
        from engine.errors import TimbreError
        from engine.voice import Voice
        from engine.weights.fetch import missing_parts, needed_parts

        started = time.perf_counter()
        try:
            voice = Voice.load(name, self.app.studio.root)
            from engine.synth import check_transcript

            check_transcript(voice)
            missing = missing_parts(needed_parts(voice))
            if missing:
                self.app.call_from_thread(self._show_missing, name, missing)
                return
            factory = self._synthesizer_factory or _real_synthesizer
            synth = factory(voice)
            synth.reference()  # the reference features, once, now rather than on the first speak
        except TimbreError as exc:
            self.app.call_from_thread(self._load_failed, name, explain(exc))
            return
        except Exception as exc:  # a broken file must not take the app down
            self.app.call_from_thread(self._load_failed, name, f"{type(exc).__name__}: {exc}")
            return
        self.app.call_from_thread(self._loaded, name, synth, time.perf_counter() - started)

    def _loaded(self, name: str, synth: Any, seconds: float) -> None:
        if self._closed or name != self.voice_name:
            return
        self.synth = synth
        self.loaded_voice = name
        precision = getattr(getattr(synth, "models", None), "precision", None)  # test fakes have none
        how = f", {precision}" if precision else ""
        self.set_state("ready", f"Ready: {name} (models loaded in {seconds:.1f} s{how}). ctrl+r speaks.")

    def _load_failed(self, name: str, message: str) -> None:
        if self._closed or name != self.voice_name:
            return
        self.set_state("error", message)

    def _show_missing(self, name: str, keys: list[str]) -> None:
        from engine.weights.fetch import describe

        if self._closed or name != self.voice_name:
            return
        self.missing = keys
        self.set_state("missing", f"Missing model files (ctrl+g downloads them): {describe(keys)}.")

    # ------------------------------------------------------------------ download
    def action_download(self) -> None:
        """ctrl+g: download the missing pretrained files (progress shown; offline fails at once)."""
        if self.state != "missing" or not self.missing:
            return
        self.set_state("downloading", "Checking the connection to Hugging Face…")
        row = self.query_one("#download-row")
        row.add_class("active")
        self.query_one("#download-bar", ProgressBar).update(total=None, progress=0)
        self._download_worker(list(self.missing))

    @work(thread=True, exclusive=True, group="speak-download", exit_on_error=False)
    def _download_worker(self, keys: list[str]) -> None:
        from engine.errors import TimbreError
        from engine.weights.fetch import fetch_parts

        last = [0.0]

        def report(progress: Any) -> None:
            now = time.monotonic()
            if now - last[0] < 0.1 and progress.total and progress.done < progress.total:
                return
            last[0] = now
            self.app.call_from_thread(self._download_progress, progress)

        try:
            fetch_parts(keys, report)
        except TimbreError as exc:
            self.app.call_from_thread(self._download_done, explain(exc))
            return
        except Exception as exc:  # noqa: BLE001
            self.app.call_from_thread(self._download_done, f"The download failed: {exc}")
            return
        self.app.call_from_thread(self._download_done, None)

    def _download_progress(self, progress: Any) -> None:
        if self._closed:
            return
        self.set_state("downloading", "Downloading the model files…")
        bar = self.query_one("#download-bar", ProgressBar)
        bar.update(total=progress.total, progress=progress.done)
        self.query_one("#download-text", Static).update(Text(" " + progress.line(), overflow="ellipsis"))

    def _download_done(self, error: str | None) -> None:
        if self._closed:
            return
        self.query_one("#download-row").remove_class("active")
        if error is not None:
            self.set_state("missing", f"{error}")
            return
        self.notify("Model files downloaded and verified.", timeout=5)
        if self.voice_name:
            self.load_voice(self.voice_name)

    # ------------------------------------------------------------------ speaking
    def action_speak(self) -> None:
        """ctrl+r / F5: speak the text (audio starts with the first sentence)."""
        pressed = time.perf_counter()
        if self.state in ("speaking", "stopping"):
            self.notify("Already speaking: esc stops it.", timeout=3)
            return
        if self.synth is None:
            reasons = {
                "loading": "The models are still loading.",
                "missing": "Model files are missing: ctrl+g downloads them.",
                "downloading": "The model files are still downloading.",
            }
            self.notify(reasons.get(self.state, "Choose a voice first."), severity="warning", timeout=4)
            return
        text = self.query_one("#speak-text", TextArea).text
        if not text.strip():
            self.notify("Type something to say first.", severity="warning", timeout=3)
            return
        from engine.errors import TimbreError
        from engine.text.input_text import prepare_text

        try:  # the same limit and clean-up as `timbre say`: valid text, no terminal sequences
            text = prepare_text(text)
        except TimbreError as exc:
            self.notify(explain(exc), severity="error", timeout=8)
            return
        try:
            params = self._params()
        except (SettingsError, ValueError) as exc:
            self.notify(f"Bad setting: {exc}.", severity="error", timeout=6)
            return
        if self._replay is not None:
            self._replay.stop()
        self._cancel = threading.Event()
        self.set_state("speaking", f"Speaking with {self.loaded_voice}…")
        self._speak_worker(text, params, pressed, self._cancel)

    def _params(self) -> Any:
        from engine.synth import SynthParams

        settings = self.query_one(SynthSettings).settings()
        language = str(self.query_one("#lang-select", Select).value)
        return SynthParams(**settings.as_kwargs(), language=language)

    @work(thread=True, group="speak-run", exit_on_error=False)
    def _speak_worker(self, text: str, params: Any, pressed: float, cancel: threading.Event) -> None:
        from engine.errors import TimbreError
        from engine.utterance import speak, synth_stream
        from engine.voice import speak_dir

        synth = self.synth
        output = self.output

        def on_piece(utt: Any, piece: Any) -> None:
            self.app.call_from_thread(self._piece_done, utt.pieces)

        try:
            utt = speak(
                synth_stream(synth, text, params),
                text,
                voice=self.loaded_voice or "",
                output=None if output is None else output,
                play=output != FILES,
                out_dir=speak_dir(synth.voice, self.app.studio),
                cancel=cancel,
                on_piece=on_piece,
                player_factory=self._player_factory,
                started=pressed,
            )
        except TimbreError as exc:
            self.app.call_from_thread(self._speak_failed, explain(exc))
            return
        except Exception as exc:  # noqa: BLE001 - shown, not fatal
            self.app.call_from_thread(self._speak_failed, f"{type(exc).__name__}: {exc}")
            return
        from engine.usage_log import record_voice_use  # issue 14: local usage log (no text, no audio)

        record_voice_use(synth.voice, text, None if utt.played else utt.path)
        self.app.call_from_thread(self._speak_done, utt)

    def _piece_done(self, count: int) -> None:
        if self._closed or self.state != "speaking":
            return
        self.set_state(
            "speaking", f"Speaking with {self.loaded_voice}… ({count} sentence{'s' * (count != 1)})"
        )

    def _speak_failed(self, message: str) -> None:
        if self._closed:
            return
        self.set_state("ready" if self.synth is not None else "error", message)
        self.notify(message, severity="error", timeout=8)

    def _speak_done(self, utt: Any) -> None:
        if self._closed:
            return
        if utt.audio.size:
            self.history.append((self._next_number, utt))
            self._next_number += 1
            self.history = self.history[-KEEP_HISTORY:]
        self.last_utterance = utt
        self._show_history()
        if utt.stopped:
            self.set_state("ready", "Stopped.")
        elif utt.played:
            self.set_state("ready", f"Done: {utt.seconds:.1f} s spoken.")
        elif utt.path is not None:
            why = utt.note or "no output device"
            self.set_state("ready", f"Saved to a file ({why}): see below.")
        else:
            self.set_state("ready", "Nothing was spoken.")
        self._show_stats(utt)

    def _show_stats(self, utt: Any = None) -> None:
        if self._closed:
            return
        utt = utt or self.last_utterance
        output = f"Output: {self.output_label or '…'}"
        line = f"{utt.stats()} │ {output}" if utt is not None else output
        self.query_one("#speak-stats", Static).update(Text(line, overflow="ellipsis", no_wrap=True))

    def _show_history(self) -> None:
        table = self.query_one(UtteranceTable)
        table.show(self.history)
        self._show_files()
        self.refresh_bindings()

    def _show_files(self) -> None:
        """The selected (else the newest) saved utterance's path, with commands to hear it elsewhere."""
        from engine.audio.playback import remote_commands

        utt = self._selected() or (self.history[-1][1] if self.history else None)
        files = self.query_one("#speak-files", Static)
        if utt is None or utt.path is None:
            files.update("")
            return
        scp, ssh = remote_commands(utt.path)
        files.update(Text(f"▣ {utt.path.name} · on your computer:\n{scp}\n{ssh}", overflow="fold"))

    @on(UtteranceTable.RowHighlighted)
    def _row_moved(self, _event: Any) -> None:
        self._show_files()

    # ------------------------------------------------------------------ stopping
    def action_stop_or_back(self) -> None:
        """esc: stop the speech and playback; when nothing is playing, back to Home."""
        replaying = self._replay is not None and self._replay.active
        if self.state == "speaking" or replaying:
            self._cancel.set()
            if self._replay is not None:
                self._replay.stop()
            if self.state == "speaking":
                self.set_state("stopping", "Stopping…")
            return
        if self.state == "stopping":
            return
        self.dismiss()

    # ------------------------------------------------------------------ history actions
    def _selected(self) -> Any:
        number = self.query_one(UtteranceTable).selected_number()
        return next((u for n, u in self.history if n == number), None)

    def action_replay(self) -> None:
        """p: play the selected utterance again (or show its file when there is no output)."""
        utt = self._selected()
        if utt is None:
            return
        if self.output == FILES:
            self.action_save()
            return
        self._replay_worker(utt)

    @work(thread=True, exclusive=True, group="speak-replay", exit_on_error=False)
    def _replay_worker(self, utt: Any) -> None:
        from engine.audio.stream_player import StreamPlayer
        from engine.errors import TimbreError

        if self._replay is not None:
            self._replay.stop()
        factory = self._player_factory or StreamPlayer
        try:
            player = factory(self.output, utt.samplerate)
            self._replay = player
            player.feed(utt.audio)
            player.finish()
        except TimbreError as exc:
            self.app.call_from_thread(self.notify, explain(exc), severity="warning", timeout=8)
            return
        self.app.call_from_thread(self.notify, f"Replaying: {utt.text[:40]}", timeout=2)
        player.wait()

    def action_save(self) -> None:
        """s: write the selected utterance to voices/NAME/speak/<time>-<text>.wav."""
        from engine.utterance import write_utterance
        from engine.voice import speak_dir

        utt = self._selected()
        if utt is None or self.synth is None and utt.path is None:
            return
        folder = speak_dir(self.synth.voice, self.app.studio) if self.synth is not None else utt.path.parent
        try:
            path = write_utterance(utt, folder)
        except OSError as exc:
            self.notify(f"Could not save: {exc}", severity="error", timeout=8)
            return
        self._show_history()
        self.notify(f"Saved {path}", timeout=6)

    def action_copy_path(self) -> None:
        """y: copy the selected utterance's WAV path (saving it first if needed)."""
        utt = self._selected()
        if utt is None:
            return
        if utt.path is None:
            self.action_save()
        if utt.path is not None:
            self.app.copy_to_clipboard(str(utt.path))
            self.notify(f"Copied: {utt.path}", timeout=5)

    def action_delete(self) -> None:
        """d: forget the selected utterance and delete its WAV, if it was saved."""
        utt = self._selected()
        if utt is None:
            return
        if utt.path is not None:
            Path(utt.path).unlink(missing_ok=True)
        self.history = [(n, u) for n, u in self.history if u is not utt]
        self._show_history()
        self.notify("Deleted.", timeout=2)


def _real_synthesizer(voice: Any) -> Any:
    """The synthesiser for ``voice`` on this machine's default device (imports torch)."""
    from engine.synth import Synthesizer

    return Synthesizer(voice)
