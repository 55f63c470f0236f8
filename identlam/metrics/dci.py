"""DCI: disentanglement, completeness, informativeness (Eastwood & Williams 2018), dlib's variant.

Per factor ``k`` a ``GradientBoostingClassifier`` (sklearn defaults, as disentanglement_lib) is
fit on the train split to predict the factor's class from all latents; ``|feature_importances_|``
is column ``k`` of the importance matrix ``R`` ``(m latents, k factors)``. Then

- ``D_i = 1 - H_K(R_i. / sum R_i.)`` (entropy with log base K = #factors), ``D = sum_i rho_i D_i``
  with ``rho_i = sum R_i. / sum R``;
- ``C_k = 1 - H_M(R_.k / sum R_.k)`` (log base M = #latents), ``C = sum_k (sum R_.k / sum R) C_k``;
- ``informativeness_train`` / ``informativeness_test``: the classifiers' mean **accuracy** over
  factors, as dlib reports it (higher is better; the paper reports an error instead).

Entropies add 1e-11 to every entry as dlib does. An all-zero ``R`` gives ``D = C = 0`` (dlib).
Defined results where dlib returns NaN or raises:

- a factor with a single class in the train split (dlib: ValueError from the classifier) is
  excluded and listed in ``details["constant_factors"]``; if none remains, ``IdentlamError``;
- one factor (dlib: NaN from log base 1): every code is trivially dedicated, ``D_i = 1``;
- one latent (dlib: NaN): every factor is trivially captured by it, ``C_k = 1``.

The split is positional like dlib's ``split_train_test`` (first ``ceil(N * train_fraction)``
rows train), so shuffling samples changes the score; ``shuffle=True`` permutes with ``seed``
first. ``seed`` is also the classifiers' ``random_state``. ``max_train_samples`` fits on a seeded
subsample of the train split (for large N; not dlib-exact, and recorded in ``params``).
Latents enter the trees as numbers, so integer codes are split by their order.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from scipy.stats import entropy

from identlam.errors import IdentlamError
from identlam.metrics.discretize import factor_labels
from identlam.metrics.result import MetricResult
from identlam.metrics.validation import as_2d, check_positive_int, check_same_length

_EPS = 1e-11  # dlib's additive smoothing inside the entropies


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


def dci_disentanglement(importance: np.ndarray) -> tuple[float, np.ndarray]:
    """``(D, D_i per latent)`` from an importance matrix ``(m latents, k factors)``."""
    r = np.asarray(importance, dtype=np.float64)
    if r.shape[1] == 1:
        per_code = np.ones(r.shape[0])
    else:
        per_code = 1.0 - entropy(r.T + _EPS, base=r.shape[1])
    return _weighted(per_code, r.sum(axis=1), r), per_code


def dci_completeness(importance: np.ndarray) -> tuple[float, np.ndarray]:
    """``(C, C_k per factor)`` from an importance matrix ``(m latents, k factors)``."""
    r = np.asarray(importance, dtype=np.float64)
    if r.shape[0] == 1:
        per_factor = np.ones(r.shape[1])
    else:
        per_factor = 1.0 - entropy(r + _EPS, base=r.shape[0])
    return _weighted(per_factor, r.sum(axis=0), r), per_factor


def _weighted(per_item: np.ndarray, mass: np.ndarray, r: np.ndarray) -> float:
    total = r.sum()
    if total == 0.0:
        return 0.0  # nothing is predictive: dlib's uniform weights over per-item scores of 0
    return float(np.sum(per_item * mass / total))


def dci(
    latents: Any,
    factors: Any,
    *,
    train_fraction: float = 2 / 3,
    shuffle: bool = False,
    seed: int = 0,
    max_train_samples: int | None = None,
    gbt_params: dict[str, Any] | None = None,
    factor_discretizer: str = "identity",
    num_bins: int = 20,
) -> MetricResult:
    """DCI of ``latents`` ``(N, m)`` with respect to discrete ``factors`` ``(N, k)``.

    ``train_fraction=2/3`` mirrors dlib's study (10,000 train / 5,000 test). ``gbt_params``
    overrides ``GradientBoostingClassifier`` arguments (default: sklearn's defaults, as dlib).
    ``score`` is a dict with ``disentanglement``, ``completeness``, ``informativeness_train``,
    ``informativeness_test`` (accuracies). ``details``: ``importance_matrix`` ``(m, k)`` (zero
    columns for excluded factors), ``disentanglement_per_latent``, ``completeness_per_factor``,
    ``accuracy_train`` / ``accuracy_test`` per factor (None if excluded), ``constant_factors``.
    """
    from sklearn.ensemble import GradientBoostingClassifier

    x = as_2d(latents, "latents", min_samples=2)
    y, _ = factor_labels(factors, factor_discretizer, num_bins)
    n = check_same_length(latents=x, factors=y)
    train, test = split_indices(n, train_fraction, shuffle=shuffle, seed=seed)
    if max_train_samples is not None:
        max_train_samples = check_positive_int(max_train_samples, "max_train_samples", minimum=2)
        if train.size > max_train_samples:
            pick = np.random.default_rng(seed).choice(train.size, max_train_samples, replace=False)
            train = train[np.sort(pick)]
    params = dict(gbt_params or {})
    params.setdefault("random_state", seed)

    importance = np.zeros((x.shape[1], y.shape[1]))
    acc_train: list[float | None] = [None] * y.shape[1]
    acc_test: list[float | None] = [None] * y.shape[1]
    constant = [k for k in range(y.shape[1]) if np.unique(y[train, k]).size < 2]
    kept = [k for k in range(y.shape[1]) if k not in constant]
    if not kept:
        raise IdentlamError("factors: every factor has a single class in the train split; DCI is undefined")
    for k in kept:
        try:
            model = GradientBoostingClassifier(**params).fit(x[train], y[train, k])
        except (TypeError, ValueError) as exc:  # sklearn's InvalidParameterError is both
            raise IdentlamError(f"gbt_params: {str(exc).splitlines()[0]}") from None
        importance[:, k] = np.abs(model.feature_importances_)
        acc_train[k] = float(np.mean(model.predict(x[train]) == y[train, k]))
        acc_test[k] = float(np.mean(model.predict(x[test]) == y[test, k]))

    d, d_per = dci_disentanglement(importance[:, kept])
    c, c_per_kept = dci_completeness(importance[:, kept])
    c_per = np.zeros(y.shape[1])
    c_per[kept] = c_per_kept
    return MetricResult(
        name="dci",
        score={
            "disentanglement": d,
            "completeness": c,
            "informativeness_train": float(np.mean([acc_train[k] for k in kept])),
            "informativeness_test": float(np.mean([acc_test[k] for k in kept])),
        },
        details={
            "importance_matrix": importance,
            "disentanglement_per_latent": d_per,
            "completeness_per_factor": c_per,
            "accuracy_train": acc_train,
            "accuracy_test": acc_test,
            "constant_factors": constant,
        },
        params={
            "estimator": "GradientBoostingClassifier importances; informativeness = accuracy",
            "gbt_params": params,
            "train_fraction": float(train_fraction),
            "shuffle": shuffle,
            "seed": seed,
            "n_train": int(train.size),
            "n_test": int(test.size),
            "max_train_samples": max_train_samples,
            "factor_discretizer": factor_discretizer,
        },
    )
