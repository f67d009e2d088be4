"""A recording session on disk (DESIGN §3): session.json, takes/, room_tone.wav, metadata.csv.

Every mutating method saves at once (atomically), so a crash never loses a status change.
``Session.load`` first repairs takes left as ``*.partial.wav`` by a crash.

Which takes are training data is decided in one place, :meth:`Session.training_takes`: accepted
takes with a transcript and an audio file that were not cut short and did not fail the quality
check. The session-root metadata.csv, ``clean/metadata.csv`` (engine.audio.denoise.prepare_session)
and the trainer all use it.

A take cut short (the app closed or crashed, or the microphone was lost, while it was recording)
is marked ``interrupted`` in session.json (the value says how: see ``INTERRUPTED``) and is left
out of training until the person records it again, edits its transcript to what was said, or
accepts it explicitly. Each take also stores ``speech_seconds``: its length with leading/trailing
silence trimmed as the clean copy is (engine.audio.denoise.speech_seconds); progress toward the
60 s goal counts those.
"""

from __future__ import annotations

import logging
import math
import re
import time
import unicodedata
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal, get_args

from engine.errors import StudioError
from engine.fsutil import atomic_write_json, atomic_write_text, inside, read_json, safe_name
from engine.studio import Studio

log = logging.getLogger(__name__)

TakeStatus = Literal["pending", "recorded", "accepted", "skipped", "rejected"]
TAKE_STATUSES: tuple[str, ...] = get_args(TakeStatus)
HANDLED: frozenset[str] = frozenset({"accepted", "skipped", "rejected"})
COMPLETE_SECONDS = 60.0
SESSION_FILE = "session.json"
METADATA_FILE = "metadata.csv"
ROOM_TONE_FILE = "room_tone.wav"
FORMAT_VERSION = 1
INTERRUPTED: dict[str, str] = {
    "crash": "recovered after a crash",
    "quit": "Timbre was closed during the take",
    "device": "the microphone was lost during the take",
}
"""How a take was cut short (the value of ``Take.interrupted``) and how to say it."""


@dataclass
class Take:
    """One prompt of the session and the state of its recording."""

    id: str
    text: str
    status: TakeStatus
    seconds: float = 0.0
    overflow_count: int = 0
    clip_count: int = 0
    peak_dbfs: float | None = None
    quality: dict | None = None
    source: str = "recorded"
    interrupted: str | None = None  # a key of INTERRUPTED when the take was cut short, else None
    speech_seconds: float | None = None  # seconds once edge silence is trimmed; None: not measured

    @property
    def cut_short(self) -> bool:
        """True for a recorded take that was cut short and is not yet re-recorded, edited or accepted."""
        return self.interrupted is not None and self.status == "recorded"

    @property
    def interrupted_text(self) -> str:
        """How the take was cut short, in plain words ("" when it was not)."""
        if self.interrupted is None:
            return ""
        return INTERRUPTED.get(self.interrupted, self.interrupted)

    @property
    def speech_or_length(self) -> float:
        """Speech seconds when measured, else the raw length."""
        return self.seconds if self.speech_seconds is None else self.speech_seconds

    @classmethod
    def from_json(cls, obj: dict[str, Any]) -> Take:
        """A Take from its session.json entry (unknown keys ignored)."""
        if not isinstance(obj, dict):
            raise ValueError(f"a take entry is {type(obj).__name__}, not an object")
        known = {k: obj[k] for k in cls.__dataclass_fields__ if k in obj}
        for key, types in _TAKE_TYPES.items():
            if key in known and known[key] is not None or key in ("id", "text", "status"):
                value = known.get(key)
                if isinstance(value, bool) and bool not in types or not isinstance(value, types):
                    raise ValueError(f"take field {key!r} is {type(value).__name__}")
        if not TAKE_ID.fullmatch(known["id"]):
            raise ValueError(f"take id {known['id']!r} is not a number like 0001")
        take = cls(**known)
        if take.status not in TAKE_STATUSES:
            raise ValueError(f"unknown take status {take.status!r}")
        return take


TAKE_ID = re.compile(r"[0-9]{1,6}")  # our own ids: 0001, 0002, …; anything else in session.json is refused
_TAKE_TYPES: dict[str, tuple[type, ...]] = {
    "id": (str,),
    "text": (str,),
    "status": (str,),
    "seconds": (int, float),
    "overflow_count": (int,),
    "clip_count": (int,),
    "peak_dbfs": (int, float),
    "quality": (dict,),
    "source": (str,),
    "interrupted": (str,),
    "speech_seconds": (int, float),
}


