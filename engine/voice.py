"""A voice: what synthesis speaks with.

Either zero-shot (the pretrained models + a reference clip and its transcript) or fine-tuned (weights in
``voices/<name>/`` described by ``voice.json``). ``voice.json`` looks like::

    {"name": "ana", "version": "v2", "language": "en",
     "reference": {"wav": "reference.wav", "text": "The transcript of the clip."},
     "weights": {"gpt": "gpt.safetensors", "sovits": "sovits.safetensors"}}

Paths are relative to the voice folder. ``weights`` may be missing or partial: a missing entry means
"use the pretrained model", so a voice made only of a chosen reference clip is valid.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engine.errors import StudioError
from engine.fsutil import atomic_write_json, read_json
from engine.studio import Studio

VOICE_FILE = "voice.json"
LANGUAGES = ("zh", "en", "auto")


class UnknownVoice(StudioError):
    """No voice of that name in the studio."""


@dataclass
class Voice:
    """Everything synthesis needs to know about a voice."""

    name: str
    reference_wav: Path
    reference_text: str
    language: str = "auto"
    gpt_path: Path | None = None  # None: the pretrained GPT
    sovits_path: Path | None = None  # None: the pretrained SoVITS
    folder: Path | None = None
    version: str = "v2"
    extra: dict[str, Any] = field(default_factory=dict)  # other voice.json entries, kept on save

    @property
    def fine_tuned(self) -> bool:
        """True when the voice has its own GPT or SoVITS weights."""
        return self.gpt_path is not None or self.sovits_path is not None

    @classmethod
    def zero_shot(cls, reference_wav: Path | str, reference_text: str, language: str = "auto") -> Voice:
        """A voice from the pretrained models and a 3–10 s reference clip with its exact transcript."""
        _check_language(language)
        return cls("zero-shot", Path(reference_wav), reference_text, language)

    @classmethod
    def load(cls, name: str, home: Path | str | None = None) -> Voice:
        """The voice called ``name`` in the studio (``home``, $TIMBRE_HOME or the current folder)."""
        studio = Studio.locate(home)
        folder = studio.voice_dir(name)
        path = folder / VOICE_FILE
        if not path.is_file():
            known = studio.voice_names()
            listing = ", ".join(known) if known else "none yet"
            raise UnknownVoice(
                f"There is no voice called {name!r} in {studio.voices} (voices: {listing}).",
                'Check the name, or speak zero-shot with --ref WAV --ref-text "…".',
            )
        return cls.from_json(read_json(path), folder)

    @classmethod
    def from_json(cls, data: dict[str, Any], folder: Path) -> Voice:
        """Build a voice from a parsed ``voice.json`` in ``folder``."""
        try:
            ref = data["reference"]
            wav, text = ref["wav"], ref["text"]
        except (KeyError, TypeError) as exc:
            raise StudioError(
                f"{folder / VOICE_FILE} has no reference clip and transcript.",
                'Add "reference": {"wav": "reference.wav", "text": "…"} to it.',
            ) from exc
        name, reference_wav, gpt_path, sovits_path = _checked_paths(data, wav, text, folder)  # issue 13
        language = str(data.get("language", "auto"))
        _check_language(language)
        known = {"name", "version", "language", "reference", "weights"}
        return cls(
            name=name,
            reference_wav=reference_wav,
            reference_text=text,
            language=language,
            gpt_path=gpt_path,
            sovits_path=sovits_path,
            folder=folder,
            version=str(data.get("version", "v2")),
            extra={k: v for k, v in data.items() if k not in known},
        )

    def to_json(self) -> dict[str, Any]:
        """The ``voice.json`` content (paths relative to the voice folder when inside it)."""

        def rel(p: Path | None) -> str | None:
            if p is None:
                return None
            if self.folder is not None and p.parent == self.folder:
                return p.name
            return str(p)

        weights = {k: v for k, v in (("gpt", rel(self.gpt_path)), ("sovits", rel(self.sovits_path))) if v}
        out: dict[str, Any] = {
            "name": self.name,
            "version": self.version,
            "language": self.language,
            "reference": {"wav": rel(self.reference_wav), "text": self.reference_text},
        }
        if weights:
            out["weights"] = weights
        out.update(self.extra)
        return out

    def save(self, folder: Path | str | None = None) -> Path:
        """Write ``voice.json`` atomically into ``folder`` (default: the voice's own folder)."""
        target = Path(folder) if folder is not None else self.folder
        if target is None:
            raise StudioError(
                "This voice has no folder to save into.", "Pass a folder, e.g. studio.voice_dir(name)."
            )
        self.folder = target
        path = target / VOICE_FILE
        atomic_write_json(path, self.to_json())
        return path


def _checked_paths(
    data: dict[str, Any], wav: Any, text: Any, folder: Path
) -> tuple[str, Path, Path | None, Path | None]:
    """voice.json's name, reference clip and weight paths, refused unless plain and inside ``folder``.

    The file is untrusted input (issue 13): a name that is not a plain folder name, a path that leads
    out of the voice folder, or a field of the wrong type is a "damaged" StudioError.
    """
    from engine.fsutil import inside

    def damaged(why: str) -> StudioError:
        return StudioError(
            f"{folder / VOICE_FILE} is damaged ({why}).",
            "Fix that entry, or make the voice again (`timbre voices create`).",
        )

    name = data.get("name", folder.name)
    if not _plain_name(name):
        raise damaged(f"the name {name!r} is not a plain voice name")
    if not isinstance(text, str):
        raise damaged("the reference transcript is not text")
    weights = data.get("weights") or {}
    if not isinstance(weights, dict):
        raise damaged("'weights' is not a table of files")
    paths: list[Path | None] = []
    entries = (("reference wav", wav), ("gpt", weights.get("gpt")), ("sovits", weights.get("sovits")))
    for key, value in entries:
        if key != "reference wav" and not value:  # no entry: the pretrained model
            paths.append(None)
            continue
        if not isinstance(value, str) or not value.strip() or "\0" in value:
            raise damaged(f"the {key} file {value!r} is not a file name")
        inside(folder, value)  # refused when it leads out of the voice folder
        paths.append(folder / value)
    reference_wav, gpt_path, sovits_path = paths
    if reference_wav is None:
        raise damaged("the reference clip has no file name")
    return name, reference_wav, gpt_path, sovits_path


def _plain_name(name: Any) -> bool:
    """True for a name that can be one file name: text, no folder separators or control characters."""
    return (
        isinstance(name, str)
        and 0 < len(name) <= 200
        and name.strip() not in ("", ".", "..")
        and name.isprintable()
        and not any(ch in name for ch in "/\\")
    )


def _check_language(language: str) -> None:
    if language not in LANGUAGES:
        raise StudioError(f"Unknown language {language!r}.", f"Use one of: {', '.join(LANGUAGES)}.")


# ---------------------------------------------------------------------------------------------------------
# Managing the voices of a studio: create from a session, list, rename, delete, export, change reference.

REFERENCE_FILE = "reference.wav"
SPEAK_DIR = "speak"
EXPORT_DIR = "export"


class VoiceExists(StudioError):
    """A voice of that name is already in the studio."""


class NoReferenceTake(StudioError):
    """The session has no accepted take that can be a reference clip."""


@dataclass(frozen=True)
class VoiceInfo:
    """What the voices list shows about one voice (``problem`` set when voice.json cannot be read)."""

    name: str
    folder: Path
    language: str = "?"
    kind: str = "zero-shot"  # "zero-shot" or "fine-tuned"
    version: str = "v2"
    created: float | None = None  # unix time
    reference_seconds: float | None = None
    training_seconds: float | None = None  # fine-tuned voices only
    reference_text: str = ""
    source: str = ""  # e.g. "session 20260101-120000, take 0003"
    problem: str | None = None

    @property
    def created_text(self) -> str:
        """The creation date as YYYY-MM-DD ('?' when unknown)."""
        if not self.created:
            return "?"
        import time

        return time.strftime("%Y-%m-%d", time.localtime(self.created))


@dataclass(frozen=True)
class ReferenceCandidate:
    """An accepted take that can be a reference clip, with the file to copy and its rank key."""

    index: int
    take_id: str
    text: str
    path: Path
    seconds: float
    score: float  # higher is better


def voice_folder(studio: Studio, name: str) -> Path:
    """The folder of voice ``name``: sanitised, and refused if it would not sit directly in voices/."""
    folder = studio.voice_dir(name)
    voices = studio.voices.resolve()
    if folder.parent.resolve() != voices or folder.name in ("", ".", ".."):
        raise StudioError(f"The voice name {name!r} is not usable.", "Use letters, digits, '-', '_' or '.'.")
    return folder


def _existing(studio: Studio, name: str) -> Path:
    folder = voice_folder(studio, name)
    if not (folder / VOICE_FILE).is_file():
        known = studio.voice_names()
        raise UnknownVoice(
            f"There is no voice called {name!r} in {studio.voices} "
            f"(voices: {', '.join(known) or 'none yet'}).",
            "`timbre voices list` shows them.",
        )
    return folder


def _seconds_of(path: Path) -> float | None:
    try:
        import soundfile as sf

        return float(sf.info(str(path)).duration)
    except Exception:  # noqa: BLE001 - an unreadable clip just has no length
        return None


def _training_seconds(data: dict[str, Any]) -> float | None:
    for key in ("training_seconds", "data_seconds"):
        if isinstance(data.get(key), (int, float)):
            return float(data[key])
    training = data.get("training")
    if isinstance(training, dict):
        for key in ("data_seconds", "seconds", "training_seconds"):
            if isinstance(training.get(key), (int, float)):
                return float(training[key])
    return None


def voice_info(studio: Studio, name: str) -> VoiceInfo:
    """The listing entry of voice ``name`` (a damaged voice.json gives an entry with ``problem`` set)."""
    folder = _existing(studio, name)
    try:
        data = read_json(folder / VOICE_FILE)
        voice = Voice.from_json(data, folder)
    except (StudioError, FileNotFoundError) as exc:
        message = getattr(exc, "message", str(exc))
        return VoiceInfo(folder.name, folder, problem=message)
    ref_s = _seconds_of(voice.reference_wav) if voice.reference_wav.is_file() else None
    created = data.get("created")
    src = data.get("source") if isinstance(data.get("source"), dict) else {}
    source = f"session {src['session']}, take {src.get('take', '?')}" if src.get("session") else ""
    return VoiceInfo(
        name=folder.name,
        folder=folder,
        language=voice.language,
        kind="fine-tuned" if voice.fine_tuned else "zero-shot",
        version=voice.version,
        created=float(created) if isinstance(created, (int, float)) else None,
        reference_seconds=ref_s,
        training_seconds=_training_seconds(data) if voice.fine_tuned else None,
        reference_text=voice.reference_text,
        source=source,
        problem=None
        if voice.reference_wav.is_file()
        else f"its reference clip {voice.reference_wav.name} is missing",
    )


def list_voices(studio: Studio) -> list[VoiceInfo]:
    """Every voice of the studio, by name."""
    return [voice_info(studio, name) for name in studio.voice_names()]


def _take_seconds(path: Path, recorded: float) -> float:
    measured = _seconds_of(path)
    return measured if measured is not None else recorded


def _quality_score(take: Any, seconds: float) -> float:
    """Rank key from the stored quality report: verdict first, then SNR, then closeness to 6 s."""
    score = 0.0
    report = take.quality if isinstance(take.quality, dict) else None
    if report is not None:
        score -= {"ok": 0.0, "warn": 100.0, "fail": 1000.0}.get(str(report.get("verdict", "warn")), 100.0)
        for check in report.get("checks", []):
            if check.get("key") == "snr" and isinstance(check.get("value"), (int, float)):
                score += min(float(check["value"]), 40.0)
    else:
        score -= 50.0
    return score - abs(seconds - 6.0)


def reference_candidates(session: Any) -> list[ReferenceCandidate]:
    """Accepted takes with a transcript and 3–10 s of audio, best first (cleaned files preferred)."""
    from engine.synth import REF_MAX_S, REF_MIN_S

    left_out = getattr(session, "left_out_because", None)  # the training-data rule, where it exists
    if callable(left_out):
        indices = [i for i, t in enumerate(session.takes) if t.status == "accepted" and left_out(i) is None]
    else:
        indices = [i for i, t in enumerate(session.takes) if t.status == "accepted"]
    found: list[ReferenceCandidate] = []
    for index in indices:
        take = session.takes[index]
        if not take.text.strip():
            continue
        clean, raw = session.clean_path(index), session.take_path(index)
        path = clean if clean.is_file() else raw
        if not path.is_file():
            continue
        seconds = _take_seconds(path, take.seconds)
        if not REF_MIN_S <= seconds <= REF_MAX_S:
            continue
        found.append(
            ReferenceCandidate(index, take.id, take.text, path, seconds, _quality_score(take, seconds))
        )
    ranked = _rank_with_quality_model(found)
    return ranked if ranked is not None else sorted(found, key=lambda c: -c.score)


def _rank_with_quality_model(found: list[ReferenceCandidate]) -> list[ReferenceCandidate] | None:
    """Order by engine.audio.quality's reference ranking (DNSMOS) when that module offers one."""
    try:
        from engine.audio import quality
    except ImportError:
        return None
    rank = getattr(quality, "rank_references", None)
    if not callable(rank) or not found:
        return None
    try:
        order = rank([c.path for c in found])
    except Exception:  # noqa: BLE001 - fall back to the stored quality reports
        return None
    by_path = {c.path: c for c in found}
    ranked = [by_path[Path(p)] for p in order if Path(p) in by_path]
    return ranked if len(ranked) == len(found) else None


def pick_reference(session: Any, take: str | int | None = None) -> ReferenceCandidate:
    """The best reference take of ``session``, or the one with id ``take`` (3 and "0003" both work)."""
    from engine.synth import REF_MAX_S, REF_MIN_S

    candidates = reference_candidates(session)
    if take is None:
        if not candidates:
            raise NoReferenceTake(
                f"Session {session.id} has no accepted take of {REF_MIN_S:.0f}–{REF_MAX_S:.0f} s "
                "with a transcript.",
                "Accept a take of one or two full sentences in Review, or pick one with --take N.",
            )
        return candidates[0]
    wanted = str(take).strip()
    for cand in candidates:
        if cand.take_id == wanted or (
            wanted.isdigit() and cand.take_id.isdigit() and int(cand.take_id) == int(wanted)
        ):
            return cand
    ids = ", ".join(c.take_id for c in candidates) or "none"
    raise NoReferenceTake(
        f"Take {wanted} of session {session.id} cannot be the reference: it must be accepted, have a "
        f"transcript and last {REF_MIN_S:.0f}–{REF_MAX_S:.0f} s.",
        f"Takes that can: {ids}.",
    )


def _copy_reference(src: Path, dest: Path) -> None:
    import shutil

    from engine.fsutil import atomic_path

    with atomic_path(dest) as tmp:
        shutil.copyfile(src, tmp)


def create_from_session(
    studio: Studio, name: str, session: Any, take: str | int | None = None, language: str | None = None
) -> Voice:
    """Make a zero-shot voice: the best (or chosen) accepted take becomes voices/NAME/reference.wav."""
    import os
    import shutil
    import tempfile
    import time

    from engine.consent import require_consent

    studio.ensure()
    folder = voice_folder(studio, name)
    if folder.exists():
        raise VoiceExists(f"A voice called {folder.name!r} already exists.", "Choose another name.")
    consent = require_consent(session)  # issue 14: no voice without the speaker's consent on record
    cand = pick_reference(session, take)
    lang = language or (session.language if session.language in LANGUAGES else "auto")
    staging = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", suffix=".new", dir=studio.voices))
    try:
        _copy_reference(cand.path, staging / REFERENCE_FILE)
        voice = Voice(folder.name, staging / REFERENCE_FILE, cand.text, lang, folder=staging)
        voice.extra = {
            "kind": "zero-shot",
            "created": time.time(),
            "source": {"session": session.id, "take": cand.take_id},
            "reference_seconds": round(cand.seconds, 3),
            "consent": [consent.provenance()],
        }
        voice.save(staging)
        try:
            os.rename(staging, folder)  # fails when the name appeared meanwhile
        except OSError as exc:
            raise VoiceExists(
                f"A voice called {folder.name!r} already exists.", "Choose another name."
            ) from exc
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
    return Voice.load(folder.name, studio.root)


def rename_voice(studio: Studio, old: str, new: str) -> Path:
    """Rename a voice folder (and the name in its voice.json); the new name must be free."""
    import os

    src = _existing(studio, old)
    dest = voice_folder(studio, new)
    if dest.exists():
        raise VoiceExists(f"A voice called {dest.name!r} already exists.", "Choose another name.")
    os.rename(src, dest)
    path = dest / VOICE_FILE
    data = read_json(path)
    if isinstance(data, dict):
        data["name"] = dest.name
        atomic_write_json(path, data)
    return dest


def delete_voice(studio: Studio, name: str) -> Path:
    """Remove the voice's own folder and nothing else (a symlinked folder: only the link)."""
    import shutil

    folder = _existing(studio, name)
    if folder.is_symlink():
        folder.unlink()
    else:
        shutil.rmtree(folder)
    return folder


def set_reference(studio: Studio, name: str, session: Any, take: str | int | None = None) -> Voice:
    """Replace a voice's reference clip and transcript with a take of ``session``."""
    folder = _existing(studio, name)
    voice = Voice.load(folder.name, studio.root)
    cand = pick_reference(session, take)
    _copy_reference(cand.path, folder / REFERENCE_FILE)
    voice.reference_wav = folder / REFERENCE_FILE
    voice.reference_text = cand.text
    voice.extra["source"] = {"session": session.id, "take": cand.take_id}
    voice.extra["reference_seconds"] = round(cand.seconds, 3)
    voice.save()
    return voice


def export_voice(studio: Studio, name: str, out_dir: Path | str | None = None) -> list[Path]:
    """Write the voice in the official formats into ``out_dir`` (default voices/NAME/export/).

    A fine-tuned voice gives ``NAME.ckpt`` (GPT) and ``NAME.pth`` (SoVITS); every voice also gives its
    reference clip and transcript (``NAME.ref.wav``, ``NAME.ref.txt``), which the WebUI asks for.
    """
    from engine.fsutil import atomic_write_text

    folder = _existing(studio, name)
    voice = Voice.load(folder.name, studio.root)
    out = Path(out_dir) if out_dir is not None else folder / EXPORT_DIR
    written: list[Path] = []
    if voice.gpt_path is not None and voice.sovits_path is not None:
        from engine.weights.convert import export_official

        written.extend(export_official(folder, out, folder.name))
    elif voice.fine_tuned:
        raise StudioError(
            f"The voice {folder.name!r} has only one of its two weight files.", "Train or import it again."
        )
    from engine.fsutil import inside

    if voice.reference_wav.is_file():
        ref_wav = inside(out, f"{folder.name}.ref.wav")  # every path we write stays in ``out`` (issue 13)
        _copy_reference(voice.reference_wav, ref_wav)
        written.append(ref_wav)
    ref_txt = inside(out, f"{folder.name}.ref.txt")
    atomic_write_text(ref_txt, voice.reference_text + "\n")
    written.append(ref_txt)
    return written


def speak_dir(voice: Voice, studio: Studio | None = None) -> Path:
    """Where utterances of ``voice`` are written: voices/NAME/speak/ (a zero-shot clip: studio/speak/)."""
    if voice.folder is not None:
        return voice.folder / SPEAK_DIR
    return (studio or Studio.locate()).root / SPEAK_DIR
