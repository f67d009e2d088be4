"""Playing a WAV through the default output, with a clear fallback when there is none (e.g. over SSH)."""

from __future__ import annotations

import logging
import shlex
import socket
import threading
from pathlib import Path

import soundfile as sf

from engine.audio.devices import PortAudioMissing, load_sounddevice, quiet_stderr
from engine.errors import AudioError

log = logging.getLogger(__name__)

_lock = threading.Lock()


class NoOutputDevice(AudioError):
    """There is nothing to play sound on; the hint names the file so it can be played elsewhere."""

    def __init__(self, path: Path, reason: str = "There is no audio output device.") -> None:
        self.path = Path(path).resolve()
        host = socket.gethostname()
        quoted = shlex.quote(str(self.path))
        hint = (
            f"The audio is saved at {self.path}. To hear it on your own computer: "
            f"scp {host}:{quoted} . (then open it), or forward your PulseAudio over SSH (see README)."
        )
        super().__init__(f"{reason} Cannot play {self.path.name}.", hint)


def _output_index(sd) -> int | None:
    """Index of the default output device, or None when there is none."""
    try:
        with quiet_stderr():
            info = sd.query_devices(kind="output")
    except (sd.PortAudioError, ValueError):
        return None
    if int(info.get("max_output_channels", 0)) < 1:
        return None
    return int(info["index"])


def output_available() -> bool:
    """True when PortAudio loads and there is a default output device."""
    try:
        sd = load_sounddevice()
    except PortAudioMissing:
        return False
    return _output_index(sd) is not None


def play_file(path: Path, *, blocking: bool = False) -> None:
    """Play an audio file on the default output (stopping anything already playing)."""
    path = Path(path)
    try:
        data, rate = sf.read(str(path), dtype="float32", always_2d=False)
    except (OSError, sf.LibsndfileError) as exc:
        raise AudioError(f"Cannot read {path}: {exc}") from exc
    try:
        sd = load_sounddevice()
    except PortAudioMissing as exc:
        raise NoOutputDevice(path, f"Sound is unavailable ({exc.message})") from exc
    if _output_index(sd) is None:
        raise NoOutputDevice(path)
    with _lock:
        try:
            with quiet_stderr():
                sd.stop()
                sd.play(data, rate)
        except sd.PortAudioError as exc:
            raise NoOutputDevice(path, f"The audio output failed ({exc}).") from exc
    log.info("playing %s (%.1f s)", path, len(data) / rate)
    if blocking:
        with quiet_stderr():
            sd.wait()


def stop_playback() -> None:
    """Stop whatever ``play_file`` started (no-op without PortAudio)."""
    try:
        sd = load_sounddevice()
    except PortAudioMissing:
        return
    with _lock, quiet_stderr():
        sd.stop()


# ---------------------------------------------------------------------------------------------------------
# Utterances that cannot be played here: where they are written and how to hear them elsewhere.


def slug(text: str, limit: int = 32) -> str:
    """A short file-name piece from ``text`` (letters and CJK kept, the rest turned into '-')."""
    import re
    import unicodedata

    cleaned = unicodedata.normalize("NFC", text)
    cleaned = re.sub(r"[^\w]+", "-", cleaned, flags=re.UNICODE).strip("-_")
    return cleaned[:limit].strip("-_") or "utterance"


def utterance_path(folder: Path, text: str, when: float | None = None) -> Path:
    """``folder/<YYYYmmdd-HHMMSS>-<slug>.wav``, numbered when that name is taken."""
    import time

    stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(when if when is not None else time.time()))
    base = f"{stamp}-{slug(text)}"
    path = Path(folder) / f"{base}.wav"
    n = 2
    while path.exists():
        path = Path(folder) / f"{base}-{n}.wav"
        n += 1
    return path


def remote_commands(path: Path, host: str | None = None) -> list[str]:
    """Commands a person runs on their own computer to get or hear ``path`` from this machine."""
    host = host or socket.gethostname()
    quoted = shlex.quote(str(Path(path).resolve()))
    return [f"scp {host}:{quoted} .", f"ssh {host} cat {quoted} | play -t wav -"]
