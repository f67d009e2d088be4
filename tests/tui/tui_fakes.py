"""Deterministic stand-ins for the audio engine (injected through AudioServices) and test helpers."""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import soundfile as sf
from textual.screen import Screen

from engine.audio.devices import DeviceLost, InputDevice
from engine.audio.recorder import MeterState, TakeResult
from engine.errors import AudioError
from engine.session import Session
from engine.studio import Studio
from tui.app import TimbreApp
from tui.services import AudioServices

FAKE_RATE = 16000
FAKE_DEVICES = [
    InputDevice(0, "Fake USB mic", "ALSA", 1, 16000.0, False),
    InputDevice(1, "default", "ALSA", 2, 16000.0, True),
]


class FakeRecorder:
    """Implements the Recorder interface; the test sets the level, clips, overflows and errors."""

    def __init__(self, device: object = None, samplerate: int | None = None) -> None:
        self.device = device if isinstance(device, InputDevice) else FAKE_DEVICES[1]
        self.samplerate = int(samplerate or FAKE_RATE)
        self.level_dbfs = -18.0
        self.hold_dbfs = -12.0
        self.clipping = False
        self.clip_count = 0
        self.overflow_count = 0
        self.error: str | None = None
        self.take_seconds = 2.5  # the length of the next take written by stop_take
        self.wave: np.ndarray | None = None  # when set, stop_take writes these samples (e.g. speech_like())
        self.opened = False
        self.closed = False
        self.meter_calls = 0
        self.path: Path | None = None
        self.saved: list[Path] = []
        self.cancelled = 0

    def open(self) -> None:
        self.opened = True

    def start_take(self, path: Path) -> None:
        if self.error:
            raise DeviceLost(self.error)
        if self.path is not None:
            raise AudioError("A take is already being recorded.")
        self.path = Path(path)

    def _write(self) -> TakeResult:
        assert self.path is not None
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if self.wave is not None:
            frames = int(self.wave.size)
            sf.write(self.path, self.wave.astype(np.float32), self.samplerate)
        else:
            frames = int(self.take_seconds * self.samplerate)
            t = np.arange(frames) / self.samplerate
            amplitude = 10 ** (self.level_dbfs / 20)
            tone = (amplitude * np.sin(2 * math.pi * 220 * t)).astype(np.float32)
            sf.write(self.path, tone, self.samplerate)
        result = TakeResult(
            self.path,
            frames / self.samplerate,
            frames,
            self.samplerate,
            self.overflow_count,
            self.clip_count,
            self.level_dbfs,
        )
        self.saved.append(self.path)
        self.path = None
        return result

    def stop_take(self) -> TakeResult:
        if self.path is None:
            raise AudioError("No take is being recorded.")
        result = self._write()
        if self.error:
            raise DeviceLost(f"{self.error} {result.seconds:.1f} s were saved.", result=result)
        return result

    def cancel_take(self) -> None:
        self.path = None
        self.cancelled += 1

    def meter(self) -> MeterState:
        self.meter_calls += 1
        recording = self.path is not None and not self.error
        return MeterState(
            peak_dbfs=self.level_dbfs,
            rms_dbfs=self.level_dbfs - 3,
            peak_hold_dbfs=self.hold_dbfs,
            clipping=self.clipping,
            clip_count=self.clip_count,
            overflow_count=self.overflow_count,
            take_seconds=1.25 if recording else 0.0,
            recording=recording,
            block_time=time.monotonic(),
            error=self.error,
        )

    def close(self) -> None:
        self.closed = True


