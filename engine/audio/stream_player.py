"""Streaming playback: one PortAudio output stream per utterance, fed chunks of any size from a queue.

The synthesiser yields audio piece by piece; :class:`StreamPlayer` opens the stream when the first chunk
arrives and its callback copies queued samples into each block, crossing chunk boundaries inside a block,
so chunks follow each other without gaps. The callback does nothing else (no allocation beyond slicing,
no locks, no messages). ``stop()`` ends playback at once; ``finish()`` lets the queue drain.

Output devices are listed with :func:`list_output_devices`; :func:`rescan_devices` restarts PortAudio's
device list so that a sound server that appeared after start (a forwarded PulseAudio) can be used.
"""

from __future__ import annotations

import collections
import logging
import threading
import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from engine.audio.devices import PortAudioMissing, load_sounddevice, quiet_stderr
from engine.errors import AudioError

log = logging.getLogger(__name__)

SAMPLE_RATE = 32000


class NoOutput(AudioError):
    """There is no output device to play on (the audio goes to a file instead)."""

    default_hint = "Forward your PulseAudio over SSH (see README), or copy the WAV file to your computer."


@dataclass(frozen=True)
class OutputDevice:
    """One playback device as PortAudio lists it."""

    index: int
    name: str
    hostapi: str
    max_output_channels: int
    default_samplerate: float
    is_default: bool

    def label(self) -> str:
        """A one-line description for lists."""
        mark = " (default)" if self.is_default else ""
        return f"[{self.index}] {self.name} — {self.hostapi}, {self.default_samplerate:g} Hz{mark}"


def _default_output_index(sd: Any) -> int | None:
    try:
        with quiet_stderr():
            info = sd.query_devices(kind="output")
    except (sd.PortAudioError, ValueError):
        return None
    if int(info.get("max_output_channels", 0)) < 1:
        return None
    return int(info["index"])


def list_output_devices() -> list[OutputDevice]:
    """Every device PortAudio can play on (empty without PortAudio or devices)."""
    try:
        sd = load_sounddevice()
    except PortAudioMissing:
        return []
    try:
        with quiet_stderr():
            devices = sd.query_devices()
            hostapis = sd.query_hostapis()
    except sd.PortAudioError:
        return []
    default = _default_output_index(sd)
    found = []
    for info in devices:
        if int(info.get("max_output_channels", 0)) < 1:
            continue
        api = hostapis[info["hostapi"]]["name"] if 0 <= info["hostapi"] < len(hostapis) else "?"
        found.append(
            OutputDevice(
                int(info["index"]),
                str(info["name"]),
                str(api),
                int(info["max_output_channels"]),
                float(info["default_samplerate"]),
                int(info["index"]) == default,
            )
        )
    return found


def default_output() -> OutputDevice | None:
    """The default output device, or None when there is none."""
    devices = list_output_devices()
    return next((d for d in devices if d.is_default), devices[0] if devices else None)


def rescan_devices() -> list[OutputDevice]:
    """Re-read PortAudio's device list (only while no stream is open) and return the output devices."""
    try:
        sd = load_sounddevice()
    except PortAudioMissing:
        return []
    with quiet_stderr():
        try:
            sd._terminate()
            sd._initialize()
        except (AttributeError, sd.PortAudioError) as exc:
            log.warning("could not re-scan the audio devices: %s", exc)
    return list_output_devices()


