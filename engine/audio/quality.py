"""Quality report for one take and for a whole session: each figure, a verdict and one sentence of advice.

Thresholds (dBFS = decibels relative to full scale; "notes" = shared/notes/tui-audio.md §5):

=================  ===============================  =====================================================
check              ok / warn / fail                 where the numbers come from
=================  ===============================  =====================================================
format             ≥ 22.05 kHz / ≥ 16 kHz / below   notes (Piper trains at 16/22.05 kHz; GPT-SoVITS at 32k)
duration (take)    2–12 s / 1–20 s / outside        notes (LJSpeech 1–10 s; GPT-SoVITS reference 3–10 s)
session total      ≥ 60 s / ≥ 20 s / below          GPT-SoVITS README: "1 minute of training data"
edges              50 ms–2 s of silence each side   < 50 ms risks a clipped word; > 2 s is trimmed anyway
speech ratio       ≥ 25 % / ≥ 10 % / below          our choice: a take that is mostly silence
peak               ≤ −1 dBFS / above (warn only)    notes (ACX asks ≤ −3 dB; −1 dB leaves inter-sample room)
clipping           0 runs / 1–4 runs / ≥ 5 or 0.1 % runs of ≥ 3 samples at |x| ≥ 0.999 (Audacity default)
rms (speech)       −30…−10 / −45…−30 or > −10 / < −45  notes (ACX −23…−18 dB RMS; "< −30 too quiet")
loudness           ≥ −40 LUFS / below (warn only)   ITU-R BS.1770-4 via pyloudnorm; shown to compare takes
noise floor        ≤ −50 / ≤ −35 / above dBFS       notes (ACX ≤ −60; warn > −50); fail is ours
snr                ≥ 30 / ≥ 15 / below dB           notes (warn < 30); fail < 15 because 10 dB speech
                                                    stays audibly damaged after noise reduction
dc offset          |mean| ≤ 0.005 / above (warn)    notes (about −46 dBFS); removed when cleaning
bandwidth          ≥ 10 kHz / ≥ 6 kHz / below       notes (cliff ≥ 20 dB over 1 kHz); 8 kHz phone audio
                                                    ends at ~3.4–4 kHz (fail), Bluetooth HFP/16 kHz
                                                    audio at ~7–8 kHz (warn); 22.05 kHz sources end near
                                                    10.6 kHz (measured) and pass
mains hum          < 12 dB / ≥ 12 dB (warn only)    peak over neighbouring bins; measured on test
                                                    speech: clean 2–5 dB, −60 dBFS hum 26–27 dB
overflows          0 / – / ≥ 1                      notes: any dropped input block → re-record
bad samples        0 / NaN/inf or truncated (warn)  repaired as silence while reading
transcript         text / none (warn)               a take without text is left out of training
listening score    shown, never a verdict           DNSMOS P.835 (engine.audio.dnsmos): a network's guess
                                                    of a listening test, 1 bad … 5 excellent; ranks
                                                    reference takes (``rank_reference_takes``)
=================  ===============================  =====================================================

The SNR is a blind estimate (no clean reference): total power over noise power, the noise being
the 10th percentile of 50 ms frame powers, or the mean of the pause frames when a tightly cut take
has fewer pauses than that (``analysis.noise_floor_power``; also the "noise floor" figure). On
espeak-ng speech with white, pink and brown noise it read within 1.1 dB of the truth from 5 to
30 dB, and within 2.5 dB on takes cut to 0.2 s of silence at each edge; above 30 dB the figure is
shown as "> 30 dB".

The listening score is DNSMOS (ITU-T P.835 SIG/BAK/OVRL, from the ``speechmos`` wheel, run
with onnxruntime). Measured on espeak-ng speech (4 voices): OVRL 3.1–3.3 clean, 2.4–2.7 with
white noise at 20 dB SNR, 2.1–2.3 at 10 dB, 1.8–2.1 at 5 dB; it orders noise reliably. It hardly
sees clipping: +12 dB of hard clipping (1–3 % of samples) moved OVRL by −0.1 to +0.2, +30 dB
(26–34 %) lowered it by 0.4–0.6. So it is shown beside the rule-based checks, never instead
of them, and the rules' verdicts still lower a take's rank as a reference clip.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from engine.audio import analysis
from engine.audio.io import Audio, DecodeStatus, SourceInfo, iter_blocks, probe, read_audio, resample

if TYPE_CHECKING:
    from collections.abc import Sequence

    from engine.audio.dnsmos import Dnsmos
    from engine.session import Session

log = logging.getLogger(__name__)

Verdict = Literal["ok", "warn", "fail"]
_RANK: dict[str, int] = {"ok": 0, "warn": 1, "fail": 2}
GLYPH: dict[str, str] = {"ok": "✓", "warn": "!", "fail": "✗"}
"""Verdicts are always shown as text or glyph, never by colour alone."""

GOAL_SECONDS = 60.0
SNR_CAP_DB = 30.0
ANALYSIS_MAX_RATE = 48000
"""Files above 48 kHz are analysed at 48 kHz (nothing audible is lost; bandwidth is judged up to 24 kHz)."""


@dataclass(frozen=True)
class Check:
    """One figure of the report."""

    key: str
    label: str
    figure: str
    verdict: Verdict
    advice: str
    value: float | None = None

    @property
    def glyph(self) -> str:
        return GLYPH[self.verdict]


def worst(verdicts: list[str]) -> Verdict:
    """The most serious verdict in a list ('ok' for an empty list)."""
    return max(verdicts, key=lambda v: _RANK[v], default="ok")  # type: ignore[return-value]


@dataclass
class TakeReport:
    """Every check of one take."""

    path: str
    seconds: float
    source: str
    checks: list[Check] = field(default_factory=list)
    take_id: str | None = None
    dnsmos: dict[str, float] | None = None  # {"sig", "bak", "ovrl"} on the 1–5 scale, when measured

    @property
    def verdict(self) -> Verdict:
        return worst([c.verdict for c in self.checks])

    @property
    def problems(self) -> list[Check]:
        """Checks that are not ok, failures first."""
        bad = [c for c in self.checks if c.verdict != "ok"]
        return sorted(bad, key=lambda c: -_RANK[c.verdict])

    def get(self, key: str) -> Check | None:
        """The check named ``key``, or None if it was not measured."""
        return next((c for c in self.checks if c.key == key), None)

    def flagged(self) -> set[str]:
        """Keys of the checks that are not ok."""
        return {c.key for c in self.checks if c.verdict != "ok"}

    @property
    def snr_db(self) -> float | None:
        check = self.get("snr")
        return check.value if check else None

    def summary(self) -> str:
        """One line: verdict glyph and the worst problem, or 'ok'."""
        probs = self.problems
        if not probs:
            return f"{GLYPH['ok']} ok"
        return f"{GLYPH[self.verdict]} {probs[0].label.lower()}: {probs[0].figure}"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (stored in session.json under the take's ``quality``)."""
        out = asdict(self)
        out["verdict"] = self.verdict
        for c in out["checks"]:
            if c["value"] is not None and not math.isfinite(c["value"]):
                c["value"] = None
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TakeReport:
        """Rebuild a report stored by to_dict()."""
        checks = [Check(**{k: c.get(k) for k in Check.__dataclass_fields__}) for c in data.get("checks", [])]
        return cls(
            data.get("path", ""),
            float(data.get("seconds", 0.0)),
            data.get("source", ""),
            checks,
            data.get("take_id"),
            data.get("dnsmos"),
        )


