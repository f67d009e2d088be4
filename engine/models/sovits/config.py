"""Hyperparameters of the SoVITS (s2) generator and discriminator, official v2 and a tiny test size."""

from __future__ import annotations

from dataclasses import dataclass, replace


@dataclass(frozen=True)
class SoVITSConfig:
    """Everything that fixes the shapes of `SynthesizerTrn` and `MultiPeriodDiscriminator`."""

    # audio / spectrogram (shared by every size: 32 kHz, hop 640 = 50 Hz frames)
    sampling_rate: int = 32000
    filter_length: int = 2048
    hop_length: int = 640
    win_length: int = 2048
    n_mel_channels: int = 128
    mel_fmin: float = 0.0
    mel_fmax: float | None = None
    # generator
    spec_channels: int = 1025
    segment_size: int = 32  # frames (20480 samples)
    inter_channels: int = 192
    hidden_channels: int = 192
    filter_channels: int = 768
    n_heads: int = 2
    n_layers: int = 6
    kernel_size: int = 3
    p_dropout: float = 0.1
    window_size: int = 4
    resblock_kernel_sizes: tuple[int, ...] = (3, 7, 11)
    resblock_dilation_sizes: tuple[tuple[int, ...], ...] = ((1, 3, 5), (1, 3, 5), (1, 3, 5))
    upsample_rates: tuple[int, ...] = (10, 8, 2, 2, 2)
    upsample_initial_channel: int = 512
    upsample_kernel_sizes: tuple[int, ...] = (16, 16, 8, 2, 2)
    gin_channels: int = 512
    semantic_frame_rate: str = "25hz"
    freeze_quantizer: bool = True
    version: str = "v2"
    # sub-module sizes that the reference hard-codes (kept configurable for TINY)
    n_symbols: int = 732
    ssl_dim: int = 768
    codebook_size: int = 1024
    n_q: int = 1
    ref_bins: int = 704
    sv_dim: int = 20480  # v2Pro/Plus: ERes2NetV2 embedding size
    style_hidden: int = 128
    style_kernel_size: int = 5
    style_heads: int = 2
    style_dropout: float = 0.1
    mrte_hidden: int = 512
    mrte_heads: int = 4
    flow_kernel_size: int = 5
    flow_layers: int = 4
    n_flows: int = 4
    posterior_kernel_size: int = 5
    posterior_layers: int = 16
    # discriminator
    disc_periods: tuple[int, ...] = (2, 3, 5, 7, 11)
    disc_width_div: int = 1
    # training (official configs/s2.json + WebUI overrides)
    learning_rate: float = 1e-4
    betas: tuple[float, float] = (0.8, 0.99)
    eps: float = 1e-9
    lr_decay: float = 0.999875
    c_mel: float = 45.0
    c_kl: float = 1.0
    text_low_lr_rate: float = 0.4

    def __post_init__(self) -> None:
        if not self.is_pro and self.mrte_hidden != self.gin_channels:
            raise ValueError("v2 adds ge inside MRTE: mrte_hidden must equal gin_channels")
        if self.hidden_channels % self.n_heads or self.mrte_hidden % self.mrte_heads:
            raise ValueError("attention widths must divide by their head counts")
        if self.inter_channels % 2:
            raise ValueError("inter_channels must be even (the flow splits it in halves)")

    @property
    def is_pro(self) -> bool:
        """v2Pro/Plus: ge also takes a speaker-verification embedding (`sv_emb`, `prelu`, `ge_to512`)."""
        return self.version in ("v2Pro", "v2ProPlus")

    @property
    def samples_per_frame(self) -> int:
        """Output samples per 50 Hz frame (the product of the upsample rates)."""
        total = 1
        for rate in self.upsample_rates:
            total *= rate
        return total

    @property
    def samples_per_token(self) -> int:
        """Output samples per semantic token (two frames for 25 Hz tokens)."""
        return self.samples_per_frame * (2 if self.semantic_frame_rate == "25hz" else 1)

    def constructor_args(self) -> dict:
        """The generator arguments in the reference's `configs/s2.json` vocabulary."""
        return {
            "spec_channels": self.spec_channels,
            "segment_size(frames)": self.segment_size,
            "inter_channels": self.inter_channels,
            "hidden_channels": self.hidden_channels,
            "filter_channels": self.filter_channels,
            "n_heads": self.n_heads,
            "n_layers": self.n_layers,
            "kernel_size": self.kernel_size,
            "p_dropout": self.p_dropout,
            "resblock": "1",
            "resblock_kernel_sizes": list(self.resblock_kernel_sizes),
            "resblock_dilation_sizes": [list(d) for d in self.resblock_dilation_sizes],
            "upsample_rates": list(self.upsample_rates),
            "upsample_initial_channel": self.upsample_initial_channel,
            "upsample_kernel_sizes": list(self.upsample_kernel_sizes),
            "gin_channels": self.gin_channels,
            "semantic_frame_rate": self.semantic_frame_rate,
            "freeze_quantizer": self.freeze_quantizer,
            "version": self.version,
        }

    def with_(self, **changes) -> SoVITSConfig:
        """A copy with some fields changed."""
        return replace(self, **changes)


V2 = SoVITSConfig()
"""The official v2 model (`s2G2333k.pth` / `s2D2333k.pth`)."""

TINY = SoVITSConfig(
    segment_size=8,
    inter_channels=16,
    hidden_channels=32,
    filter_channels=64,
    n_heads=2,
    n_layers=2,
    p_dropout=0.0,
    resblock_kernel_sizes=(3, 5),
    resblock_dilation_sizes=((1, 3), (1, 3)),
    upsample_rates=(10, 8, 8),
    upsample_initial_channel=32,
    upsample_kernel_sizes=(20, 16, 16),
    gin_channels=32,
    ssl_dim=64,
    style_hidden=16,
    mrte_hidden=32,
    mrte_heads=2,
    flow_layers=2,
    n_flows=2,
    posterior_layers=2,
    disc_periods=(2, 3),
    disc_width_div=16,
)
"""Same architecture with tiny widths and depths: CPU tests in seconds. Same audio grid as V2."""

V2_PRO = SoVITSConfig(
    p_dropout=0.0,
    gin_channels=1024,
    version="v2Pro",
    disc_periods=(2, 3, 5, 7, 11, 17, 23),
)
"""v2Pro (`v2Pro/s2Gv2Pro.pth`): 1024-d ge with a speaker-verification embedding, 7 period discriminators."""

V2_PRO_PLUS = V2_PRO.with_(
    upsample_initial_channel=768,
    upsample_kernel_sizes=(20, 16, 8, 2, 2),
    version="v2ProPlus",
)
"""v2ProPlus (`v2Pro/s2Gv2ProPlus.pth`): v2Pro with a wider decoder."""
