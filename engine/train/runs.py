"""Training runs on disk, and what a monitor knows about one: a fold of its events.

A trainer writes ``voices/<name>/train/events.jsonl`` (every event it prints) and, while it runs,
``voices/<name>/train/trainer.pid`` ("<pid> <start ticks>"). From those two files anyone can tell,
without the trainer's help, whether a run is going, finished, cancelled, failed, or was killed
("stopped unexpectedly"), and rebuild everything a monitor shows: that is how the TUI reattaches.

:class:`RunState` is the fold: :meth:`RunState.apply` takes one event at a time and keeps bounded
histories (loss curves are downsampled, the log is a ring), so 100,000 events cost the same memory as
a few hundred.
"""

from __future__ import annotations

import os
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engine.train.events import EVENTS_FILE, PHASES, PID_FILE, Event, EventError, parse, read_file

TERMINAL = ("done", "cancelled", "error")
STATUS_TEXT = {
    "starting": "starting",
    "running": "running",
    "cancelling": "saving checkpoint…",
    "done": "finished",
    "cancelled": "cancelled",
    "error": "failed",
    "stopped": "stopped unexpectedly",
}


class BoundedSeries:
    """A curve of at most ``capacity`` points: when full, neighbours are averaged and the stride doubles."""

    def __init__(self, capacity: int = 256) -> None:
        if capacity < 4 or capacity % 2:
            raise ValueError("capacity must be an even number >= 4")
        self.capacity = capacity
        self.points: list[float] = []
        self.stride = 1  # how many raw values each point stands for
        self._acc = 0.0
        self._n = 0
        self.count = 0  # raw values seen
        self.last: float | None = None

    def add(self, value: float) -> None:
        """Add one raw value."""
        self.count += 1
        self.last = value
        self._acc += value
        self._n += 1
        if self._n < self.stride:
            return
        self.points.append(self._acc / self._n)
        self._acc, self._n = 0.0, 0
        if len(self.points) >= self.capacity:
            pts = self.points
            self.points = [(pts[i] + pts[i + 1]) / 2 for i in range(0, len(pts) - 1, 2)]
            self.stride *= 2

    def values(self) -> list[float]:
        """The downsampled curve, oldest first (a pending partial point included)."""
        return self.points + ([self._acc / self._n] if self._n else [])


@dataclass
class PhaseState:
    """One phase of a run (prepare, sovits, gpt, export)."""

    name: str
    epochs: int | None = None
    total_steps: int | None = None
    epoch: int = 0
    step: int = 0
    eta_s: float | None = None
    started: bool = False
    finished: bool = False
    losses: dict[str, BoundedSeries] = field(default_factory=dict)

    @property
    def fraction(self) -> float:
        """How far the phase is, 0..1."""
        if self.finished:
            return 1.0
        if self.total_steps:
            return max(0.0, min(1.0, self.step / self.total_steps))
        return 0.0


@dataclass
class Sample:
    """A per-epoch sample the trainer synthesised."""

    phase: str
    epoch: int
    wav: str
    text: str = ""
    similarity: float | None = None
    seconds: float | None = None


