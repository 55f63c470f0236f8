"""Modularity and explicitness (Ridgeway & Mozer 2018), as in disentanglement_lib.

Modularity works on the plug-in MI matrix ``m`` ``(latents, factors)`` of the discretized latents
(nats; the same matrix as MIG). Per latent ``i``: ``theta_i = max_k m_ik``,
``delta_i = (sum_k m_ik^2 - theta_i^2) / (theta_i^2 (K - 1))``, ``modularity_i = 1 - delta_i``,
and a latent with ``theta_i = 0`` (e.g. a constant latent) scores 0 and still counts in the
**unweighted** mean over latents. Redundancy is not penalised: duplicated latents keep 1.

Explicitness: per factor, a ``LogisticRegression()`` (sklearn defaults, as dlib) on all latents,
z-scored with train statistics (ddof 0), scored by macro ROC-AUC of ``predict_proba``
(one-vs-rest per class), on the train split and on the test split; the mean over factors.

Defined results where dlib returns NaN or raises: a constant factor is excluded (it would only
enlarge ``K - 1``) and listed in ``details["constant_factors"]``, ``IdentlamError`` if none
remains; one factor (dlib: 0/0) gives ``modularity_i = 1`` for every informative latent; in
explicitness a constant latent is left at 0 after centring instead of divided by a zero std, and
a class whose AUC is undefined in a split (absent, or alone) is left out of that split's macro
average (dlib raises); a factor with no defined AUC in a split is ``None`` there.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from identlam.errors import IdentlamError
from identlam.metrics._shared import factor_labels, factor_mi_matrix, split_indices
from identlam.metrics._result import MetricResult
from identlam.metrics._validation import as_2d, check_same_length


def modularity_from_mi(mi: np.ndarray) -> tuple[float, np.ndarray]:
    """``(modularity, per-latent modularity)`` from an MI matrix ``(latents, factors)``."""
    sq = np.square(np.asarray(mi, dtype=np.float64))
    theta2 = sq.max(axis=1)
    per_latent = np.zeros(sq.shape[0])
    informative = theta2 > 0.0
    if sq.shape[1] == 1:
        per_latent[informative] = 1.0
    else:
        rest = sq[informative].sum(axis=1) - theta2[informative]
        per_latent[informative] = 1.0 - rest / (theta2[informative] * (sq.shape[1] - 1))
    return float(per_latent.mean()), per_latent


def modularity(
    factors: Any,
    latents: Any,
    *,
    discretizer: str = "auto",
    num_bins: int = 20,
    factor_discretizer: str = "identity",
) -> MetricResult:
    """Modularity of ``latents`` ``(N, m)`` with respect to discrete ``factors`` ``(N, k)``.

    Computed on all N samples. ``details``: ``mi_matrix`` ``(m, k)`` (nats; excluded factors
    keep their zero column), ``modularity_per_latent`` ``(m,)``, ``constant_factors``. Higher is
    better.

    >>> modularity([0, 0, 1, 1, 2, 2], [[0, 1], [0, 0], [1, 1], [1, 0], [2, 1], [2, 0]]).score
    0.5
    """
    mi, _, _, kept, constant, params = factor_mi_matrix(
        factors, latents, discretizer, num_bins, factor_discretizer, "modularity")
    score, per_latent = modularity_from_mi(mi[:, kept])
    return MetricResult(
        name="modularity",
        score=score,
        details={
            "mi_matrix": mi,
            "modularity_per_latent": per_latent,
            "constant_factors": constant.tolist(),
        },
        params=params,
        greater_is_better=True,
    )


def explicitness(
    factors: Any,
    latents: Any,
    *,
    train_fraction: float = 2 / 3,
    shuffle: bool = False,
    seed: int = 0,
    factor_discretizer: str = "identity",
    num_bins: int = 20,
) -> MetricResult:
    """Explicitness of ``latents`` ``(N, m)``: ``score = {"train": AUC, "test": AUC}``.

    Positional split as in :func:`dci.split_indices`; ``seed`` is the shuffle's seed and the
    classifiers' ``random_state``. ``details``: ``auc_train`` / ``auc_test`` per factor. Higher is
    better.

    >>> factors = [0, 1] * 10
    >>> explicitness(factors, [[f + 0.1 * (i % 3)] for i, f in enumerate(factors)]).score
    {'train': 1.0, 'test': 1.0}
    """
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import LogisticRegression

    x = as_2d(latents, "latents", min_samples=2)
    y, _ = factor_labels(factors, factor_discretizer, num_bins)
    n = check_same_length(latents=x, factors=y)
    train, test = split_indices(n, train_fraction, shuffle=shuffle, seed=seed)
    mean, std = x[train].mean(axis=0), x[train].std(axis=0)
    z = (x - mean) / np.where(std > 0, std, 1.0)
    auc: dict[str, list[float | None]] = {"train": [None] * y.shape[1], "test": [None] * y.shape[1]}
    constant = [k for k in range(y.shape[1]) if np.unique(y[train, k]).size < 2]
    for k in range(y.shape[1]):
        if k in constant:
            continue
        model = LogisticRegression(random_state=seed)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            model.fit(z[train], y[train, k])
        for split, rows in (("train", train), ("test", test)):
            auc[split][k] = _macro_auc(y[rows, k], model.predict_proba(z[rows]), model.classes_)
    score = {}
    for split in ("train", "test"):
        defined = [v for v in auc[split] if v is not None]
        if not defined:
            raise IdentlamError(f"factors: no factor has a defined ROC-AUC on the {split} split")
        score[split] = float(np.mean(defined))
    return MetricResult(
        name="explicitness",
        score=score,
        details={"auc_train": auc["train"], "auc_test": auc["test"], "constant_factors": constant},
        params={
            "estimator": "LogisticRegression() macro one-vs-rest ROC-AUC",
            "train_fraction": float(train_fraction),
            "shuffle": shuffle,
            "seed": seed,
            "n_train": int(train.size),
            "n_test": int(test.size),
        },
        greater_is_better={"train": True, "test": True},
    )


def _macro_auc(y: np.ndarray, proba: np.ndarray, classes: np.ndarray) -> float | None:
    from sklearn.metrics import roc_auc_score

    values = []
    for column, label in enumerate(classes):
        positive = y == label
        if 0 < positive.sum() < positive.size:
            values.append(roc_auc_score(positive, proba[:, column]))
    return float(np.mean(values)) if values else None
