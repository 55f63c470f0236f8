"""Helpers shared by several metrics: discretizers, plug-in entropy and MI, splits, correlation.

Metrics import these from here and never from one another.

Conventions: arrays are ``(N, d)`` (1-D accepted as one column); every discretized column is
int64 labels ``0..n_levels-1``; mutual information and entropy are plug-in estimates in nats.

Discretizers (``method``):

- ``"equal_width"``: disentanglement_lib's histogram discretizer. Per column, ``num_bins`` bins of
  equal width over ``[min, max]``; the edges are ``np.histogram_bin_edges(x, num_bins)`` and a
  value's bin is the number of left edges ``<= x``, so the maximum lands in the last bin (dlib
  numbers bins 1..B, we number them 0..B-1; MI does not depend on the names). A constant column
  is one bin. Not invariant under nonlinear monotone maps of a code.
- ``"quantile"``: equal-frequency bins from ranks, ``bin = floor(num_bins * r / N)`` with ``r``
  the 0-based rank (ties share the smallest rank, so equal values share a bin). Depends on the
  order of values only: invariant under every strictly increasing map.
- ``"identity"``: each distinct whole-number value is its own bin (categorical codes, VQ
  indices, discrete factors). Fractional values raise.
- ``"auto"`` (default for latents): ``identity`` for integer and bool dtypes, ``equal_width``
  for floats. So categorical codes are never merged by equal-width bins: a float column that
  holds only whole numbers with more distinct values than ``num_bins`` raises instead of being
  binned silently; pass ``"identity"`` or ``"equal_width"`` explicitly to choose.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from scipy.stats import rankdata

from identlam.errors import IdentlamError
from identlam.metrics._validation import (
    as_2d,
    as_labels,
    check_2d_shape,
    check_choice,
    check_positive_int,
    check_same_length,
    dense_labels,
)

DISCRETIZERS = ("auto", "equal_width", "quantile", "identity")


def discretize(
    x: Any, method: str = "auto", num_bins: int = 20, *, name: str = "latents"
) -> tuple[np.ndarray, np.ndarray, str]:
    """Discretize each column of ``x`` ``(N, d)``.

    Returns ``(labels, n_levels, method_used)``: int64 labels ``(N, d)`` in ``0..n_levels[j]-1``,
    the number of levels per column ``(d,)`` (bins for the binning methods, distinct values for
    identity; empty bins count), and the method actually applied (``"auto"`` resolved).
    """
    check_choice(method, "discretizer", DISCRETIZERS)
    num_bins = check_positive_int(num_bins, "num_bins")
    try:
        raw = np.asarray(x)
    except ValueError:  # ragged nested sequences
        raise IdentlamError(f"{name}: not a rectangular array") from None
    if method == "auto":
        method = "identity" if raw.dtype.kind in "iub" else "equal_width"
        auto = True
    else:
        auto = False
    if method == "identity":
        cols = raw[:, None] if raw.ndim == 1 else raw
        check_2d_shape(cols, name)
        # Built as contiguous rows (d, N) and returned transposed: per-variable passes stay fast.
        labels = np.stack([_identity(cols[:, j], f"{name} column {j}") for j in range(cols.shape[1])]).T
        return labels, labels.max(axis=0) + 1, method
    values = as_2d(raw, name)
    if auto:
        _refuse_silent_merge(values, num_bins, name)
    if method == "equal_width":
        labels = np.stack([_equal_width(row, num_bins) for row in np.ascontiguousarray(values.T)]).T
    else:
        labels = _quantile(values, num_bins)
    return labels, np.full(values.shape[1], num_bins, dtype=np.int64), method


def _identity(column: np.ndarray, name: str) -> np.ndarray:
    """Labels ``0..m-1`` in sorted order of the distinct values (as ``np.unique``'s inverse)."""
    if column.dtype.kind in "iu":
        return dense_labels(column)
    return as_labels(column, name)


def _equal_width(column: np.ndarray, num_bins: int) -> np.ndarray:
    """``np.digitize(x, edges[:-1]) - 1`` (dlib's rule), without a binary search per value.

    The bin is first guessed arithmetically, then moved by at most one so that
    ``edges[k] <= x < edges[k + 1]`` holds for the very edges numpy computes; the result is
    identical to ``np.digitize`` and several times faster on unsorted data.
    """
    edges = np.histogram_bin_edges(column, num_bins)
    step = (edges[-1] - edges[0]) / num_bins
    guess = np.floor((column - edges[0]) / step)
    k = np.clip(guess, 0, num_bins - 1).astype(np.int64)
    k -= column < edges[k]
    upper = np.append(edges[1:-1], np.inf)  # upper[k] = left edge of bin k + 1
    k += column >= upper[k]
    return k


def _quantile(values: np.ndarray, num_bins: int) -> np.ndarray:
    ranks = rankdata(values, method="min", axis=0).astype(np.int64) - 1
    return (ranks * num_bins) // values.shape[0]


def _refuse_silent_merge(values: np.ndarray, num_bins: int, name: str) -> None:
    whole = values == np.round(values)
    for j in np.flatnonzero(whole.all(axis=0)):
        n_distinct = np.unique(values[:, j]).size
        if n_distinct > num_bins:
            raise IdentlamError(
                f"{name} column {j}: float column holds {n_distinct} whole-number values (more "
                f"than num_bins={num_bins}); pass discretizer='identity' for categorical codes "
                "or 'equal_width' to bin them"
            )


def factor_labels(
    factors: Any, discretizer: str = "identity", num_bins: int = 20
) -> tuple[np.ndarray, np.ndarray]:
    """Ground-truth factors as labels ``(N, k)`` and level counts ``(k,)``.

    Factors are used as given by default (``identity``, as disentanglement_lib does); continuous
    factors must be binned explicitly with ``discretizer="equal_width"`` or ``"quantile"``.
    """
    labels, levels, _ = discretize(factors, discretizer, num_bins, name="factors")
    return labels, levels


def factor_mi_matrix(factors: Any, latents: Any, discretizer: str, num_bins: int, factor_discretizer: str,
                     metric: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, dict]:
    """The plug-in MI matrix ``(latents, factors)`` behind MIG and modularity, with what they share.

    Returns ``(mi, factor labels, factor levels, kept factor indices, constant factor indices,
    params)``; raises naming ``factors`` when every factor is constant (``metric`` is undefined).
    """
    latent_labels, latent_levels, used = discretize(latents, discretizer, num_bins)
    y, y_levels = factor_labels(factors, factor_discretizer, num_bins)
    check_same_length(latents=latent_labels, factors=y)
    mi = mutual_info_matrix(latent_labels, latent_levels, y, y_levels)
    constant = constant_columns(occupied_levels(y))
    kept = np.setdiff1d(np.arange(y.shape[1]), constant)
    if kept.size == 0:
        raise IdentlamError(f"factors: every factor is constant (zero entropy); {metric} is undefined")
    params = {
        "estimator": "plug-in MI (nats) on discretized latents",
        "discretizer": used,
        "num_bins": num_bins if used != "identity" else None,
        "factor_discretizer": factor_discretizer,
        "n_samples": int(y.shape[0]),
    }
    return mi, y, y_levels, kept, constant, params


def entropies(labels: np.ndarray, n_levels: np.ndarray) -> np.ndarray:
    """Plug-in entropy (nats) of each column of ``labels`` ``(N, d)``; returns ``(d,)``."""
    n = labels.shape[0]
    rows = np.ascontiguousarray(labels.T)
    out = np.empty(labels.shape[1])
    for j in range(labels.shape[1]):
        counts = np.bincount(rows[j], minlength=n_levels[j])
        p = counts[counts > 0] / n
        out[j] = float(-(p * np.log(p)).sum())
    return out


def mutual_info_matrix(
    a: np.ndarray, a_levels: np.ndarray, b: np.ndarray, b_levels: np.ndarray
) -> np.ndarray:
    """Plug-in MI (nats) between every column of ``a`` ``(N, p)`` and of ``b`` ``(N, q)``.

    One contingency table per pair from a single ``np.bincount`` of the joint label
    ``a * levels_b + b``; equal to ``sklearn.metrics.mutual_info_score`` per pair (up to
    floating-point rounding), and clipped at 0 like it. Returns ``(p, q)``.
    """
    n = a.shape[0]
    log_n = np.log(n)
    out = np.zeros((a.shape[1], b.shape[1]))
    a_rows, b_rows = np.ascontiguousarray(a.T), np.ascontiguousarray(b.T)  # contiguous passes
    b_counts = [np.bincount(b_rows[j], minlength=b_levels[j]) for j in range(b.shape[1])]
    b_constant = [np.count_nonzero(c) <= 1 for c in b_counts]
    for i in range(a.shape[1]):
        a_count = np.bincount(a_rows[i], minlength=a_levels[i])
        for j in range(b.shape[1]):
            if b_constant[j] or np.count_nonzero(a_count) <= 1:
                continue  # exactly 0, as sklearn; the sum below would leave rounding residue
            joint = np.bincount(a_rows[i] * b_levels[j] + b_rows[j], minlength=a_levels[i] * b_levels[j])
            rows, cols = np.nonzero(joint.reshape(a_levels[i], b_levels[j]))
            c = joint.reshape(a_levels[i], b_levels[j])[rows, cols].astype(np.float64)
            log_ratio = np.log(c) + log_n - np.log(a_count[rows] * b_counts[j][cols].astype(np.float64))
            out[i, j] = max(float((c * log_ratio).sum() / n), 0.0)
    return out


def constant_columns(n_levels_used: np.ndarray) -> np.ndarray:
    """Indices of columns with a single occupied level (their entropy is exactly 0)."""
    return np.flatnonzero(np.asarray(n_levels_used) <= 1)


def occupied_levels(labels: np.ndarray) -> np.ndarray:
    """Number of distinct labels actually present in each column of ``labels`` ``(N, d)``."""
    return np.array([np.count_nonzero(np.bincount(row)) for row in np.ascontiguousarray(labels.T)],
                    dtype=np.int64)


# ------------------------------------------------------------------ plug-in entropy of labels
def is_discrete(x, flag: bool | None = None) -> bool:
    """Dtype rule: integer, bool and string arrays are discrete unless ``flag`` says otherwise."""
    if flag is not None:
        return bool(flag)
    return np.asarray(x).dtype.kind in "iubUSO"


def plugin_entropy(labels: np.ndarray) -> float:
    """Plug-in entropy (nats) of 1-D int labels ``0..m-1``."""
    counts = np.bincount(labels)
    p = counts[counts > 0] / labels.size
    return float(-(p * np.log(p)).sum())


def joint_labels(*labels: np.ndarray) -> np.ndarray:
    """One int label per row for several discrete variables given as 1-D int labels."""
    return as_labels(np.column_stack(labels), "joint")


def _n_occupied(labels: np.ndarray) -> int:
    return int(np.unique(labels).size)


# ------------------------------------------------------------------ splits, gaps, correlation
def split_indices(
    n: int, train_fraction: float, *, shuffle: bool = False, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Train and test row indices: the first ``ceil(n * train_fraction)`` rows train (dlib).

    With ``shuffle=True`` the rows are permuted by ``np.random.default_rng(seed)`` first.
    """
    if not 0.0 < float(train_fraction) < 1.0:
        raise IdentlamError(f"train_fraction: expected a number in (0, 1), got {train_fraction!r}")
    n_train = math.ceil(n * train_fraction)
    if n_train >= n:
        raise IdentlamError(f"train_fraction: {train_fraction} of {n} samples leaves no test samples")
    order = np.random.default_rng(seed).permutation(n) if shuffle else np.arange(n)
    return order[:n_train], order[n_train:]


def top_two_gap(scores: np.ndarray) -> np.ndarray:
    """Per column of ``scores`` ``(latents, factors)``: best minus second-best latent.

    With a single latent the missing runner-up counts as 0 (dlib raises IndexError there).
    Shared by MIG (on MI) and SAP (on predictability scores).
    """
    ordered = np.sort(scores, axis=0)[::-1]
    runner_up = ordered[1] if scores.shape[0] > 1 else np.zeros(scores.shape[1])
    return ordered[0] - runner_up


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