class StreamPlayer:
    """Plays float32 mono chunks of any size, gap-free, on one output stream; thread-safe feeding."""

    def __init__(
        self,
        device: OutputDevice | int | None = None,
        samplerate: int = SAMPLE_RATE,
        *,
        blocksize: int = 0,
        latency: str | float = "high",
    ) -> None:
        self.samplerate = int(samplerate)
        self.device = device.index if isinstance(device, OutputDevice) else device
        self._blocksize = blocksize
        self._latency = latency
        self._queue: collections.deque[np.ndarray] = collections.deque()
        self._offset = 0  # samples of the queue's head already played (callback only)
        self._finished = False
        self._stopped = False
        self._done = threading.Event()
        self._stream: Any = None
        self._sd: Any = None
        self._resampler: Any = None
        self._rate = self.samplerate  # the stream's rate (the device's own when it refuses ours)
        self.fed_samples = 0
        self.played_samples = 0
        self.underruns = 0  # blocks that found the queue empty before the end
        self.first_sample_at: float | None = None  # time.perf_counter() of the first block with audio
        self.error: str | None = None

    # ------------------------------------------------------------------ stream
    def _open(self) -> None:
        sd = self._sd = load_sounddevice()
        rate = self.samplerate
        try:
            with quiet_stderr():
                sd.check_output_settings(device=self.device, samplerate=rate, channels=1, dtype="float32")
        except (sd.PortAudioError, ValueError):
            try:
                with quiet_stderr():
                    info = sd.query_devices(self.device, kind="output")
            except (sd.PortAudioError, ValueError) as exc:
                raise NoOutput(f"There is no audio output device ({exc}).") from exc
            rate = int(info["default_samplerate"])
            import soxr

            self._resampler = soxr.ResampleStream(self.samplerate, rate, 1, dtype="float32")
        self._rate = rate
        try:
            with quiet_stderr():
                self._stream = sd.OutputStream(
                    samplerate=rate,
                    channels=1,
                    dtype="float32",
                    device=self.device,
                    blocksize=self._blocksize,
                    latency=self._latency,
                    callback=self._callback,
                    finished_callback=self._done.set,
                )
                self._stream.start()
        except (sd.PortAudioError, ValueError) as exc:
            self._stream = None
            raise NoOutput(f"The audio output could not be opened ({exc}).") from exc

    def _callback(self, outdata: np.ndarray, frames: int, _time: Any, status: Any) -> None:
        out = outdata[:, 0]
        filled = 0
        queue = self._queue
        while filled < frames and queue:
            head = queue[0]
            take = min(frames - filled, head.size - self._offset)
            out[filled : filled + take] = head[self._offset : self._offset + take]
            filled += take
            self._offset += take
            if self._offset >= head.size:
                queue.popleft()
                self._offset = 0
        if filled and self.first_sample_at is None:
            self.first_sample_at = time.perf_counter()
        self.played_samples += filled
        if filled < frames:
            out[filled:] = 0.0
            if self._stopped or (self._finished and not queue):
                raise self._sd.CallbackStop()
            if self.first_sample_at is not None:
                self.underruns += 1

    # ------------------------------------------------------------------ feeding
    def feed(self, chunk: np.ndarray) -> None:
        """Queue ``chunk`` (float32 mono at ``samplerate``); the stream opens on the first one."""
        if self._stopped:
            return
        data = np.ascontiguousarray(np.asarray(chunk, dtype=np.float32).reshape(-1))
        if self._stream is None:
            self._open()
        if self._resampler is not None:
            data = self._resampler.resample_chunk(data)
        if data.size:
            self._queue.append(data)
            self.fed_samples += data.size

    def finish(self) -> None:
        """No more chunks: the stream closes once the queue has played."""
        if self._resampler is not None and not self._finished:
            tail = self._resampler.resample_chunk(np.zeros(0, np.float32), last=True)
            if tail.size:
                self._queue.append(tail)
                self.fed_samples += tail.size
        self._finished = True
        if self._stream is None:
            self._done.set()

    def stop(self) -> None:
        """Stop at once (queued audio is dropped)."""
        self._stopped = True
        self._queue.clear()
        stream = self._stream
        if stream is not None:
            try:
                with quiet_stderr():
                    stream.abort()
            except Exception as exc:  # noqa: BLE001 - a device that vanished is stopped anyway
                log.info("abort failed: %s", exc)
        self._done.set()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the queue has played (or stop()); True when done. Closes the stream."""
        done = self._done.wait(timeout)
        if done:
            self.close()
        return done

    def close(self) -> None:
        """Close the stream (safe to call twice)."""
        stream, self._stream = self._stream, None
        if stream is not None:
            try:
                with quiet_stderr():
                    stream.close()
            except Exception as exc:  # noqa: BLE001
                log.info("close failed: %s", exc)

    @property
    def stopped(self) -> bool:
        return self._stopped

    @property
    def active(self) -> bool:
        """True while the stream is open and not done."""
        return self._stream is not None and not self._done.is_set()


def play_audio(
    audio: np.ndarray, samplerate: int = SAMPLE_RATE, device: OutputDevice | int | None = None
) -> StreamPlayer:
    """Start playing a whole array (returns the player; call ``wait()`` or ``stop()``)."""
    player = StreamPlayer(device, samplerate)
    player.feed(audio)
    player.finish()
    return player
