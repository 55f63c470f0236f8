"""DCI: disentanglement, completeness, informativeness (Eastwood & Williams 2018), dlib's variant.

Per factor ``k`` a gradient-boosted tree classifier is fit on the train split to predict the
factor's class from all latents; its normalised feature importances are column ``k`` of the
importance matrix ``R`` ``(m latents, k factors)``. Two importance estimators (``importance=``):

- ``"exact"``: ``GradientBoostingClassifier`` with sklearn's defaults and ``|feature_importances_|``,
  exactly as disentanglement_lib. Its cost grows faster than linearly in N (exact split search).
- ``"hist"``: ``HistGradientBoostingClassifier`` with the same shape of ensemble (100 stages,
  learning rate 0.1, depth-3 trees, no early stopping) on 255 quantile bins per latent; the
  importance of a latent is the total split gain of the nodes that split on it, normalised to
  sum 1 per factor. Linear in N; the measured difference to ``"exact"`` is in docs/metrics.md.
- ``"auto"`` (default): ``"exact"`` while the train split has at most 10,000 rows (dlib's study
  size), ``"hist"`` above. ``params["importance"]`` records the estimator used.

Then

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
subsample of the train split (not dlib-exact, and recorded in ``params``).
Latents enter the trees as numbers, so integer codes are split by their order.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.stats import entropy

from identlam.errors import IdentlamError
from identlam.metrics._shared import factor_labels, split_indices
from identlam.metrics._result import MetricResult
from identlam.metrics._validation import as_2d, check_choice, check_positive_int, check_same_length

_EPS = 1e-11  # dlib's additive smoothing inside the entropies


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


IMPORTANCES = ("auto", "exact", "hist")
EXACT_MAX_TRAIN = 10_000  # "auto" keeps dlib's exact trees up to its study's train size


def dci(
    factors: Any,
    latents: Any,
    *,
    importance: str = "auto",
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
    overrides the classifier's arguments (``"exact"``: sklearn's defaults, as dlib).
    ``score`` is a dict with ``disentanglement``, ``completeness``, ``informativeness_train``,
    ``informativeness_test`` (accuracies). ``details``: ``importance_matrix`` ``(m, k)`` (zero
    columns for excluded factors), ``disentanglement_per_latent``, ``completeness_per_factor``,
    ``accuracy_train`` / ``accuracy_test`` per factor (None if excluded), ``constant_factors``.
    Every score is better when higher.

    >>> factors = [[i % 3, (i // 3) % 2] for i in range(60)]
    >>> latents = [[2.0 * a, 1.0 - b] for a, b in factors]
    >>> result = dci(factors, latents, importance="exact")
    >>> round(result.score["disentanglement"], 3), round(result.score["completeness"], 3)
    (1.0, 1.0)
    >>> result.params["importance"], result.better("completeness")
    ('exact', True)
    """
    check_choice(importance, "importance", IMPORTANCES)
    x = as_2d(latents, "latents", min_samples=2)
    y, _ = factor_labels(factors, factor_discretizer, num_bins)
    n = check_same_length(latents=x, factors=y)
    train, test = split_indices(n, train_fraction, shuffle=shuffle, seed=seed)
    if max_train_samples is not None:
        max_train_samples = check_positive_int(max_train_samples, "max_train_samples", minimum=2)
        if train.size > max_train_samples:
            pick = np.random.default_rng(seed).choice(train.size, max_train_samples, replace=False)
            train = train[np.sort(pick)]
    if importance == "auto":
        importance = "exact" if train.size <= EXACT_MAX_TRAIN else "hist"
    params = {**(_HIST_DEFAULTS if importance == "hist" else {}), **(gbt_params or {})}
    params.setdefault("random_state", seed)

    matrix = np.zeros((x.shape[1], y.shape[1]))
    acc_train: list[float | None] = [None] * y.shape[1]
    acc_test: list[float | None] = [None] * y.shape[1]
    constant = [k for k in range(y.shape[1]) if np.unique(y[train, k]).size < 2]
    kept = [k for k in range(y.shape[1]) if k not in constant]
    if not kept:
        raise IdentlamError("factors: every factor has a single class in the train split; DCI is undefined")
    for k in kept:
        try:
            model, column = _fit_importance(importance, params, x[train], y[train, k])
        except (TypeError, ValueError) as exc:  # sklearn's InvalidParameterError is both
            raise IdentlamError(f"gbt_params: {str(exc).splitlines()[0]}") from None
        matrix[:, k] = column
        acc_train[k] = float(np.mean(model.predict(x[train]) == y[train, k]))
        acc_test[k] = float(np.mean(model.predict(x[test]) == y[test, k]))

    d, d_per = dci_disentanglement(matrix[:, kept])
    c, c_per_kept = dci_completeness(matrix[:, kept])
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
            "importance_matrix": matrix,
            "disentanglement_per_latent": d_per,
            "completeness_per_factor": c_per,
            "accuracy_train": acc_train,
            "accuracy_test": acc_test,
            "constant_factors": constant,
        },
        params={
            "estimator": f"{_ESTIMATORS[importance]} importances; informativeness = accuracy",
            "importance": importance,
            "gbt_params": params,
            "train_fraction": float(train_fraction),
            "shuffle": shuffle,
            "seed": seed,
            "n_train": int(train.size),
            "n_test": int(test.size),
            "max_train_samples": max_train_samples,
            "factor_discretizer": factor_discretizer,
        },
        greater_is_better={"disentanglement": True, "completeness": True, "informativeness_train": True,
                           "informativeness_test": True},
    )


_ESTIMATORS = {"exact": "GradientBoostingClassifier", "hist": "HistGradientBoostingClassifier split-gain"}
# The histogram ensemble is shaped like sklearn's GradientBoostingClassifier defaults (dlib's
# model) so the two estimators differ by binning and split gain only, not by capacity.
_HIST_DEFAULTS = {"max_iter": 100, "learning_rate": 0.1, "max_depth": 3, "max_leaf_nodes": None,
                  "early_stopping": False}


def _fit_importance(kind: str, params: dict, x: np.ndarray, y: np.ndarray):
    """Fit one factor's classifier; return it and its normalised importance per latent."""
    if kind == "exact":
        from sklearn.ensemble import GradientBoostingClassifier

        model = GradientBoostingClassifier(**params).fit(x, y)
        return model, np.abs(model.feature_importances_)
    from sklearn.ensemble import HistGradientBoostingClassifier

    model = HistGradientBoostingClassifier(**params).fit(x, y)
    gain = np.zeros(x.shape[1])
    # The fitted trees are exposed only through ``_predictors`` (one list of trees per stage);
    # the node table's gain and feature columns are what sklearn's own splitter recorded.
    for stage in model._predictors:
        for tree in stage:
            nodes = tree.nodes[~tree.nodes["is_leaf"].astype(bool)]
            np.add.at(gain, nodes["feature_idx"].astype(np.int64), np.maximum(nodes["gain"], 0.0))
    total = gain.sum()
    return model, (gain / total if total > 0 else gain)
