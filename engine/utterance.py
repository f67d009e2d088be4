"""Speaking one text: synthesis streamed into a player as it is made, or into a WAV when nothing can play.

:func:`speak` is what the Speak screen and ``timbre say --play`` both run (in a worker thread): it feeds
each piece the synthesiser yields (a sentence today, possibly smaller pieces later) to a
:class:`engine.audio.stream_player.StreamPlayer`, measures time to first audio, total time and the
real-time factor, and honours a cancel event between pieces (playback stops at once).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from engine.errors import AudioError

log = logging.getLogger(__name__)

SAMPLE_RATE = 32000


@dataclass
class Utterance:
    """One spoken text and how it went."""

    text: str
    voice: str
    audio: np.ndarray = field(default_factory=lambda: np.zeros(0, np.float32))
    samplerate: int = SAMPLE_RATE
    created: float = field(default_factory=time.time)
    first_audio_s: float | None = None  # speak → first sample reaching the output (or first piece ready)
    total_s: float = 0.0  # speak → synthesis and playback finished
    synth_s: float = 0.0  # time spent synthesising
    pieces: int = 0
    played: bool = False  # False: written to ``path`` instead (no output device)
    stopped: bool = False
    path: Path | None = None
    note: str = ""  # why it was not played, when it was not

    @property
    def seconds(self) -> float:
        """Length of the audio."""
        return float(self.audio.size) / self.samplerate

    @property
    def rtf(self) -> float | None:
        """Synthesis time divided by audio length (below 1: faster than real time)."""
        return self.synth_s / self.seconds if self.seconds > 0 else None

    def stats(self) -> str:
        """'first audio 0.42 s · total 3.1 s · 2.5 s of audio · RTF 0.80'."""
        parts = []
        if self.first_audio_s is not None:
            parts.append(f"first audio {self.first_audio_s:.2f} s")
        parts.append(f"total {self.total_s:.1f} s")
        parts.append(f"{self.seconds:.1f} s of audio")
        if self.rtf is not None:
            parts.append(f"RTF {self.rtf:.2f}")
        return " · ".join(parts)


STREAM_CHUNK_TOKENS = 24  # sub-sentence pieces of ~0.5 s when the synthesiser can make them


def synth_stream(synth: Any, text: str, params: Any, chunk_tokens: int | None = STREAM_CHUNK_TOKENS) -> Any:
    """``synth.stream(text, params)``, in sub-sentence pieces when the synthesiser offers ``chunk_tokens``."""
    import inspect

    try:
        accepts = "chunk_tokens" in inspect.signature(synth.stream).parameters
    except (TypeError, ValueError):
        accepts = False
    if accepts and chunk_tokens:
        return synth.stream(text, params, chunk_tokens=chunk_tokens)
    return synth.stream(text, params)


def write_utterance(utt: Utterance, folder: Path) -> Path:
    """Write the utterance's audio to ``folder/<time>-<slug>.wav`` (once; the path is remembered)."""
    from engine.audio.playback import utterance_path
    from engine.audio.watermark import write_synthetic_wav as write_wav  # issue 14: LIST/INFO metadata

    if utt.path is not None and utt.path.exists():
        return utt.path
    path = utterance_path(folder, utt.text, utt.created)
    write_wav(path, utt.audio, utt.samplerate)
    utt.path = path
    return path


def _audio_of(piece: Any) -> np.ndarray:
    audio = getattr(piece, "audio", piece)
    return np.asarray(audio, dtype=np.float32).reshape(-1)


def speak(
    pieces: Iterable[Any],
    text: str,
    *,
    voice: str = "",
    output: Any = None,
    play: bool = True,
    out_dir: Path | None = None,
    cancel: threading.Event | None = None,
    on_piece: Callable[[Utterance, Any], None] | None = None,
    player_factory: Callable[..., Any] | None = None,
    started: float | None = None,
) -> Utterance:
    """Play ``pieces`` (the synthesiser's stream: Chunks or arrays) as they come; return the Utterance.

    ``output`` is the device (None: the default). With ``play`` False, or when no output can be
    opened, the audio is written to ``out_dir`` instead (``note`` says why). ``started`` is the
    perf_counter() of the key press, so that waiting for a model before this call counts too.
    """
    from engine.audio.stream_player import NoOutput, StreamPlayer

    cancel = cancel or threading.Event()
    begin = started if started is not None else time.perf_counter()
    utt = Utterance(text, voice)
    player = None
    if play:
        factory = player_factory or StreamPlayer
        player = factory(output, SAMPLE_RATE)
    else:
        utt.note = "no output device"
    collected: list[np.ndarray] = []
    iterator = iter(pieces)
    try:
        while not cancel.is_set():
            t0 = time.perf_counter()
            try:
                piece = next(iterator)
            except StopIteration:
                break
            utt.synth_s += time.perf_counter() - t0
            if cancel.is_set():  # stopped while this piece was being made: do not play it
                break
            audio = _audio_of(piece)
            collected.append(audio)
            utt.pieces += 1
            if player is not None:
                try:
                    player.feed(audio)
                except (NoOutput, AudioError) as exc:
                    log.info("playback unavailable: %s", exc)
                    utt.note = exc.message
                    player = None
            if utt.first_audio_s is None and player is None:
                utt.first_audio_s = time.perf_counter() - begin
            if on_piece is not None:
                on_piece(utt, piece)
    finally:
        close = getattr(iterator, "close", None)
        if close is not None and cancel.is_set():
            close()
    utt.audio = np.concatenate(collected) if collected else np.zeros(0, np.float32)
    utt.stopped = cancel.is_set()
    if player is not None:
        if utt.stopped:
            player.stop()
        else:
            player.finish()
        while not player.wait(0.05):
            if cancel.is_set():
                utt.stopped = True
                player.stop()
        utt.played = True
        if player.first_sample_at is not None:
            utt.first_audio_s = player.first_sample_at - begin
    utt.total_s = time.perf_counter() - begin
    if not utt.played and out_dir is not None and utt.audio.size:
        write_utterance(utt, out_dir)
    return utt
