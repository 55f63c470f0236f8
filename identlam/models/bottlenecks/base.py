"""The contract every bottleneck between the IDM and the FDM meets.

A bottleneck is an ``nn.Module`` built from explicit constructor arguments (the config mapping
lives in :mod:`identlam.models.factory`) that declares:

- ``in_dim``: the width of the raw IDM output it reads, ``(B, in_dim)``;
- ``fdm_latent_dim``: the width of the latent the FDM is conditioned on;
- ``latent_dim``: the width of ``z``, the continuous latent handed to later stages;
- ``n_codes``: the size of its code set, or None for a continuous latent;
- ``evaluates_every_code``: True when the FDM runs once per code and the reconstruction is an
  expectation over codes (the model then builds an FDM that encodes its frames once per sample);
- ``loss_terms``: the loss terms it adds, each mapped to the parts of the model it must train
  (``"encoder"``, ``"idm"``, ``"fdm"``, or ``"bottleneck.NAME"`` for its own submodule or
  parameter ``NAME``); ``helper_terms`` the same for terms that train a helper and stay out of
  the reported objective;
- ``trained_by_reconstruction``: its own parameters (names as in ``named_parameters()``,
  prefixes allowed) that the reconstruction loss trains;
- ``updated_in_training``: its own buffers updated without gradients in training mode (an EMA
  codebook).

and implements :meth:`forward` (raw IDM output -> :class:`Bottled`), :meth:`reconstruction`
(per-sample reconstruction error, asking the model's FDM through a :class:`FDMProbe`) and
:meth:`losses` (its own terms). ``tests/models/bottleneck_contract.py`` checks all of it for
every registered bottleneck.

Diagnostics in ``Bottled.logs``: ``codes_used`` = distinct codes in the batch; ``perplexity`` =
exp(entropy of the batch code histogram, or of the batch-mean probabilities); ``dead_codes`` =
codes whose EMA usage fraction (decay :data:`USAGE_DECAY`) is below :data:`DEAD_FRACTION`.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass, field
from typing import Callable, ClassVar

import torch
from torch import nn

USAGE_DECAY = 0.99
DEAD_FRACTION = 1e-3


@dataclass
class Bottled:
    """What a bottleneck returns for a batch of raw IDM outputs.

    ``fdm_latent``: the latent the FDM sees ``(B, fdm_latent_dim)``, None when the FDM is evaluated
    for every code; ``z``: the continuous latent for later stages ``(B, latent_dim)``; ``codes``:
    int64 ``(B,)`` in ``[0, n_codes)`` or None; ``probs``: ``(B, n_codes)`` code probabilities or
    None; ``terms``: loss terms computed in the forward pass (VQ's commitment); ``logs``: floats.
    """

    fdm_latent: torch.Tensor | None
    z: torch.Tensor
    codes: torch.Tensor | None
    probs: torch.Tensor | None
    terms: dict[str, torch.Tensor] = field(default_factory=dict)
    logs: dict[str, float] = field(default_factory=dict)


@dataclass
class FDMProbe:
    """How a bottleneck asks the model's FDM for reconstruction errors on the current batch.

    ``per_sample(latents (B, d)) -> (B,)``: the error of the FDM conditioned on one latent per
    sample; ``per_code(embeddings (M, d)) -> (B, M)``: the error for every code embedding.
    """

    per_sample: Callable[[torch.Tensor], torch.Tensor]
    per_code: Callable[[torch.Tensor], torch.Tensor]


@dataclass
class BottleneckLoss:
    """A bottleneck's own loss terms: ``terms`` join the objective, ``helpers`` only the loss."""

    terms: dict[str, torch.Tensor] = field(default_factory=dict)
    helpers: dict[str, torch.Tensor] = field(default_factory=dict)
    logs: dict[str, float] = field(default_factory=dict)


class Bottleneck(nn.Module, metaclass=abc.ABCMeta):
    """Base class of the bottlenecks; subclasses set the declared attributes in ``__init__``."""

    in_dim: int
    fdm_latent_dim: int
    latent_dim: int
    n_codes: int | None
    evaluates_every_code: ClassVar[bool] = False
    loss_terms: ClassVar[dict[str, tuple[str, ...]]] = {}
    helper_terms: ClassVar[dict[str, tuple[str, ...]]] = {}
    trained_by_reconstruction: ClassVar[tuple[str, ...]] = ()
    updated_in_training: ClassVar[tuple[str, ...]] = ()

    @abc.abstractmethod
    def forward(self, raw: torch.Tensor) -> Bottled:
        """The IDM's raw output ``(B, in_dim)`` through the bottleneck."""

    def reconstruction(self, bottled: Bottled, fdm: FDMProbe) -> torch.Tensor:
        """Per-sample reconstruction error ``(B,)``: the FDM conditioned on ``fdm_latent``."""
        return fdm.per_sample(bottled.fdm_latent)

    def losses(self, bottled: Bottled, state: torch.Tensor, step: int, total_steps: int) -> BottleneckLoss:
        """Its own loss terms for this batch (``state``: the IDM's state embedding)."""
        return BottleneckLoss(terms=dict(bottled.terms))


def histogram_logs(codes: torch.Tensor, n_codes: int) -> dict[str, float]:
    counts = torch.bincount(codes.reshape(-1), minlength=n_codes).double()
    p = counts / counts.sum()
    h = -(p[p > 0] * p[p > 0].log()).sum()
    return {"codes_used": float((counts > 0).sum()), "perplexity": float(h.exp())}


def entropy(p: torch.Tensor, dim: int = -1) -> torch.Tensor:
    """Shannon entropy in nats along ``dim`` (0 log 0 = 0).

    The logarithm reads ``p`` clamped to the smallest normal float, so the gradient stays finite
    where a probability underflows to exactly 0 (``xlogy``'s derivative there is -inf, and the
    softmax then turns it into NaN); the value is unchanged.
    """
    return -(p * torch.log(p.clamp_min(torch.finfo(p.dtype).tiny))).sum(dim)
