"""Mean correlation coefficient (Hyvarinen & Morioka; Khemakhem et al.), divided by the true dimension.

``MCC = (1/k) sum_j |rho(y_j, z_pi(j))|`` over the k ground-truth factors, where the matching
``pi`` (Hungarian, ``scipy.optimize.linear_sum_assignment``) maximises the summed ``|rho|``
between factors and latent dimensions. A factor left unmatched because there are fewer latents
than factors counts as 0, so a model that misses a true latent cannot score 1 (the reference
``mean_corr_coef`` averages over matched pairs only). ``method``: ``"pearson"`` (invariant to
per-dimension affine maps) or ``"spearman"`` (Pearson on average ranks, as
``scipy.stats.spearmanr``; invariant to strictly monotone maps). In [0, 1].

Defined results where the reference code fails: a constant latent has correlation 0 with every
factor (reference: NaN, then ``linear_sum_assignment`` raises); a constant factor is excluded
from the mean and listed in ``details["constant_factors"]``, ``IdentlamError`` if none remains;
one dimension on either side is an ordinary (N, 1) array.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.optimize import linear_sum_assignment
from scipy.stats import rankdata

from identlam.errors import IdentlamError
from identlam.metrics.result import MetricResult
from identlam.metrics.validation import as_2d, check_choice, check_same_length


def correlation_matrix(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Pearson correlation between the columns of ``x`` ``(N, p)`` and ``y`` ``(N, q)``.

    Returns ``(p, q)``; pairs involving a constant column are 0.
    """
    return np.clip(_unit_rows(x) @ _unit_rows(y).T, -1.0, 1.0)


def _unit_rows(a: np.ndarray) -> np.ndarray:
    """Columns of ``a`` centred and scaled to unit norm, as contiguous rows ``(d, N)``."""
    rows = np.ascontiguousarray(a.T)  # per-variable reductions then run over contiguous memory
    constant = rows.max(axis=1) == rows.min(axis=1)
    rows -= rows.mean(axis=1, keepdims=True)
    norm = np.sqrt(np.einsum("ij,ij->i", rows, rows))
    # Exactly constant columns can keep rounding residue after centring; force them to 0.
    rows[constant] = 0.0
    rows /= np.where(constant, 1.0, norm)[:, None]
    return rows


def mcc(latents: Any, factors: Any, *, method: str = "pearson") -> MetricResult:
    """MCC of ``latents`` ``(N, m)`` against the true ``factors`` ``(N, k)``, averaged over k.

    ``details``: ``correlation`` ``(m, k)`` signed correlation matrix, ``assignment`` ``(k,)``
    the latent matched to each factor (-1 if none), ``matched_abs_correlation`` ``(k,)``
    (0 where unmatched or excluded), ``constant_factors``.
    """
    check_choice(method, "method", ("pearson", "spearman"))
    z = as_2d(latents, "latents", min_samples=2)
    y = as_2d(factors, "factors", min_samples=2)
    check_same_length(latents=z, factors=y)
    if method == "spearman":
        z = rankdata(z, method="average", axis=0)
        y = rankdata(y, method="average", axis=0)
    corr = correlation_matrix(z, y)
    constant = np.flatnonzero(np.ptp(y, axis=0) == 0)
    kept = np.setdiff1d(np.arange(y.shape[1]), constant)
    if kept.size == 0:
        raise IdentlamError("factors: every factor is constant; MCC is undefined")
    strength = np.abs(corr[:, kept]).T  # (kept factors, latents)
    rows, cols = linear_sum_assignment(strength, maximize=True)
    assignment = np.full(y.shape[1], -1, dtype=np.int64)
    matched = np.zeros(y.shape[1])
    assignment[kept[rows]] = cols
    matched[kept[rows]] = strength[rows, cols]
    return MetricResult(
        name="mcc",
        score=float(matched[kept].sum() / kept.size),
        details={
            "correlation": corr,
            "assignment": assignment,
            "matched_abs_correlation": matched,
            "constant_factors": constant.tolist(),
        },
        params={
            "estimator": f"{method} correlation, Hungarian matching, mean over true factors",
            "method": method,
            "n_samples": int(y.shape[0]),
        },
    )
