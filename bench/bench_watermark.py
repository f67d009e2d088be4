"""Watermark speed (issue 14): embedding and detection vs real time, and the latency a streamed chunk gains.

Audio: 20 s of espeak-ng speech at 32 kHz (the synthesiser's rate). Torch runs on 2 threads (the
target machine's cores). Baseline measured in the same run: one STFT + inverse STFT of the same audio
with the network's settings (2048-point, hop 320), the least any spectrogram-domain watermark costs.

Figures: real-time factor (seconds of compute per second of audio; far below 1 is the goal) for
``embed`` and ``detect``; per streamed chunk (0.64 s = 16 semantic tokens, and 1.28 s), the wall time
``StreamEmbedder.mark`` adds before the chunk can be played. The model load is timed apart.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np

TEXT = (
    "The north wind and the sun were disputing which was the stronger, when a traveler came along "
    "wrapped in a warm cloak. They agreed that the one who first succeeded in making the traveler "
    "take his cloak off should be considered stronger than the other."
)


def _speech(seconds: float) -> np.ndarray:
    from engine.audio.io import read_audio

    if shutil.which("espeak-ng") is None:
        raise RuntimeError("espeak-ng is needed for this benchmark")
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "s.wav"
        subprocess.run(["espeak-ng", "-v", "en-us", "-w", str(path), TEXT], check=True, capture_output=True)
        one = read_audio(path, samplerate=32000).samples
    reps = int(np.ceil(seconds * 32000 / one.size))
    return np.tile(one, reps)[: int(seconds * 32000)]


def _best(fn, repeat: int = 3) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    """Print the figures."""
    import torch

    from engine.audio import watermark as wm

    torch.set_num_threads(2)
    audio = _speech(20.0)
    seconds = audio.size / wm.RATE
    start = time.perf_counter()
    model = wm.model()
    print(f"model load: {time.perf_counter() - start:.2f} s (once per process)")

    x = torch.from_numpy(audio)
    window = torch.hann_window(wm.N_FFT)

    def stft_roundtrip() -> None:
        spec = torch.stft(x, wm.N_FFT, wm.HOP, wm.N_FFT, window, return_complex=True)
        torch.istft(spec, wm.N_FFT, wm.HOP, wm.N_FFT, window, length=x.numel())

    base = _best(stft_roundtrip)
    embed = _best(lambda: wm.embed(audio, wm.RATE))
    marked = wm.embed(audio, wm.RATE)
    detect = _best(lambda: wm.detect(marked, wm.RATE))
    print(f"audio: {seconds:.0f} s of speech at {wm.RATE} Hz, 2 torch threads")
    print(f"baseline STFT+iSTFT: {base:.3f} s (RTF {base / seconds:.4f})")
    print(f"embed:  {embed:.3f} s  RTF {embed / seconds:.4f}  ({seconds / embed:.0f}x real time, "
          f"{embed / base:.1f}x the baseline)")  # fmt: skip
    print(f"detect: {detect:.3f} s  RTF {detect / seconds:.4f}  ({seconds / detect:.0f}x real time, "
          f"{detect / base:.1f}x the baseline)")  # fmt: skip
    for chunk_s in (0.64, 1.28):
        n = int(chunk_s * wm.RATE)
        chunks = [audio[i : i + n] for i in range(0, audio.size - n + 1, n)]
        embedder = wm.StreamEmbedder(wm.RATE)
        embedder.mark(chunks[0])  # warm
        costs = []
        for chunk in chunks[1:]:
            t0 = time.perf_counter()
            embedder.mark(chunk)
            costs.append(time.perf_counter() - t0)
        costs_ms = np.array(costs) * 1000
        print(
            f"streamed chunk {chunk_s:.2f} s: +{costs_ms.min():.0f} ms best, +{np.median(costs_ms):.0f} ms "
            f"median, +{np.percentile(costs_ms, 95):.0f} ms p95 before it can play ({len(costs)} chunks)"
        )
    del model


if __name__ == "__main__":
    main()