@dataclass(frozen=True)
class SessionSummary:
    """What the Home screen lists about a session."""

    id: str
    language: str
    takes: int
    accepted: int
    accepted_seconds: float
    complete: bool
    created: float


def _finite_or_none(value: float | None) -> float | None:
    if value is None or not math.isfinite(value):
        return None
    return float(value)


def _new_session_id(studio: Studio) -> str:
    base = time.strftime("%Y%m%d-%H%M%S")
    candidate, n = base, 1
    while studio.session_dir(candidate).exists():
        n += 1
        candidate = f"{base}-{n}"
    return candidate


@dataclass
class Session:
    """A recording session folder and its state."""

    id: str
    dir: Path
    language: str
    device: str | None
    samplerate: int
    script_name: str
    takes: list[Take] = field(default_factory=list)
    created: float = field(default_factory=time.time)
    room_tone_seconds: float = 0.0
    ready: bool = False  # clean/ written by engine.audio.denoise.prepare_session; changes reset it
    consent: dict | None = None  # the consent statement and its take (engine.consent); never a take

    # ----------------------------------------------------------------- create / load / save
    @classmethod
    def create(
        cls,
        studio: Studio,
        language: str,
        prompts: list[str],
        *,
        device: str | None,
        samplerate: int,
        script_name: str,
        session_id: str | None = None,
    ) -> Session:
        """Make a new session folder with one pending take per prompt."""
        studio.ensure()
        sid = safe_name(session_id, what="session name") if session_id else _new_session_id(studio)
        folder = studio.session_dir(sid)
        if (folder / SESSION_FILE).exists():
            typed = unicodedata.normalize("NFC", session_id) if session_id else sid
            if session_id and typed != sid:  # two names that sanitise alike must not merge
                raise StudioError(
                    f"The session name {session_id!r} would be saved as {sid!r}, and a session {sid!r} "
                    "already exists.",
                    "Choose a name of letters, digits, '-', '_' or '.' that is not taken.",
                )
            raise StudioError(
                f"A session named {sid!r} already exists in {studio.recordings}.",
                "Resume it, or choose another name.",
            )
        (folder / "takes").mkdir(parents=True, exist_ok=True)
        session = cls(
            id=sid,
            dir=folder,
            language=language,
            device=device,
            samplerate=int(samplerate),
            script_name=script_name,
        )
        for text in prompts:
            session.takes.append(Take(id=session._next_id(), text=text.strip(), status="pending"))
        session.save()
        log.info("session %s created in %s (%d prompts)", sid, folder, len(prompts))
        return session

    @classmethod
    def load(cls, studio: Studio, session_id: str) -> Session:
        """Open a session, repairing takes a crash left as ``*.partial.wav`` first."""
        from engine.audio.recorder import repair_partials
        from engine.audio.wav import wav_seconds

        folder = studio.session_dir(session_id)
        path = folder / SESSION_FILE
        if not path.is_file():
            raise StudioError(
                f"There is no session {session_id!r} in {studio.recordings}.",
                "Check the name (the Home screen and 'timbre record --help' list the sessions).",
            )
        session = cls._from_json(folder, read_json(path))
        changed = False
        for repaired in repair_partials(folder):
            seconds = wav_seconds(repaired)
            if repaired.name == ROOM_TONE_FILE:
                session.room_tone_seconds = seconds
                changed = True
                continue
            index = session._index_of_path(repaired)
            if index is None:
                continue
            take = session.takes[index]
            take.status, take.seconds, take.quality = "recorded", seconds, None
            take.overflow_count = take.clip_count = 0
            take.peak_dbfs = None
            take.interrupted = "crash"
            take.speech_seconds = session.measure_speech(index)
            log.warning("take %s recovered after a crash (%.1f s)", take.id, seconds)
            changed = True
        for index, take in enumerate(session.takes):
            if (
                take.status != "pending"
                and take.status != "skipped"
                and not session.take_path(index).exists()
            ):
                log.warning(
                    "take %s is marked %s but its file is missing; back to pending", take.id, take.status
                )
                take.status, take.seconds, take.quality = "pending", 0.0, None
                take.interrupted = take.speech_seconds = None
                changed = True
        for index, take in enumerate(session.takes):  # sessions from before speech_seconds, imports
            if take.status in ("recorded", "accepted") and take.speech_seconds is None:
                take.speech_seconds = session.measure_speech(index)
                changed = changed or take.speech_seconds is not None
        if changed:
            session.save()
        return session

    @classmethod
    def _from_json(cls, folder: Path, obj: Any) -> Session:
        try:
            if not isinstance(obj, dict) or not isinstance(obj.get("takes", []), list):
                raise TypeError("session.json is not an object with a list of takes")
            ids = [t.get("id") for t in obj.get("takes", []) if isinstance(t, dict)]
            if len(ids) != len(set(map(str, ids))):
                raise ValueError("two takes share an id")
            return cls(
                id=folder.name,
                dir=folder,
                language=str(obj["language"]),
                device=obj.get("device"),
                samplerate=int(obj["samplerate"]),
                script_name=str(obj.get("script", "")),
                takes=[Take.from_json(t) for t in obj.get("takes", [])],
                created=float(obj.get("created", 0.0)),
                room_tone_seconds=float(obj.get("room_tone_seconds", 0.0)),
                ready=bool(obj.get("ready", False)),
                consent=obj["consent"] if isinstance(obj.get("consent"), dict) else None,
            )
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise StudioError(
                f"{folder / SESSION_FILE} is damaged ({exc}).",
                "Move the session folder aside; its takes/ WAV files can be imported again.",
            ) from exc

    def to_json(self) -> dict[str, Any]:
        """The content of session.json."""
        takes = []
        for take in self.takes:
            entry = asdict(take)
            entry["peak_dbfs"] = _finite_or_none(take.peak_dbfs)
            takes.append(entry)
        return {
            "format": FORMAT_VERSION,
            "id": self.id,
            "language": self.language,
            "device": self.device,
            "samplerate": self.samplerate,
            "script": self.script_name,
            "created": self.created,
            "room_tone": ROOM_TONE_FILE if self.room_tone_path().exists() else None,
            "room_tone_seconds": self.room_tone_seconds,
            "ready": self.ready,
            "consent": self.consent,
            "takes": takes,
        }

    def save(self) -> None:
        """Write session.json and metadata.csv (the takes of ``training_takes()``), each atomically."""
        self.dir.mkdir(parents=True, exist_ok=True)
        atomic_write_json(self.dir / SESSION_FILE, self.to_json())
        atomic_write_text(self.dir / METADATA_FILE, metadata_lines(self.training_takes()[0]))

    # ----------------------------------------------------------------- training data
    def training_takes(self) -> tuple[list[Take], list[tuple[Take, str]]]:
        """The takes that are training data, and every other take with a plain reason why not.

        Included, in session order: accepted takes that have a transcript and an audio file, were
        not cut short, and did not fail the quality check (a take not analysed yet counts; preparing
        analyses it first). Excluded: every other take, each with one reason a person can act on.
        This is the one rule: metadata.csv, clean/metadata.csv and the trainer all use it.
        """
        included: list[Take] = []
        excluded: list[tuple[Take, str]] = []
        for index, take in enumerate(self.takes):
            why = self.left_out_because(index)
            if why is None:
                included.append(take)
            else:
                excluded.append((take, why))
        return included, excluded

    def left_out_because(self, index: int) -> str | None:
        """Why take ``index`` is not training data (a plain reason), or None when it is."""
        take = self.takes[index]
        if take.status == "pending":
            return "not recorded yet"
        if take.status in ("skipped", "rejected"):
            return take.status
        if not self.take_path(index).is_file():
            return "audio file missing"
        if take.cut_short:
            return (
                f"cut short ({take.interrupted_text}): record it again, edit the transcript to what "
                "was said, or accept it"
            )
        if take.status != "accepted":
            return "not reviewed: accept it to train on it"
        if not take.text.strip():
            return "no transcript: type what is said"
        failed = _failed_checks(take.quality)
        if failed is not None:
            return f"failed the quality check ({failed})"
        return None

    @property
    def training_seconds(self) -> float:
        """Seconds of speech in the takes ``training_takes()`` includes."""
        return sum(t.speech_or_length for t in self.training_takes()[0])

    def cut_short_indices(self) -> list[int]:
        """Positions of the takes cut short that still wait for the person (re-record, edit or accept)."""
        return [index for index, take in enumerate(self.takes) if take.cut_short]

    def resume_index(self) -> int | None:
        """Where to put the person when the session opens: the first take cut short, else the next pending."""
        cut = self.cut_short_indices()
        return cut[0] if cut else self.next_pending()

    def measure_speech(self, index: int, audio: Any = None) -> float | None:
        """Speech seconds of take ``index`` (from ``audio`` if given, an engine Audio); None if unreadable."""
        from engine.audio.denoise import speech_seconds
        from engine.errors import AudioError

        try:
            if audio is None:
                from engine.audio.io import read_audio

                path = self.take_path(index)
                if not path.is_file():
                    return None
                audio = read_audio(path)
            return speech_seconds(audio.samples, audio.samplerate)
        except (AudioError, OSError, ValueError) as exc:
            log.warning("could not measure the speech in take %s: %s", self.takes[index].id, exc)
            return None

    # ----------------------------------------------------------------- paths
    def take_path(self, index: int) -> Path:
        """``takes/0001.wav`` for the take at list position ``index``."""
        return inside(self.dir, "takes", f"{self.takes[index].id}.wav")

    def room_tone_path(self) -> Path:
        return self.dir / ROOM_TONE_FILE

    def clean_path(self, index: int) -> Path:
        """``clean/0001.wav`` (denoised, 32 kHz) for the take at ``index``."""
        return inside(self.dir, "clean", f"{self.takes[index].id}.wav")

    def _index_of_path(self, path: Path) -> int | None:
        for index, take in enumerate(self.takes):
            if path.name == f"{take.id}.wav" and path.parent.name == "takes":
                return index
        return None

    def _next_id(self) -> str:
        numbers = [int(t.id) for t in self.takes if t.id.isdigit()]
        return f"{(max(numbers) if numbers else 0) + 1:04d}"

    # ----------------------------------------------------------------- changes (each saves)
    def record_result(self, index: int, result: Any, *, interrupted: str | None = None) -> None:
        """Store a finished take (a TakeResult): status "recorded", its numbers and speech seconds filled in.

        ``interrupted`` (a key of INTERRUPTED) marks a take cut short; a take recorded to its end
        clears the mark. Reads the take once to measure its speech (a few milliseconds).
        """
        if interrupted is not None and interrupted not in INTERRUPTED:
            raise ValueError(f"unknown interruption {interrupted!r}")
        take = self.takes[index]
        take.status = "recorded"
        take.seconds = float(result.seconds)
        take.overflow_count = int(result.overflow_count)
        take.clip_count = int(result.clip_count)
        take.peak_dbfs = _finite_or_none(result.peak_dbfs)
        take.quality = None
        take.interrupted = interrupted
        take.speech_seconds = self.measure_speech(index)
        self.ready = False
        self.save()

    def set_room_tone(self, result: Any) -> None:
        """Note the recorded room tone (a TakeResult for ``room_tone_path()``)."""
        self.room_tone_seconds = float(result.seconds)
        self.save()

    def set_status(self, index: int, status: TakeStatus) -> None:
        """Change a take's status ("accepted", "skipped", ...)."""
        if status not in TAKE_STATUSES:
            raise StudioError(f"Unknown take status {status!r}.", f"Use one of: {', '.join(TAKE_STATUSES)}.")
        take = self.takes[index]
        if status in ("recorded", "accepted") and not self.take_path(index).exists():
            raise StudioError(
                f"Take {take.id} has no recording yet, so it cannot be {status}.", "Record it first."
            )
        take.status = status
        if status == "accepted":  # accepting a take cut short is the person saying it is fine as it is
            take.interrupted = None
        self.ready = False
        self.save()

    def add_take(self, text: str, *, source: str = "recorded", save: bool = True) -> int:
        """Append a pending take (an import passes save=False and saves once per file); returns its index."""
        self.takes.append(Take(id=self._next_id(), text=_one_line(text), status="pending", source=source))
        if save:
            self.save()
        return len(self.takes) - 1

    def set_text(self, index: int, text: str) -> None:
        """Change a take's transcript (typed in Review); the session needs preparing again.

        The person has said what the take holds, so a take cut short no longer waits for them.
        """
        self.takes[index].text = _one_line(text)
        self.takes[index].interrupted = None
        self.ready = False
        self.save()

    # ----------------------------------------------------------------- progress
    @property
    def accepted_seconds(self) -> float:
        """Seconds of speech in accepted takes (``speech_seconds``; raw length where not measured)."""
        return sum(t.speech_or_length for t in self.takes if t.status == "accepted")

    @property
    def is_complete(self) -> bool:
        """Enough accepted speech (60 s), or every prompt handled."""
        if self.accepted_seconds >= COMPLETE_SECONDS:
            return True
        return bool(self.takes) and all(t.status in HANDLED for t in self.takes)

    def next_pending(self) -> int | None:
        """Index of the first take not yet recorded, or None."""
        for index, take in enumerate(self.takes):
            if take.status == "pending":
                return index
        return None

    def summary(self) -> SessionSummary:
        accepted = [t for t in self.takes if t.status == "accepted"]
        return SessionSummary(
            id=self.id,
            language=self.language,
            takes=len(self.takes),
            accepted=len(accepted),
            accepted_seconds=self.accepted_seconds,
            complete=self.is_complete,
            created=self.created,
        )


