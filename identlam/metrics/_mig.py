"""Mutual Information Gap (Chen et al. 2018), as disentanglement_lib computes it.

``MIG = mean_k (I_(1)k - I_(2)k) / H(v_k)``: for each ground-truth factor ``v_k``, the gap between
the largest and second-largest plug-in MI over the discretized latent dimensions, normalised by
the factor's plug-in entropy. MI and entropy in nats; the ratio is unitless and lies in [0, 1].

Defined results where disentanglement_lib returns NaN or raises:

- a constant factor (``H = 0``, dlib: 0/0 = NaN) is excluded from the mean and listed in
  ``details["constant_factors"]``; if every factor is constant an ``IdentlamError`` is raised;
- a single latent dimension (dlib: IndexError) has no runner-up, which counts as MI 0, so the
  gap is ``I_1 / H``;
- a constant latent dimension has MI 0 with every factor and simply never wins.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from identlam.metrics._result import MetricResult
from identlam.metrics._shared import entropies, factor_mi_matrix, top_two_gap


def mig(
    factors: Any,
    latents: Any,
    *,
    discretizer: str = "auto",
    num_bins: int = 20,
    factor_discretizer: str = "identity",
) -> MetricResult:
    """MIG of ``latents`` ``(N, m)`` with respect to discrete ``factors`` ``(N, k)``; higher is better.

    ``discretizer`` bins the latents (see :mod:`identlam.metrics._shared`; dlib's study
    setting is ``"equal_width"`` with 20 bins, which ``"auto"`` selects for float latents).
    ``factor_discretizer`` bins the factors with the same ``num_bins`` (default ``"identity"``:
    used as given, as dlib does; continuous factors then raise and must be binned explicitly).

    ``details``: ``mi_matrix`` ``(m, k)`` (nats), ``factor_entropy`` ``(k,)``, ``gap_per_factor``
    ``(k,)`` (normalised; 0 for excluded factors), ``best_latent`` ``(k,)``,
    ``constant_factors`` (excluded indices).

    >>> factors = [0, 0, 1, 1, 2, 2]
    >>> round(mig(factors, [[0, 5], [0, 3], [1, 5], [1, 3], [2, 5], [2, 3]]).score, 6)
    1.0
    >>> mig(factors, [[0, 0], [0, 0], [1, 1], [1, 1], [2, 2], [2, 2]]).score  # duplicated latent: no gap
    0.0
    """
    mi, y, y_levels, kept, constant, params = factor_mi_matrix(
        factors, latents, discretizer, num_bins, factor_discretizer, "MIG")
    h = entropies(y, y_levels)
    gaps = np.zeros(mi.shape[1])
    # Plug-in I <= H holds exactly; the clip only removes rounding above 1.
    gaps[kept] = np.minimum(top_two_gap(mi)[kept] / h[kept], 1.0)
    return MetricResult(
        name="mig",
        score=float(gaps[kept].mean()),
        details={
            "mi_matrix": mi,
            "factor_entropy": h,
            "gap_per_factor": gaps,
            "best_latent": np.argmax(mi, axis=0),
            "constant_factors": constant.tolist(),
        },
        params=params,
        greater_is_better=True,
    )
