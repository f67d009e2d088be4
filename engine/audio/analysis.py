"""Signal measurements behind the quality report: frames, an energy VAD, noise, SNR, bandwidth, hum, clipping.

All functions take mono float32 samples in [-1, 1] and their sample rate, and return plain numbers.
They are written in-house with numpy/scipy (notes/tui-audio.md §5) and tested on generated signals.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

FRAME_S = 0.020
"""Analysis frame: 20 ms, non-overlapping (notes §5: 20–30 ms frames)."""
FLOOR_DB = -120.0
"""Level reported for digital silence instead of -inf."""


def db_power(power: float | np.ndarray) -> float | np.ndarray:
    """10·log10(power), floored at FLOOR_DB."""
    return np.maximum(10.0 * np.log10(np.maximum(power, 1e-30)), FLOOR_DB)


def db_amp(amplitude: float) -> float:
    """20·log10(amplitude), floored at FLOOR_DB."""
    return float(max(20.0 * np.log10(max(amplitude, 1e-30)), FLOOR_DB))


def frame_power(x: np.ndarray, sr: int, frame_s: float = FRAME_S) -> np.ndarray:
    """Mean square of each non-overlapping frame (the last partial frame is dropped)."""
    n = max(1, int(round(sr * frame_s)))
    count = len(x) // n
    if count == 0:
        return np.array([float(np.mean(np.square(x, dtype=np.float64)))]) if len(x) else np.zeros(0)
    frames = x[: count * n].reshape(count, n).astype(np.float64)
    return np.einsum("ij,ij->i", frames, frames) / n


@dataclass(frozen=True)
class Vad:
    """Speech/non-speech decision per frame and the levels that set the threshold."""

    speech: np.ndarray  # bool per frame
    threshold_db: float
    noise_db: float
    speech_db: float
    frame_s: float
    power: np.ndarray  # mean square per frame (frame_power), for the checks that need it again

    @property
    def ratio(self) -> float:
        return float(self.speech.mean()) if self.speech.size else 0.0

    def edges(self) -> tuple[float, float]:
        """Seconds of silence before the first and after the last speech frame."""
        idx = np.flatnonzero(self.speech)
        if idx.size == 0:
            total = self.speech.size * self.frame_s
            return total, total
        return idx[0] * self.frame_s, (self.speech.size - 1 - idx[-1]) * self.frame_s


def noise_power(power: np.ndarray, quantile: float = 0.10) -> float:
    """Noise power: mean of the quietest 10 % of frames (at least one frame).

    The quietest frames of a take are its pauses; for Gaussian noise in 20 ms frames the bias of
    picking the low tail is under 0.5 dB, well inside the ±3 dB the SNR test allows.
    """
    if power.size == 0:
        return 0.0
    k = max(1, int(power.size * quantile))
    return float(np.mean(np.partition(power, k - 1)[:k]))


def speech_threshold_db(power: np.ndarray, level_db: np.ndarray | None = None) -> tuple[float, float, float]:
    """(threshold, noise, speech level) in dB for frame powers: see ``energy_vad`` (the slicer uses it)."""
    level = db_power(power) if level_db is None else level_db
    noise_db = float(db_power(noise_power(power)))
    speech_db = float(np.percentile(level, 95))
    return max(noise_db + max(5.0, 0.3 * (speech_db - noise_db)), -60.0), noise_db, speech_db


def energy_vad(x: np.ndarray, sr: int, frame_s: float = FRAME_S) -> Vad:
    """Energy VAD with a threshold set between the noise floor and the speech level.

    The threshold sits 30 % of the way (in dB) from the noise floor (quietest 10 % of frames) to
    the speech level (95th percentile), and at least 5 dB above the floor and never below -60 dBFS,
    so digital silence and faint dither count as silence. Isolated one-frame decisions are smoothed.
    """
    return vad_from_power(frame_power(x, sr, frame_s), frame_s)


def vad_from_power(power: np.ndarray, frame_s: float = FRAME_S) -> Vad:
    """``energy_vad`` on frame powers already measured (a long file's, gathered block by block)."""
    if power.size == 0:
        return Vad(np.zeros(0, bool), FLOOR_DB, FLOOR_DB, FLOOR_DB, frame_s, power)
    level = db_power(power)
    threshold, noise_db, speech_db = speech_threshold_db(power, level)
    speech = level > threshold
    if speech.size >= 3:  # fill one-frame gaps inside speech, drop one-frame blips
        gaps = ~speech[1:-1] & speech[:-2] & speech[2:]
        speech[1:-1] |= gaps
        blips = speech[1:-1] & ~speech[:-2] & ~speech[2:]
        speech[1:-1] &= ~blips
    return Vad(speech, float(threshold), noise_db, speech_db, frame_s, power)


class FramePowers:
    """Frame powers (mean square per non-overlapping frame) gathered from blocks of any length."""

    def __init__(self, sr: int, frame_s: float = FRAME_S) -> None:
        self.n = max(1, int(round(sr * frame_s)))
        self._rest = np.zeros(0, np.float32)
        self._parts: list[np.ndarray] = []

    def add(self, block: np.ndarray) -> None:
        """Append the next samples (a frame split between two blocks is joined)."""
        data = np.concatenate((self._rest, block)) if self._rest.size else block
        count = data.size // self.n
        if count:
            frames = data[: count * self.n].reshape(count, self.n).astype(np.float64)
            self._parts.append(np.einsum("ij,ij->i", frames, frames) / self.n)
        self._rest = data[count * self.n :].copy()

    def power(self) -> np.ndarray:
        """The powers of the whole frames seen so far (as ``frame_power`` drops a last partial frame)."""
        if not self._parts and self._rest.size:
            return np.array([float(np.mean(np.square(self._rest, dtype=np.float64)))])
        return np.concatenate(self._parts) if self._parts else np.zeros(0)


NOISE_FRAME_S = 0.050
"""Frames for the noise estimate: 50 ms, long enough that coloured noise (pink, brown) varies little."""
PAUSE_SPAN = 10.0 ** (6.0 / 10.0)
"""Frames within 6 dB of the quietest ones count as pause frames for the noise estimate."""


def noise_floor_power(x: np.ndarray, sr: int) -> float:
    """Noise power from the quieter pauses: the 10th percentile of 50 ms frame powers, or less.

    Measured on espeak-ng speech with white, pink and brown noise at 5–30 dB SNR: the SNR built on
    the 10th percentile reads within 1.1 dB of the truth (the mean of the quietest 10 % of 20 ms
    frames read up to 3.8 dB high on brown noise). A take cut tightly around its speech (an imported
    one keeps 0.1–0.3 s of silence at each edge) has fewer than 10 % pause frames, and the 10th
    percentile then lands in speech: clean speech read 18–29 dB. So the mean of the frames within
    6 dB of the 2nd percentile (the pauses that are there) is used when it is lower; with that, the
    same takes read above 60 dB, and speech cut to 0.2 s edges with 5–30 dB of noise within 2.5 dB.
    """
    power = frame_power(x, sr, NOISE_FRAME_S)
    if power.size == 0:
        return 0.0
    tenth = float(np.percentile(power, 10))
    pauses = power[power <= np.percentile(power, 2) * PAUSE_SPAN]
    return min(tenth, float(np.mean(pauses)))


def snr_db(x: np.ndarray, sr: int, *, noise: float | None = None) -> float:
    """Blind SNR: (total power − noise power) / noise power, with the noise from the quieter pauses.

    This matches how the SNR of a recording is usually defined (signal power over the whole clip
    against noise power). It is accurate where the take has pauses (≥ 10 % of its length); it
    reads low when there are none, and cannot tell noise from speech that never pauses.
    ``noise`` is ``noise_floor_power(x, sr)`` when the caller has it already.
    """
    if x.size == 0:
        return 0.0
    total = float(np.mean(np.square(x, dtype=np.float64)))
    noise = noise_floor_power(x, sr) if noise is None else noise
    if noise <= 1e-12:
        return float("inf") if total > 1e-10 else 0.0
    return float(10.0 * np.log10(max(total - noise, 1e-30) / noise))


@dataclass(frozen=True)
class Clipping:
    """Clip runs (≥ 3 consecutive samples at the rail) and the share of samples involved."""

    runs: int
    samples: int
    percent: float
    level: float  # the level the runs sit at (1.0 = full scale)


def _runs_at(mask: np.ndarray, min_run: int) -> tuple[int, int]:
    """Number of True runs of length ≥ min_run in mask, and the samples they cover."""
    if not mask.any():
        return 0, 0
    padded = np.concatenate(([False], mask, [False])).astype(np.int8)
    change = np.flatnonzero(np.diff(padded))
    lengths = change[1::2] - change[::2]
    long = lengths[lengths >= min_run]
    return int(long.size), int(long.sum())


def clipping(x: np.ndarray, *, rail: float = 0.999, min_run: int = 3) -> Clipping:
    """Runs of ≥ min_run samples at |x| ≥ rail, or plateaus at the file's own peak (clipped before a gain)."""
    if x.size == 0:
        return Clipping(0, 0, 0.0, 0.0)
    mag = np.abs(x)
    runs, count = _runs_at(mag >= rail, min_run)
    level = 1.0
    if runs == 0:
        peak = float(mag.max())
        if peak > 0.01:  # plateau: ≥ min_run identical samples at ± the file's peak
            at_peak = mag >= peak - 3.1e-5  # within one 16-bit step: dither blurs a plateau
            runs, count = _runs_at(at_peak, min_run)
            level = peak
    return Clipping(runs, count, 100.0 * count / x.size, level if runs else 0.0)


CLIFF_DB = 20.0
"""A cut-off starts with a drop of at least this much over CLIFF_SPAN_HZ (notes §5)."""
CLIFF_SPAN_HZ = 1000.0
EMPTY_DBFS = -80.0
"""Above a cut-off the spectrum holds no more than white noise at this level (16-bit dither: about −98)."""
BELOW_PEAK_DB = 67.0
"""...and stays this far below the loudest band of the voice (measured: dips ≤ 60 dB, cut-offs ≥ 75 dB),"""
BELOW_EDGE_DB = 50.0
"""...or this far below the level where the drop starts (dips ≤ 32 dB, telephone audio ≥ 68 dB)."""
RECOVERY_DB = 3.0
"""Past the drop the level never rises again by more than this (a dip in the voice comes back up)."""


def _cliffs(smooth: np.ndarray, first: int, span: int, last: int) -> list[tuple[int, float]]:
    """(bin where the drop starts, depth) of the deepest drop in each run of drops ≥ CLIFF_DB."""
    stop = last - span
    if stop <= first:
        return []
    drops = smooth[first:stop] - smooth[first + span : last]
    found: list[tuple[int, float]] = []
    i = 0
    while i < drops.size:
        if drops[i] < CLIFF_DB:
            i += 1
            continue
        j = i
        while j < drops.size and drops[j] >= CLIFF_DB:
            j += 1
        k = i + int(np.argmax(drops[i:j]))
        found.append((first + k, float(drops[k])))
        i = j
    return found


def bandwidth_hz(x: np.ndarray, sr: int) -> tuple[float, float]:
    """Effective bandwidth and the depth of the cut-off that ends it, in (Hz, dB).

    A cut-off is a drop of ≥ 20 dB over 1 kHz above 2 kHz (smoothed Welch log-PSD, notes §5)
    after which the energy *stays down*: everything above it is no more than faint noise (white
    noise at −80 dBFS or less) and lies ≥ 67 dB below the voice's loudest band or ≥ 50 dB below
    the level where the drop starts. A dip in the voice's own spectrum (a sentence without s or
    sh sounds drops 20–40 dB near 4 kHz, then rises again towards 6–7 kHz) is not a cut-off.
    Measured on espeak-ng speech (18 voices, 4 texts, 32 and 48 kHz): dips stayed ≤ 60 dB below
    the peak and ≤ 32 dB below the edge; the 11 kHz edge of 22.05 kHz audio and the 4 kHz edge of
    8 kHz audio lay ≥ 75 dB below the peak, and the 8 kHz edge ≥ 68 dB below its start. Without a
    cut-off the bandwidth is the file's Nyquist frequency. (A gentle 12 dB/octave low-pass such as
    sox's ``lowpass 3400`` alone is a tilt, not a cut-off: natural voices differ by as much.)
    """
    from scipy.signal import welch

    nyquist = sr / 2.0
    if x.size < 2048:
        return nyquist, 0.0
    if x.size > 15 * sr:  # 15 s from the middle is plenty, and keeps long files fast
        start = (x.size - 15 * sr) // 2
        x = x[start : start + 15 * sr]
    freqs, psd = welch(x, sr, nperseg=2048)
    level = 10.0 * np.log10(psd + 1e-20)
    step = freqs[1] - freqs[0]
    width = max(1, int(round(250.0 / step)))  # smooth over 250 Hz
    smooth = np.convolve(level, np.ones(width) / width, mode="same")
    span = max(1, int(round(CLIFF_SPAN_HZ / step)))
    first = int(np.searchsorted(freqs, 2000.0))
    last = len(freqs) - width // 2  # the smoothing is lopsided in the top bins
    peak = float(smooth[int(np.searchsorted(freqs, 100.0)) : first].max()) if first > 1 else smooth[0]
    empty = EMPTY_DBFS - 10.0 * np.log10(nyquist)  # white noise at EMPTY_DBFS, as a density
    deepest = 0.0
    for a, depth in _cliffs(smooth, first, span, last):
        deepest = max(deepest, depth)
        b, c = a + span, min(a + 2 * span, last - 1)
        rises = float(smooth[b:last].max()) > smooth[b] + RECOVERY_DB  # comes back up: a dip
        ceiling = float(smooth[c:last].max())  # a steep filter may still be falling just past the drop
        low = peak - ceiling >= BELOW_PEAK_DB or smooth[a] - ceiling >= BELOW_EDGE_DB
        if not rises and ceiling <= empty and low:
            # the edge's frequency: where the smoothed level is halfway (in dB) down the drop
            mid = (smooth[a] + smooth[a + span]) / 2.0
            j = a + int(np.argmax(smooth[a : a + span + 1] <= mid))
            return float(freqs[j]), depth
    return nyquist, deepest


@dataclass(frozen=True)
class Hum:
    """Mains hum: the stronger family (50 or 60 Hz) and its peak above the neighbouring bins in dB."""

    frequency: int
    prominence_db: float


def quiet_runs(speech: np.ndarray, min_frames: int = 5) -> list[tuple[int, int]]:
    """(first, end) frame indices of non-speech stretches at least min_frames long."""
    if speech.size == 0:
        return []
    padded = np.concatenate(([True], speech, [True])).astype(np.int8)
    change = np.flatnonzero(np.diff(padded))
    starts, ends = change[::2], change[1::2]
    return [(int(a), int(b)) for a, b in zip(starts, ends, strict=True) if b - a >= min_frames]


def mains_hum(x: np.ndarray, sr: int, vad: Vad | None = None) -> Hum | None:
    """Peak at 50/60 Hz and harmonics in the pauses, minus the median of nearby bins; None if no pauses.

    Only the quietest stretches count: 20 ms frames within 4 dB of the noise floor (so speech tails are
    left out). Each such pause of ≥ 200 ms (else ≥ 100 ms) gets a windowed periodogram on a
    1 Hz grid, so joins between pauses cannot smear the line; the spectra are averaged by length.
    A family's prominence is the mean over its three harmonics of the peak (±3 Hz) minus the median
    level 20–40 Hz away (Blackman window: low leakage, main lobe under 20 Hz for pauses ≥ 160 ms) (notes §5).
    ``vad`` is ``energy_vad(x, sr)`` when the caller has it already (its frame powers are reused).
    """
    n = int(round(sr * FRAME_S))
    power = vad.power if vad is not None and vad.frame_s == FRAME_S else frame_power(x, sr)
    if power.size < 10:
        return None
    level_db = db_power(power)
    loud = level_db > float(db_power(noise_power(power))) + 4.0
    runs = quiet_runs(loud, 10) or quiet_runs(loud, 5)
    if not runs:
        return None
    nfft = int(sr)  # 1 Hz bins
    total = np.zeros(nfft // 2 + 1)
    weight = 0.0
    for a, b in runs:
        for c in range(a, b, 50):  # at most 1 s per periodogram
            seg = x[c * n : min(b, c + 50) * n].astype(np.float64)
            if len(seg) < 5 * n:
                continue
            seg = (seg - seg.mean()) * np.blackman(len(seg))
            total += np.abs(np.fft.rfft(seg, nfft)) ** 2 * len(seg)
            weight += len(seg)
    if weight == 0:
        return None
    level = 10.0 * np.log10(total / weight + 1e-24)
    if float(np.median(level[20:400])) < -250.0:  # digital silence: nothing to measure
        return Hum(50, 0.0)

    def family(f0: int) -> float:
        scores = []
        for k in (1, 2, 3):
            f = f0 * k
            peak = level[f - 3 : f + 4].max()
            near = np.concatenate((level[f - 40 : f - 19], level[f + 20 : f + 41]))
            scores.append(float(peak - np.median(near)))
        return float(np.mean(scores))

    h50, h60 = family(50), family(60)
    return Hum(50, h50) if h50 >= h60 else Hum(60, h60)


def loudness_lufs(x: np.ndarray, sr: int) -> float | None:
    """Integrated loudness per ITU-R BS.1770-4 via pyloudnorm; None for clips under 0.4 s, -inf on silence."""
    if len(x) < int(0.4 * sr) + 1:
        return None
    import pyloudnorm

    return float(pyloudnorm.Meter(sr).integrated_loudness(x.astype(np.float64)))
