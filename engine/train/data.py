"""Training data from recorded sessions: per-take features, the official filters, the reference clip.

For every take a session counts as training data (:meth:`engine.session.Session.training_takes`) and
whose cleaned 32 kHz copy (``clean/``) exists, :func:`prepare` computes what the two fine-tunes read
(spec §2.4–2.7, §6.1):

- phones of the transcript (our frontend) and BERT phone features for its Mandarin segments (zeros
  for the others), [bert_dim, P];
- the waveform, half peak-normalised as the reference's ``2-get-hubert-wav32k`` does
  (y = x/peak·0.95·0.5 + 0.5·x), and its linear spectrogram [1025, T50];
- HuBERT ``last_hidden_state`` of that waveform at 16 kHz in [-1, 1], [ssl_dim, T50] (padded by
  replication, or cut, to the spectrogram's frame count, as the reference's loader does);
- semantic tokens [T25] from the pretrained SoVITS ``extract_latent`` of the unpadded features.

The expensive parts (HuBERT, BERT, tokens) are cached per take in ``voice_dir/train/cache/`` as
safetensors, keyed by a hash of the audio bytes, the transcript, the language and the identities of
the model files: a changed take or transcript is recomputed and nothing else. Every take left out is
named with a plain reason, through ``log`` and in :attr:`PreparedData.skipped`.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from engine.errors import ModelError, TimbreError

log = logging.getLogger(__name__)

SAMPLE_RATE = 32000
SSL_RATE = 16000
HOP = 640
TOKEN_HZ = 25
BERT_DIM = 1024  # chinese-roberta-wwm-ext-large (the TINY test BERT has the same width)
SOVITS_MIN_S = 0.6  # §6.1: 0.6 s < duration < 54 s
MAX_S = 54.0
MAX_PHONES = int(MAX_S * TOKEN_HZ / 2.5)  # 540
MIN_PHONES_PER_S = 3.0
MAX_PHONES_PER_S = 25.0
MIN_ITEMS = 100  # lists shorter than this are repeated max(2, 100 // n) times
MAX_PEAK = 2.2  # clips louder than this are skipped (only float files can be)
SILENT_PEAK = 1e-3
HALF_PEAK = 0.95
ALPHA = 0.5
REFUSE_S = 20.0
WARN_S = 60.0
REF_MIN_S = 3.0
REF_MAX_S = 10.0
CACHE_VERSION = 1
CACHE_DIR = Path("train") / "cache"

LogFn = Callable[[str, str], None]


class NotEnoughData(TimbreError):
    """Too little usable speech to fine-tune on."""


@dataclass
class TrainItem:
    """One take, ready for both fine-tunes."""

    key: str  # "<session>/<take id>"
    text: str
    language: str  # "zh" when the take has Mandarin segments, else "en"
    phone_ids: torch.Tensor  # int64 [P]
    bert: torch.Tensor  # float32 [bert_dim, P] (zeros for non-Mandarin segments)
    ssl: torch.Tensor  # float32 [ssl_dim, T50], T50 == spec frames
    semantic: torch.Tensor  # int64 [T25]
    wav: torch.Tensor  # float32 [N] 32 kHz, half-peak normalised
    spec: torch.Tensor  # float32 [n_fft//2+1, T50]
    seconds: float

    @property
    def phones_per_second(self) -> float:
        """Phones per second of semantic tokens (the GPT filter's measure)."""
        tokens = int(self.semantic.numel())
        return len(self.phone_ids) / (tokens / TOKEN_HZ) if tokens else math.inf


@dataclass(frozen=True)
class ReferenceChoice:
    """The take chosen as the voice's reference clip."""

    session: str
    take_id: str
    wav: Path  # its clean/ file (32 kHz)
    text: str
    seconds: float

    @property
    def key(self) -> str:
        return f"{self.session}/{self.take_id}"


@dataclass
class PreparedData:
    """What :func:`prepare` produced."""

    items: list[TrainItem]  # usable takes (before repetition)
    skipped: list[tuple[str, str]]  # (key, plain reason) for every take left out entirely
    reference: ReferenceChoice
    seconds: float  # usable speech seconds
    gpt_skipped: list[tuple[str, str]] = field(default_factory=list)  # kept for SoVITS, left out of GPT
    computed: list[str] = field(default_factory=list)  # keys whose features were computed (cache misses)
    consent: list[dict] = field(default_factory=list)  # each session's consent take (issue 14)


# ---------------------------------------------------------------------------------------------- filters
def _repeat(items: list[TrainItem]) -> list[TrainItem]:
    """The list repeated max(2, 100 // n) times when it has fewer than 100 items (§6.1)."""
    if not items or len(items) >= MIN_ITEMS:
        return list(items)
    return list(items) * max(2, MIN_ITEMS // len(items))


def sovits_reason(seconds: float) -> str | None:
    """Why a clip of ``seconds`` is left out of SoVITS training (§6.1), or None."""
    if seconds <= SOVITS_MIN_S:
        return f"{seconds:.1f} s, shorter than {SOVITS_MIN_S} s"
    if seconds >= MAX_S:
        return f"{seconds:.1f} s, longer than {MAX_S:.0f} s"
    return None


def gpt_reason(item: TrainItem) -> str | None:
    """Why ``item`` is left out of GPT training (§6.1), or None."""
    tokens = int(item.semantic.numel())
    phones = int(item.phone_ids.numel())
    if tokens > MAX_S * TOKEN_HZ:
        return f"{tokens / TOKEN_HZ:.1f} s, longer than {MAX_S:.0f} s"
    if phones > MAX_PHONES:
        return f"{phones} phones, more than {MAX_PHONES}"
    rate = item.phones_per_second
    if rate > MAX_PHONES_PER_S:
        return f"{rate:.0f} phones/s, faster than {MAX_PHONES_PER_S:.0f}"
    if rate < MIN_PHONES_PER_S:
        return f"{rate:.1f} phones/s, slower than {MIN_PHONES_PER_S:.0f}"
    return None


def sovits_dataset(items: list[TrainItem]) -> list[TrainItem]:
    """The SoVITS training list: 0.6 s < duration < 54 s, repeated to at least 100 items (§6.1)."""
    return _repeat([it for it in items if sovits_reason(it.seconds) is None])


def gpt_dataset(items: list[TrainItem]) -> list[TrainItem]:
    """The GPT training list: ≤ 54 s, ≤ 540 phones, 3–25 phones/s, repeated to at least 100 items (§6.1)."""
    return _repeat([it for it in items if gpt_reason(it) is None])


# ---------------------------------------------------------------------------------------------- audio
def half_peak_normalise(x: np.ndarray) -> np.ndarray:
    """y = x/peak·0.95·0.5 + 0.5·x: the reference's training-audio scaling (§6.1)."""
    peak = float(np.max(np.abs(x))) if x.size else 0.0
    if peak <= 0:
        return x.astype(np.float32, copy=True)
    return (x / peak * (HALF_PEAK * ALPHA) + (1 - ALPHA) * x).astype(np.float32)


def _read_clean(path: Path) -> tuple[np.ndarray, bytes]:
    """(mono float32 samples at 32 kHz, the file's bytes)."""
    from engine.audio.io import read_audio

    data = path.read_bytes()
    audio = read_audio(path, samplerate=SAMPLE_RATE)
    return audio.samples.astype(np.float32, copy=False), data


def _align(ssl: torch.Tensor, frames: int) -> torch.Tensor:
    """SSL features [C, T] padded by replicating the last frame, or cut, to ``frames`` frames."""
    t = ssl.shape[-1]
    if t >= frames:
        return ssl[:, :frames].contiguous()
    pad = ssl[:, -1:].expand(-1, frames - t) if t else torch.zeros(ssl.shape[0], frames)
    return torch.cat([ssl, pad], 1)


# ---------------------------------------------------------------------------------------------- models
def _identity(path: Path | None) -> str:
    """A cheap identity of a model file or folder: names, sizes and modification times."""
    if path is None:
        return "-"
    path = Path(path)
    files = sorted(p for p in path.iterdir() if p.is_file()) if path.is_dir() else [path]
    parts = []
    for f in files:
        try:
            st = f.stat()
        except OSError:
            continue
        parts.append(f"{f.name}:{st.st_size}:{st.st_mtime_ns}")
    return "|".join(parts)


class _Models:
    """The pretrained networks prep needs, each loaded on first use."""

    def __init__(self, pretrained: Any, device: str | torch.device) -> None:
        self.paths = pretrained
        self.device = torch.device(device)
        self._ssl = self._sovits = self._bert = None
        self.ids = {
            "hubert": _identity(pretrained.hubert),
            "sovits": _identity(pretrained.sovits),
            "bert": _identity(getattr(pretrained, "bert", None)),
        }

    @property
    def ssl(self):
        if self._ssl is None:
            from engine.models.ssl import SslModel

            self._ssl = SslModel.load(self.paths.hubert, self.device)
        return self._ssl

    @property
    def sovits(self):
        if self._sovits is None:
            from engine.weights.load import load_sovits

            self._sovits = load_sovits(self.paths.sovits, self.device)
        return self._sovits

    @property
    def bert(self):
        if self._bert is None:
            folder = getattr(self.paths, "bert", None)
            if folder is None:
                raise ModelError(
                    "Mandarin transcripts need the BERT model, which is not available.",
                    "Run `timbre models download`.",
                )
            from engine.models.bert import BertFeatures

            self._bert = BertFeatures.load(folder, self.device)
        return self._bert

    def bert_dim(self) -> int:
        """Width of the BERT features (read from the folder's config; 1024 when unknown)."""
        if self._bert is not None:
            return int(self._bert.dim)
        folder = getattr(self.paths, "bert", None)
        try:
            return int(json.loads((Path(folder) / "config.json").read_text())["hidden_size"])
        except (TypeError, OSError, KeyError, ValueError):
            return BERT_DIM


def _locate(pretrained: Any) -> Any:
    if pretrained is not None:
        return pretrained
    from engine.weights.locate import locate

    return locate(("sovits", "hubert", "bert"))


# ---------------------------------------------------------------------------------------------- features
@dataclass
class _Text:
    language: str
    ids: list[int]
    segments: list  # engine.text.frontend.Segment


def _phonemes(text: str, language: str) -> _Text:
    from engine.text.frontend import frontend

    segments = [s for s in frontend(text, language) if s.ids]
    ids = [int(i) for s in segments for i in s.ids]
    lang = "zh" if any(s.language == "zh" for s in segments) else "en"
    return _Text(lang, ids, segments)


def _bert_features(models: _Models, parsed: _Text) -> torch.Tensor:
    dim = models.bert_dim()
    feats = []
    for seg in parsed.segments:
        if seg.language == "zh":
            word2ph = list(seg.word2ph or [])
            feats.append(models.bert.phone_features(seg.normalized_text, word2ph).float().cpu())
        else:
            feats.append(torch.zeros(dim, len(seg.ids)))
    return torch.cat(feats, 1) if feats else torch.zeros(dim, 0)


@torch.inference_mode()
def _heavy(models: _Models, wav: np.ndarray, parsed: _Text) -> dict[str, torch.Tensor]:
    """HuBERT features, semantic tokens and BERT features of one take (the cached part)."""
    from engine.audio.io import resample

    wav16 = resample(wav, SAMPLE_RATE, SSL_RATE)
    ssl = models.ssl.features(wav16)  # [1, C, T50]
    dtype = models.sovits.ssl_proj.weight.dtype
    codes = models.sovits.extract_latent(ssl.to(models.device, dtype))  # [1, n_q, T25]
    return {
        "ssl": ssl[0].float().cpu().contiguous(),
        "semantic": codes[0, 0].long().cpu().contiguous(),
        "bert": _bert_features(models, parsed).contiguous(),
    }


def _cache_key(audio: bytes, text: str, language: str, parsed: _Text, models: _Models) -> str:
    h = hashlib.sha256()
    h.update(f"timbre-train-cache:{CACHE_VERSION}\n".encode())
    h.update(hashlib.sha256(audio).digest())
    h.update(json.dumps([text, language, models.ids["hubert"], models.ids["sovits"]]).encode())
    if parsed.language == "zh":
        h.update(models.ids["bert"].encode())
    return h.hexdigest()[:32]


def _load_cached(path: Path) -> dict[str, torch.Tensor] | None:
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    if not path.is_file():
        return None
    try:
        tensors = load_file(str(path))
    except (SafetensorError, OSError, ValueError) as exc:
        log.warning("damaged cache entry %s (%s); computing it again", path.name, exc)
        return None
    if not {"ssl", "semantic", "bert"} <= tensors.keys():
        return None
    return tensors


def _save_cached(path: Path, tensors: dict[str, torch.Tensor], meta: dict[str, str]) -> None:
    from safetensors.torch import save

    from engine.fsutil import atomic_write_bytes

    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(path, save(tensors, metadata=meta))


# ---------------------------------------------------------------------------------------------- sessions
def _session_takes(session: Any) -> tuple[list[tuple[int, Any]], list[tuple[Any, str]]]:
    """(index, take) of the training takes, and (take, reason) for the others."""
    included, excluded = session.training_takes()
    positions = {id(t): i for i, t in enumerate(session.takes)}
    return [(positions[id(t)], t) for t in included], list(excluded)


def _needs_cleaning(session: Any, takes: list[tuple[int, Any]]) -> bool:
    """True when clean/ lacks a training take, or holds a copy older than the take (re-recorded)."""
    for index, _ in takes:
        clean, raw = session.clean_path(index), session.take_path(index)
        try:
            if clean.stat().st_mtime_ns < raw.stat().st_mtime_ns:
                return True
        except OSError:
            return True
    return False


def _quality_score(take: Any, seconds: float) -> float:
    """Reference rank key from the stored quality report: verdict, then SNR, then closeness to 6 s."""
    report = take.quality if isinstance(take.quality, dict) else None
    score = -50.0
    if report is not None:
        score = -{"ok": 0.0, "warn": 100.0, "fail": 1000.0}.get(str(report.get("verdict", "warn")), 100.0)
        for check in report.get("checks", []):
            if check.get("key") == "snr" and isinstance(check.get("value"), int | float):
                score += min(float(check["value"]), 40.0)
    return score - abs(seconds - 6.0)


def _stored_report(take: Any) -> Any:
    """The take's stored quality report when it holds a listening score (else None: analysed afresh)."""
    from engine.audio.quality import TakeReport

    if isinstance(take.quality, dict) and take.quality.get("dnsmos"):
        try:
            return TakeReport.from_dict(take.quality)
        except (TypeError, ValueError, KeyError):
            return None
    return None


def choose_reference(candidates: list[tuple[ReferenceChoice, Any]]) -> ReferenceChoice | None:
    """The cleanest 3–10 s take among (choice, take) pairs: engine.audio.quality's ranking (DNSMOS and
    the sound checks) when it offers one, else the stored quality reports (verdict, SNR, length)."""
    fitting = [(c, t) for c, t in candidates if REF_MIN_S <= c.seconds <= REF_MAX_S]
    if not fitting:
        return None
    from engine.audio import quality

    rank = getattr(quality, "rank_reference_takes", None)
    if callable(rank):
        try:
            ranked = rank([c.wav for c, _ in fitting], reports=[_stored_report(t) for _, t in fitting])
            by_path = {c.wav: c for c, _ in fitting}
            if ranked and Path(ranked[0].path) in by_path:
                return by_path[Path(ranked[0].path)]
        except Exception as exc:  # noqa: BLE001 - the stored reports are a fine fallback
            log.warning("reference ranking failed (%s); using the stored quality reports", exc)
    return max(fitting, key=lambda ct: _quality_score(ct[1], ct[0].seconds))[0]


def _default_log(level: str, message: str) -> None:
    log.log(getattr(logging, level.upper(), logging.INFO), "%s", message)


def _not_enough(seconds: float, skipped: list[tuple[str, str]]) -> NotEnoughData:
    shown = "; ".join(f"{k}: {r}" for k, r in skipped[:4]) + ("; …" if len(skipped) > 4 else "")
    left_out = f" {len(skipped)} take(s) left out ({shown})." if skipped else ""
    return NotEnoughData(
        f"Only {seconds:.1f} s of usable speech; fine-tuning needs at least {REFUSE_S:.0f} s "
        f"(a minute is best).{left_out}",
        "Record and accept more takes (each with its transcript), fix the takes listed, "
        "then prepare the session again.",
    )


def prepare(
    studio: Any,
    session_ids: list[str],
    voice_dir: Path,
    *,
    device: str | torch.device = "cpu",
    pretrained: Any = None,
    log: LogFn | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> PreparedData:
    """Features of every usable take of the sessions, the takes left out (with reasons), the reference.

    Sessions whose clean/ copies are missing are cleaned first (engine.audio.denoise). Raises
    NotEnoughData under ~20 s of usable speech, or when no usable take lasts 3–10 s (the reference);
    warns (``log("warning", …)``) under 60 s. ``pretrained`` is a PretrainedPaths (default: located).
    """
    from engine.models.spec import spectrogram
    from engine.session import Session

    say = log or _default_log
    if not session_ids:
        raise NotEnoughData("No session was given to train on.", "Name one with --session ID.")
    cache = Path(voice_dir) / CACHE_DIR
    models: _Models | None = None
    items: list[TrainItem] = []
    skipped: list[tuple[str, str]] = []
    gpt_skipped: list[tuple[str, str]] = []
    computed: list[str] = []
    used: set[str] = set()
    candidates: list[tuple[ReferenceChoice, Any]] = []

    def skip(key: str, reason: str, level: str = "warning") -> None:
        skipped.append((key, reason))
        say(level, f"{key}: {reason}; left out")

    work: list[tuple[Any, int, Any]] = []
    from engine.consent import require_consent

    consents: list[dict] = []
    for sid in dict.fromkeys(session_ids):
        session = Session.load(studio, sid)
        consents.append(require_consent(session).provenance())  # issue 14: no training without consent
        takes, excluded = _session_takes(session)
        if takes and _needs_cleaning(session, takes):
            from engine.audio.denoise import prepare_session

            say("info", f"session {session.id}: cleaning the takes first (clean/ is missing or out of date)")
            prepare_session(session)
            takes, excluded = _session_takes(session)
        for take, reason in excluded:
            level = "info" if take.status in ("pending", "skipped", "rejected") else "warning"
            skip(f"{session.id}/{take.id}", reason, level)
        work.extend((session, index, take) for index, take in takes)

    for n, (session, index, take) in enumerate(work):
        if progress is not None:
            progress(n, len(work))
        key = f"{session.id}/{take.id}"
        path = session.clean_path(index)
        if not path.is_file():
            skip(key, "no cleaned audio (prepare the session in Review first)")
            continue
        try:
            raw, data = _read_clean(path)
        except TimbreError as exc:
            skip(key, f"its audio cannot be read ({exc.message})")
            continue
        seconds = raw.size / SAMPLE_RATE
        peak = float(np.max(np.abs(raw))) if raw.size else 0.0
        reason = sovits_reason(seconds)
        if reason is None and peak > MAX_PEAK:
            reason = f"peak {peak:.1f}, louder than {MAX_PEAK} (the file is damaged)"
        if reason is None and peak < SILENT_PEAK:
            reason = "silent"
        if reason is not None:
            skip(key, reason)
            continue
        try:
            parsed = _phonemes(take.text, session.language)
        except TimbreError as exc:
            skip(key, f"its transcript cannot be read aloud ({exc.message})")
            continue
        if not parsed.ids:
            skip(key, "nothing in its transcript can be spoken")
            continue
        wav = half_peak_normalise(raw)
        if models is None:
            models = _Models(_locate(pretrained), device)
        name = _cache_key(data, take.text, session.language, parsed, models)
        entry = cache / f"{name}.safetensors"
        used.add(entry.name)
        heavy = _load_cached(entry)
        if heavy is None:
            heavy = _heavy(models, wav, parsed)
            _save_cached(entry, heavy, {"key": key, "text": take.text, "version": str(CACHE_VERSION)})
            computed.append(key)
            say("debug", f"{key}: features computed")
        wav_t = torch.from_numpy(wav)
        spec = spectrogram(wav_t.unsqueeze(0))[0]
        item = TrainItem(
            key=key,
            text=take.text,
            language=parsed.language,
            phone_ids=torch.tensor(parsed.ids, dtype=torch.long),
            bert=heavy["bert"].float(),
            ssl=_align(heavy["ssl"].float(), spec.shape[-1]),
            semantic=heavy["semantic"].long().reshape(-1),
            wav=wav_t,
            spec=spec,
            seconds=seconds,
        )
        if item.bert.shape[-1] != item.phone_ids.numel():
            skip(key, "its BERT features do not match its phones (a frontend bug; please report it)")
            continue
        items.append(item)
        why = gpt_reason(item)
        if why is not None:
            gpt_skipped.append((key, why))
            say("warning", f"{key}: {why}; left out of the GPT training (kept for SoVITS)")
        candidates.append((ReferenceChoice(session.id, take.id, path, take.text, seconds), take))
    if progress is not None:
        progress(len(work), len(work))

    _prune(cache, used)
    total = sum(it.seconds for it in items)
    if total < REFUSE_S:
        raise _not_enough(total, skipped)
    if total < WARN_S:
        say("warning", f"Only {total:.0f} s of usable speech; {WARN_S:.0f} s or more makes a better voice.")
    reference = choose_reference(candidates)
    if reference is None:
        raise NotEnoughData(
            f"None of the usable takes lasts {REF_MIN_S:.0f}–{REF_MAX_S:.0f} s, which the voice's "
            "reference clip needs.",
            "Record and accept a take of one or two full sentences.",
        )
    say("info", f"reference clip: {reference.key} ({reference.seconds:.1f} s)")
    say("info", f"{len(items)} takes, {total:.1f} s of speech ({len(skipped)} left out)")
    return PreparedData(items, skipped, reference, total, gpt_skipped, computed, consents)


def _prune(cache: Path, used: set[str]) -> None:
    """Remove cache entries no take uses any more (changed takes, changed transcripts)."""
    if not cache.is_dir():
        return
    for entry in cache.glob("*.safetensors"):
        if entry.name not in used:
            entry.unlink(missing_ok=True)
