"""Bottlenecks that hand the FDM one latent per sample: none (continuous), VQ and FSQ."""

from __future__ import annotations

import math
from typing import Sequence

import torch
from vector_quantize_pytorch import FSQ, VectorQuantize

from identlam.models.bottlenecks.base import DEAD_FRACTION, USAGE_DECAY, Bottled, Bottleneck, histogram_logs


class ContinuousBottleneck(Bottleneck):
    """No quantization: the IDM output of width ``dim`` is the latent (LAOM; LAOM's LAPO baseline)."""

    def __init__(self, dim: int):
        super().__init__()
        self.in_dim = self.fdm_latent_dim = self.latent_dim = int(dim)
        self.n_codes = None

    def forward(self, raw: torch.Tensor) -> Bottled:
        return Bottled(fdm_latent=raw, z=raw, codes=None, probs=None)


class VQBottleneck(Bottleneck):
    """EMA vector quantization with straight-through gradients, in LAPO's layout.

    The latent of size ``N * D * L`` (N = ``num_codebooks``, D = ``code_dim``, L =
    ``num_latents``) is read as ``x.view(B, N, D, L)``: token ``(n, l)`` is the D-vector
    ``x.view(B, N, D, L)[:, n, :, l]``, quantized by codebook ``n``. With ``shared_codebook``
    (LAPO's released config) codebook ``n`` serves all L positions; without it every token
    ``(n, l)`` has its own codebook (the variant the LAPO maintainer saw collapse). Tokens are
    numbered ``j = n * L + l``; ``codes`` is the joint code ``sum_j t_j * M**j`` (mixed radix,
    M = ``codebook_size``), so equal codes mean equal token tuples. ``z`` is the
    pre-quantization latent, as LAPO's downstream stages use.

    The codebooks follow their tokens by EMA (``decay``), never by gradient; the commitment
    loss (weight ``commitment``) pulls the IDM output toward its codes. LAPO initialises them
    uniformly and never revives a code: when the IDM's tokens differ little from sample to sample
    compared with their common offset (a small IDM early in training), every token lands on one
    code, the EMA drags that code after them and the FDM receives a constant. With
    ``dead_code_threshold`` > 0 a code whose EMA count (tokens per batch) falls below it is
    replaced by a token of the batch, which keeps the codes in use.
    """

    loss_terms = {"commitment": ("encoder", "idm")}
    updated_in_training = ("vq._codebook.embed",)

    def __init__(self, codebook_size: int, num_codebooks: int, num_latents: int, code_dim: int,
                 shared_codebook: bool = True, decay: float = 0.999, commitment: float = 0.05,
                 dead_code_threshold: float = 0.0):
        super().__init__()
        self.n, self.l, self.d, self.m = num_codebooks, num_latents, code_dim, codebook_size
        self.shared = shared_codebook
        self.in_dim = self.fdm_latent_dim = self.latent_dim = self.n * self.d * self.l
        n_tokens = self.n * self.l
        if n_tokens * math.log2(self.m) >= 63:
            raise ValueError(f"codebook_size: {self.m}**{n_tokens} joint codes overflow int64")
        self.n_codes = self.m ** n_tokens
        heads = self.n if self.shared else n_tokens
        self.vq = VectorQuantize(dim=self.d * heads, codebook_dim=self.d, codebook_size=self.m, heads=heads,
                                 separate_codebook_per_head=True, decay=decay, commitment_weight=commitment,
                                 rotation_trick=False, threshold_ema_dead_code=dead_code_threshold)
        self.register_buffer("radix", self.m ** torch.arange(n_tokens, dtype=torch.int64))

    def tokens_layout(self, x: torch.Tensor) -> torch.Tensor:
        """``(B, N*D*L)`` -> the library's ``(B, seq, heads*D)`` input."""
        b = x.shape[0]
        x = x.reshape(b, self.n, self.d, self.l)
        if self.shared:  # sequence = positions, heads = codebooks
            return x.permute(0, 3, 1, 2).reshape(b, self.l, self.n * self.d)
        return x.permute(0, 1, 3, 2).reshape(b, 1, self.n * self.l * self.d)

    def _from_tokens(self, q: torch.Tensor, idx: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        b = q.shape[0]
        if self.shared:
            q = q.reshape(b, self.l, self.n, self.d).permute(0, 2, 3, 1)
            tokens = idx.reshape(b, self.l, self.n).permute(0, 2, 1)
        else:
            q = q.reshape(b, self.n, self.l, self.d).permute(0, 1, 3, 2)
            tokens = idx.reshape(b, self.n, self.l)
        return q.reshape(b, -1), tokens.reshape(b, -1)

    def forward(self, raw: torch.Tensor) -> Bottled:
        # distances and the EMA codebook statistics in fp32, also under bf16 autocast
        with torch.autocast(device_type=raw.device.type, enabled=False):
            quantized, idx, commit = self.vq(self.tokens_layout(raw.float()))
        fdm_latent, tokens = self._from_tokens(quantized, idx)
        codes = (tokens.long() * self.radix).sum(-1)
        logs = histogram_logs(tokens, self.m)
        logs["perplexity"] = float(sum(histogram_logs(tokens[:, j], self.m)["perplexity"] for j in range(tokens.shape[1])))
        usage = self.vq._codebook.cluster_size
        usage = usage / usage.sum(-1, keepdim=True).clamp_min(1e-12)
        logs["dead_codes"] = float((usage < DEAD_FRACTION).sum())
        logs["codes_used"] = float(torch.unique(codes).numel())
        logs["commitment"] = float(commit.detach())
        return Bottled(fdm_latent=fdm_latent, z=raw.float(), codes=codes, probs=None, terms={"commitment": commit},
                       logs=logs)


class FSQBottleneck(Bottleneck):
    """Finite scalar quantization (vector-quantize-pytorch ``FSQ(levels, dim)``) of a ``dim``-wide latent.

    The library projects the latent to ``len(levels)`` scalars, rounds each to its grid and
    projects back (straight-through); ``z`` is the pre-quantization latent ``(B, dim)`` and
    ``codes`` index the ``prod(levels)`` grid points.
    """

    trained_by_reconstruction = ("fsq.",)  # its in/out projections (present when dim != len(levels))

    def __init__(self, levels: Sequence[int], dim: int):
        super().__init__()
        if any(level < 3 for level in levels):
            raise ValueError(f"levels: every level must be >= 3, got {list(levels)}")
        self.in_dim = self.fdm_latent_dim = self.latent_dim = int(dim)
        self.fsq = FSQ(levels=list(levels), dim=dim)
        self.n_codes = int(math.prod(levels))
        self.register_buffer("usage", torch.full((self.n_codes,), 1.0 / self.n_codes))

    def forward(self, raw: torch.Tensor) -> Bottled:
        quantized, idx = self.fsq(raw.float().unsqueeze(1))
        codes = idx.reshape(-1).long()
        logs = histogram_logs(codes, self.n_codes)
        if self.training:
            with torch.no_grad():
                batch = torch.bincount(codes, minlength=self.n_codes).to(self.usage.dtype) / codes.numel()
                self.usage.mul_(USAGE_DECAY).add_(batch, alpha=1 - USAGE_DECAY)
        logs["dead_codes"] = float((self.usage < DEAD_FRACTION).sum())
        return Bottled(fdm_latent=quantized.squeeze(1).to(raw.dtype), z=raw, codes=codes, probs=None, logs=logs)