LABELS: dict[str, str] = {
    "format": "Format",
    "duration": "Duration",
    "speech": "Speech",
    "edges": "Silence at edges",
    "peak": "Peak",
    "clipping": "Clipping",
    "rms": "Speech level",
    "loudness": "Loudness",
    "noise_floor": "Noise floor",
    "snr": "Signal to noise",
    "bandwidth": "Bandwidth",
    "hum": "Mains hum",
    "dc_offset": "DC offset",
    "overflows": "Dropped audio",
    "samples": "Damaged samples",
    "transcript": "Transcript",
    "total": "Usable speech",
    "transcripts": "Transcripts",
    "room_tone": "Room tone",
    "dnsmos": "Listening score",
}
"""The label shown for each check key."""


def _check(key: str, figure: str, verdict: Verdict, advice: str, value: float | None) -> Check:
    return Check(key, LABELS[key], figure, verdict, advice, value)


def _db(v: float) -> str:
    return f"{v:.1f} dBFS" if v > analysis.FLOOR_DB else "silent"


def _format_check(info: SourceInfo | None, rate: int) -> Check:
    sr = info.samplerate if info else rate
    figure = info.describe() if info else f"{rate} Hz"
    if info and info.channels > 1:
        figure += " (mixed to mono)"
    if sr < 16000:
        advice = "Recorded at under 16 kHz: too dull for a voice model; record at 44.1 or 48 kHz."
        return _check("format", figure, "fail", advice, sr)
    if sr < 22050:
        return _check("format", figure, "warn", "Low sample rate; 44.1 or 48 kHz gives a clearer voice.", sr)
    return _check("format", figure, "ok", "Sample rate is fine.", sr)