def _one_line(text: str) -> str:
    return " ".join(text.replace("|", " ").split())


def metadata_lines(takes: list[Take]) -> str:
    """LJSpeech-style ``0001|text`` lines, one per take, each ending in a newline."""
    return "".join(f"{take.id}|{_one_line(take.text)}\n" for take in takes)


def left_out_lines(excluded: list[tuple[Take, str]]) -> list[str]:
    """``training_takes()``'s left-out takes as lines "0003, 0007: reason", one per reason, in take order.

    Runs of consecutive ids are written as a range ("0005–0030"), so every take is named.
    """
    groups: dict[str, list[str]] = {}
    for take, why in excluded:
        groups.setdefault(why, []).append(take.id)
    return [f"{_id_ranges(ids)}: {why}" for why, ids in groups.items()]


def _id_ranges(ids: list[str]) -> str:
    runs: list[list[str]] = []
    for take_id in ids:
        last = runs[-1][-1] if runs else None
        if last is not None and take_id.isdigit() and last.isdigit() and int(take_id) == int(last) + 1:
            runs[-1].append(take_id)
        else:
            runs.append([take_id])
    parts = [
        run[0] if len(run) == 1 else f"{run[0]}, {run[1]}" if len(run) == 2 else f"{run[0]}–{run[-1]}"
        for run in runs
    ]
    return ", ".join(parts)


