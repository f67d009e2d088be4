"""The recorder: a PortAudio input stream, live meters, and a writer thread that streams takes to disk.

Three activities, as in python-sounddevice's ``rec_gui`` example:

* the PortAudio callback copies each block, queues it while a take runs and updates the meter
  counters under a small lock (no file I/O, no logging, no UI calls);
* a writer thread appends queued blocks to ``takes/NNNN.partial.wav`` and flushes every
  ``FLUSH_EVERY_S`` so that a crash loses well under a second; ``stop_take`` renames it to
  ``NNNN.wav``;
* the UI polls ``Recorder.meter()`` (~30 fps), which returns an immutable snapshot.

``repair_partials`` turns ``*.partial.wav`` files left by a crash back into valid takes.
"""

from __future__ import annotations

import logging
import math
import os
import queue
import threading
import time
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf

from engine.audio.devices import (
    DeviceLost,
    InputDevice,
    check_input_settings,
    load_sounddevice,
    portaudio_error,
    quiet_stderr,
    resolve_input_device,
)
from engine.audio.wav import PARTIAL_SUFFIX, WavRepairError, partial_path_for, repair_partial_wav
from engine.errors import AudioError
from engine.fsutil import fsync_dir

log = logging.getLogger(__name__)

CLIP_LEVEL = 0.999  # |x| at or above this counts as full scale
CLIP_RUN = 3  # consecutive full-scale samples that make a clip
CLIP_WARN_S = 1.0  # MeterState.clipping stays on this long after a clip
PEAK_HOLD_S = 1.5
PEAK_DECAY_DB_PER_S = 20.0
METER_WINDOW_S = 0.05  # peak/RMS are taken over the blocks of the last 50 ms
STALL_S = 2.0  # no audio for this long while the stream should run: the device is gone
STARTUP_GRACE_S = 8.0  # the first block may take ~2 s (PortAudio's ALSA->PulseAudio start-up)
FLUSH_EVERY_S = 0.25
TAKE_SUBTYPE = "PCM_24"
_SFC_SET_UPDATE_HEADER_AUTO = 0x1061  # libsndfile: rewrite the header sizes after every write


class TakeWriteError(AudioError):
    """Writing a take to disk failed (disk full, folder removed, ...)."""

    default_hint = "Check free disk space and that the session folder still exists, then re-record."


def to_dbfs(value: float) -> float:
    """Amplitude (1.0 = full scale) to dBFS; 0 -> -inf."""
    return 20.0 * math.log10(value) if value > 0.0 else -math.inf


@dataclass(frozen=True)
class MeterState:
    """A snapshot of the input level, for meters."""

    peak_dbfs: float
    rms_dbfs: float
    peak_hold_dbfs: float
    clipping: bool
    clip_count: int
    overflow_count: int
    take_seconds: float
    recording: bool
    block_time: float
    error: str | None
    blocks: int = 0  # audio blocks received since open (lets a poller tell whether a new one came)


@dataclass(frozen=True)
class TakeResult:
    """What one finished take holds."""

    path: Path
    seconds: float
    frames: int
    samplerate: int
    overflow_count: int
    clip_count: int
    peak_dbfs: float


def count_clip_runs(hot: np.ndarray, carry: int, run: int = CLIP_RUN) -> tuple[int, int]:
    """Count runs of >= ``run`` True samples in ``hot``; ``carry`` is the run length ending the
    previous block. Returns (new runs, run length at the end of this block)."""
    n = hot.size
    if n == 0:
        return 0, carry
    if not hot.any():
        return 0, 0
    padded = np.concatenate(([False], hot, [False])).astype(np.int8)
    edges = np.diff(padded)
    starts = np.flatnonzero(edges == 1)
    ends = np.flatnonzero(edges == -1)
    lengths = ends - starts
    count = 0
    for i, (start, length) in enumerate(zip(starts, lengths, strict=True)):
        if i == 0 and start == 0 and carry:
            if carry < run <= carry + length:
                count += 1
        elif length >= run:
            count += 1
    last_len = int(lengths[-1]) if ends[-1] == n else 0
    if last_len and starts[-1] == 0:
        last_len += carry
    return count, last_len