def _duration_check(seconds: float) -> Check:
    fig = f"{seconds:.1f} s"
    if seconds < 1.0 or seconds > 20.0:
        advice = "Takes should last 2–12 s; " + ("say a full sentence." if seconds < 1 else "split it.")
        return _check("duration", fig, "fail", advice, seconds)
    if seconds < 2.0 or seconds > 12.0:
        advice = "Best between 2 and 12 s; " + (
            "a longer sentence helps." if seconds < 2 else "shorter takes train better."
        )
        return _check("duration", fig, "warn", advice, seconds)
    return _check("duration", fig, "ok", "Good length.", seconds)


def _has_speech(vad: analysis.Vad) -> bool:
    """At least 0.2 s of speech frames: anything less is a click or a breath."""
    return int(vad.speech.sum()) * vad.frame_s >= 0.2


def has_speech(samples: np.ndarray, samplerate: int) -> bool:
    """True when the quality checks' speech detection finds speech (what `check` calls "none found").

    White noise and steady tones (a square wave, a hum) have no level changes, so no speech.
    """
    x = np.asarray(samples, dtype=np.float32).reshape(-1)
    if x.size == 0:
        return False
    centred = (x - float(np.mean(x, dtype=np.float64))).astype(np.float32)
    return _has_speech(analysis.energy_vad(centred, int(samplerate)))


def _speech_checks(vad: analysis.Vad) -> list[Check]:
    """How much of the take is speech, and the silence left before and after it."""
    ratio = vad.ratio
    fig = f"{ratio:.0%} of the take"
    if not _has_speech(vad):
        return [
            _check(
                "speech",
                "none found",
                "fail",
                "No speech found: check the microphone is on and not muted.",
                0.0,
            )
        ]
    if ratio < 0.10:
        out = [_check("speech", fig, "fail", "Almost all silence; re-record.", ratio)]
    elif ratio < 0.25:
        out = [
            _check(
                "speech", fig, "warn", "Mostly silence; speak soon after starting and stop when done.", ratio
            )
        ]
    else:
        out = [_check("speech", fig, "ok", "Plenty of speech.", ratio)]
    lead, trail = vad.edges()
    fig = f"{lead:.2f} s before, {trail:.2f} s after"
    if min(lead, trail) < 0.05:
        where = "start" if lead < 0.05 else "end"
        advice = f"Speech touches the {where}: leave a short pause so no word is cut."
        out.append(_check("edges", fig, "warn", advice, min(lead, trail)))
    elif max(lead, trail) > 2.0:
        advice = "Long silence at an edge; it is trimmed when preparing."
        out.append(_check("edges", fig, "warn", advice, max(lead, trail)))
    else:
        out.append(_check("edges", fig, "ok", "Clean start and end.", max(lead, trail)))
    return out


def _level_checks(x: np.ndarray) -> list[Check]:
    """Peak and clipping (of the raw samples, offset included)."""
    peak = float(np.max(np.abs(x))) if x.size else 0.0
    return _level_checks_of(peak, analysis.clipping(x))


def _level_checks_of(peak: float, clip: analysis.Clipping) -> list[Check]:
    """Peak and clipping checks from the measured peak and clip runs."""
    peak_db = analysis.db_amp(peak)
    if peak_db > -1.0:
        advice = "Peaks very close to full scale; lower the gain a little."
        out = [_check("peak", _db(peak_db), "warn", advice, peak_db)]
    else:
        out = [_check("peak", _db(peak_db), "ok", "Peak level is safe.", peak_db)]
    fig = f"{clip.runs} runs, {clip.percent:.2f} %"
    if clip.runs and clip.level < 0.999:
        fig += f" at {analysis.db_amp(clip.level):.0f} dBFS"
    if clip.runs >= 5 or clip.percent >= 0.1:
        advice = "Distorted by clipping: re-record with lower input gain."
        out.append(_check("clipping", fig, "fail", advice, float(clip.runs)))
    elif clip.runs:
        advice = "A few clipped peaks; lower the input gain slightly."
        out.append(_check("clipping", fig, "warn", advice, float(clip.runs)))
    else:
        out.append(_check("clipping", "none", "ok", "No clipping.", 0.0))
    return out