@dataclass
class FakeAudio:
    """Records what the app asked of the audio engine."""

    recorders: list[FakeRecorder] = field(default_factory=list)
    played: list[Path] = field(default_factory=list)
    room_tones: list[Path] = field(default_factory=list)
    play_error: Exception | None = None
    room_tone_gate: threading.Event = field(default_factory=threading.Event)  # clear it to hold room tone

    def __post_init__(self) -> None:
        self.room_tone_gate.set()

    def make_recorder(self, device: object, samplerate: int | None) -> FakeRecorder:
        recorder = FakeRecorder(device, samplerate)
        self.recorders.append(recorder)
        return recorder

    def record_room_tone(self, recorder: FakeRecorder, path: Path, seconds: float) -> TakeResult:
        recorder.start_take(path)
        saved_level, recorder.level_dbfs = recorder.level_dbfs, -70.0
        saved_len, recorder.take_seconds = recorder.take_seconds, seconds
        time.sleep(min(seconds, 0.3))
        self.room_tone_gate.wait(timeout=30)
        try:
            result = recorder.stop_take()
        finally:
            recorder.level_dbfs, recorder.take_seconds = saved_level, saved_len
        self.room_tones.append(path)
        return result

    def play(self, path: Path) -> None:
        if self.play_error is not None:
            raise self.play_error
        self.played.append(path)

    def services(self, portaudio_error: str | None = None) -> AudioServices:
        if portaudio_error:
            return AudioServices.disabled(portaudio_error)
        return AudioServices(
            portaudio_error=None,
            list_devices=lambda: list(FAKE_DEVICES),
            make_recorder=self.make_recorder,
            record_room_tone=self.record_room_tone,
            play=self.play,
            stop_playback=lambda: None,
        )


def make_app(home: Path, audio: FakeAudio | None = None, **kwargs: object) -> TimbreApp:
    """The real app on a studio folder, with fake audio."""
    audio = audio or FakeAudio()
    return TimbreApp(Studio.locate(home).ensure(), audio.services(), room_tone_seconds=0.3, **kwargs)


def screen_text(app: TimbreApp) -> str:
    """The characters on the app's screen right now, one line per row."""
    strips = app.screen._compositor.render_strips()
    return "\n".join(strip.text.rstrip() for strip in strips)


class SessionProbeScreen(Screen):
    """A screen that only remembers the session it was opened with (stands in for later screens)."""

    def __init__(self, session: object) -> None:
        super().__init__()
        self.session = session


PROMPTS_EN = [
    "The quick brown fox jumps over the lazy dog.",
    "Please read this sentence at a normal pace.",
    "A third sentence closes the short script.",
]


def speech_like(samplerate: int = FAKE_RATE, bursts: int = 4) -> np.ndarray:
    """Tone bursts between pauses: what the quality check's energy VAD counts as speech (fixed seed)."""
    t = np.arange(int(0.4 * samplerate)) / samplerate
    burst = 0.25 * np.sin(2 * math.pi * 220 * t) * np.hanning(t.size)
    gap = np.zeros(int(0.2 * samplerate))
    wave = np.concatenate([gap] + [np.concatenate([burst, gap]) for _ in range(bursts)])
    wave += np.random.default_rng(0).normal(0, 1e-4, wave.size)
    return wave.astype(np.float32)


def give_consent(session: Session) -> None:
    """Put a consent take on record (imported, speech-like), so Record starts at the first prompt."""
    from engine.consent import import_file

    source = session.dir / "consent-source.wav"
    sf.write(source, speech_like(int(session.samplerate)), int(session.samplerate))
    import_file(session, source)
    source.unlink()


def make_session(
    home: Path,
    prompts: list[str] | None = None,
    language: str = "en",
    room_tone: bool = True,
    session_id: str | None = None,
    consent: bool = True,
) -> Session:
    """A session on disk; with ``room_tone`` its room_tone.wav exists, and with ``consent`` a consent
    take is on record (give_consent), so recording starts at the first prompt at once."""
    studio = Studio.locate(home).ensure()
    session = Session.create(
        studio,
        language,
        prompts or PROMPTS_EN,
        device="default",
        samplerate=16000,
        script_name="test",
        session_id=session_id,
    )
    if room_tone:
        sf.write(session.room_tone_path(), np.zeros(1600, dtype=np.float32), 16000)
    if consent:
        give_consent(session)
    return session
