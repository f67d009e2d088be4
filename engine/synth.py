"""Text to speech with a voice: frontend → BERT/phones → GPT tokens → SoVITS → 32 kHz float32 audio.

The GPT continues the reference clip's semantic tokens, so the reference's transcript phones come first
and the generated tokens are decoded with the reference's spectrogram as the speaker/style condition
(spec §2.1). Text is split into sentences; each sentence is one GPT + SoVITS pass and the sentences are
joined with 0.3 s of silence. Everything computed from the reference is done once per Synthesizer.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch

from engine.errors import AudioError, ModelError, TextError
from engine.models.t2s.judge import expected_tokens, reference_rate
from engine.text.speakable import NOT_SPOKEN, NothingToSay, spoken_phones  # noqa: F401 - re-exported
from engine.text.speakable import is_speakable as _speakable
from engine.text.speakable import nothing_to_say as _nothing_to_say
from engine.voice import Voice

log = logging.getLogger(__name__)

SAMPLE_RATE = 32000
SSL_RATE = 16000
REF_MIN_S = 3.0
REF_MAX_S = 10.0
MIN_INPUT_RATE = 16000
FINAL_PUNCT = tuple("，。？！,.?!~:：—…")  # the reference's split marks
ONLINE_CHECK_EVERY = 8  # tokens between checks of a GPT pass still running
RETRY_STRIDE = 1 << 20  # seed step between the passes of one sentence
MIN_CHUNK_TOKENS = 4


class ReferenceAudioError(AudioError):
    """The reference clip cannot be used."""


@dataclass(frozen=True)
class SynthParams:
    """Inference settings; the defaults are the official WebUI/API ones (spec §6.5)."""

    top_k: int = 15
    top_p: float = 1.0
    temperature: float = 1.0
    repetition_penalty: float = 1.35
    speed: float = 1.0
    noise_scale: float = 0.5
    seed: int | None = None  # None: a fresh random seed per call
    pause_s: float = 0.3
    language: str | None = None  # None: the voice's language
    max_steps: int | None = None  # None: the GPT's own cap (1500)
    split_method: str = "punctuation"  # a cut method of engine.text.split (the API's default, cut5)
    max_attempts: int = 3  # GPT passes per sentence when one is judged bad (1: never sample again)

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be >= 1")
        if self.top_k < 1:
            raise ValueError("top_k must be >= 1")
        if not 0.0 < self.top_p <= 1.0:
            raise ValueError("top_p must be in (0, 1]")
        if self.temperature < 0:
            raise ValueError("temperature must be >= 0")
        if not 0.25 <= self.speed <= 4.0:
            raise ValueError("speed must be in [0.25, 4]")
        if self.noise_scale < 0 or self.pause_s < 0:
            raise ValueError("noise_scale and pause_s must be >= 0")


@dataclass
class Chunk:
    """One piece of audio: a whole sentence, or (streaming with ``chunk_tokens``) a part of one.

    The first part of every sentence after the first starts with the pause that separates the two.
    """

    index: int  # the sentence
    text: str  # the sentence's text
    audio: np.ndarray  # float32, 32 kHz, mono
    tokens: int  # semantic tokens whose audio this chunk holds (speech = tokens × 1280 at speed 1)
    seconds: float  # wall-clock time spent on it (since the previous chunk)
    seed: int  # GPT seed of the pass that was kept (SoVITS noise uses seed + 1)
    attempts: int = 1  # GPT passes made for this sentence (> 1: earlier ones were judged bad)
    verdict: str = "ok"  # the kept pass's judgement ("ok" or the reasons); "" on a part before the last
    part: int = 0  # which part of the sentence (0 without chunk_tokens)
    final: bool = True  # the last part of its sentence


@dataclass
class Reference:
    """Everything derived from the reference clip, computed once."""

    prompt_tokens: torch.Tensor  # [1, P]
    phone_ids: torch.Tensor  # [1, Tp]
    bert: torch.Tensor  # [1, bert_dim, Tp]
    ge: torch.Tensor  # [1, gin, 1]
    seconds: float
    trimmed: bool
    speech_phones: int = 0  # spoken phones of the transcript (for the reference's tokens per phone)


@dataclass
class Models:
    """The loaded networks of one synthesizer (BERT loads on first use)."""

    gpt: torch.nn.Module
    sovits: torch.nn.Module
    ssl: object  # engine.models.ssl.SslModel
    bert_folder: Path | None = None
    bert: object | None = None  # engine.models.bert.BertFeatures
    device: torch.device = field(default_factory=lambda: torch.device("cpu"))
    precision: str = "fp32"  # how the GPT and SoVITS run, in words (Precision.describe)

    def bert_features(self):
        """The BERT model, loaded the first time Mandarin text needs it."""
        if self.bert is None:
            if self.bert_folder is None:
                raise ModelError(
                    "Mandarin text needs the BERT model, which is not available.",
                    "Run `timbre models download`.",
                )
            from engine.models.bert import BertFeatures

            self.bert = BertFeatures.load(self.bert_folder, self.device)
        return self.bert


def load_models(
    voice: Voice,
    pretrained=None,
    device: str | torch.device | None = None,
    *,
    precision: str | None = None,
    int8: bool = False,
    threads: int | None = None,
) -> Models:
    """Load the networks ``voice`` needs: its own weights where it has them, the pretrained ones otherwise.

    ``device`` None picks CUDA when a GPU is usable. ``precision`` (None: $TIMBRE_PRECISION, else "auto"; see
    :func:`engine.models.runtime.choose_precision`): "auto" is fp16 on a GPU with tensor cores and the
    gated CPU fast path on a CPU with bf16 instructions, else fp32; "fp32" keeps the reference's numerics;
    "fp16"/"bf16" cast the GPT and SoVITS (HuBERT and BERT stay fp32); "fast" asks for the CPU fast path.
    ``int8`` turns on only the GPT's int8 decode steps (an older option; "fast" includes it). ``threads``
    (or $TIMBRE_THREADS) sets torch's CPU thread count, which is otherwise left at torch's default.
    """
    from engine.models.runtime import choose_precision, configure_threads, resolve_device
    from engine.models.ssl import SslModel
    from engine.weights.load import load_gpt, load_sovits
    from engine.weights.locate import locate

    dev = resolve_device(device)
    chosen = choose_precision(precision, dev)
    if int8 and dev.type != "cpu":
        raise ModelError("The int8 decode path is for the CPU.", "Leave out --int8 on a GPU.")
    configure_threads(threads)
    if pretrained is None:
        keys = ["hubert", "bert"]
        if voice.gpt_path is None:
            keys.append("gpt")
        if voice.sovits_path is None:
            keys.append("sovits")
        pretrained = locate(tuple(keys))
    for p in (voice.gpt_path, voice.sovits_path):
        if p is not None and not Path(p).is_file():
            raise ModelError(
                f"The voice {voice.name!r} lacks its weights file {p}.", "Train or import the voice again."
            )
    gpt = load_gpt(voice.gpt_path or pretrained.gpt, dev)
    sovits = load_sovits(voice.sovits_path or pretrained.sovits, dev)
    apply_precision(gpt, sovits, chosen, int8=int8)
    log.info("GPT and SoVITS run in %s on %s", chosen.describe(), dev)
    ssl = SslModel.load(pretrained.hubert, dev)
    return Models(gpt, sovits, ssl, pretrained.bert, device=dev, precision=chosen.describe())


def apply_precision(gpt: torch.nn.Module, sovits: torch.nn.Module, chosen, *, int8: bool = False) -> None:
    """Put the GPT and SoVITS into ``chosen`` (an ``engine.models.runtime.Precision``), in place.

    The float type is cast; the CPU fast path adds the GPT's int8/bf16 copies and SoVITS's bf16 stages;
    ``int8`` alone turns on just the GPT's int8 decode steps.
    """
    gpt.to(chosen.dtype)
    sovits.to(chosen.dtype)
    if chosen.fast_cpu:
        gpt.enable_fast_cpu()
        sovits.enable_fast_cpu()
    if int8:  # under the fast path its own decode steps take precedence
        gpt.enable_int8_decode()


def _default_frontend(text: str, language: str):
    from engine.text.frontend import frontend

    return frontend(text, language)


def check_reference(path: Path | str) -> tuple[np.ndarray, int, bool]:
    """Read a reference clip: mono, ≥ 16 kHz, not silent, 3–10 s (longer ones trimmed at a pause)."""
    from engine.audio.io import probe, read_audio

    path = Path(path)
    info = probe(path)
    if info.channels != 1:
        raise ReferenceAudioError(
            f"The reference {path.name} has {info.channels} channels; it must be mono.",
            f"Convert it: sox {path.name} -c 1 mono.wav (or pick a take recorded by Timbre).",
        )
    if info.samplerate < MIN_INPUT_RATE:
        raise ReferenceAudioError(
            f"The reference {path.name} is {info.samplerate} Hz audio; it needs {MIN_INPUT_RATE} Hz or more.",
            "Use a recording made at 16 kHz or more (telephone-quality audio loses too much of the voice).",
        )
    audio = read_audio(path, max_seconds=REF_MAX_S + 1.0)  # a reference needs seconds, not the whole file
    samples, rate = audio.samples, audio.samplerate
    peak = float(np.max(np.abs(samples))) if samples.size else 0.0
    if peak < 1e-3 or float(np.sqrt(np.mean(samples.astype(np.float64) ** 2))) < 1e-4:
        raise ReferenceAudioError(
            f"The reference {path.name} is silent.", "Choose a clip where the voice is heard."
        )
    from engine.audio.quality import has_speech  # the speech detection of the quality checks

    if not has_speech(samples, rate):
        raise ReferenceAudioError(
            f"The reference {path.name} holds no speech (noise or a steady tone).",
            "Choose a clip of one or two sentences spoken clearly (`timbre check FILE` shows why).",
        )
    seconds = max(samples.size / rate, info.seconds if info.exact else 0.0)
    if seconds < REF_MIN_S:
        raise ReferenceAudioError(
            f"The reference {path.name} is {seconds:.1f} s long; it must be 3–10 s.",
            "Choose a longer clip (one or two full sentences).",
        )
    trimmed = False
    if seconds > REF_MAX_S:
        samples = trim_at_pause(samples, rate)
        trimmed = True
        log.warning(
            "reference %s is %.1f s; trimmed to %.1f s at a pause (the transcript should match what is kept)",
            path.name, seconds, samples.size / rate,
        )  # fmt: skip
    return samples.astype(np.float32, copy=False), rate, trimmed


def trim_at_pause(
    samples: np.ndarray, rate: int, lo_s: float = REF_MIN_S, hi_s: float = REF_MAX_S
) -> np.ndarray:
    """Cut a long clip at the quietest 50 ms stretch between ``lo_s`` and ``hi_s``, preferring later ones."""
    frame = max(1, int(rate * 0.05))
    hop = max(1, frame // 2)
    start, stop = int(lo_s * rate), int(hi_s * rate) - frame
    positions = np.arange(start, max(start + 1, stop), hop)
    energy = np.array([float(np.mean(samples[p : p + frame].astype(np.float64) ** 2)) for p in positions])
    db = 10 * np.log10(energy + 1e-12)
    quiet = np.flatnonzero(db <= db.min() + 3.0)  # near-silent stretches; the latest keeps the most speech
    cut = int(positions[quiet[-1]]) + frame // 2
    return samples[: min(cut, int(hi_s * rate))]


def nothing_to_say(text: str, language: str = "auto") -> NothingToSay:
    """The error for text that holds no speakable word (engine.text.speakable, shared with `phonemes`)."""
    return _nothing_to_say(text, language)


SILENT_PEAK = 1e-5
"""A sentence whose decoded audio never rises above this (−100 dBFS) came out silent."""


def check_decoded(audio: np.ndarray, *, expect_speech: bool = True) -> np.ndarray:
    """``audio`` unchanged, or ModelError when it holds NaN/Inf or, where speech was expected, silence."""
    hint = "The voice's weight files may be damaged: import or train the voice again."
    if audio.size and not np.isfinite(audio).all():
        raise ModelError("The models produced invalid audio (NaN or infinite samples).", hint)
    if expect_speech and (not audio.size or float(np.max(np.abs(audio))) < SILENT_PEAK):
        raise ModelError("The models produced silence where speech was expected.", hint)
    return audio


def split_pieces(text: str, language: str, method: str = "punctuation") -> list[str]:
    """``text`` cut into the pieces spoken one by one; NothingToSay when it is blank or only symbols."""
    from engine.text.split import split_text

    if not text or not text.strip():
        raise NothingToSay("There is no text to speak.", "Type some words.")
    pieces = split_text(text, method, "en" if language == "en" else "zh")
    if not pieces:
        raise nothing_to_say(text)
    return pieces


def check_text(
    text: str, language: str, method: str = "punctuation", frontend: Callable[[str, str], list] | None = None
) -> list[str]:
    """The pieces of ``text`` with something to speak (no models needed); NothingToSay when none has."""
    frontend = frontend or _default_frontend
    pieces = [p for p in split_pieces(text, language, method) if _speakable(frontend(p, language))]
    if not pieces:
        raise nothing_to_say(text, language)
    return pieces


def transcript_error(voice: Voice) -> TextError:
    """The error for a reference transcript with no pronounceable word."""
    text = voice.reference_text.strip()
    what = f"{text!r} has no pronounceable words" if text else "is empty"
    hint = "Give the exact words spoken in the reference clip."
    return TextError(f"The reference transcript {what}.", hint)


def check_transcript(voice: Voice, frontend: Callable[[str, str], list] | None = None) -> None:
    """Raise :func:`transcript_error` now (no models needed) when the reference transcript says nothing."""
    try:
        check_text(voice.reference_text, voice.language, "none", frontend)
    except NothingToSay as exc:
        raise transcript_error(voice) from exc


class Synthesizer:
    """Speaks text in a voice. Build once per voice; reference features are cached inside."""

    def __init__(
        self,
        voice: Voice,
        *,
        pretrained=None,
        device: str | torch.device | None = None,
        models: Models | None = None,
        frontend: Callable[[str, str], list] | None = None,
        **load_options: Any,
    ) -> None:
        """Load the models unless ``models`` is given; ``load_options`` go to :func:`load_models`.

        When it loads them, the reference clip is checked first, so a bad clip fails in an instant.
        """
        self.voice = voice
        self._clip = None if models is not None else check_reference(voice.reference_wav)
        self.models = models or load_models(voice, pretrained, device, **load_options)
        self.frontend = frontend or _default_frontend
        self._reference: Reference | None = None

    @property
    def samples_per_token(self) -> int:
        """Output samples per semantic token (1280 for v2)."""
        return int(self.models.sovits.config.samples_per_token)

    @property
    def bert_dim(self) -> int:
        return int(self.models.gpt.config.bert_dim)

    # ------------------------------------------------------------------ text
    def _phones(self, text: str, language: str) -> tuple[list[int], torch.Tensor, list]:
        segments = self.frontend(text, language)
        ids: list[int] = []
        feats: list[torch.Tensor] = []
        for seg in segments:
            if not seg.ids:
                continue
            ids.extend(int(i) for i in seg.ids)
            if seg.language == "zh":
                bert_model = self.models.bert_features()
                if bert_model.dim != self.bert_dim:
                    raise ModelError(
                        f"The BERT model gives {bert_model.dim}-d features; the GPT expects {self.bert_dim}.",
                        "Use chinese-roberta-wwm-ext-large (`timbre models download`).",
                    )
                feats.append(bert_model.phone_features(seg.normalized_text, list(seg.word2ph or [])))
            else:
                feats.append(torch.zeros(self.bert_dim, len(seg.ids)))
        bert = (
            torch.cat([f.to(self.models.device) for f in feats], 1)
            if feats
            else torch.zeros(self.bert_dim, 0)
        )
        return ids, bert, segments

    # ------------------------------------------------------------------ reference
    @torch.inference_mode()
    def reference(self) -> Reference:
        """Prompt tokens, prompt phones/BERT and the speaker vector of the voice's reference (cached)."""
        if self._reference is not None:
            return self._reference
        from engine.audio.io import resample
        from engine.models.spec import spectrogram

        samples, rate, trimmed = self._clip or check_reference(self.voice.reference_wav)
        wav16 = resample(samples, rate, SSL_RATE)
        wav32 = resample(samples, rate, SAMPLE_RATE)
        m = self.models
        ssl = m.ssl.reference_features(wav16)
        dtype = m.sovits.ssl_proj.weight.dtype  # fp32, or fp16/bf16 when loaded that way
        codes = m.sovits.extract_latent(ssl.to(m.device, dtype))  # [1, n_q, T25]
        prompt = codes[:, 0].long()
        peak = float(np.max(np.abs(wav32)))
        if peak > 1.0:
            wav32 = wav32 / min(2.0, peak)
        spec = spectrogram(torch.from_numpy(np.ascontiguousarray(wav32)).unsqueeze(0).to(m.device)).to(dtype)
        ge = m.sovits.reference_embedding(spec)
        text = self.voice.reference_text.strip()
        if not text:
            raise transcript_error(self.voice)
        language = self.voice.language
        if not text.endswith(FINAL_PUNCT):
            text += "." if language == "en" else "。"  # as the reference does
        ids, bert, segments = self._phones(text, language)
        if not ids or not _speakable(segments):
            raise transcript_error(self.voice)
        self._reference = Reference(
            prompt_tokens=prompt,
            phone_ids=torch.tensor([ids], dtype=torch.long, device=m.device),
            bert=bert.unsqueeze(0),
            ge=ge,
            seconds=samples.size / rate,
            trimmed=trimmed,
            speech_phones=spoken_phones(segments),
        )
        self._clip = None  # the samples are not needed any more
        return self._reference

    # ------------------------------------------------------------------ synthesis
    def _inputs(self, ids: list[int], bert: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(target phones [1, Tt], all phones [1, Tp+Tt], all BERT features [1, dim, Tp+Tt])."""
        m, ref = self.models, self.reference()
        target = torch.tensor([ids], dtype=torch.long, device=m.device)
        return target, torch.cat([ref.phone_ids, target], 1), torch.cat([ref.bert, bert.unsqueeze(0)], 2)

    def _expected(self, segments: list) -> float | None:
        """Tokens this text should take at the reference clip's own rate (None when unknown)."""
        ref = self.reference()
        rate = reference_rate(int(ref.prompt_tokens.shape[1]), ref.speech_phones)
        return expected_tokens(rate, spoken_phones(segments))

    def _steps(self, phone_ids: torch.Tensor, bert: torch.Tensor, p: SynthParams, seed: int):
        from engine.models.t2s.sampling import SamplingParams

        m, ref = self.models, self.reference()
        params = SamplingParams(p.top_k, p.top_p, p.temperature, p.repetition_penalty)
        gen = torch.Generator(device=m.device).manual_seed(seed)
        return m.gpt.decode_steps(
            phone_ids, bert, ref.prompt_tokens, params, max_steps=p.max_steps, generator=gen
        )

    def _online_problem(self, tokens: list[int], expected: float | None, leak_check: bool) -> str | None:
        """Why a pass still running is already bad (runaway length, a loop, a leak), or None."""
        from engine.models.t2s import judge

        lim = judge.JudgeLimits()
        if judge.too_long(len(tokens), expected, lim):
            return f"runaway: {len(tokens)} tokens for ~{expected:.0f} expected"
        covered, period, _ = judge.longest_period_stretch(
            tokens[-(lim.loop_tokens + lim.max_period) :], lim.max_period
        )
        if covered >= lim.loop_tokens:
            return f"loops: period {period} over {covered} tokens"
        if leak_check:
            prompt = self.reference().prompt_tokens[0].tolist()
            shared = judge.longest_shared_stretch(
                tokens, prompt[: -judge.REFERENCE_PAD_TOKENS], lim.leak_distinct
            )
            if shared >= lim.leak_tokens:
                return f"reference leak: {shared} tokens copied from the reference clip"
        return None

    @torch.inference_mode()
    def _generate(
        self, phone_ids: torch.Tensor, bert: torch.Tensor, p: SynthParams, seed: int, expected: float | None
    ) -> tuple[list[int], bool, str | None]:
        """One GPT pass, trimmed as ``Text2Semantic.infer`` trims: (tokens, ended on EOS, why it was cut)."""
        from engine.models.t2s.model import STOP_MAX_STEPS

        tokens: list[int] = []
        steps = self._steps(phone_ids, bert, p, seed)
        try:
            for step in steps:
                if step.stop is not None and step.stop != STOP_MAX_STEPS:
                    return tokens or [0], True, None
                tokens.append(step.token)
                if step.stop == STOP_MAX_STEPS:
                    return tokens[1:] or [0], False, None  # the reference's rule at the cap (prompted)
                if len(tokens) % ONLINE_CHECK_EVERY == 0:
                    problem = self._online_problem(tokens, expected, leak_check=len(tokens) <= 48)
                    if problem:
                        return tokens, False, problem
        finally:
            steps.close()
        return tokens or [0], False, None

    @torch.inference_mode()
    def _decode(self, tokens: list[int], target: torch.Tensor, p: SynthParams, seed: int) -> np.ndarray:
        """The one-shot SoVITS decode of a sentence's tokens (noise seeded with ``seed + 1``)."""
        m, ref = self.models, self.reference()
        codes = torch.tensor([tokens], dtype=torch.long, device=m.device)
        noise = torch.Generator(device=m.device).manual_seed(seed + 1)
        wav = m.sovits.decode(
            codes.unsqueeze(0), target, ge=ref.ge, noise_scale=p.noise_scale, speed=p.speed, generator=noise
        )
        audio = check_decoded(wav[0, 0].float().cpu().numpy())  # NaN or silence: damaged weights
        peak = float(np.max(np.abs(audio))) if audio.size else 0.0
        if peak > 1.0:
            audio = audio / peak
        return audio.astype(np.float32, copy=False)

    def _judge(self, tokens: list[int], expected: float | None, eos: bool):
        from engine.models.t2s.judge import judge_tokens

        return judge_tokens(
            tokens, expected=expected, reference=self.reference().prompt_tokens[0].tolist(), ended_on_eos=eos
        )

    def _speak(
        self, ids: list[int], bert: torch.Tensor, segments: list, p: SynthParams, seed: int
    ) -> tuple[np.ndarray, int, int, int, str]:
        """A whole sentence: (audio, tokens, kept seed, attempts, verdict); bad passes are sampled again."""
        target, phone_ids, all_bert = self._inputs(ids, bert)
        expected = self._expected(segments)
        best = None
        attempts = 0
        for attempt in range(p.max_attempts):
            attempts += 1
            s = retry_seed(seed, attempt)
            tokens, eos, cut = self._generate(phone_ids, all_bert, p, s, expected)
            verdict = self._judge(tokens, expected, eos)
            if cut:
                verdict.reasons.append(f"stopped early: {cut}")
                verdict.badness += 1.0
            if best is None or verdict.badness < best[1].badness:
                best = (tokens, verdict, s)
            if verdict.ok:
                break
            more = "; sampling again" if attempt + 1 < p.max_attempts else "; keeping the best attempt"
            log.info("GPT pass %d (seed %d) judged bad: %s%s", attempt + 1, s, verdict.summary(), more)
        tokens, verdict, s = best
        return self._decode(tokens, target, p, s), len(tokens), s, attempts, verdict.summary()

    @torch.inference_mode()
    def _speak_streaming(
        self, ids: list[int], bert: torch.Tensor, segments: list, p: SynthParams, seed: int, chunk_tokens: int
    ) -> Iterator[tuple[np.ndarray, int, bool, int, str, int]]:
        """A sentence in parts while the GPT runs: (audio, tokens, final, attempts, verdict, seed).

        A pass judged bad before any of its audio is out is sampled again; once audio is out, a runaway or a
        loop is cut where it is found (the audio already played cannot be taken back).
        """
        from engine.models.sovits.streaming import StreamingDecoder
        from engine.models.t2s.model import STOP_MAX_STEPS

        m, ref = self.models, self.reference()
        target, phone_ids, all_bert = self._inputs(ids, bert)
        expected = self._expected(segments)
        for attempt in range(p.max_attempts):
            s = retry_seed(seed, attempt)
            decoder = StreamingDecoder(
                m.sovits, target, ref.ge, noise_scale=p.noise_scale, speed=p.speed,
                generator=torch.Generator(device=m.device).manual_seed(s + 1),
                first_tokens=max(4, chunk_tokens // 3), chunk_tokens=chunk_tokens,
            )  # fmt: skip
            tokens: list[int] = []
            eos, cut, emitted, restart = False, None, 0, False
            steps = self._steps(phone_ids, all_bert, p, s)
            try:
                for step in steps:
                    if step.stop is not None and step.stop != STOP_MAX_STEPS:
                        eos = True
                        break
                    tokens.append(step.token)
                    if step.stop == STOP_MAX_STEPS:
                        break  # a stream keeps step 0, which is already played
                    if len(tokens) % ONLINE_CHECK_EVERY == 0:
                        cut = self._online_problem(tokens, expected, leak_check=not emitted)
                        if cut:
                            restart = not emitted and attempt + 1 < p.max_attempts
                            break
                    audio = decoder.push(tokens)
                    if audio is not None and audio.size:
                        yield audio, decoder.emitted_tokens - emitted, False, attempt + 1, "", s
                        emitted = decoder.emitted_tokens
            finally:
                steps.close()
            if restart:
                log.info(
                    "GPT pass %d (seed %d) judged bad before playing: %s; sampling again", attempt + 1, s, cut
                )
                continue
            tokens = tokens or [0]
            verdict = self._judge(tokens, expected, eos)
            if cut:
                verdict.reasons.append(f"stopped early: {cut}")
                log.info("GPT pass %d (seed %d) cut while playing: %s", attempt + 1, s, cut)
            elif not verdict.ok:
                log.info(
                    "GPT pass %d (seed %d) judged bad after playing: %s", attempt + 1, s, verdict.summary()
                )
            tail = decoder.finish(tokens)
            yield tail, len(tokens) - emitted, True, attempt + 1, verdict.summary(), s
            return

    def stream(
        self, text: str, params: SynthParams | None = None, *, chunk_tokens: int | None = None
    ) -> Iterator[Chunk]:
        """Yield the audio sentence by sentence (each after the first begins with the pause).

        Each piece is phonemised just before it is spoken, so the first audio does not wait for the rest.
        With ``chunk_tokens`` (16-32 is a good range) each sentence comes in parts while the GPT is still
        generating it: a first part of ``chunk_tokens // 3`` tokens, then one every ``chunk_tokens``
        tokens (see ``engine.models.sovits.streaming``); without it every chunk is a whole sentence.
        """
        if chunk_tokens is not None and chunk_tokens < MIN_CHUNK_TOKENS:
            raise ValueError(f"chunk_tokens must be at least {MIN_CHUNK_TOKENS}")
        p = params or SynthParams()
        language = p.language or self.voice.language
        pieces = split_pieces(text, language, p.split_method)
        base = p.seed if p.seed is not None else random.randrange(2**31)
        pause = np.zeros(int(round(p.pause_s * SAMPLE_RATE)), np.float32)
        from engine.audio.watermark import StreamEmbedder  # issue 14: every output carries the watermark

        marker = StreamEmbedder(SAMPLE_RATE)
        index = 0
        for piece in pieces:
            started = time.perf_counter()
            ids, bert, segments = self._phones(piece, language)
            if not ids or not _speakable(segments):
                continue
            seed = base + 2 * index
            if chunk_tokens is None:
                audio, n_tokens, kept, attempts, verdict = self._speak(ids, bert, segments, p, seed)
                if index:
                    audio = np.concatenate([pause, audio])
                audio = marker.mark(audio)  # watermark (issue 14), same length
                yield Chunk(
                    index, piece, audio, n_tokens, time.perf_counter() - started, kept, attempts, verdict
                )
            else:
                parts = self._speak_streaming(ids, bert, segments, p, seed, chunk_tokens)
                loudest = 0.0
                for part, (audio, n_tokens, final, attempts, verdict, kept) in enumerate(parts):
                    check_decoded(audio, expect_speech=False)
                    loudest = max(loudest, float(np.max(np.abs(audio))) if audio.size else 0.0)
                    if final and loudest < SILENT_PEAK:
                        check_decoded(np.zeros(0, np.float32))  # the whole sentence came out silent
                    if index and part == 0:
                        audio = np.concatenate([pause, audio])
                    audio = marker.mark(audio)  # watermark (issue 14), same length
                    now = time.perf_counter()
                    yield Chunk(
                        index, piece, audio, n_tokens, now - started, kept, attempts, verdict, part, final
                    )
                    started = now
            index += 1
        if index == 0:
            raise nothing_to_say(text)

    def synthesize(self, text: str, params: SynthParams | None = None) -> np.ndarray:
        """The whole text as one float32 32 kHz array (the stream's chunks joined)."""
        chunks = [c.audio for c in self.stream(text, params)]
        return np.concatenate(chunks) if chunks else np.zeros(0, np.float32)


def retry_seed(seed: int, attempt: int) -> int:
    """The GPT seed of a sentence's ``attempt``-th pass (0: the seed itself; others never meet another
    sentence's seeds, which are ``base + 2 * index``)."""
    return seed + attempt * RETRY_STRIDE


def with_seed(params: SynthParams | None, seed: int) -> SynthParams:
    """``params`` with a fixed seed (defaults otherwise)."""
    return replace(params or SynthParams(), seed=seed)