def _voice_checks(centred: np.ndarray, sr: int, vad: analysis.Vad) -> list[Check]:
    """Speech level, loudness, noise floor, SNR, bandwidth and hum (takes with speech only)."""
    out: list[Check] = []
    rms = float(analysis.db_power(float(np.mean(vad.power[: vad.speech.size][vad.speech]))))
    if rms < -45:
        out.append(
            _check("rms", _db(rms), "fail", "Far too quiet: move closer or raise the gain a lot.", rms)
        )
    elif rms < -30:
        out.append(_check("rms", _db(rms), "warn", "Too quiet: move closer or raise the gain.", rms))
    elif rms > -10:
        out.append(_check("rms", _db(rms), "warn", "Very loud: lower the gain to avoid clipping.", rms))
    else:
        out.append(_check("rms", _db(rms), "ok", "Good speaking level.", rms))

    lufs = analysis.loudness_lufs(centred, sr)
    if lufs is not None:
        fig = f"{lufs:.1f} LUFS"
        if lufs < -40:
            out.append(_check("loudness", fig, "warn", "Very quiet overall.", lufs))
        else:
            out.append(
                _check("loudness", fig, "ok", "Shown to compare takes; cleaning evens out the level.", lufs)
            )

    noise = analysis.noise_floor_power(centred, sr)
    floor = float(analysis.db_power(noise))
    if floor > -35:
        advice = "Loud background noise: find a quieter room or turn off fans."
        out.append(_check("noise_floor", _db(floor), "fail", advice, floor))
    elif floor > -50:
        advice = "Audible background noise; a quieter room helps."
        out.append(_check("noise_floor", _db(floor), "warn", advice, floor))
    else:
        out.append(_check("noise_floor", _db(floor), "ok", "Quiet background.", floor))

    snr = analysis.snr_db(centred, sr, noise=noise)
    fig = f"> {SNR_CAP_DB:.0f} dB" if snr > SNR_CAP_DB else f"{snr:.1f} dB"
    value = min(snr, 99.0)
    if snr < 15:
        advice = "Too much noise behind the voice: re-record somewhere quieter, closer to the mic."
        out.append(_check("snr", fig, "fail", advice, value))
    elif snr < SNR_CAP_DB:
        advice = "Some noise; it will be reduced, but quieter is better."
        out.append(_check("snr", fig, "warn", advice, value))
    else:
        out.append(_check("snr", fig, "ok", "Clean signal.", value))

    bw, _depth = analysis.bandwidth_hz(centred, sr)
    fig = f"up to {bw / 1000:.1f} kHz"
    if bw < 6000:
        advice = "Telephone-quality sound: use a wired or USB mic, not a phone call or Bluetooth."
        out.append(_check("bandwidth", fig, "fail", advice, bw))
    elif bw < 10000:
        advice = "Muffled (Bluetooth headset or 16 kHz?): a wired or USB mic sounds clearer."
        out.append(_check("bandwidth", fig, "warn", advice, bw))
    else:
        out.append(_check("bandwidth", fig, "ok", "Full enough frequency range.", bw))

    hum = analysis.mains_hum(centred, sr, vad)
    if hum is None:
        out.append(_check("hum", "not measured", "ok", "No pause long enough to listen for hum.", None))
    elif hum.prominence_db >= 12:
        advice = "Electrical hum: unplug chargers, use another USB port or move away from power cables."
        out.append(
            _check(
                "hum", f"{hum.frequency} Hz, +{hum.prominence_db:.0f} dB", "warn", advice, hum.prominence_db
            )
        )
    else:
        out.append(_check("hum", "none", "ok", "No mains hum.", hum.prominence_db))
    return out


ACR_WORDS = {1: "bad", 2: "poor", 3: "fair", 4: "good", 5: "excellent"}
"""The words of the listening-test scale (ITU-T P.800 ACR, which P.835 uses) for each whole score."""


def listening_words(ovrl: float) -> str:
    """The scale's word nearest to an overall score: 3.3 is 'fair', 3.6 'good'."""
    return ACR_WORDS[int(min(5, max(1, round(ovrl))))]


