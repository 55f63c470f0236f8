"""SAP, the Separated Attribute Predictability score (Kumar et al. 2018), as in disentanglement_lib.

A score matrix ``S`` ``(m latents, k factors)`` rates how well each single latent predicts each
factor; ``SAP = mean_k (max_i S_ik - second max_i S_ik)``, in [0, 1].

- ``continuous_factors=True``: ``S_ik`` is the squared Pearson correlation
  ``Cov(z_i, y_k)^2 / (Var z_i Var y_k)`` (ddof 1), and 0 for a latent with ``Var z_i <= 1e-12``
  (dlib's rule). Computed on all N samples (in-sample, so shuffling samples changes nothing).
- ``continuous_factors=False`` (dlib's study setting): ``S_ik`` is the plain test accuracy of
  ``LinearSVC(C=0.01, class_weight="balanced")`` fit on the single latent ``z_i`` (not
  standardised, as in dlib) over the positional train split (see :func:`dci.split_indices`).
  A constant latent scores the accuracy of the SVM's constant prediction, as in dlib.

Defined results where dlib returns NaN or raises: a constant factor (in discrete mode: one class
in the train split) is excluded from the mean and listed in ``details["constant_factors"]``
(``IdentlamError`` if none remains); a single latent has no runner-up, which counts as 0, so the
gap is ``max_i S_ik``.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from identlam.errors import IdentlamError
from identlam.metrics._shared import factor_labels, split_indices, top_two_gap
from identlam.metrics._result import MetricResult
from identlam.metrics._validation import as_2d, check_same_length

_MIN_VARIANCE = 1e-12  # dlib: latents with smaller variance score 0 in continuous mode


def sap(
    factors: Any,
    latents: Any,
    *,
    continuous_factors: bool = False,
    train_fraction: float = 2 / 3,
    shuffle: bool = False,
    seed: int = 0,
    factor_discretizer: str = "identity",
    num_bins: int = 20,
) -> MetricResult:
    """SAP of ``latents`` ``(N, m)`` with respect to ``factors`` ``(N, k)``.

    ``train_fraction``, ``shuffle``, ``seed`` and ``factor_discretizer`` matter in discrete mode
    only (``seed`` is the SVMs' ``random_state`` and the shuffle's seed). ``details``:
    ``score_matrix`` ``(m, k)``, ``gap_per_factor`` ``(k,)`` (0 for excluded factors),
    ``best_latent`` ``(k,)``, ``constant_factors``. Higher is better.

    >>> factors = [[0.0], [1.0], [2.0], [3.0]]
    >>> round(sap(factors, [[0.0, 1.0], [2.0, 1.0], [4.0, 1.0], [6.0, 1.0]], continuous_factors=True).score, 6)
    1.0
    """
    x = as_2d(latents, "latents", min_samples=2)
    if continuous_factors:
        y = as_2d(factors, "factors")
        check_same_length(latents=x, factors=y)
        constant = np.flatnonzero(np.ptp(y, axis=0) == 0).tolist()
        scores = _correlation_scores(x, y)
        params: dict[str, Any] = {"estimator": "squared Pearson correlation (ddof=1)"}
    else:
        y, _ = factor_labels(factors, factor_discretizer, num_bins)
        n = check_same_length(latents=x, factors=y)
        train, test = split_indices(n, train_fraction, shuffle=shuffle, seed=seed)
        constant = [k for k in range(y.shape[1]) if np.unique(y[train, k]).size < 2]
        scores = _svm_scores(x, y, train, test, constant, seed)
        params = {
            "estimator": "LinearSVC(C=0.01, class_weight='balanced') test accuracy per latent",
            "train_fraction": float(train_fraction),
            "shuffle": shuffle,
            "seed": seed,
            "n_train": int(train.size),
            "n_test": int(test.size),
            "factor_discretizer": factor_discretizer,
        }
    kept = np.setdiff1d(np.arange(y.shape[1]), constant)
    if kept.size == 0:
        raise IdentlamError("factors: every factor is constant; SAP is undefined")
    gaps = np.zeros(scores.shape[1])
    gaps[kept] = top_two_gap(scores)[kept]
    return MetricResult(
        name="sap",
        score=float(gaps[kept].mean()),
        details={
            "score_matrix": scores,
            "gap_per_factor": gaps,
            "best_latent": np.argmax(scores, axis=0),
            "constant_factors": list(constant),
        },
        params={"continuous_factors": continuous_factors, **params},
        greater_is_better=True,
    )


def _correlation_scores(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    xc = x - x.mean(axis=0)
    yc = y - y.mean(axis=0)
    dof = x.shape[0] - 1
    cov = xc.T @ yc / dof
    var_x = np.einsum("ij,ij->j", xc, xc) / dof
    var_y = np.einsum("ij,ij->j", yc, yc) / dof
    with np.errstate(divide="ignore", invalid="ignore"):
        scores = cov**2 / np.outer(var_x, var_y)
    scores[var_x <= _MIN_VARIANCE, :] = 0.0
    scores[:, np.ptp(y, axis=0) == 0] = 0.0  # constant factors: excluded by the caller
    return np.clip(scores, 0.0, 1.0)  # Cauchy-Schwarz; the clip removes rounding only


def _svm_scores(
    x: np.ndarray, y: np.ndarray, train: np.ndarray, test: np.ndarray, skip: list[int], seed: int
) -> np.ndarray:
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.svm import LinearSVC

    scores = np.zeros((x.shape[1], y.shape[1]))
    for i in range(x.shape[1]):
        z_train, z_test = x[train, i : i + 1], x[test, i : i + 1]
        for k in range(y.shape[1]):
            if k in skip:
                continue
            model = LinearSVC(C=0.01, class_weight="balanced", random_state=seed)
            with warnings.catch_warnings():
                # dlib runs liblinear with its default iteration cap; keep its numbers, not noise
                warnings.simplefilter("ignore", ConvergenceWarning)
                model.fit(z_train, y[train, k])
            scores[i, k] = np.mean(model.predict(z_test) == y[test, k])
    return scores
