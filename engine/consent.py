"""The speaker's consent on record: a statement read aloud at the start of a session (``consent.wav``).

The statement (in the session's language) names the voice, the date, and says the recording will be
used to build a synthetic voice of the speaker. It is recorded (or imported) like a take but kept
apart from the takes: it lives in ``consent.wav`` with its record under ``"consent"`` in session.json,
is quality-checked with engine.audio.quality, and is never training data (``Session.training_takes``
only sees ``session.takes``). Training (engine.train.data.prepare) and making a voice from a session
(engine.voice.create_from_session) call :func:`require_consent`; voice.json records which consent
take the voice was built from (:meth:`ConsentRecord.provenance`).

:func:`speaker_check` compares the consent take with the accepted takes (GE2E speaker similarity,
engine.train.similarity) and gives a plain verdict.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine.errors import TimbreError

CONSENT_FILE = "consent.wav"
SAME_SPEAKER = 0.75  # GE2E cosine at or above which the consent take is judged the same speaker
UNSURE = 0.60  # below this: a different speaker
SPEAKER_SAMPLE_SECONDS = 30.0  # accepted speech compared with the consent take

_TEXTS = {
    "en": (
        "I, the speaker of this recording, agree that my voice recorded in the session {name} "
        "on {date} will be used to build a synthetic voice of me with Timbre."
    ),
    "zh": (
        "我是这段录音的说话人。我同意，{date}在录音会话“{name}”中录下的我的声音，"
        "将被用来用 Timbre 制作我的合成声音。"
    ),
}


class ConsentMissing(TimbreError):
    """A session has no usable consent statement on record."""


def consent_text(language: str, name: str, date: str) -> str:
    """The statement to read aloud (Chinese for "zh", English otherwise), naming the voice and the date."""
    template = _TEXTS["zh"] if language.startswith("zh") else _TEXTS["en"]
    return template.format(name=name, date=date)


def today() -> str:
    """Today's date as YYYY-MM-DD (local time)."""
    return time.strftime("%Y-%m-%d")


def consent_path(session: Any) -> Path:
    """Where a session's consent take lives."""
    return Path(session.dir) / CONSENT_FILE


def sha256_file(path: Path | str) -> str:
    """Hex sha256 of a file."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@dataclass(frozen=True)
class ConsentRecord:
    """The consent take of a session as session.json stores it."""

    session: str
    path: Path
    text: str
    date: str
    source: str  # "recorded" or "imported"
    sha256: str
    seconds: float
    verdict: str  # the quality check's verdict ("ok", "warn", "fail")

    def provenance(self) -> dict[str, Any]:
        """What voice.json records about the consent take a voice was built from."""
        return {
            "session": self.session,
            "path": str(self.path),
            "sha256": self.sha256,
            "date": self.date,
            "source": self.source,
        }


def pending_text(session: Any) -> str:
    """The statement this session's speaker should read (stored once, so the date stays the day it began)."""
    entry = getattr(session, "consent", None) or {}
    if entry.get("text"):
        return str(entry["text"])
    return consent_text(session.language, session.id, today())


def start(session: Any) -> str:
    """Put the statement into session.json (before the first prompt) and return it."""
    entry = dict(getattr(session, "consent", None) or {})
    if not entry.get("text"):
        entry.update({"text": pending_text(session), "date": today(), "file": None})
        session.consent = entry
        session.save()
    return str(entry["text"])


def store(session: Any, *, source: str = "recorded", overflow_count: int = 0) -> ConsentRecord:
    """Quality-check ``consent.wav`` (already written) and note it in session.json."""
    from engine.audio.quality import analyse_file

    path = consent_path(session)
    text = start(session)
    try:
        report = analyse_file(
            path, overflow_count=overflow_count, transcript=text, take_id="consent", learned=False
        )
        seconds, quality, verdict = report.seconds, report.to_dict(), str(report.verdict)
    except TimbreError as exc:  # an empty or unreadable take: on file, but it holds no speech
        seconds, verdict = 0.0, "fail"
        quality = {"checks": [{"key": "speech", "verdict": "fail", "figure": exc.message}], "verdict": "fail"}
    entry = dict(session.consent)
    entry.update(
        {
            "file": CONSENT_FILE,
            "source": source,
            "recorded": time.time(),
            "seconds": round(seconds, 3),
            "sha256": sha256_file(path),
            "quality": quality,
            "verdict": verdict,
            "similarity": None,
        }
    )
    session.consent = entry
    session.save()
    return record_of(session)


def import_file(session: Any, source_file: Path | str) -> ConsentRecord:
    """Import a recording of the statement (any format engine.audio.io reads) as ``consent.wav``."""
    from engine.audio.io import read_audio, write_wav

    audio = read_audio(source_file, samplerate=int(session.samplerate))
    write_wav(consent_path(session), audio.samples, audio.samplerate)
    return store(session, source="imported")


def record_of(session: Any) -> ConsentRecord | None:
    """The session's consent record when a consent take is on file, else None."""
    entry = getattr(session, "consent", None) or {}
    if not entry.get("file") or not consent_path(session).is_file():
        return None
    return ConsentRecord(
        session=str(session.id),
        path=consent_path(session),
        text=str(entry.get("text", "")),
        date=str(entry.get("date", "")),
        source=str(entry.get("source", "recorded")),
        sha256=str(entry.get("sha256", "")),
        seconds=float(entry.get("seconds", 0.0) or 0.0),
        verdict=str(entry.get("verdict", "ok")),
    )