def dnsmos_check(scores: Dnsmos | None) -> Check:
    """The listening score as a check: always 'ok' (an estimate beside the rules), explained in words."""
    if scores is None:
        advice = "Not measured: the DNSMOS model (speechmos, onnxruntime) is not installed."
        return _check("dnsmos", "not measured", "ok", advice, None)
    figure = f"{scores.ovrl:.1f} of 5 ({listening_words(scores.ovrl)})"
    advice = (
        f"How a listening panel would likely rate it, 1 bad to 5 excellent (DNSMOS): voice "
        f"{scores.sig:.1f}, background {scores.bak:.1f} (5 = no noise heard)."
    )
    if scores.bak < 3.0 and scores.bak <= scores.sig:
        advice += " Background noise is what lowers it most."
    elif scores.sig < 3.0:
        advice += " The voice itself sounds distorted or thin."
    return _check("dnsmos", figure, "ok", advice, scores.ovrl)


def _learned_scores(x: np.ndarray, sr: int) -> Dnsmos | None:
    """DNSMOS of the take, or None when the model is missing or fails (the rules still stand)."""
    from engine.audio import dnsmos

    try:
        return dnsmos.score(x, sr)
    except dnsmos.QualityModelMissing:
        return None
    except Exception as exc:  # noqa: BLE001 - an estimate must never break the report
        log.warning("DNSMOS failed: %s", exc)
        return None


def _input_checks(dc: float, overflow_count: int, bad_samples: int, truncated: bool) -> list[Check]:
    """DC offset, dropped audio and damaged samples."""
    if abs(dc) > 0.005:
        advice = "The signal is off-centre (a cheap interface?); it is removed when cleaning."
        out = [_check("dc_offset", f"{dc:+.4f}", "warn", advice, dc)]
    else:
        out = [_check("dc_offset", f"{dc:+.4f}", "ok", "Centred.", dc)]
    if overflow_count:
        advice = "Audio was dropped while recording: close busy programs and re-record."
        out.append(_check("overflows", f"{overflow_count} overflows", "fail", advice, float(overflow_count)))
    else:
        out.append(_check("overflows", "none", "ok", "Nothing dropped.", 0.0))
    if bad_samples or truncated:
        parts = ([f"{bad_samples} NaN/inf samples"] if bad_samples else []) + (
            ["file ends early"] if truncated else []
        )
        advice = "Damaged parts were replaced by silence; listen before using it."
        out.append(_check("samples", ", ".join(parts), "warn", advice, float(bad_samples)))
    return out


def _transcript_check(transcript: str) -> Check:
    if transcript.strip():
        return _check("transcript", f"{len(transcript.strip())} characters", "ok", "Has text.", None)
    advice = "No transcript: type what is said, or it is left out of training."
    return _check("transcript", "missing", "warn", advice, None)


def analyse_samples(
    samples: np.ndarray,
    samplerate: int,
    *,
    info: SourceInfo | None = None,
    path: str = "",
    overflow_count: int = 0,
    bad_samples: int = 0,
    truncated: bool = False,
    transcript: str | None = None,
    take_id: str | None = None,
    learned: bool = True,
) -> TakeReport:
    """Run every check on mono float samples; ``transcript`` None means "not part of a session".

    ``learned`` adds the DNSMOS listening score (about 0.1–0.3 s of CPU per window of a take).
    """
    x = np.asarray(samples, dtype=np.float32).reshape(-1)
    sr = int(samplerate)
    if sr > ANALYSIS_MAX_RATE:
        x, sr = resample(x, sr, ANALYSIS_MAX_RATE), ANALYSIS_MAX_RATE
    seconds = len(x) / sr if sr else 0.0
    report = TakeReport(path, seconds, info.describe() if info else f"{samplerate} Hz", [], take_id)
    checks = report.checks
    checks += [_format_check(info, int(samplerate)), _duration_check(seconds)]
    dc = float(np.mean(x, dtype=np.float64)) if x.size else 0.0
    centred = (x - dc).astype(np.float32)
    vad = analysis.energy_vad(centred, sr)
    checks += _speech_checks(vad)
    checks += _level_checks(x)
    if _has_speech(vad):
        checks += _voice_checks(centred, sr, vad)
        if learned:
            scores = _learned_scores(x, sr)  # the take as it is, as the reference scorer hears it
            checks.append(dnsmos_check(scores))
            report.dnsmos = scores.to_dict() if scores else None
    checks += _input_checks(dc, overflow_count, bad_samples, truncated)
    if transcript is not None:
        checks.append(_transcript_check(transcript))
    return report


