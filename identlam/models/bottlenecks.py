"""The information bottlenecks between the IDM and the FDM: none, VQ, FSQ, categorical.

Each bottleneck takes the raw IDM output ``(B, in_dim)`` and returns a :class:`Bottled`:
``fdm_latent`` the latent the FDM sees ``(B, d)`` (None for the categorical bottleneck, whose FDM
is evaluated for every code), ``z`` the continuous latent handed to later stages ``(B, d_out)``,
``codes`` int64 ``(B,)`` or None, ``probs`` ``(B, M)`` or None, ``aux_loss`` (commitment), and
float ``logs`` (collapse diagnostics).

Diagnostics: ``codes_used`` = distinct codes in the batch; ``perplexity`` = exp(entropy of the
batch code histogram, or of the batch-mean probabilities for the categorical one);
``dead_codes`` = codes whose EMA usage fraction (decay :data:`USAGE_DECAY`) is below
:data:`DEAD_FRACTION`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import torch
from torch import nn
from vector_quantize_pytorch import FSQ, VectorQuantize

from identlam.config import LAMConfig
from identlam.errors import ConfigError

USAGE_DECAY = 0.99
DEAD_FRACTION = 1e-3


@dataclass
class Bottled:
    fdm_latent: torch.Tensor | None
    z: torch.Tensor
    codes: torch.Tensor | None
    probs: torch.Tensor | None
    aux_loss: torch.Tensor | None = None
    logs: dict[str, float] = field(default_factory=dict)


def _histogram_logs(codes: torch.Tensor, n_codes: int) -> dict[str, float]:
    counts = torch.bincount(codes.reshape(-1), minlength=n_codes).double()
    p = counts / counts.sum()
    h = -(p[p > 0] * p[p > 0].log()).sum()
    return {"codes_used": float((counts > 0).sum()), "perplexity": float(h.exp())}


class ContinuousBottleneck(nn.Module):
    """No quantization: the IDM output is the latent (LAOM; LAPO in the LAOM repository)."""

    def __init__(self, cfg: LAMConfig):
        super().__init__()
        self.in_dim = self.out_dim = self.latent_dim_out = cfg.latent_dim
        self.n_codes_out = None

    def forward(self, raw: torch.Tensor) -> Bottled:
        return Bottled(fdm_latent=raw, z=raw, codes=None, probs=None)


class VQBottleneck(nn.Module):
    """EMA vector quantization with straight-through gradients, in LAPO's layout.

    The latent of size ``N * D * L`` (N = ``vq_num_codebooks``, D = ``vq_code_dim``,
    L = ``vq_num_latents``) is read as ``x.view(B, N, D, L)``: token ``(n, l)`` is the D-vector
    ``x.view(B, N, D, L)[:, n, :, l]``, quantized by codebook ``n``. With
    ``vq_shared_codebook`` (LAPO's released config) codebook ``n`` serves all L positions; without
    it every token ``(n, l)`` has its own codebook (the variant the LAPO maintainer saw collapse).
    Tokens are numbered ``j = n * L + l``; ``codes`` is the joint code ``sum_j t_j * M**j``
    (mixed radix, M = ``vq_codebook_size``), so equal codes mean equal token tuples.
    ``z`` is the pre-quantization latent, as LAPO's downstream stages use.
    """

    def __init__(self, cfg: LAMConfig):
        super().__init__()
        self.n, self.l, self.d, self.m = cfg.vq.num_codebooks, cfg.vq.num_latents, cfg.vq.code_dim, cfg.vq.codebook_size
        self.shared = cfg.vq.shared_codebook
        self.in_dim = self.out_dim = self.latent_dim_out = self.n * self.d * self.l
        n_tokens = self.n * self.l
        if n_tokens * math.log2(self.m) >= 63:
            raise ConfigError(f"model.vq_codebook_size: {self.m}**{n_tokens} joint codes overflow int64")
        self.n_codes_out = self.m ** n_tokens
        heads = self.n if self.shared else n_tokens
        self.vq = VectorQuantize(dim=self.d * heads, codebook_dim=self.d, codebook_size=self.m, heads=heads,
                                 separate_codebook_per_head=True, decay=cfg.vq.decay,
                                 commitment_weight=cfg.vq.commitment, rotation_trick=False)
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
        logs = _histogram_logs(tokens, self.m)
        logs["perplexity"] = float(sum(_histogram_logs(tokens[:, j], self.m)["perplexity"] for j in range(tokens.shape[1])))
        usage = self.vq._codebook.cluster_size
        usage = usage / usage.sum(-1, keepdim=True).clamp_min(1e-12)
        logs["dead_codes"] = float((usage < DEAD_FRACTION).sum())
        logs["codes_used"] = float(torch.unique(codes).numel())
        logs["commitment"] = float(commit.detach())
        return Bottled(fdm_latent=fdm_latent, z=raw.float(), codes=codes, probs=None, aux_loss=commit, logs=logs)


class FSQBottleneck(nn.Module):
    """Finite scalar quantization (vector-quantize-pytorch ``FSQ``) with its own in/out projections.

    ``z`` is the pre-quantization latent ``(B, latent_dim)``; ``codes`` index the
    ``prod(fsq_levels)`` grid points.
    """

    def __init__(self, cfg: LAMConfig):
        super().__init__()
        self.in_dim = self.out_dim = self.latent_dim_out = cfg.latent_dim
        if any(level < 3 for level in cfg.fsq.levels):
            raise ConfigError(f"model.fsq_levels: every level must be >= 3, got {list(cfg.fsq.levels)}")
        self.fsq = FSQ(levels=list(cfg.fsq.levels), dim=cfg.latent_dim)
        self.n_codes_out = int(math.prod(cfg.fsq.levels))
        self.register_buffer("usage", torch.full((self.n_codes_out,), 1.0 / self.n_codes_out))

    def forward(self, raw: torch.Tensor) -> Bottled:
        quantized, idx = self.fsq(raw.float().unsqueeze(1))
        codes = idx.reshape(-1).long()
        logs = _histogram_logs(codes, self.n_codes_out)
        if self.training:
            with torch.no_grad():
                batch = torch.bincount(codes, minlength=self.n_codes_out).to(self.usage.dtype) / codes.numel()
                self.usage.mul_(USAGE_DECAY).add_(batch, alpha=1 - USAGE_DECAY)
        logs["dead_codes"] = float((self.usage < DEAD_FRACTION).sum())
        return Bottled(fdm_latent=quantized.squeeze(1).to(raw.dtype), z=raw, codes=codes, probs=None, logs=logs)


def entropy(p: torch.Tensor, dim: int = -1) -> torch.Tensor:
    """Shannon entropy in nats along ``dim`` (0 log 0 = 0)."""
    return -(torch.special.xlogy(p, p)).sum(dim)


class CategoricalBottleneck(nn.Module):
    """Softmax over ``n_codes`` with a learned code-embedding table (entropy-regularized LAPO).

    The IDM emits logits ``(B, M)``; ``q = softmax(logits)``. The FDM is evaluated
    for every code embedding ``e_a`` (``(M, latent_dim)``), and the model takes the exact
    expectation ``sum_a q(a|.) loss(f(o, e_a))``: no sampling, no straight-through.
    ``z`` is the expected code embedding ``q @ E`` ``(B, latent_dim)``; ``codes = argmax q``.
    A small latent-policy head ``pi(a | e_t)`` estimates ``H(A^|S)`` (see :meth:`policy_terms`).
    """

    def __init__(self, cfg: LAMConfig, state_dim: int):
        super().__init__()
        if cfg.n_codes < 2:
            raise ConfigError(f"model.n_codes: must be >= 2, got {cfg.n_codes}")
        self.m = cfg.n_codes
        self.in_dim = cfg.n_codes
        self.out_dim = self.latent_dim_out = cfg.latent_dim
        self.n_codes_out = cfg.n_codes
        self.embedding = nn.Parameter(torch.randn(cfg.n_codes, cfg.latent_dim))
        self.policy = nn.Sequential(nn.Linear(state_dim, cfg.hidden_dim), nn.ReLU6(), nn.Linear(cfg.hidden_dim, cfg.n_codes))
        self.register_buffer("usage", torch.full((cfg.n_codes,), 1.0 / cfg.n_codes))

    def forward(self, logits: torch.Tensor) -> Bottled:
        probs = torch.softmax(logits.float(), dim=-1)
        codes = probs.argmax(-1)
        z = probs @ self.embedding.float()
        mean_q = probs.mean(0)
        logs = {"codes_used": float(torch.unique(codes).numel()), "perplexity": float(entropy(mean_q.detach()).exp())}
        if self.training:
            with torch.no_grad():
                self.usage.mul_(USAGE_DECAY).add_(mean_q.detach().to(self.usage.dtype), alpha=1 - USAGE_DECAY)
        logs["dead_codes"] = float((self.usage < DEAD_FRACTION).sum())
        return Bottled(fdm_latent=None, z=z, codes=codes, probs=probs, logs=logs)

    def policy_terms(self, probs: torch.Tensor, state: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``(fit, h_policy)`` for the latent-policy entropy ``H(A^|S)``.

        ``CE(q, pi) = E[-sum_a q(a|s,s') log pi(a|s)]`` is minimized over ``pi`` by
        ``pi = q(.|s) = E_{s'} q(.|s,s')`` where it equals ``H(A^|S)``; its gradient in ``q`` at
        that point is the gradient of ``H(A^|S)``. So ``fit`` (``pi`` on detached ``q`` and a
        detached state, weight 1) keeps the head at the minimizer, and ``h_policy`` (``q``
        against the detached ``pi``) is the estimate the entropy weight multiplies.
        """
        log_pi = torch.log_softmax(self.policy(state.detach()).float(), dim=-1)
        fit = -(probs.detach() * log_pi).sum(-1).mean()
        h_policy = -(probs * log_pi.detach()).sum(-1).mean()
        return fit, h_policy
