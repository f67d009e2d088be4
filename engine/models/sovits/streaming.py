"""Decoding semantic tokens to audio piece by piece while the GPT is still generating them.

``SynthesizerTrn.decode`` sees the whole sentence at once: the prior encoder's attention is global and
the flow and the HiFi-GAN decoder are convolutions about ±18 tokens wide. :class:`StreamingDecoder`
decodes a window instead: ``context`` tokens already played on the left (so the convolutions and the
attention see what came before), the new tokens, and ``lookahead`` tokens on the right whose audio is
not played yet (the right edge of a window lacks its future; it is played from the next window). The
audio of ``overlap`` tokens at each join is decoded by both windows and cross-faded linearly (the two
versions are nearly equal, so their weights sum to one).

Noise: the one-shot path draws ``randn_like(m_p)`` for the whole sentence, which cannot be drawn before
the length is known; here the noise of output frame j comes from fixed 64-frame blocks drawn in order
from one generator, so it does not depend on how the tokens are chunked. ``decode_all`` decodes all
tokens in one window with the same noise: the one-shot decode a stream is compared with (at
``noise_scale`` 0 and speed 1 it equals ``SynthesizerTrn.decode``).

Speed != 1: the prior encoder's output is resampled with linear interpolation, which commutes with the
1x1 projection to (m, logs); output frame j reads input position (j + 0.5) * speed - 0.5, the same map
``F.interpolate`` uses up to the rounding of the total length.
"""

from __future__ import annotations

import math

import numpy as np
import torch

NOISE_BLOCK = 64  # output frames per noise draw