def analyse_file(
    path: Path | str,
    *,
    overflow_count: int = 0,
    transcript: str | None = None,
    take_id: str | None = None,
    learned: bool = True,
) -> TakeReport:
    """Read any supported file and return its report (raises UnreadableAudio for files it cannot read).

    The length is checked first: a file over ``LONG_FILE_S`` is analysed block by block
    (``analyse_long_file``), so memory stays bounded whatever its length.
    """
    info = probe(path)
    if info.seconds > LONG_FILE_S:
        return analyse_long_file(
            path, info=info, overflow_count=overflow_count, transcript=transcript, take_id=take_id,
            learned=learned,
        )  # fmt: skip
    audio = read_audio(path)
    return analyse_audio(
        audio, overflow_count=overflow_count, transcript=transcript, take_id=take_id, learned=learned
    )


LONG_FILE_S = 300.0
"""Files longer than this (5 min) are analysed in blocks instead of being read whole."""
EXCERPT_S = 30.0
"""A long file's noise, SNR, bandwidth, hum, loudness and listening score are measured on this much of it."""


def _busiest_window(vad: analysis.Vad, seconds: float) -> float:
    """Start (s) of the ``seconds``-long stretch holding the most speech frames."""
    width = max(1, int(round(seconds / vad.frame_s)))
    if vad.speech.size <= width:
        return 0.0
    counts = np.concatenate(([0], np.cumsum(vad.speech, dtype=np.int64)))
    per_window = counts[width:] - counts[:-width]
    return float(int(np.argmax(per_window)) * vad.frame_s)


def analyse_long_file(
    path: Path | str,
    *,
    info: SourceInfo | None = None,
    overflow_count: int = 0,
    transcript: str | None = None,
    take_id: str | None = None,
    learned: bool = True,
) -> TakeReport:
    """The report of a long file in bounded memory: one pass in 10 s blocks, then a short excerpt.

    The pass gathers what the whole file decides (length, speech and edges from 20 ms frame powers,
    peak, clip runs, DC offset, damaged samples); noise, SNR, bandwidth, hum, loudness and the
    listening score are measured on the ``EXCERPT_S`` seconds holding the most speech. A block's own
    mean is removed before its frame powers, as the whole-file check removes the file's mean.
    """
    info = info or probe(path)
    sr = info.samplerate
    powers = analysis.FramePowers(sr)
    status = DecodeStatus()
    total = peak = 0.0
    n = bad = runs = clipped = 0
    for block, nbad in iter_blocks(path, status=status, info=info):
        bad += nbad
        n += block.size
        mean = float(np.mean(block, dtype=np.float64))
        total += mean * block.size
        peak = max(peak, float(np.max(np.abs(block))))
        r, c = analysis._runs_at(np.abs(block) >= 0.999, 3)
        runs, clipped = runs + r, clipped + c
        powers.add((block - mean).astype(np.float32))
    if n == 0:
        from engine.audio.io import UnreadableAudio, shown

        hint = "Choose a file that contains sound."
        raise UnreadableAudio(f"{shown(info.path)} holds no audio samples.", hint)
    dc = total / n
    seconds = n / sr
    vad = analysis.vad_from_power(powers.power())
    report = TakeReport(str(info.path), seconds, info.describe(), [], take_id)
    checks = report.checks
    checks += [_format_check(info, sr), _duration_check(seconds)]
    checks += _speech_checks(vad)
    clip = analysis.Clipping(runs, clipped, 100.0 * clipped / n, 1.0 if runs else 0.0)
    checks += _level_checks_of(peak, clip)
    if _has_speech(vad):
        start = _busiest_window(vad, EXCERPT_S)
        parts = [b for b, _ in iter_blocks(path, info=info, start_seconds=start, max_seconds=EXCERPT_S)]
        x = np.concatenate(parts) if parts else np.zeros(0, np.float32)
        xr = sr
        if xr > ANALYSIS_MAX_RATE:
            x, xr = resample(x, xr, ANALYSIS_MAX_RATE), ANALYSIS_MAX_RATE
        centred = (x - dc).astype(np.float32)
        excerpt_vad = analysis.energy_vad(centred, xr)
        if _has_speech(excerpt_vad):
            checks += _voice_checks(centred, xr, excerpt_vad)
            if learned:
                scores = _learned_scores(x, xr)
                checks.append(dnsmos_check(scores))
                report.dnsmos = scores.to_dict() if scores else None
    truncated = info.ends_early(n) or status.stopped_early
    checks += _input_checks(dc, overflow_count, bad, truncated)
    if transcript is not None:
        checks.append(_transcript_check(transcript))
    return report


