"""SoVITS training losses (VITS/HiFi-GAN): KL, mel L1, LSGAN and feature matching."""

from __future__ import annotations

import torch


def kl_loss(
    z_p: torch.Tensor, logs_q: torch.Tensor, m_p: torch.Tensor, logs_p: torch.Tensor, mask: torch.Tensor
) -> torch.Tensor:
    """KL(q || p) per valid frame, with z_p the flowed posterior sample; all [B, C, T], mask [B, 1, T]."""
    kl = logs_p - logs_q - 0.5 + 0.5 * (z_p - m_p) ** 2 * torch.exp(-2.0 * logs_p)
    return torch.sum(kl * mask) / torch.sum(mask)


def feature_loss(fmap_r: list[list[torch.Tensor]], fmap_g: list[list[torch.Tensor]]) -> torch.Tensor:
    """Feature matching: 2 x sum of L1 distances between real (detached) and fake feature maps."""
    loss = torch.zeros(())
    for dr, dg in zip(fmap_r, fmap_g, strict=True):
        for r, g in zip(dr, dg, strict=True):
            loss = loss.to(g.device) + torch.mean(torch.abs(r.float().detach() - g.float()))
    return loss * 2


def discriminator_loss(
    real_outputs: list[torch.Tensor], fake_outputs: list[torch.Tensor]
) -> tuple[torch.Tensor, list[float], list[float]]:
    """LSGAN discriminator loss: (1 - D(real))^2 + D(fake)^2 summed over discriminators."""
    loss = torch.zeros((), device=real_outputs[0].device)
    r_losses, g_losses = [], []
    for dr, dg in zip(real_outputs, fake_outputs, strict=True):
        r = torch.mean((1 - dr.float()) ** 2)
        g = torch.mean(dg.float() ** 2)
        loss = loss + r + g
        r_losses.append(r.item())
        g_losses.append(g.item())
    return loss, r_losses, g_losses


def generator_loss(fake_outputs: list[torch.Tensor]) -> tuple[torch.Tensor, list[torch.Tensor]]:
    """LSGAN generator loss: (1 - D(fake))^2 summed over discriminators."""
    losses = [torch.mean((1 - dg.float()) ** 2) for dg in fake_outputs]
    return torch.stack(losses).sum(), losses
