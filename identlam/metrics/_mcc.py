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
from identlam.metrics._result import MetricResult
from identlam.metrics._shared import correlation_matrix
from identlam.metrics._validation import as_2d, check_choice, check_same_length


def mcc(factors: Any, latents: Any, *, method: str = "pearson") -> MetricResult:
    """MCC of ``latents`` ``(N, m)`` against the true ``factors`` ``(N, k)``, averaged over k.

    ``details``: ``correlation`` ``(m, k)`` signed correlation matrix, ``assignment`` ``(k,)``
    the latent matched to each factor (-1 if none), ``matched_abs_correlation`` ``(k,)``
    (0 where unmatched or excluded), ``constant_factors``. Higher is better.

    >>> factors = [[0.0, 1.0], [1.0, 0.0], [2.0, 2.0], [3.0, 0.5]]
    >>> round(mcc(factors, [[-2 * b, a + 1] for a, b in factors]).score, 6)  # permuted, rescaled
    1.0
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
        greater_is_better=True,
    )