@dataclass
class RunState:
    """Everything a monitor shows about one training run, built from its events."""

    voice: str = ""
    status: str = "starting"
    phases: dict[str, PhaseState] = field(default_factory=dict)
    current: str | None = None
    device: str | None = None
    gpu_name: str | None = None
    gpu_mem_mb: float | None = None
    lr: float | None = None
    steps_per_s: float | None = None
    config: dict[str, Any] = field(default_factory=dict)
    samples: list[Sample] = field(default_factory=list)
    log: deque[tuple[str, str]] = field(default_factory=lambda: deque(maxlen=200))
    error: tuple[str, str] | None = None
    checkpoint: str | None = None
    events: int = 0
    first_t: float | None = None
    last_t: float | None = None
    seconds: float | None = None

    def phase(self, name: str) -> PhaseState:
        """The phase called ``name`` (created on first mention)."""
        if name not in self.phases:
            self.phases[name] = PhaseState(name)
        return self.phases[name]

    def apply(self, event: Event) -> None:
        """Fold one event into the state; unknown kinds are ignored."""
        self.events += 1
        self.first_t = event.t if self.first_t is None else self.first_t
        self.last_t = event.t
        kind, get = event.kind, event.get
        if kind == "start":
            self.status = "running"
            self.voice = get("voice", self.voice)
            self.device = get("device", self.device)
            self.gpu_name = get("gpu_name", self.gpu_name)
            self.config = dict(get("config", {}) or {})
            for name in get("phases", []):
                if isinstance(name, str):
                    self.phase(name)
        elif kind == "phase":
            name = get("name")
            if self.current and self.current != name:
                self.phase(self.current).finished = True
            self.current = name
            ph = self.phase(name)
            ph.started = True
            ph.epochs = get("epochs", ph.epochs)
            ph.total_steps = get("steps", ph.total_steps)
            if self.status == "starting":
                self.status = "running"
        elif kind == "progress":
            name = get("phase", self.current or "train")
            if name != self.current:
                if self.current:
                    self.phase(self.current).finished = True
                self.current = name
            ph = self.phase(name)
            ph.started = True
            ph.step = int(get("step", ph.step))
            ph.total_steps = get("total_steps", ph.total_steps)
            ph.epoch = int(get("epoch", ph.epoch))
            ph.epochs = get("epochs", ph.epochs)
            ph.eta_s = get("eta_s")
            for loss, value in (get("losses", {}) or {}).items():
                if isinstance(value, int | float) and not isinstance(value, bool):
                    ph.losses.setdefault(loss, BoundedSeries()).add(float(value))
            self.lr = get("lr", self.lr)
            self.steps_per_s = get("steps_per_s", self.steps_per_s)
            self.gpu_mem_mb = get("gpu_mem_mb", self.gpu_mem_mb)
            self.gpu_name = get("gpu_name", self.gpu_name)
            if self.status == "starting":
                self.status = "running"
        elif kind == "checkpoint":
            self.checkpoint = get("path")
        elif kind == "sample":
            self.samples.append(
                Sample(
                    phase=get("phase", self.current or ""),
                    epoch=int(get("epoch", 0)),
                    wav=get("wav", ""),
                    text=get("text", ""),
                    similarity=get("similarity"),
                    seconds=get("seconds"),
                )
            )
        elif kind == "log":
            self.log.append((get("level", "info"), get("message", "")))
        elif kind == "done":
            self.status = "done"
            self.seconds = get("seconds")
            for ph in self.phases.values():
                if ph.started:
                    ph.finished = True
        elif kind == "cancelled":
            self.status = "cancelled"
            self.checkpoint = get("checkpoint", self.checkpoint)
        elif kind == "error":
            self.status = "error"
            self.error = (get("message", ""), get("hint", ""))

    @property
    def finished(self) -> bool:
        """True once the run ended one way or another (nothing more will come)."""
        return self.status in (*TERMINAL, "stopped")

    def warnings(self) -> list[str]:
        """Plain-language signs of over-training, from the samples so far."""
        out: list[str] = []
        for phase in sorted({s.phase for s in self.samples}, key=_phase_order):
            samples = sorted((s for s in self.samples if s.phase == phase), key=lambda s: s.epoch)
            sims = [s for s in samples if s.similarity is not None]
            for a, b, c in zip(sims, sims[1:], sims[2:], strict=False):
                if a.similarity > b.similarity > c.similarity:  # type: ignore[operator]
                    out.append(
                        f"{phase}: similarity fell two epochs in a row ({a.epoch}→{c.epoch}); "
                        "an earlier epoch may sound more like you."
                    )
                    break
            lengths = [s for s in samples if s.seconds]
            if phase == "gpt" and len(lengths) >= 3:
                first = sorted(s.seconds for s in lengths[:-1])[len(lengths[:-1]) // 2]  # type: ignore[type-var]
                last = lengths[-1]
                if first and last.seconds > 1.6 * first:  # type: ignore[operator]
                    out.append(
                        f"gpt: epoch {last.epoch} speaks {last.seconds:.1f} s against ~{first:.1f} s before: "
                        "it may be repeating words (over-training)."
                    )
        return out

    def best_sample(self) -> Sample | None:
        """The sample most similar to the reference (None without scores)."""
        scored = [s for s in self.samples if s.similarity is not None]
        return max(scored, key=lambda s: s.similarity) if scored else None  # type: ignore[arg-type,return-value]


def _phase_order(name: str) -> int:
    return PHASES.index(name) if name in PHASES else len(PHASES)


def fold(events: list[Event]) -> RunState:
    """A RunState from a list of events."""
    state = RunState()
    for event in events:
        state.apply(event)
    return state


# ------------------------------------------------------------------------------------------ pid file
def _start_ticks(pid: int) -> int | None:
    """The process's start time in clock ticks since boot (Linux /proc), None where unknown."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    try:
        return int(stat.rsplit(")", 1)[1].split()[19])
    except (IndexError, ValueError):
        return None


def write_pid_file(train_dir: Path | str, pid: int | None = None) -> Path:
    """Record this (or ``pid``'s) process as the run's trainer: "<pid> <start ticks>"."""
    pid = os.getpid() if pid is None else pid
    path = Path(train_dir) / PID_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    ticks = _start_ticks(pid)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(f"{pid} {ticks if ticks is not None else ''}".strip() + "\n")
    os.replace(tmp, path)
    return path


def remove_pid_file(train_dir: Path | str) -> None:
    """Forget the trainer (at a clean exit)."""
    try:
        (Path(train_dir) / PID_FILE).unlink()
    except FileNotFoundError:
        pass


def trainer_pid(train_dir: Path | str) -> int | None:
    """The pid of the trainer still running for this folder, None when none is (stale files ignored)."""
    try:
        fields = (Path(train_dir) / PID_FILE).read_text().split()
        pid = int(fields[0])
    except (OSError, ValueError, IndexError):
        return None
    if pid <= 0:
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:
        pass
    if len(fields) > 1:  # guard against a reused pid
        ticks = _start_ticks(pid)
        if ticks is not None and str(ticks) != fields[1]:
            return None
    if _is_zombie(pid):
        return None
    return pid


def _is_zombie(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    try:
        return stat.rsplit(")", 1)[1].split()[0] == "Z"
    except IndexError:
        return False


# ------------------------------------------------------------------------------------------- runs
@dataclass
class RunInfo:
    """A training run found on disk."""

    voice: str
    train_dir: Path
    pid: int | None
    state: RunState

    @property
    def events_path(self) -> Path:
        return self.train_dir / EVENTS_FILE


def read_run(train_dir: Path | str, voice: str | None = None) -> RunInfo:
    """The run whose files are in ``train_dir`` (voices/<name>/train): its state and live trainer."""
    train_dir = Path(train_dir)
    try:
        state = fold(read_file(train_dir / EVENTS_FILE))
    except OSError:  # unreadable: nothing known yet
        state = RunState()
    pid = trainer_pid(train_dir)
    if pid is None and not state.finished and state.events:
        state.status = "stopped"
    name = voice or train_dir.parent.name  # the folder names the voice, whatever the events say
    state.voice = name
    return RunInfo(name, train_dir, pid, state)


def find_runs(voices_dir: Path | str) -> list[RunInfo]:
    """Every voice folder with a training event log, newest activity first."""
    runs: list[RunInfo] = []
    root = Path(voices_dir)
    if not root.is_dir():
        return runs
    for folder in sorted(root.iterdir()):
        train = folder / "train"
        if (train / EVENTS_FILE).is_file():
            runs.append(read_run(train, folder.name))
    runs.sort(key=lambda r: r.state.last_t or 0.0, reverse=True)
    return runs


class EventTail:
    """Reads the events appended to a file since the last call (a torn last line waits for its end)."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self.offset = 0
        self._pending = b""

    def read(self) -> list[Event]:
        """The complete events written since the previous call."""
        try:
            with open(self.path, "rb") as f:
                f.seek(self.offset)
                data = f.read()
        except OSError:
            return []
        self.offset += len(data)
        data = self._pending + data
        lines = data.split(b"\n")
        self._pending = lines.pop()
        out: list[Event] = []
        for line in lines:
            try:
                event = parse(line)
            except EventError:
                continue
            if event is not None:
                out.append(event)
        return out


def format_eta(seconds: float | None) -> str:
    """'1 h 02 min', '3 min 05 s', '42 s', or '—' when unknown."""
    if seconds is None or seconds < 0:
        return "—"
    s = int(round(seconds))
    if s >= 3600:
        return f"{s // 3600} h {s % 3600 // 60:02d} min"
    if s >= 60:
        return f"{s // 60} min {s % 60:02d} s"
    return f"{s} s"
