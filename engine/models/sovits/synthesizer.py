"""SoVITS v2 `SynthesizerTrn`: semantic tokens + phones + reference spectrogram -> 32 kHz waveform."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import torch
from torch import nn
from torch.nn import functional as F

from engine.models.sovits.commons import length_mask, rand_slice_segments, randn_like, remove_all_weight_norm
from engine.models.sovits.config import V2, SoVITSConfig
from engine.models.sovits.flow import ResidualCouplingBlock
from engine.models.sovits.generator import Generator
from engine.models.sovits.posterior import PosteriorEncoder
from engine.models.sovits.quantizer import ResidualVectorQuantizer
from engine.models.sovits.ref_encoder import MelStyleEncoder
from engine.models.sovits.text_encoder import TextEncoder

log = logging.getLogger(__name__)


@dataclass
class SoVITSTrainOutput:
    """What one training forward pass produces (all at 50 Hz frames unless noted)."""

    audio: torch.Tensor  # [B, 1, segment_size * hop] decoded from the random z slice
    ids_slice: torch.Tensor  # [B] start frame of each slice
    mask: torch.Tensor  # [B, 1, T] spectrogram frame mask
    z: torch.Tensor  # [B, inter, T] posterior sample
    z_p: torch.Tensor  # [B, inter, T] z through the flow (prior space)
    m_p: torch.Tensor  # [B, inter, T] prior mean
    logs_p: torch.Tensor  # [B, inter, T] prior log-std
    m_q: torch.Tensor  # [B, inter, T] posterior mean
    logs_q: torch.Tensor  # [B, inter, T] posterior log-std
    quantized: torch.Tensor  # [B, ssl_dim, T] codebook features upsampled to 50 Hz
    codes: torch.Tensor  # [n_q, B, T25] semantic tokens of the SSL input
    commit_loss: torch.Tensor  # scalar, 0 with the frozen quantizer
    ge: torch.Tensor  # [B, gin, 1] speaker/style vector


class SynthesizerTrn(nn.Module):
    """The SoVITS generator; sub-module names and shapes follow the official v2 state dict."""

    def __init__(self, config: SoVITSConfig = V2, with_posterior: bool = True) -> None:
        """Build it; `with_posterior=False` leaves out `enc_q` (inference only, as in fine-tune exports)."""
        super().__init__()
        c = config
        self.config = c
        self.enc_p = TextEncoder(
            c.inter_channels,
            c.hidden_channels,
            c.filter_channels,
            c.n_heads,
            c.n_layers,
            c.kernel_size,
            c.p_dropout,
            n_symbols=c.n_symbols,
            ssl_dim=c.ssl_dim,
            mrte_hidden=c.mrte_hidden,
            mrte_heads=c.mrte_heads,
            window_size=c.window_size,
        )
        self.dec = Generator(
            c.inter_channels,
            c.resblock_kernel_sizes,
            c.resblock_dilation_sizes,
            c.upsample_rates,
            c.upsample_initial_channel,
            c.upsample_kernel_sizes,
            gin_channels=c.gin_channels,
        )
        self.enc_q: PosteriorEncoder | None = None
        if with_posterior:
            self.enc_q = PosteriorEncoder(
                c.spec_channels,
                c.inter_channels,
                c.hidden_channels,
                c.posterior_kernel_size,
                1,
                c.posterior_layers,
                gin_channels=c.gin_channels,
            )
        self.flow = ResidualCouplingBlock(
            c.inter_channels,
            c.hidden_channels,
            c.flow_kernel_size,
            1,
            c.flow_layers,
            n_flows=c.n_flows,
            gin_channels=c.gin_channels,
        )
        self.ref_enc = MelStyleEncoder(
            c.ref_bins if c.version != "v1" else c.spec_channels,
            style_hidden=c.style_hidden,
            style_vector_dim=c.gin_channels,
            style_kernel_size=c.style_kernel_size,
            style_head=c.style_heads,
            dropout=c.style_dropout,
        )
        if c.semantic_frame_rate not in ("25hz", "50hz"):
            raise ValueError("semantic_frame_rate must be '25hz' or '50hz'")
        stride = 2 if c.semantic_frame_rate == "25hz" else 1
        self.ssl_proj = nn.Conv1d(c.ssl_dim, c.ssl_dim, stride, stride=stride)
        self.quantizer = ResidualVectorQuantizer(dimension=c.ssl_dim, n_q=c.n_q, bins=c.codebook_size)
        if c.is_pro:
            self.sv_emb = nn.Linear(c.sv_dim, c.gin_channels)
            self.ge_to512 = nn.Linear(c.gin_channels, c.mrte_hidden)
            self.prelu = nn.PReLU(num_parameters=c.gin_channels)

    # ----------------------------------------------------------------------------------------------
    def _ref_bins(self, spec: torch.Tensor) -> torch.Tensor:
        return spec if self.config.version == "v1" else spec[:, : self.config.ref_bins]

    def reference_embedding(
        self,
        refer: torch.Tensor | list[torch.Tensor],
        lengths: torch.Tensor | None = None,
        sv_emb: torch.Tensor | list[torch.Tensor] | None = None,
    ) -> torch.Tensor:
        """Speaker vector ge [B, gin, 1] from reference spectrogram(s) [B, 1025, T]; a list is averaged.

        v2Pro/Plus also need the speaker-verification embedding(s) `sv_emb` [B, 20480] of the same clip(s).
        """
        if isinstance(refer, (list, tuple)):
            svs = sv_emb if isinstance(sv_emb, (list, tuple)) else [sv_emb] * len(refer)
            return torch.stack(
                [self.reference_embedding(r, sv_emb=s) for r, s in zip(refer, svs, strict=True)]
            ).mean(0)
        if lengths is None:
            lengths = torch.full((refer.size(0),), refer.size(2), dtype=torch.long, device=refer.device)
        mask = length_mask(lengths, refer.size(2), refer.dtype)
        ge = self.ref_enc(self._ref_bins(refer) * mask, mask)
        return self._with_sv(ge, sv_emb)

    def _with_sv(self, ge: torch.Tensor, sv_emb: torch.Tensor | None) -> torch.Tensor:
        if not self.config.is_pro:
            return ge
        if sv_emb is None:
            raise ValueError(f"a {self.config.version} model needs the speaker-verification embedding sv_emb")
        return self.prelu(ge + self.sv_emb(sv_emb).unsqueeze(-1))

    def _ge_text(self, ge: torch.Tensor | None) -> torch.Tensor | None:
        """The speaker vector MRTE receives (projected to 512 in v2Pro/Plus)."""
        if ge is None or not self.config.is_pro:
            return ge
        return self.ge_to512(ge.transpose(1, 2)).transpose(1, 2)

    def _upsample(self, quantized: torch.Tensor) -> torch.Tensor:
        if self.config.semantic_frame_rate == "25hz":
            quantized = F.interpolate(quantized, size=int(quantized.shape[-1] * 2), mode="nearest")
        return quantized

    def quantize_ssl(self, ssl: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """SSL [B, ssl_dim, T50] -> (quantized [B, ssl_dim, T25], codes [n_q, B, T25], commit loss)."""
        projected = self.ssl_proj(ssl)
        quantized, codes, commit_loss, _ = self.quantizer(projected, layers=[0])
        return quantized, codes, commit_loss

    @torch.no_grad()
    def extract_latent(self, ssl: torch.Tensor) -> torch.Tensor:
        """HuBERT features [B, ssl_dim, T50] -> semantic tokens [B, n_q, T25] (use `[0, 0]` for one clip)."""
        _, codes, _ = self.quantize_ssl(ssl)
        return codes.transpose(0, 1)

    # ----------------------------------------------------------------------------------------------
    def forward(
        self,
        ssl: torch.Tensor,
        spec: torch.Tensor,
        spec_lengths: torch.Tensor,
        text: torch.Tensor,
        text_lengths: torch.Tensor,
        generator: torch.Generator | None = None,
        sv_emb: torch.Tensor | None = None,
    ) -> SoVITSTrainOutput:
        """Training pass: ssl [B, ssl_dim, T], spec [B, 1025, T], phone ids [B, L] -> `SoVITSTrainOutput`."""
        if self.enc_q is None:
            raise ValueError("this SynthesizerTrn was built without the posterior encoder (inference only)")
        mask = length_mask(spec_lengths, spec.size(2), spec.dtype)
        ge = self._with_sv(self.ref_enc(self._ref_bins(spec) * mask, mask), sv_emb)
        with torch.autocast(device_type=ssl.device.type, enabled=False):  # the codebook search stays fp32
            if self.config.freeze_quantizer:
                self.ssl_proj.eval()
                self.quantizer.eval()
                with torch.no_grad():
                    quantized, codes, commit_loss = self.quantize_ssl(ssl.to(self.ssl_proj.weight.dtype))
            else:
                quantized, codes, commit_loss = self.quantize_ssl(ssl.to(self.ssl_proj.weight.dtype))
            quantized = quantized.to(spec.dtype)
        quantized = self._upsample(quantized)
        frames = spec.size(2)
        if quantized.size(2) < frames:
            quantized = F.pad(quantized, (0, frames - quantized.size(2)), mode="replicate")
        quantized = quantized[:, :, :frames]
        _, m_p, logs_p, _ = self.enc_p(quantized, spec_lengths, text, text_lengths, self._ge_text(ge))
        z, m_q, logs_q, mask = self.enc_q(spec, spec_lengths, g=ge, generator=generator)
        z_p = self.flow(z, mask, g=ge)
        z_slice, ids_slice = rand_slice_segments(
            z, spec_lengths, self.config.segment_size, generator=generator
        )
        audio = self.dec(z_slice, g=ge)
        return SoVITSTrainOutput(
            audio=audio,
            ids_slice=ids_slice,
            mask=mask,
            z=z,
            z_p=z_p,
            m_p=m_p,
            logs_p=logs_p,
            m_q=m_q,
            logs_q=logs_q,
            quantized=quantized,
            codes=codes,
            commit_loss=commit_loss,
            ge=ge,
        )

    @torch.no_grad()
    def decode(
        self,
        codes: torch.Tensor,
        text: torch.Tensor,
        refer: torch.Tensor | list[torch.Tensor] | None = None,
        noise_scale: float = 0.5,
        speed: float = 1.0,
        ge: torch.Tensor | None = None,
        generator: torch.Generator | None = None,
        sv_emb: torch.Tensor | list[torch.Tensor] | None = None,
    ) -> torch.Tensor:
        """Tokens [1, B, T] or [B, T], phone ids [B, L], reference spec(s) [B, 1025, Tr] -> wav [B, 1, N].

        N = samples_per_token * T at speed 1 (1280 per 25 Hz token for v2). Pass a precomputed `ge`
        (from `reference_embedding`) instead of `refer` to skip the reference encoder.
        """
        if codes.dim() == 2:
            codes = codes.unsqueeze(0)
        if ge is None and refer is not None:
            ge = self.reference_embedding(refer, sv_emb=sv_emb)
        batch = codes.size(1)
        quantized = self._upsample(self.quantizer.decode(codes))
        y_lengths = torch.full((batch,), quantized.size(2), dtype=torch.long, device=codes.device)
        text_lengths = torch.full((batch,), text.size(-1), dtype=torch.long, device=text.device)
        _, m_p, logs_p, y_mask = self.enc_p(
            quantized, y_lengths, text, text_lengths, self._ge_text(ge), speed
        )
        z_p = m_p + randn_like(m_p, generator) * torch.exp(logs_p) * noise_scale
        z = self.flow(z_p, y_mask, g=ge, reverse=True)
        return self.dec(z * y_mask, g=ge)

    # ---------------------------------------------------------------------------------- fast CPU path
    def enable_fast_cpu(self, flow: bool = True, encoder: bool = True) -> None:
        """Opt-in faster CPU inference: the HiFi-GAN decoder, the flow and the prior encoder's FFNs in bf16.

        `flow=False` / `encoder=False` keep the flow / the prior encoder `enc_p` in fp32. Applies to
        `decode` and the streaming decoder (both go through `enc_p`, `flow` and `dec`) whenever the
        module is in eval mode, on the CPU, in fp32 and under no_grad/inference_mode; otherwise the
        fp32 path runs, so training is unaffected. Works with or without weight norm. The fp32
        parameters and the state dict stay as they are: bf16 copies of the convolution weights are kept
        beside them and rebuilt when a parameter is changed in place or replaced; parameters that are
        inference tensors (made under inference_mode) keep no version counter, so after changing those
        in place call `enable_fast_cpu()` again. Audio stays within a relative L2 of 1e-2 of the fp32
        decode, and the decoder's input z (enc_p + flow) within 1e-2 of the fp32 z
        (tests/models/test_sovits_fast.py; about 0.004 and 0.003 measured on V2 random weights); about
        2x faster than fp32 at 1-2 threads (bench/bench_sovits.py). See `engine.models.sovits.generator`,
        `.flow` and `.text_encoder`.
        """
        self.dec.enable_fast()
        for module, on in ((self.flow, flow), (self.enc_p, encoder)):
            if on:
                module.enable_fast()
            else:
                module.disable_fast()

    def disable_fast_cpu(self) -> None:
        """Back to the fp32 reference decode (bit-identical to never having enabled the fast path)."""
        self.dec.disable_fast()
        self.flow.disable_fast()
        self.enc_p.disable_fast()

    @property
    def fast_cpu(self) -> bool:
        """Whether `enable_fast_cpu` is in effect."""
        return self.dec.fast_plan is not None

    def remove_weight_norm(self) -> int:
        """Fold every weight norm into plain weights (identical outputs, faster); returns how many."""
        count = remove_all_weight_norm(self)
        log.debug("removed weight norm from %d modules", count)
        return count

    def param_groups(self, learning_rate: float | None = None) -> list[dict]:
        """AdamW groups of the fine-tune: text embedding/encoder and MRTE at lr x text_low_lr_rate."""
        lr = self.config.learning_rate if learning_rate is None else learning_rate
        low = lr * self.config.text_low_lr_rate
        slow_modules = (self.enc_p.text_embedding, self.enc_p.encoder_text, self.enc_p.mrte)
        groups = [{"params": list(m.parameters()), "lr": low} for m in slow_modules]
        slow_ids = {id(p) for g in groups for p in g["params"]}
        base = [p for p in self.parameters() if id(p) not in slow_ids and p.requires_grad]
        return [{"params": base, "lr": lr}, *groups]