def _failed_checks(quality: dict | None) -> str | None:
    """The labels of the failed checks of a stored report ("Clipping: 1.2 %"), or None if it did not fail."""
    if not quality or quality.get("verdict") != "fail":
        return None
    failed = [
        f"{c.get('label') or c.get('key', '?')}: {c.get('figure', '')}".rstrip(": ")
        for c in quality.get("checks", [])
        if c.get("verdict") == "fail"
    ]
    return "; ".join(failed) or "failed"


def _partial_ages(folder: Path) -> list[float]:
    """Seconds since each ``*.partial.wav`` in ``folder`` (and its ``takes/``) was last written."""
    now = time.time()
    ages = []
    for part in [*folder.glob("*.partial.wav"), *folder.glob("takes/*.partial.wav")]:
        try:
            ages.append(now - part.stat().st_mtime)
        except OSError:  # removed between the glob and the stat
            continue
    return ages


def session_folder_recording(folder: Path, recent_s: float | None = 5.0) -> bool:
    """True if ``folder`` holds a ``*.partial.wav`` (modified in the last ``recent_s`` seconds, if given).

    Used before loading a session from another process (``timbre check``/``import``, start-up repair):
    loading would "repair" a take that is still being recorded.
    """
    ages = _partial_ages(folder) if folder.is_dir() else []
    return any(recent_s is None or age < recent_s for age in ages)