def has_speech(session: Any) -> bool:
    """False when the quality check of the consent take found no speech in it (other problems only warn)."""
    quality = (getattr(session, "consent", None) or {}).get("quality") or {}
    return not any(c.get("key") == "speech" and c.get("verdict") == "fail" for c in quality.get("checks", []))


def how_to(session_id: str) -> str:
    """The hint that says how to put a consent statement on record."""
    return (
        f"Record the consent statement with `timbre consent {session_id} --record` (or in the Record "
        f"screen), or import a recording of it with `timbre consent {session_id} --import FILE`; "
        f"`timbre consent {session_id}` shows the statement to read."
    )


def require_consent(session: Any) -> ConsentRecord:
    """The session's consent record; raises ConsentMissing (with how to fix it) when there is none usable."""
    record = record_of(session)
    sid = str(session.id)
    if record is None:
        raise ConsentMissing(
            f"Session {sid!r} has no consent statement on record: the speaker must read it aloud before "
            "their voice is trained or made into a voice.",
            how_to(sid),
        )
    if not has_speech(session):
        raise ConsentMissing(
            f"The consent take of session {sid!r} holds no speech: the statement must be read aloud.",
            how_to(sid),
        )
    if record.sha256 and sha256_file(record.path) != record.sha256:
        raise ConsentMissing(
            f"The consent take of session {sid!r} ({record.path.name}) changed after it was recorded.",
            how_to(sid),
        )
    return record


# ------------------------------------------------------------------------------------- speaker check
@dataclass(frozen=True)
class SpeakerVerdict:
    """Whether the consent take and the accepted takes sound like one speaker."""

    similarity: float | None  # GE2E cosine 0..1; None when it could not be measured
    verdict: str  # "same", "unsure", "different" or "unknown"
    text: str  # the plain sentence shown to the person


def judge_similarity(similarity: float | None) -> SpeakerVerdict:
    """The plain verdict for a similarity figure."""
    if similarity is None:
        return SpeakerVerdict(
            None, "unknown", "Speaker check: not measured yet (needs a consent take and accepted takes)."
        )
    if similarity >= SAME_SPEAKER:
        return SpeakerVerdict(
            similarity,
            "same",
            f"Speaker check: the consent statement is the same speaker as the takes ({similarity:.2f}).",
        )
    if similarity >= UNSURE:
        return SpeakerVerdict(
            similarity,
            "unsure",
            f"Speaker check: not sure the consent statement is the same speaker as the takes "
            f"({similarity:.2f}); listen to both.",
        )
    return SpeakerVerdict(
        similarity,
        "different",
        f"Speaker check: the consent statement sounds like a different speaker from the takes "
        f"({similarity:.2f}).",
    )


def speaker_check(session: Any, *, save: bool = True) -> SpeakerVerdict:
    """Compare the consent take with up to 30 s of accepted takes; stores the figure in session.json."""
    import numpy as np

    from engine.audio.io import read_audio

    record = record_of(session)
    takes, _ = session.training_takes()
    if record is None or not takes:
        return judge_similarity(None)
    parts, total, rate = [], 0.0, int(session.samplerate)
    for take in takes:
        index = session.takes.index(take)
        audio = read_audio(session.take_path(index), samplerate=rate)
        parts.append(audio.samples)
        total += audio.samples.size / rate
        if total >= SPEAKER_SAMPLE_SECONDS:
            break
    consent = read_audio(record.path, samplerate=rate)
    from engine.train.similarity import speaker_similarity

    value = float(speaker_similarity(consent.samples, rate, np.concatenate(parts), rate))
    if save:
        entry = dict(session.consent)
        entry["similarity"] = round(value, 4)
        session.consent = entry
        session.save()
    return judge_similarity(value)


# ------------------------------------------------------------------------------------- one-line summary
def speaker_words(similarity: float | None) -> str:
    """The speaker-check verdict in a few words (for one-line summaries; see judge_similarity)."""
    verdict = judge_similarity(similarity)
    return {
        "same": f"same speaker as the takes ({similarity or 0:.2f})",
        "unsure": f"speaker unsure ({similarity or 0:.2f}): listen to both",
        "different": f"DIFFERENT speaker from the takes ({similarity or 0:.2f})",
    }.get(verdict.verdict, "speaker not checked yet")


def summary_line(session: Any) -> str:
    """One plain line (fits 80 columns) on the consent take: its check as the glyph, the speaker check."""
    record = record_of(session)
    if record is None:
        return "✗ No consent statement on record: training and making a voice need it."
    if not has_speech(session):
        return f"✗ Consent take holds no speech ({record.seconds:.1f} s): record it again."
    glyph = {"ok": "✓", "warn": "!", "fail": "✗"}.get(record.verdict, "?")
    similarity = (getattr(session, "consent", None) or {}).get("similarity")
    return (
        f"{glyph} Consent {record.source} {record.date}, {record.seconds:.1f} s · {speaker_words(similarity)}"
    )