class Recorder:
    """Records mono float32 from one input device at its native rate."""

    def __init__(
        self, device: InputDevice | int | str | None = None, samplerate: int | None = None, blocksize: int = 0
    ) -> None:
        self.device: InputDevice = device if isinstance(device, InputDevice) else resolve_input_device(device)
        self.samplerate: int = int(samplerate or round(self.device.default_samplerate))
        self.blocksize = blocksize
        check_input_settings(self.device, self.samplerate, 1)
        self._lock = threading.Lock()
        self._stream: Any = None
        self._closing = False
        self._opened_at = 0.0
        # meter state (guarded by _lock; written by the callback)
        self._blocks: deque[tuple[float, float, float, int]] = deque(maxlen=64)
        self._block_count = 0
        self._last_block_t = 0.0
        self._hold_db = -math.inf
        self._hold_t = 0.0
        self._clip_carry = 0
        self._clip_count = 0
        self._last_clip_t = -math.inf
        self._overflows = 0
        self._error: str | None = None
        self.last_input_latency = 0.0  # seconds from ADC capture to the callback, as PortAudio reports
        # take state
        self._recording = False
        self._queue: queue.SimpleQueue | None = None
        self._writer: threading.Thread | None = None
        self._file: sf.SoundFile | None = None
        self._take_final: Path | None = None
        self._take_partial: Path | None = None
        self._take_frames = 0
        self._take_peak = 0.0
        self._written_frames = 0
        self._writer_error: BaseException | None = None

    # ----------------------------------------------------------------- stream
    def open(self) -> None:
        """Start the input stream: meters run, nothing is written until ``start_take``."""
        if self._stream is not None:
            return
        sd = load_sounddevice()
        self._closing = False
        with self._lock:
            self._error = None
            self._block_count = 0
            self._last_block_t = time.monotonic()
        stream = None
        try:
            with quiet_stderr():
                stream = sd.InputStream(
                    device=self.device.index,
                    samplerate=self.samplerate,
                    channels=1,
                    dtype="float32",
                    blocksize=self.blocksize,
                    callback=self._callback,
                    finished_callback=self._finished,
                )
                stream.start()
        except sd.PortAudioError as exc:
            if stream is not None:
                self._closing = True
                _close_stream(stream)
            raise portaudio_error(exc, self.device, self.samplerate) from exc
        self._stream = stream
        self._opened_at = time.monotonic()
        log.info("input stream open: %s at %d Hz", self.device.name, self.samplerate)

    def _callback(self, indata: np.ndarray, frames: int, time_info: Any, status: Any) -> None:
        now = time.monotonic()
        block = indata[:, 0].copy()
        mags = np.abs(block)
        peak = float(mags.max()) if frames else 0.0
        sumsq = float(np.dot(block, block))
        runs, carry = count_clip_runs(mags >= CLIP_LEVEL, self._clip_carry) if peak >= CLIP_LEVEL else (0, 0)
        try:
            latency = float(time_info.currentTime - time_info.inputBufferAdcTime)
        except Exception:  # noqa: BLE001 - some host APIs report nothing
            latency = 0.0
        peak_db = to_dbfs(peak)
        with self._lock:
            self._last_block_t = now
            self._block_count += 1
            self._blocks.append((now, peak, sumsq, frames))
            if peak_db >= self._held_db(now):
                self._hold_db, self._hold_t = peak_db, now
            if status.input_overflow:
                self._overflows += 1
            self._clip_carry = carry
            if runs:
                self._clip_count += runs
                self._last_clip_t = now
            if self._recording and self._queue is not None:
                self._queue.put_nowait(block)
                self._take_frames += frames
                if peak > self._take_peak:
                    self._take_peak = peak
            self.last_input_latency = latency

    def _finished(self) -> None:
        if not self._closing:
            with self._lock:
                if self._error is None:
                    self._error = f"The input stream from {self.device.name} stopped unexpectedly."
                self._recording = False

    def _held_db(self, now: float) -> float:
        age = now - self._hold_t
        if age <= PEAK_HOLD_S:
            return self._hold_db
        return self._hold_db - PEAK_DECAY_DB_PER_S * (age - PEAK_HOLD_S)

    def _check_stream(self, now: float) -> None:
        """Notice a stream that died or stalled (call with the lock held)."""
        if self._stream is None or self._closing or self._error is not None:
            return
        limit = STALL_S if self._block_count else STARTUP_GRACE_S
        stalled = now - self._last_block_t > limit
        inactive = not self._stream.active
        if stalled or inactive:
            why = "sends no audio" if stalled else "stopped"
            self._error = f"The input device {self.device.name} {why}; it may have been unplugged."
            self._recording = False

    def meter(self) -> MeterState:
        """A thread-safe snapshot of the meters (cheap; poll it at ~30 fps)."""
        now = time.monotonic()
        with self._lock:
            self._check_stream(now)
            recent = [b for b in self._blocks if now - b[0] <= METER_WINDOW_S]
            if not recent and self._blocks:
                recent = [self._blocks[-1]]
            peak = max((b[1] for b in recent), default=0.0)
            frames = sum(b[3] for b in recent)
            rms = math.sqrt(sum(b[2] for b in recent) / frames) if frames else 0.0
            return MeterState(
                peak_dbfs=to_dbfs(peak),
                rms_dbfs=to_dbfs(rms),
                peak_hold_dbfs=max(self._held_db(now), to_dbfs(peak)),
                clipping=now - self._last_clip_t <= CLIP_WARN_S,
                clip_count=self._clip_count,
                overflow_count=self._overflows,
                take_seconds=self._take_frames / self.samplerate if self._recording else 0.0,
                recording=self._recording,
                block_time=self._last_block_t,
                error=self._error,
                blocks=self._block_count,
            )

    def wait_ready(self, timeout: float = STARTUP_GRACE_S) -> bool:
        """Open the stream and wait until audio flows; False on timeout or device loss."""
        self.open()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            state = self.meter()
            if state.error:
                return False
            if state.blocks:
                return True
            time.sleep(0.01)
        return False

    @property
    def error(self) -> str | None:
        """Why the device was lost, or None."""
        return self.meter().error

    @property
    def recording(self) -> bool:
        return self._recording or self._writer is not None

    # ----------------------------------------------------------------- takes
    def start_take(self, path: Path) -> None:
        """Start recording into ``path`` (written as ``<stem>.partial.wav`` until ``stop_take``)."""
        if self._writer is not None:
            raise AudioError("A take is already being recorded.", "Stop it first.")
        self.open()
        state = self.meter()
        if state.error:
            raise DeviceLost(state.error)
        final = Path(path)
        partial = partial_path_for(final)
        try:
            final.parent.mkdir(parents=True, exist_ok=True)
            partial.unlink(missing_ok=True)
            handle = sf.SoundFile(
                partial, "w", samplerate=self.samplerate, channels=1, subtype=TAKE_SUBTYPE, format="WAV"
            )
        except (OSError, sf.LibsndfileError) as exc:
            raise TakeWriteError(f"Cannot create {partial}: {exc}") from exc
        _enable_header_updates(handle)
        self._file, self._take_final, self._take_partial = handle, final, partial
        self._writer_error = None
        self._written_frames = 0
        q: queue.SimpleQueue = queue.SimpleQueue()
        self._queue = q
        self._writer = threading.Thread(
            target=self._write_loop, args=(handle, q), name="take-writer", daemon=True
        )
        self._writer.start()
        with self._lock:
            self._take_frames = 0
            self._take_peak = 0.0
            self._overflows = 0
            self._clip_count = 0
            self._recording = True
        log.info("take started: %s", partial)

    def _write_loop(self, handle: sf.SoundFile, q: queue.SimpleQueue) -> None:
        last_flush = time.monotonic()
        done = False
        while not done:
            try:
                item = q.get(timeout=FLUSH_EVERY_S)
            except queue.Empty:
                item = ()
            chunks = []
            if item is None:
                done = True
            elif len(item):
                chunks.append(item)
            while not done:  # drain whatever else is waiting
                try:
                    more = q.get_nowait()
                except queue.Empty:
                    break
                if more is None:
                    done = True
                else:
                    chunks.append(more)
            if self._writer_error is not None:
                continue  # keep draining until the sentinel
            try:
                if chunks:
                    data = np.concatenate(chunks)
                    handle.write(data)
                    self._written_frames += len(data)
                now = time.monotonic()
                if now - last_flush >= FLUSH_EVERY_S:
                    handle.flush()
                    last_flush = now
            except Exception as exc:  # noqa: BLE001 - reported by stop_take
                self._writer_error = exc
                with self._lock:
                    self._recording = False
                log.exception("writing the take failed")
            with self._lock:
                self._check_stream(time.monotonic())

    def _finish_writer(self) -> None:
        with self._lock:
            self._recording = False
        if self._queue is not None:
            self._queue.put(None)
        if self._writer is not None:
            self._writer.join(timeout=30)
        if self._file is not None:
            try:
                self._file.close()
            except Exception as exc:  # noqa: BLE001
                self._writer_error = self._writer_error or exc
        self._writer = None
        self._queue = None
        self._file = None

    def stop_take(self) -> TakeResult:
        """Finish the take: flush, close and rename ``.partial.wav`` to the final name atomically."""
        if self._writer is None or self._take_final is None or self._take_partial is None:
            raise AudioError("No take is being recorded.")
        self._finish_writer()
        final, partial = self._take_final, self._take_partial
        self._take_final = self._take_partial = None
        with self._lock:
            overflows, clips, peak = self._overflows, self._clip_count, self._take_peak
            error = self._error
        if self._writer_error is not None:
            raise TakeWriteError(f"Writing {partial} failed: {self._writer_error}")
        try:
            os.replace(partial, final)
            fsync_dir(final.parent)
        except OSError as exc:
            raise TakeWriteError(f"Could not save {final}: {exc}") from exc
        frames = self._written_frames
        result = TakeResult(
            path=final,
            seconds=frames / self.samplerate,
            frames=frames,
            samplerate=self.samplerate,
            overflow_count=overflows,
            clip_count=clips,
            peak_dbfs=to_dbfs(peak),
        )
        log.info("take saved: %s (%.2f s, %d overflows, %d clips)", final, result.seconds, overflows, clips)
        if error:
            raise DeviceLost(f"{error} {result.seconds:.1f} s were saved to {final}.", result=result)
        return result

    def cancel_take(self) -> None:
        """Stop the take and delete its file."""
        if self._writer is None:
            return
        self._finish_writer()
        if self._take_partial is not None:
            self._take_partial.unlink(missing_ok=True)
        self._take_final = self._take_partial = None

    def close(self) -> None:
        """Stop the stream (saving a running take first) and release the device."""
        if self._writer is not None:
            try:
                self.stop_take()
            except AudioError as exc:
                log.warning("while closing: %s", exc)
        stream, self._stream = self._stream, None
        if stream is None:
            return
        self._closing = True
        # A stream whose device vanished can block in stop(); never hang the caller on it.
        closer = threading.Thread(target=_close_stream, args=(stream,), name="stream-close", daemon=True)
        closer.start()
        closer.join(timeout=3.0)

    def __enter__(self) -> Recorder:
        self.open()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _close_stream(stream: Any) -> None:
    try:
        with quiet_stderr():
            stream.abort()
            stream.close()
    except Exception as exc:  # noqa: BLE001 - the device may already be gone
        log.debug("closing the input stream: %s", exc)


