"""The categorical bottleneck of entropy-regularized LAPO: an exact expectation over codes."""

from __future__ import annotations

import torch
from torch import nn

from identlam.config import EntropyConfig
from identlam.models.bottlenecks.base import (DEAD_FRACTION, USAGE_DECAY, Bottled, Bottleneck, BottleneckLoss,
                                              FDMProbe, entropy)
from identlam.models.schedules import coefficients


class CategoricalBottleneck(Bottleneck):
    """Softmax over ``n_codes`` codes with a learned code-embedding table of width ``code_dim``.

    The IDM emits logits ``(B, M)``; ``q = softmax(logits)``. The FDM is evaluated for every code
    embedding ``e_a`` (``(M, code_dim)``), and the reconstruction is the exact expectation
    ``sum_a q(a|.) loss(f(o, e_a))``: no sampling, no straight-through. ``z`` is the expected
    code embedding ``q @ E`` ``(B, code_dim)``; ``codes = argmax q``.

    Codes can be merged after training (:meth:`merge`, the label-free merge test of
    :mod:`identlam.train.merge`): ``code_map`` (a buffer, saved with the model) sends every code
    to the code that now carries its probability, ``q'(b) = sum_{a: map(a) = b} q(a)``; the
    identity map leaves ``q`` untouched.

    It owns its entropy terms (``entropy``: which term, its weight and schedule, see
    :func:`identlam.models.schedules.coefficients`) and a small latent-policy head
    ``pi(a | state)`` (width ``policy_hidden``) that estimates ``H(A^|S)`` (:meth:`policy_terms`).
    """

    evaluates_every_code = True
    loss_terms = {"entropy": ("encoder", "idm")}
    helper_terms = {"policy_fit": ("bottleneck.policy",)}
    trained_by_reconstruction = ("embedding",)

    def __init__(self, n_codes: int, code_dim: int, state_dim: int, policy_hidden: int,
                 entropy: EntropyConfig = EntropyConfig()):
        super().__init__()
        if n_codes < 2:
            raise ValueError(f"n_codes: must be >= 2, got {n_codes}")
        self.m = self.in_dim = self.n_codes = int(n_codes)
        self.fdm_latent_dim = self.latent_dim = int(code_dim)
        self.entropy_schedule = entropy
        self.embedding = nn.Parameter(torch.randn(n_codes, code_dim))
        self.policy = nn.Sequential(nn.Linear(state_dim, policy_hidden), nn.ReLU6(), nn.Linear(policy_hidden, n_codes))
        self.register_buffer("usage", torch.full((n_codes,), 1.0 / n_codes))
        self.register_buffer("code_map", torch.arange(n_codes))
        self.merged = False  # mirrors code_map != identity, so forward needs no device sync

    def merge(self, source: int, into: int) -> None:
        """From now on every code that carries ``source``'s probability gives it to ``into``."""
        for code in (source, into):
            if not 0 <= code < self.n_codes:
                raise ValueError(f"code: must lie in [0, {self.n_codes}), got {code}")
        self.code_map[self.code_map == source] = into
        self._sync_merged()

    def _sync_merged(self) -> None:
        self.merged = bool((self.code_map != torch.arange(self.n_codes, device=self.code_map.device)).any())

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs):
        # models saved before codes could be merged carry no map: the identity
        state_dict.setdefault(prefix + "code_map", torch.arange(self.n_codes))
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)
        self._sync_merged()

    def forward(self, logits: torch.Tensor) -> Bottled:
        probs = torch.softmax(logits.float(), dim=-1)
        if self.merged:
            probs = torch.zeros_like(probs).index_add_(1, self.code_map, probs)
        codes = probs.argmax(-1)
        z = probs @ self.embedding.float()
        mean_q = probs.mean(0)
        logs = {"codes_used": float(torch.unique(codes).numel()), "perplexity": float(entropy(mean_q.detach()).exp())}
        if self.training:
            with torch.no_grad():
                self.usage.mul_(USAGE_DECAY).add_(mean_q.detach().to(self.usage.dtype), alpha=1 - USAGE_DECAY)
        logs["dead_codes"] = float((self.usage < DEAD_FRACTION).sum())
        return Bottled(fdm_latent=None, z=z, codes=codes, probs=probs, logs=logs)

    def reconstruction(self, bottled: Bottled, fdm: FDMProbe) -> torch.Tensor:
        """``sum_a q(a|.) err(f(., e_a))`` per sample, from the FDM's errors for every code."""
        return (bottled.probs * fdm.per_code(self.embedding)).sum(-1)

    def losses(self, bottled: Bottled, state: torch.Tensor, step: int, total_steps: int) -> BottleneckLoss:
        """The weighted entropy terms (one weight is nonzero: the term ``entropy.kind`` names) and the
        latent-policy fit."""
        coef = coefficients(self.entropy_schedule, step, total_steps)
        q = bottled.probs
        h_cond = entropy(q).mean()
        h_marg = entropy(q.mean(0))
        fit, h_policy = self.policy_terms(q, state)
        weighted = coef["conditional"] * h_cond + coef["policy"] * h_policy + coef["marginal"] * h_marg
        logs = dict(h_conditional=float(h_cond.detach()), h_policy=float(h_policy.detach()),
                    h_marginal=float(h_marg.detach()), policy_fit=float(fit.detach()),
                    **{f"w_{k}": float(v) for k, v in coef.items()})
        # the fit keeps pi(a|s) at the minimizer of the H(A^|S) bound; it touches pi only
        return BottleneckLoss(terms={"entropy": weighted}, helpers={"policy_fit": fit}, logs=logs)

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