class StreamingDecoder:
    """Feed it the growing token list with :meth:`push`; it returns audio as soon as a piece is safe."""

    def __init__(
        self,
        sovits,
        text: torch.Tensor,
        ge: torch.Tensor,
        *,
        noise_scale: float = 0.5,
        speed: float = 1.0,
        generator: torch.Generator | None = None,
        first_tokens: int = 12,
        chunk_tokens: int = 24,
        context: int = 24,
        lookahead: int = 6,
        overlap: int = 2,
    ) -> None:
        if min(first_tokens, chunk_tokens) < 1 or context < 0 or overlap < 0 or lookahead < overlap:
            raise ValueError("need first/chunk tokens >= 1, context >= 0 and lookahead >= overlap >= 0")
        self.sovits = sovits
        self.text = text
        self.ge = ge
        self.noise_scale = noise_scale
        self.speed = speed
        self.generator = generator
        self.first_tokens = first_tokens
        self.chunk_tokens = chunk_tokens
        self.context = context
        self.lookahead = lookahead
        self.overlap = overlap
        self.hop = int(np.prod(sovits.config.upsample_rates))  # samples per 50 Hz frame (640)
        self.frames_per_token = 2 if sovits.config.semantic_frame_rate == "25hz" else 1
        self._noise: list[torch.Tensor] = []
        self.emitted_frames = 0  # output frames played (the held cross-fade tail not counted)
        self.emitted_tokens = 0  # tokens whose audio is played
        self._tail: np.ndarray | None = None
        self.decodes = 0

    # ------------------------------------------------------------------ frame arithmetic
    def _out_frame(self, token: int) -> int:
        """The output frame where ``token``'s audio starts."""
        return int(math.floor(self.frames_per_token * token / self.speed + 1e-9))

    def _last_out_frame(self, in_frames: int) -> int:
        """Output frames whose input position lies in [0, in_frames - 1] (at least 1)."""
        if self.speed == 1.0:
            return in_frames
        return max(1, int(math.floor((in_frames - 0.5) / self.speed - 0.5)) + 1)

    def _noise_frames(self, start: int, stop: int, like: torch.Tensor) -> torch.Tensor:
        channels = like.shape[1]
        while len(self._noise) * NOISE_BLOCK < stop:
            block = torch.randn(
                1, channels, NOISE_BLOCK, generator=self.generator, device=like.device, dtype=torch.float32
            )
            self._noise.append(block)
        noise = torch.cat(self._noise[start // NOISE_BLOCK : -(-stop // NOISE_BLOCK)], dim=2)
        offset = (start // NOISE_BLOCK) * NOISE_BLOCK
        return noise[:, :, start - offset : stop - offset].to(like.dtype)

    # ------------------------------------------------------------------ decoding
    @torch.no_grad()
    def _decode_window(self, tokens: list[int], first: int, out_start: int, out_stop: int) -> np.ndarray:
        """Audio of output frames [out_start, out_stop) from tokens[first:] (global frame numbers)."""
        m = self.sovits
        device = self.text.device
        codes = torch.tensor([[tokens[first:]]], dtype=torch.long, device=device)  # [1, 1, T]
        quantized = m._upsample(m.quantizer.decode(codes))
        dtype = m.ssl_proj.weight.dtype
        quantized = quantized.to(dtype)
        t_in = quantized.size(2)
        y_lengths = torch.tensor([t_in], dtype=torch.long, device=device)
        text_lengths = torch.tensor([self.text.size(-1)], dtype=torch.long, device=device)
        _, m_p, logs_p, _ = m.enc_p(quantized, y_lengths, self.text, text_lengths, m._ge_text(self.ge), 1.0)
        in0 = first * self.frames_per_token
        lo = self._first_out_frame(in0)
        hi = self._last_out_frame(in0 + t_in)
        if self.speed != 1.0:
            j = torch.arange(lo, hi, device=device, dtype=torch.float64)
            u = ((j + 0.5) * self.speed - 0.5 - in0).clamp(0, t_in - 1)
            i0 = u.floor().long()
            i1 = (i0 + 1).clamp(max=t_in - 1)
            w = (u - i0).to(m_p.dtype)
            m_p = m_p[:, :, i0] * (1 - w) + m_p[:, :, i1] * w
            logs_p = logs_p[:, :, i0] * (1 - w) + logs_p[:, :, i1] * w
        noise = self._noise_frames(lo, hi, m_p)
        z_p = m_p + noise * torch.exp(logs_p) * self.noise_scale
        mask = torch.ones(1, 1, z_p.size(2), dtype=z_p.dtype, device=device)
        z = m.flow(z_p, mask, g=self.ge, reverse=True)
        wav = m.dec(z * mask, g=self.ge)[0, 0].float().cpu().numpy()
        self.decodes += 1
        a = (out_start - lo) * self.hop
        b = (min(out_stop, hi) - lo) * self.hop
        return wav[a:b]

    def _first_out_frame(self, in_start: int) -> int:
        """First output frame whose input position is at or after ``in_start``."""
        if in_start == 0:
            return 0
        if self.speed == 1.0:
            return in_start
        return int(math.ceil((in_start + 0.5) / self.speed - 0.5 - 1e-9))

    def _fade(self, fresh: np.ndarray) -> np.ndarray:
        """Cross-fade the held tail of the previous window into the start of ``fresh``."""
        if self._tail is None or not len(self._tail):
            return fresh
        n = min(len(self._tail), len(fresh))
        ramp = (np.arange(n, dtype=np.float32) + 0.5) / n
        out = fresh.copy()
        out[:n] = self._tail[:n] * (1 - ramp) + fresh[:n] * ramp
        return out

    def _window_start(self) -> int:
        played_token = int(self.emitted_frames * self.speed / self.frames_per_token)
        return max(0, played_token - self.context)

    def push(self, tokens: list[int]) -> np.ndarray | None:
        """Given all tokens so far, return the next piece of audio when enough are new (else None)."""
        n = len(tokens)
        need = self.first_tokens if self.emitted_tokens == 0 else self.chunk_tokens
        safe = n - self.lookahead
        if safe - self.emitted_tokens < need:
            return None
        stop = self._out_frame(safe)
        x = self._overlap_frames()
        audio = self._decode_window(tokens, self._window_start(), self.emitted_frames, stop + x)
        body = self._fade(audio[: (stop - self.emitted_frames) * self.hop])
        self._tail = audio[(stop - self.emitted_frames) * self.hop :]
        self.emitted_frames = stop
        self.emitted_tokens = safe
        return np.clip(body, -1.0, 1.0).astype(np.float32, copy=False)

    def _overlap_frames(self) -> int:
        return self._out_frame(self.overlap)

    def finish(self, tokens: list[int]) -> np.ndarray:
        """All the audio not yet returned, to the end of ``tokens``."""
        n = len(tokens)
        if n == 0:
            return np.zeros(0, np.float32)
        end = self._last_out_frame(n * self.frames_per_token)
        if end <= self.emitted_frames:
            tail = self._tail if self._tail is not None else np.zeros(0, np.float32)
            self._tail = None
            return np.clip(tail[: max(0, end - self.emitted_frames) * self.hop], -1, 1).astype(np.float32)
        audio = self._decode_window(tokens, self._window_start(), self.emitted_frames, end)
        body = self._fade(audio)
        self._tail = None
        self.emitted_frames = end
        self.emitted_tokens = n
        return np.clip(body, -1.0, 1.0).astype(np.float32, copy=False)

    def decode_all(self, tokens: list[int]) -> np.ndarray:
        """The one-shot decode of ``tokens`` with this stream's noise (for comparisons)."""
        end = self._last_out_frame(len(tokens) * self.frames_per_token)
        return np.clip(self._decode_window(tokens, 0, 0, end), -1.0, 1.0).astype(np.float32)


def log_mel_distance(a: np.ndarray, b: np.ndarray, rate: int = 32000) -> float:
    """Mean absolute difference of the natural-log mel spectra of a and b (the SoVITS loss's mel)."""
    from engine.models.spec import mel_spectrogram

    n = min(len(a), len(b))
    ma = mel_spectrogram(torch.from_numpy(np.ascontiguousarray(a[:n])).unsqueeze(0))
    mb = mel_spectrogram(torch.from_numpy(np.ascontiguousarray(b[:n])).unsqueeze(0))
    return float((ma - mb).abs().mean())
