"""The frozen residual vector quantizer that turns 25 Hz SSL features into semantic tokens."""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F


class EuclideanCodebook(nn.Module):
    """One codebook in buffers (`inited`, `cluster_size`, `embed`, `embed_avg`); nearest-code lookup."""

    def __init__(self, dim: int, codebook_size: int) -> None:
        super().__init__()
        embed = torch.empty(codebook_size, dim)
        nn.init.kaiming_uniform_(embed)
        # a usable random codebook out of the box; checkpoints overwrite all four buffers
        self.register_buffer("inited", torch.ones(1))
        self.register_buffer("cluster_size", torch.zeros(codebook_size))
        self.register_buffer("embed", embed)
        self.register_buffer("embed_avg", embed.clone())

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """x [..., D] -> index of the closest code [...] (argmax of minus the squared distance)."""
        shape = x.shape[:-1]
        flat = x.reshape(-1, x.size(-1))
        embed_t = self.embed.t()
        dist = -(flat.pow(2).sum(1, keepdim=True) - 2 * flat @ embed_t + embed_t.pow(2).sum(0, keepdim=True))
        return dist.max(dim=-1).indices.view(*shape)

    def decode(self, indices: torch.Tensor) -> torch.Tensor:
        """indices [...] -> code vectors [..., D]."""
        return F.embedding(indices, self.embed)


class VectorQuantization(nn.Module):
    """A codebook applied to channel-first features [B, D, T]."""

    def __init__(self, dim: int, codebook_size: int) -> None:
        super().__init__()
        self._codebook = EuclideanCodebook(dim, codebook_size)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """[B, D, T] -> [B, T]."""
        return self._codebook.encode(x.transpose(1, 2))

    def decode(self, indices: torch.Tensor) -> torch.Tensor:
        """[B, T] -> [B, D, T]."""
        return self._codebook.decode(indices).transpose(1, 2)


class ResidualVectorQuantization(nn.Module):
    """A list of codebooks, each quantizing what the previous ones left over."""

    def __init__(self, num_quantizers: int, dim: int, codebook_size: int) -> None:
        super().__init__()
        self.layers = nn.ModuleList(VectorQuantization(dim, codebook_size) for _ in range(num_quantizers))


class ResidualVectorQuantizer(nn.Module):
    """Frozen RVQ (`quantizer.vq.layers.N._codebook.*` buffers): encode to codes, decode to features."""

    def __init__(self, dimension: int = 768, n_q: int = 1, bins: int = 1024) -> None:
        super().__init__()
        self.n_q = n_q
        self.vq = ResidualVectorQuantization(n_q, dimension, bins)

    def encode(self, x: torch.Tensor, n_q: int | None = None) -> torch.Tensor:
        """x [B, D, T] -> codes [n_q, B, T]."""
        residual = x
        codes = []
        for layer in self.vq.layers[: n_q or self.n_q]:
            idx = layer.encode(residual)
            residual = residual - layer.decode(idx)
            codes.append(idx)
        return torch.stack(codes)

    def decode(self, codes: torch.Tensor) -> torch.Tensor:
        """codes [n_q, B, T] -> features [B, D, T] (the sum over the used codebooks)."""
        out = self.vq.layers[0].decode(codes[0])
        for i in range(1, codes.size(0)):
            out = out + self.vq.layers[i].decode(codes[i])
        return out

    def forward(
        self, x: torch.Tensor, n_q: int | None = None, layers: list[int] | None = None
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, list[torch.Tensor]]:
        """Frozen quantization: (quantized [B,D,T], codes [n_q,B,T], commit loss 0, chosen layer outputs)."""
        residual = x
        total = torch.zeros_like(x)
        codes, picked = [], []
        for i, layer in enumerate(self.vq.layers[: n_q or self.n_q]):
            idx = layer.encode(residual)
            quantized = layer.decode(idx)
            residual = residual - quantized
            total = total + quantized
            codes.append(idx)
            if layers and i in layers:
                picked.append(quantized)
        commit_loss = torch.zeros((), dtype=x.dtype, device=x.device)
        return total, torch.stack(codes), commit_loss, picked