def _enable_header_updates(handle: sf.SoundFile) -> None:
    """Ask libsndfile to keep the WAV header sizes current after every write (best effort)."""
    try:
        sf._snd.sf_command(handle._file, _SFC_SET_UPDATE_HEADER_AUTO, sf._ffi.NULL, 1)
    except Exception as exc:  # noqa: BLE001 - private API; repair_partials covers us without it
        log.debug("header auto-update unavailable: %s", exc)


def record_room_tone(recorder: Recorder, path: Path, seconds: float = 3.0) -> TakeResult:
    """Record ``seconds`` of the room's silence to ``path`` (the noise profile for denoising)."""
    recorder.start_take(path)
    deadline = time.monotonic() + seconds + STARTUP_GRACE_S + 2.0
    try:
        while True:
            state = recorder.meter()
            if state.error or state.take_seconds >= seconds or time.monotonic() > deadline:
                break
            time.sleep(0.02)
    except BaseException:
        recorder.cancel_take()
        raise
    return recorder.stop_take()


def repair_partials(folder: Path) -> list[Path]:
    """Repair every ``*.partial.wav`` under ``folder`` left by a crash; return the repaired paths.

    All whole frames in the file are kept. A file too damaged to read is renamed ``*.broken.wav``
    (and logged) so it is not retried forever and nothing is deleted.
    """
    repaired: list[Path] = []
    folder = Path(folder)
    if not folder.is_dir():
        return repaired
    for partial in sorted(folder.rglob(f"*{PARTIAL_SUFFIX}")):
        try:
            out = repair_partial_wav(partial)
        except (WavRepairError, OSError, sf.LibsndfileError) as exc:
            broken = partial.with_name(partial.name[: -len(PARTIAL_SUFFIX)] + ".broken.wav")
            log.warning("cannot repair %s (%s); kept as %s", partial, exc, broken)
            try:
                os.replace(partial, broken)
            except OSError:
                pass
            continue
        if out is not None:
            repaired.append(out)
    return repaired
