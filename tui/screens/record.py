"""Record: the guided session. Room tone first, then the consent statement, then one take per prompt.

The consent statement (engine.consent) is read aloud before the first prompt of a session that has
no consent take on record (a resumed one too); it is recorded like a take into ``consent.wav``,
quality-checked, and never used for training. ``consent_only`` (Review's C key) records just that.

The meter is polled from the recorder ~30 times a second with ``set_interval`` (the audio callback
never talks to the UI). Starting, stopping and saving takes run in threads (``asyncio.to_thread``)
awaited by the key handlers, so keys pressed meanwhile are handled in order.
"""

from __future__ import annotations

import asyncio
import math
import time
from pathlib import Path
from typing import Any, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widgets import ProgressBar, Static

from tui.messages import SessionSaved
from tui.screens.base import TimbreScreen, compact_footer, explain
from tui.widgets.meter import LevelMeter, db_text
from tui.widgets.prompt import PromptView
from tui.widgets.takes import TakeList

TARGET_SECONDS = 60.0
POLL_HZ = 30.0
CLIP_FIX = "too loud: move back or lower the gain"
OVERFLOW_FIX = "audio was dropped: press r to re-record"
LOUD_DBFS = -1.0  # peaks above this without clipping still earn a gentle warning
QUIET_DBFS = -40.0  # a take whose peak stays below this is probably too quiet


