"""Fine-tune losses as pure functions of (models, batch, slice offsets) (spec §6.2, §2.2).

SoVITS: mel L1 x45 on the generated 32-frame slice, KL x1, LSGAN generator loss + feature matching x2,
the quantizer's commit loss (0 while it is frozen); the discriminator's LSGAN loss on the same slice.
GPT: summed cross-entropy against each item's codes followed by EOS, right padding masked.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from engine.models.sovits import losses as vits
from engine.models.sovits.commons import slice_segments
from engine.models.spec import mel_spectrogram, spec_to_mel

C_MEL = 45.0
C_KL = 1.0
IGNORE = -100


@dataclass
class GeneratorLosses:
    """The generator's loss terms (``total`` is what is back-propagated)."""

    total: torch.Tensor
    mel: torch.Tensor
    kl: torch.Tensor
    gen: torch.Tensor
    fm: torch.Tensor
    commit: torch.Tensor

    def floats(self) -> dict[str, float]:
        """Every term as a float, for events."""
        return {
            "g_total": float(self.total.detach()),
            "mel": float(self.mel.detach()),
            "kl": float(self.kl.detach()),
            "gen": float(self.gen.detach()),
            "fm": float(self.fm.detach()),
        }


def mel_l1(real_mel: torch.Tensor, fake_wav: torch.Tensor, c_mel: float = C_MEL) -> torch.Tensor:
    """c_mel x mean |mel(real slice) - mel(generated wav)|; real_mel [B, 128, S], fake_wav [B, 1, S*hop]."""
    with torch.autocast(device_type=fake_wav.device.type, enabled=False):  # the mel stays float32
        fake_mel = mel_spectrogram(fake_wav.squeeze(1).float())
        return F.l1_loss(real_mel.float(), fake_mel) * c_mel


def real_slices(
    spec: torch.Tensor, wav: torch.Tensor, ids_slice: torch.Tensor, frames: int, hop: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """The real log-mel [B, 128, frames] and wave [B, 1, frames*hop] at the generator's slice offsets."""
    mel = spec_to_mel(spec.float())
    return slice_segments(mel, ids_slice, frames), slice_segments(wav, ids_slice * hop, frames * hop)


def discriminator_loss(disc: torch.nn.Module, real_wav: torch.Tensor, fake_wav: torch.Tensor) -> torch.Tensor:
    """LSGAN loss of the discriminator: sum over sub-discriminators of (1-D(real))^2 + D(fake)^2."""
    real, fake, _, _ = disc(real_wav, fake_wav.detach())
    loss, _, _ = vits.discriminator_loss(real, fake)
    return loss


def generator_losses(
    disc: torch.nn.Module,
    out,
    real_mel: torch.Tensor,
    real_wav: torch.Tensor,
    c_mel: float = C_MEL,
    c_kl: float = C_KL,
) -> GeneratorLosses:
    """All generator terms of one SoVITS step from its forward output ``out`` (a SoVITSTrainOutput)."""
    _, fake, fmap_r, fmap_g = disc(real_wav, out.audio)
    mel = mel_l1(real_mel, out.audio, c_mel)
    kl = (
        vits.kl_loss(out.z_p.float(), out.logs_q.float(), out.m_p.float(), out.logs_p.float(), out.mask)
        * c_kl
    )
    fm = vits.feature_loss(fmap_r, fmap_g)
    gen, _ = vits.generator_loss(fake)
    commit = out.commit_loss.float().reshape(()) if torch.is_tensor(out.commit_loss) else torch.zeros(())
    commit = commit.to(mel.device)
    total = gen + fm + mel + kl + commit
    return GeneratorLosses(total, mel, kl, gen, fm, commit)


def gpt_targets(codes: torch.Tensor, code_lens: torch.Tensor, eos: int) -> torch.Tensor:
    """Targets [B, N+1]: each item's codes, then EOS, then IGNORE over the right padding."""
    b, n = codes.shape
    j = torch.arange(n + 1, device=codes.device)[None]
    padded = torch.cat([codes, torch.zeros(b, 1, dtype=codes.dtype, device=codes.device)], 1)
    lens = code_lens.to(codes.device)[:, None]
    targets = torch.where(j < lens, padded, torch.full_like(padded, eos))
    return targets.masked_fill(j > lens, IGNORE)


def summed_cross_entropy(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Cross-entropy summed over every counted target (reduction "sum", IGNORE skipped); logits [B, N, V]."""
    return F.cross_entropy(
        logits.reshape(-1, logits.shape[-1]).float(),
        targets.reshape(-1),
        ignore_index=IGNORE,
        reduction="sum",
    )


def gpt_loss(model: torch.nn.Module, batch) -> tuple[torch.Tensor, float, int]:
    """The GPT fine-tune loss of a right-padded batch: (summed CE, top-1 accuracy, counted targets)."""
    result = model.training_loss(batch.phone_ids, batch.phone_lens, batch.bert, batch.codes, batch.code_lens)
    return result.loss, result.accuracy, result.num_targets