def analyse_audio(
    audio: Audio,
    *,
    overflow_count: int = 0,
    transcript: str | None = None,
    take_id: str | None = None,
    learned: bool = True,
) -> TakeReport:
    """The report of audio already read (at its own rate) with ``read_audio``."""
    return analyse_samples(
        audio.samples,
        audio.samplerate,
        info=audio.info,
        path=str(audio.info.path),
        overflow_count=overflow_count,
        bad_samples=audio.bad_samples,
        truncated=audio.truncated,
        transcript=transcript,
        take_id=take_id,
        learned=learned,
    )


# ------------------------------------------------------------------------------------- reference takes

SOUND_KEYS = frozenset(
    {"clipping", "peak", "rms", "noise_floor", "snr", "bandwidth", "hum", "overflows", "samples"}
)
"""Rule checks about how a take sounds (not its length, edges or text): they lower a reference's rank."""
FAIL_PENALTY = 1.0
WARN_PENALTY = 0.25
UNSCORED_OVRL = 2.5
"""The overall score assumed for a take that DNSMOS could not score (model missing)."""


@dataclass(frozen=True)
class ReferenceRank:
    """One candidate reference clip: its rank score (higher is better) and why."""

    path: Path
    score: float
    ovrl: float | None
    verdict: Verdict
    reason: str


def _rank_one(path: Path, report: TakeReport | None) -> ReferenceRank:
    if report is None:
        try:
            report = analyse_file(path)
        except Exception as exc:  # noqa: BLE001 - an unreadable candidate goes last, the rest still rank
            return ReferenceRank(path, -math.inf, None, "fail", f"unreadable: {exc}")
    ovrl = report.dnsmos.get("ovrl") if report.dnsmos else None
    fails = [c.label.lower() for c in report.checks if c.key in SOUND_KEYS and c.verdict == "fail"]
    warns = [c.label.lower() for c in report.checks if c.key in SOUND_KEYS and c.verdict == "warn"]
    base = float(ovrl) if ovrl is not None else UNSCORED_OVRL
    score = base - FAIL_PENALTY * len(fails) - WARN_PENALTY * len(warns)
    why = f"listening score {ovrl:.2f}" if ovrl is not None else "no listening score"
    if fails or warns:
        why += "; " + ", ".join([f"{k} fails" for k in fails] + [f"{k} warns" for k in warns])
    return ReferenceRank(path, score, ovrl, report.verdict, why)


def rank_reference_takes(
    paths: Sequence[Path | str], *, reports: Sequence[TakeReport | None] | None = None
) -> list[ReferenceRank]:
    """Candidate reference clips best first: DNSMOS overall score, minus 1 per failed and 0.25 per
    warned sound check (clipping, levels, noise, bandwidth, hum, dropped or damaged audio).

    ``reports`` (same order as ``paths``) reuses reports already made, which must include the
    listening score (``analyse_file(..., learned=True)``); without them each file is analysed
    (about a second each). Ties keep the order given. Unreadable files come last.
    """
    given = list(reports) if reports is not None else [None] * len(paths)
    if len(given) != len(paths):
        raise ValueError("reports must match paths one for one")
    ranked = [_rank_one(Path(p), r) for p, r in zip(paths, given, strict=True)]
    order = sorted(range(len(ranked)), key=lambda i: (-ranked[i].score, i))
    return [ranked[i] for i in order]


def rank_references(paths: Sequence[Path | str]) -> list[Path]:
    """The paths of ``rank_reference_takes(paths)``, best first (what engine.voice asks for)."""
    return [r.path for r in rank_reference_takes(paths)]


# ----------------------------------------------------------------------------------------------- sessions

USABLE_STATUSES = ("recorded", "accepted")


@dataclass
class Problem:
    """A problem summed over a session: which check, how bad, which takes."""

    key: str
    label: str
    verdict: Verdict
    take_ids: list[str]
    advice: str

    def line(self) -> str:
        ids = ", ".join(self.take_ids[:6]) + (" …" if len(self.take_ids) > 6 else "")
        n = len(self.take_ids)
        return f"{GLYPH[self.verdict]} {self.label}: {n} take{'s' if n != 1 else ''} ({ids}). {self.advice}"