class RecordScreen(TimbreScreen):
    """Read each prompt aloud: space records and stops, enter keeps the take and moves on."""

    SUB_TITLE = "Record"
    HELP = """
Read the sentence in the box aloud, at a normal pace, about a hand's width from the microphone.
Space starts a take and space stops it; enter keeps it and moves to the next sentence. Listen with
p, re-record with r, skip a sentence you cannot read with s, go back with b. h or esc returns to
Home (asking first while a take records; the session is saved after every take).

The meter shows the loudest recent sample in dBFS (0 = the loudest the device can record) and a
held peak marker. Aim for peaks around -12 to -6 dBFS. CLIP means the sound hit full scale: move
back or lower the gain. OVERFLOW means audio was dropped: re-record that take. After a take,
QUIET (peak below -40 dBFS) and LOUD (peak above -1 dBFS) say to move closer or further back.

A session starts with 3 seconds of room tone (stay quiet): it lets Timbre remove background noise.
Then, before the first prompt, the speaker reads the consent statement shown in the box aloud (it
names the session and the date, and says the recording builds a synthetic voice of them). It is
recorded with the same keys: space starts and stops, p plays, r records it again, enter accepts it.
It is kept as consent.wav, checked for speech, and never used for training; training and making a
voice need it. A session resumed without one asks for it first.
About 60 seconds of accepted speech is enough (the silence before and after each take does not
count); everything is saved after every take.

◐ CUT SHORT marks a take that a quit, a crash or a lost microphone stopped mid-sentence. It is left
out of training: r records it again, enter keeps it as it is (or edit its transcript in Review).
"""

    BINDINGS: ClassVar[list[Binding]] = [
        Binding("space", "toggle_record", "Record/Stop", priority=True, id="record.toggle"),
        Binding(
            "enter",
            "accept",
            "Accept",
            tooltip="Keep this take, go to the next prompt",
            id="record.accept",
        ),
        Binding("r", "rerecord", "Re-record", tooltip="Record this prompt again", id="record.rerecord"),
        Binding("p", "play", "Play", tooltip="Listen to this take", id="record.play"),
        Binding("s", "skip", "Skip", tooltip="Skip this prompt", id="record.skip"),
        Binding("b", "back", "Back", tooltip="Go to the previous prompt", id="record.back"),
        Binding(
            "h,escape",
            "home",
            "Home",
            tooltip="Back to the Home screen (also esc; asks first while recording)",
            id="record.home",
        ),
        Binding("q", "quit", "Quit", tooltip="Leave Timbre (asks first while recording)", id="record.quit"),
    ]

    def __init__(
        self,
        session: Any,
        recorder: Any,
        *,
        room_tone_seconds: float | None = None,
        start_at: int | None = None,
        consent_only: bool = False,
    ) -> None:
        """``start_at`` opens that take (e.g. one to re-record); by default the first pending one.

        ``consent_only`` records (or re-records) the consent statement and then closes the screen.
        """
        super().__init__()
        self.session = session
        self.recorder = recorder
        self.room_tone_seconds = room_tone_seconds
        self.start_at = start_at
        self.consent_only = consent_only
        self.in_consent = False  # True while the consent statement is the "prompt"
        self.index: int = 0
        self.phase = "ready"
        self.notice: str | None = None  # a persistent problem line (device lost, room tone failed)
        self._phase_started = time.monotonic()
        self._last_meter: Any = None
        self._shown: dict[str, str] = {}
        self._lost_handled = False

    # ------------------------------------------------------------- layout
    def compose(self) -> ComposeResult:
        yield Static("", id="record-title")
        yield PromptView("", id="prompt")
        yield Static("", id="state")
        yield Static("", id="warning")
        yield LevelMeter(id="meter")
        with Horizontal(id="progress-row"):
            yield Static("", id="progress-label")
            yield ProgressBar(total=TARGET_SECONDS, show_eta=False, id="progress")
        yield TakeList(id="takes")
        yield compact_footer()

    def on_mount(self) -> None:
        self.meter_widget = self.query_one(LevelMeter)
        self.state_widget = self.query_one("#state", Static)
        self.warning_widget = self.query_one("#warning", Static)
        if self.room_tone_seconds is None:
            self.room_tone_seconds = float(self.app.room_tone_seconds)
        session = self.session
        title = (
            f"Session {session.id} · {session.language} · {session.samplerate} Hz · mic: "
            f"{session.device or 'default'}"
        )
        self.query_one("#record-title", Static).update(Text(title, overflow="ellipsis", no_wrap=True))
        next_index = session.resume_index()  # a take cut short first (a crash, a quit), then the next pending
        if self.start_at is not None and 0 <= self.start_at < len(session.takes):
            next_index = self.start_at
        self.index = next_index if next_index is not None else max(0, len(session.takes) - 1)
        self.in_consent = self.consent_only or consent_needed(session)
        if self.in_consent:
            from engine import consent

            consent.start(session)  # the statement (with today's date) goes into session.json now
        self.phase = self.phase_for_take() if next_index is not None or self.in_consent else "complete"
        self.set_interval(1 / POLL_HZ, self.poll_meter, name="meter-poll")
        self.refresh_all()
        self.announce_cut_short()
        if not session.room_tone_path().exists():
            self.run_worker(self.record_room_tone(), group="room-tone", exit_on_error=False)

    def announce_cut_short(self) -> None:
        """Say which takes were cut short (recovered after a crash, or a quit mid-take) and what to do."""
        cut = [self.session.takes[i] for i in self.session.cut_short_indices()]
        if not cut:
            return
        names = ", ".join(f"{t.id} ({t.interrupted_text})" for t in cut)
        self.notify(
            f"Cut short: take {names}. It is left out of training until you record it again (r), "
            "or listen (p) and accept it as it is (enter).",
            title="Takes cut short",
            severity="warning",
            timeout=15,
        )

    def on_unmount(self) -> None:
        if self.phase == "recording" and not self.in_consent:  # closing mid-take: keep it, marked cut short
            try:
                self.session.record_result(self.index, self.recorder.stop_take(), interrupted="quit")
            except Exception:  # noqa: BLE001 - a partial file left behind is repaired on the next load
                self.log.warning("could not save the take in progress")
        elif self.phase == "recording" and self.in_consent:  # a statement cut short is not consent
            try:
                self.recorder.cancel_take()
            except Exception:  # noqa: BLE001
                self.log.warning("could not discard the consent take in progress")
        elif self.phase == "room_tone":  # left early: drop the short room tone so it is redone next time
            try:
                self.recorder.cancel_take()
            except Exception:  # noqa: BLE001
                self.log.warning("could not discard the room tone")
        self.app.release_recorder(self.recorder)

    # -------------------------------------------------------------- state
    @property
    def take(self) -> Any:
        return self.session.takes[self.index]

    def phase_for_take(self) -> str:
        """The resting phase that matches the current take's status (or the consent step's)."""
        if self.in_consent:
            from engine import consent

            return "consent_recorded" if consent.record_of(self.session) is not None else "consent"
        status = self.take.status
        return {"recorded": "recorded", "accepted": "accepted", "skipped": "skipped"}.get(status, "ready")

    def set_phase(self, phase: str) -> None:
        self.phase = phase
        self._phase_started = time.monotonic()
        self.refresh_all()

    def state_text(self) -> str:
        """The state line: a glyph and a word that say what is happening, readable without colour."""
        meter = self._last_meter
        take = self.take
        if self.phase == "room_tone":
            remaining = max(
                1, math.ceil((self.room_tone_seconds or 0) - (time.monotonic() - self._phase_started))
            )
            return f"◌ ROOM TONE: stay quiet for {self.room_tone_seconds:g} s… {remaining}"
        if self.phase == "recording":
            seconds = meter.take_seconds if meter is not None else 0.0
            what = "the statement" if self.in_consent else "the sentence"
            return f"● REC {seconds:5.1f} s: read {what}, then press space to stop"
        if self.phase == "consent":
            return "■ CONSENT: read the statement above aloud · space record · h home"
        if self.phase == "consent_recorded":
            record = self.consent_record()
            seconds = record.seconds if record is not None else 0.0
            if not consent_has_speech(self.session):
                return f"✗ CONSENT: no speech in {seconds:.1f} s · r re-record · p play"
            verdict = record.verdict if record is not None else "?"
            return f"◆ CONSENT RECORDED {seconds:.1f} s, check {verdict}: enter accept · p play · r re-record"
        if self.phase == "busy":
            return "… saving"
        if self.phase == "recorded" and take.cut_short:
            return f"◐ CUT SHORT {take.seconds:.1f} s: r re-record · p play · enter keep it as it is"
        if self.phase == "recorded":
            return f"◆ RECORDED {take.seconds:.1f} s: enter accept · p play · r re-record"
        if self.phase == "accepted":
            return f"✓ ACCEPTED {take.seconds:.1f} s: enter next · p play · r re-record"
        if self.phase == "skipped":
            return "↷ SKIPPED: space records it anyway · enter next · b back"
        if self.phase == "lost":
            return "✗ DEVICE LOST: reconnect the microphone, then press space"
        if self.phase == "complete":
            accepted = self.session.accepted_seconds
            if accepted <= 0:
                return "■ NOTHING ACCEPTED: every prompt was skipped · b back to one · h home"
            return f"★ SESSION COMPLETE: {accepted:.1f} s of {TARGET_SECONDS:g} s accepted · b back · h home"
        return "■ READY: press space to record"

    def warning_text(self) -> str:
        """Problems with the level or the take, each with what to do about it."""
        parts: list[str] = []
        if self.notice:
            parts.append(self.notice)
        meter = self._last_meter
        if self.phase == "recording" and meter is not None:
            if meter.clip_count or meter.clipping:
                parts.append(f"CLIP ×{max(1, meter.clip_count)}: {CLIP_FIX}")
            if meter.overflow_count:
                parts.append(f"OVERFLOW ×{meter.overflow_count}: {OVERFLOW_FIX}")
        elif self.phase == "consent_recorded":
            parts += consent_problems(self.session)
        elif self.phase in ("recorded", "accepted"):
            take = self.take
            if take.cut_short:
                parts.append(f"CUT SHORT ({take.interrupted_text}): not for training until redone or kept")
            if take.clip_count:
                parts.append(f"CLIP ×{take.clip_count}: {CLIP_FIX}")
            if take.overflow_count:
                parts.append(f"OVERFLOW ×{take.overflow_count}: {OVERFLOW_FIX}")
            peak = take.peak_dbfs
            if not take.clip_count and peak is not None and math.isfinite(peak):
                level = f"peak {db_text(peak).strip()} dBFS"
                if peak < QUIET_DBFS:
                    parts.append(f"QUIET ({level}): move closer or raise the gain")
                elif peak > LOUD_DBFS:
                    parts.append(f"LOUD ({level}): near clipping, move back a little")
        elif meter is not None and meter.clipping and self.phase != "room_tone":
            parts.append(f"CLIP: {CLIP_FIX}")
        return " · ".join(parts)

    def _put(self, key: str, widget: Static, text: str) -> None:
        if self._shown.get(key) != text:
            self._shown[key] = text
            widget.update(Text(text))

    def refresh_all(self) -> None:
        """Redraw everything that depends on the session or the phase."""
        session = self.session
        total = len(session.takes)
        if self.in_consent:
            from engine import consent

            label = "Consent statement: read it aloud, never trained on"
            self.query_one(PromptView).show_prompt(consent.pending_text(session), label)
        else:
            self.query_one(PromptView).show_prompt(self.take.text, f"Prompt {self.index + 1} of {total}")
        self.refresh_status()
        accepted = session.accepted_seconds
        self.query_one("#progress-label", Static).update(
            Text(f"Accepted {accepted:5.1f} s of {TARGET_SECONDS:g} s ")
        )
        self.query_one("#progress", ProgressBar).update(progress=min(accepted, TARGET_SECONDS))
        self.query_one(TakeList).show(session.takes, self.index)

    def refresh_status(self) -> None:
        self._put("state", self.state_widget, self.state_text())
        self._put("warning", self.warning_widget, self.warning_text())
        self.state_widget.set_class(self.phase == "recording", "rec")
        self.warning_widget.set_class(bool(self._shown.get("warning")), "active")

    def poll_meter(self) -> None:
        """Read the recorder's meter snapshot (timer callback, ~30 per second)."""
        try:
            meter = self.recorder.meter()
        except Exception:  # a recorder being replaced or closed: skip this frame
            return
        self._last_meter = meter
        self.meter_widget.show(meter.peak_dbfs, meter.peak_hold_dbfs)
        if meter.error and not self._lost_handled and self.phase not in ("busy", "room_tone"):
            self._lost_handled = True
            self.run_worker(self.device_lost(meter.error), group="device", exit_on_error=False)
        self.refresh_status()

    def saved(self) -> None:
        """Tell the app the session changed (every Session method that changes it saves at once)."""
        self.post_message(
            SessionSaved(self.session.id, self.session.accepted_seconds, bool(self.session.is_complete))
        )

    # ---------------------------------------------------------- audio work
    async def record_room_tone(self) -> None:
        """Record a few seconds of silence first (the noise profile), with a countdown."""
        from engine.errors import TimbreError

        self.set_phase("room_tone")
        try:
            result = await asyncio.to_thread(
                self.app.services.record_room_tone,
                self.recorder,
                self.session.room_tone_path(),
                float(self.room_tone_seconds or 3.0),
            )
        except TimbreError as exc:
            self.notice = f"Room tone not recorded ({exc.message}); it is tried again next time."
            self.notify(exc.message, title="Room tone", severity="warning")
        else:
            if result is not None:
                self.session.set_room_tone(result)
        pending = self.in_consent or self.session.next_pending() is not None
        self.set_phase(self.phase_for_take() if pending else "complete")
        if self.in_consent:
            self.notify("Room tone recorded. Press space and read the consent statement aloud.", timeout=4)
        elif self.phase != "complete":
            self.notify("Room tone recorded. Press space and read the sentence.", timeout=4)

    async def start_take(self) -> None:
        from engine.errors import TimbreError

        if self._lost_handled and not await self.reopen():
            return
        path: Path = self.current_path()
        services = self.app.services

        def start() -> None:
            services.stop_playback()  # a take being played back must not leak into the new one
            self.recorder.start_take(path)

        try:
            await asyncio.to_thread(start)
        except TimbreError as exc:
            self.notify(explain(exc), title="Cannot record", severity="error")
            return
        self.notice = None
        self.set_phase("recording")

    async def stop_take(self, interrupted: str | None = None) -> bool:
        """Stop the running take and record its result (``interrupted``: cut short, see engine.session)."""
        from engine.audio.devices import DeviceLost
        from engine.errors import TimbreError

        if self.in_consent:
            return await self.stop_consent()
        self.set_phase("busy")
        try:
            result = await asyncio.to_thread(self.recorder.stop_take)
        except DeviceLost as exc:
            self._lost_handled = True
            await self.keep_lost_take(exc.message, exc.result)
            return False
        except TimbreError as exc:
            self.notify(explain(exc), title="Take not saved", severity="error")
            self.set_phase(self.phase_for_take())
            return False
        await asyncio.to_thread(self.session.record_result, self.index, result, interrupted=interrupted)
        self.saved()
        self.set_phase("recorded")
        if result.clip_count:
            self.notify(f"CLIP ×{result.clip_count}: {CLIP_FIX}. Press r to re-record.", severity="warning")
        if result.overflow_count:
            self.notify(f"OVERFLOW ×{result.overflow_count}: {OVERFLOW_FIX}.", severity="warning")
        return True

    async def cancel_take(self) -> None:
        await asyncio.to_thread(self.recorder.cancel_take)
        self.set_phase(self.phase_for_take())

    async def device_lost(self, error: str) -> None:
        """The microphone vanished: keep what was recorded and say what to do."""
        from engine.audio.devices import DeviceLost

        result = None
        if self.in_consent:  # a statement cut short is not kept: it is read again from the start
            if self.phase == "recording":
                await asyncio.to_thread(self.recorder.cancel_take)
            self.notice = f"DEVICE LOST: {error} The consent statement must be read again."
            self.notify(f"{error} Reconnect the microphone, then press space.", severity="error", timeout=15)
            self.set_phase("lost")
            return
        if self.phase == "recording":
            self.set_phase("busy")
            try:
                result = await asyncio.to_thread(self.recorder.stop_take)
            except DeviceLost as exc:
                result = exc.result
            except Exception:  # the partial file stays on disk; Session.load repairs it
                result = None
        await self.keep_lost_take(error, result)

    async def keep_lost_take(self, error: str, result: Any) -> None:
        kept = ""
        if result is not None and getattr(result, "frames", 0) > 0:
            self.session.record_result(self.index, result, interrupted="device")
            self.saved()
            kept = f" The partial take ({result.seconds:.1f} s) was kept."
        elif self.session.take_path(self.index).with_suffix(".partial.wav").exists():
            kept = " The partial take was kept on disk."
        self.notice = f"DEVICE LOST: {error}{kept}"
        self.notify(
            f"{error}{kept} Reconnect the microphone, then press space.", severity="error", timeout=15
        )
        self.set_phase("lost")

    async def reopen(self) -> bool:
        """Open the microphone again after it was lost."""
        self.app.release_recorder(self.recorder)
        recorder = await self.app.open_recorder(self.session.device, self.session.samplerate)
        if recorder is None:
            return False
        self.recorder = recorder
        self._lost_handled = False
        self.notice = None
        self.set_phase(self.phase_for_take())
        return True

    def current_path(self) -> Path:
        """The file the current take (or the consent statement) is recorded into."""
        if self.in_consent:
            from engine import consent

            return consent.consent_path(self.session)
        return self.session.take_path(self.index)

    def consent_record(self) -> Any:
        """The session's consent record (engine.consent.ConsentRecord), or None."""
        from engine import consent

        return consent.record_of(self.session)

    async def stop_consent(self) -> bool:
        """Stop the consent take, quality-check it and note it in session.json."""
        from engine import consent
        from engine.audio.devices import DeviceLost
        from engine.errors import TimbreError

        self.set_phase("busy")
        try:
            result = await asyncio.to_thread(self.recorder.stop_take)
            record = await asyncio.to_thread(
                consent.store, self.session, overflow_count=int(result.overflow_count)
            )
        except TimbreError as exc:
            if isinstance(exc, DeviceLost):
                self._lost_handled = True
                self.notice = f"DEVICE LOST: {exc.message} The consent statement must be read again."
                self.set_phase("lost")
            else:
                self.set_phase(self.phase_for_take())
            self.notify(explain(exc), title="Consent not saved", severity="error")
            return False
        self.saved()
        self.set_phase("consent_recorded")
        if not consent_has_speech(self.session):
            self.notify("No speech found in the consent take: press r and read the statement aloud.",
                        severity="warning")  # fmt: skip
        elif record.verdict != "ok":
            self.notify(f"Consent take check: {record.verdict}. Listen (p); r records it again.", timeout=6)
        return True

    def accept_consent(self) -> None:
        """enter on the consent step: keep the statement and go on to the prompts (or close)."""
        if self.consent_record() is None:
            self.notify("Press space and read the consent statement aloud first.", timeout=3)
            return
        if not consent_has_speech(self.session):
            self.notify("The consent take holds no speech: press r and read the statement aloud.", timeout=4)
            return
        self.in_consent = False
        self.notify("Consent statement on record (consent.wav; never used for training).", timeout=5)
        if self.consent_only:
            self.dismiss()
            return
        if self.session.next_pending() is None:
            self.set_phase("complete")
        else:
            self.set_phase(self.phase_for_take())

    def go_next(self) -> None:
        next_index = self.session.next_pending()
        if next_index is None:
            self.set_phase("complete")
            if self.session.accepted_seconds > 0:
                self.notify(f"Session complete: {self.session.accepted_seconds:.1f} s accepted.", timeout=8)
            return
        self.index = next_index
        self.set_phase(self.phase_for_take())

    def blocked(self) -> bool:
        """True (and says why) while room tone or saving is in progress."""
        if self.phase == "room_tone":
            self.notify("Wait for the room tone to finish (stay quiet).", severity="warning", timeout=2)
            return True
        return self.phase == "busy"

    # ------------------------------------------------------------- actions
    async def action_toggle_record(self) -> None:
        """space: start a take, or stop the running one."""
        if self.blocked():
            return
        if self.phase == "recording":
            await self.stop_take()
        elif self.phase == "complete":
            self.notify("Every prompt is done. Press b to go back to a prompt, or h for Home.")
        else:
            await self.start_take()

    async def action_rerecord(self) -> None:
        """r: record this prompt again (a running take is discarded)."""
        if self.blocked():
            return
        if self.phase == "recording":
            await self.cancel_take()
        await self.start_take()

    async def action_accept(self) -> None:
        """enter: keep this take and go to the next prompt."""
        if self.blocked():
            return
        if self.phase == "recording" and not await self.stop_take():
            return
        if self.in_consent:
            self.accept_consent()
            return
        status = self.take.status
        if self.phase == "complete":
            return
        if status in ("recorded", "accepted"):
            if status == "recorded":
                before = self.session.accepted_seconds
                self.session.set_status(self.index, "accepted")
                self.saved()
                if before < TARGET_SECONDS <= self.session.accepted_seconds:
                    self.notify(
                        f"{TARGET_SECONDS:g} s of speech accepted: enough for a voice. Keep going for a "
                        "better one, or press h for Home.",
                        title="Target reached",
                        timeout=8,
                    )
            self.go_next()
        elif status == "skipped":
            self.go_next()
        else:
            self.notify("Nothing recorded yet: press space to record, or s to skip this prompt.", timeout=3)

    async def action_skip(self) -> None:
        """s: skip this prompt."""
        if self.blocked():
            return
        if self.in_consent:
            self.notify("The consent statement cannot be skipped: read it aloud, or h for Home.", timeout=4)
            return
        if self.phase == "recording":
            await self.cancel_take()
        if self.take.status != "accepted":
            self.session.set_status(self.index, "skipped")
            self.saved()
        self.go_next()

    async def action_back(self) -> None:
        """b: the previous prompt."""
        if self.blocked():
            return
        if self.phase == "recording":
            self.notify("Stop the take first (space).", timeout=2)
            return
        if self.in_consent:
            self.notify("The consent statement comes before the first prompt.", timeout=3)
            return
        if self.index == 0:
            self.notify("This is the first prompt.", timeout=2)
            return
        self.index -= 1
        self.set_phase(self.phase_for_take())

    async def action_play(self) -> None:
        """p: listen to this take."""
        from engine.errors import TimbreError

        if self.phase in ("recording", "room_tone", "busy"):
            self.notify("Stop the take first (space).", timeout=2)
            return
        path = self.current_path()
        if not path.exists():
            self.notify("Nothing recorded for this prompt yet.", timeout=2)
            return
        try:
            await asyncio.to_thread(self.app.services.play, path)
        except TimbreError as exc:
            self.notify(explain(exc), title="Playback", severity="warning", timeout=10)
            return
        self.notify(
            "Playing the consent take…" if self.in_consent else f"Playing take {self.take.id}…", timeout=2
        )

    async def leave(self) -> bool:
        """Before leaving: ask when a take is running, and keep it if the person agrees."""
        if self.phase != "recording":
            return True
        from tui.screens.dialogs import ConfirmDialog

        if self.in_consent:
            drop = await self.app.push_screen_wait(
                ConfirmDialog(
                    "The consent statement is being recorded. Discard it and leave?", "leave", "stay"
                )
            )
            if drop and self.phase == "recording":
                await self.cancel_take()
            return bool(drop)
        keep = await self.app.push_screen_wait(
            ConfirmDialog("A take is being recorded. Stop it, keep it, and leave?", "stop and leave", "stay")
        )
        if not keep:
            return False
        if self.phase == "recording":
            await self.stop_take(interrupted="quit")
        return True

    def action_quit(self) -> None:
        """q: quit Timbre (asks first while a take is running)."""
        self.run_worker(self._quit(), group="leave", exclusive=True)

    async def _quit(self) -> None:
        if await self.leave():
            self.app.exit(0)

    def action_home(self) -> None:
        """h: back to Home (asks first while a take is running)."""
        self.run_worker(self._home(), group="leave", exclusive=True)

    async def _home(self) -> None:
        if await self.leave():
            self.dismiss()


def consent_needed(session: Any) -> bool:
    """True when a session has no consent take with speech on record (the consent step comes first)."""
    from engine import consent

    return consent.record_of(session) is None or not consent.has_speech(session)


def consent_has_speech(session: Any) -> bool:
    """Whether the quality check found speech in the consent take."""
    from engine import consent

    return consent.has_speech(session)


def consent_problems(session: Any) -> list[str]:
    """The consent take's failed and warned quality checks, each with its advice (format aside)."""
    quality = (getattr(session, "consent", None) or {}).get("quality") or {}
    out = []
    for check in quality.get("checks", []):
        if check.get("verdict") in ("fail", "warn") and check.get("key") not in ("format", "transcript"):
            glyph = "✗" if check.get("verdict") == "fail" else "!"
            out.append(f"{glyph} {check.get('label', check.get('key'))}: {check.get('advice', '')}".strip())
    return out