def repair_crashed_sessions(studio: Studio, *, quiet_s: float = 5.0) -> list[str]:
    """Repair the takes a crash left in any session; returns the ids of the sessions repaired.

    A session whose partial file changed in the last ``quiet_s`` seconds is left alone: another Timbre
    may be recording into it right now.
    """
    repaired: list[str] = []
    for sid in studio.session_ids():
        ages = _partial_ages(studio.session_dir(sid))
        if not ages:
            continue
        if min(ages) < quiet_s:
            log.info("session %s has a take being written; not repairing it now", sid)
            continue
        try:
            Session.load(studio, sid)
        except (StudioError, OSError) as exc:
            log.warning("could not repair session %s: %s", sid, exc)
            continue
        repaired.append(sid)
    return repaired


def list_sessions(studio: Studio) -> list[SessionSummary]:
    """Summaries of the sessions in the studio, oldest first (damaged ones are skipped and logged)."""
    summaries = []
    for sid in studio.session_ids():
        folder = studio.session_dir(sid)
        try:
            session = Session._from_json(folder, read_json(folder / SESSION_FILE))
        except (StudioError, OSError) as exc:
            log.warning("skipping session %s: %s", sid, exc)
            continue
        summaries.append(session.summary())
    summaries.sort(key=lambda s: (s.created, s.id))
    return summaries