@dataclass
class SessionReport:
    """Every take's report plus the session's totals and its worst problems first."""

    session_id: str
    takes: list[TakeReport]
    usable_seconds: float
    recorded_seconds: float
    checks: list[Check] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    @property
    def verdict(self) -> Verdict:
        return worst([c.verdict for c in self.checks])


def session_checks(usable_seconds: float, n_missing_text: int, has_room_tone: bool) -> list[Check]:
    """Session-level checks: total usable speech against the 60 s goal, transcripts, room tone."""
    out: list[Check] = []
    fig = f"{usable_seconds:.0f} s of {GOAL_SECONDS:.0f} s"
    if usable_seconds >= GOAL_SECONDS:
        out.append(_check("total", fig, "ok", "Enough speech to train a voice.", usable_seconds))
    elif usable_seconds >= 20:
        advice = f"Record about {GOAL_SECONDS - usable_seconds:.0f} s more for the best result."
        out.append(_check("total", fig, "warn", advice, usable_seconds))
    else:
        advice = "Too little usable speech to train; record more."
        out.append(_check("total", fig, "fail", advice, usable_seconds))
    if n_missing_text:
        advice = "Takes without text are left out of training; type them in Review."
        out.append(_check("transcripts", f"{n_missing_text} missing", "warn", advice, float(n_missing_text)))
    if not has_room_tone:
        advice = "No room tone (the silence recorded first): noise reduction has to guess the noise."
        out.append(_check("room_tone", "none", "warn", advice, None))
    return out


def summarise(
    session_id: str, reports: list[tuple[str, str, float, TakeReport | None]], has_room_tone: bool
) -> SessionReport:
    """Build a SessionReport from (take id, text, seconds, report) rows of the usable-status takes."""
    takes = [r for *_, r in reports if r is not None]
    usable = 0.0
    missing = 0
    recorded = 0.0
    by_key: dict[str, Problem] = {}
    for take_id, text, seconds, rep in reports:
        recorded += seconds
        if not text.strip():
            missing += 1
        if rep is None:
            continue
        if rep.verdict != "fail" and text.strip():
            usable += rep.seconds
        for c in rep.problems:
            if c.key == "transcript":
                continue
            p = by_key.get(c.key)
            if p is None:
                by_key[c.key] = Problem(c.key, c.label, c.verdict, [take_id], c.advice)
            else:
                p.take_ids.append(take_id)
                if _RANK[c.verdict] > _RANK[p.verdict]:
                    p.verdict, p.advice = c.verdict, c.advice
    problems = sorted(by_key.values(), key=lambda p: (-_RANK[p.verdict], -len(p.take_ids), p.key))
    return SessionReport(
        session_id, takes, usable, recorded, session_checks(usable, missing, has_room_tone), problems
    )


def check_session(
    session: Session,
    *,
    save: bool = True,
    progress: Callable[[int, int], None] | None = None,
    only_new: bool = False,
) -> SessionReport:
    """Analyse every recorded/accepted take of a session, store each report on its take, and summarise.

    ``only_new`` keeps the reports takes already carry (an import checks just the takes it added):
    a stored report stays valid because re-recording or recovering a take clears it; only its
    transcript line is brought up to date.
    """
    rows: list[tuple[str, str, float, TakeReport | None]] = []
    candidates = [i for i, t in enumerate(session.takes) if t.status in USABLE_STATUSES]
    for n, index in enumerate(candidates):
        take = session.takes[index]
        path = session.take_path(index)
        rep: TakeReport | None = None
        if only_new and take.quality is not None and path.is_file():
            rep = TakeReport.from_dict(take.quality)
            rep.checks = [_transcript_check(take.text) if c.key == "transcript" else c for c in rep.checks]
            take.quality = rep.to_dict()
        elif path.is_file():
            try:
                rep = analyse_file(
                    path, overflow_count=take.overflow_count, transcript=take.text, take_id=take.id
                )
            except Exception as exc:  # one unreadable take must not hide the others
                log.warning("could not analyse %s: %s", path, exc)
            if rep is not None:
                take.quality = rep.to_dict()
        rows.append((take.id, take.text, take.seconds or (rep.seconds if rep else 0.0), rep))
        if progress:
            progress(n + 1, len(candidates))
    if save:
        session.save()
    return summarise(session.id, rows, session.room_tone_path().is_file())
