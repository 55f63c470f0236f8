"""Probes: how well a frozen representation predicts a target, on held-out samples.

``latents`` is ``(N, d)`` float (1-D accepted); ``target`` is ``(N,)`` or ``(N, k)``. A target is
discrete when its dtype is integer/bool/string (or ``discrete=True``); rows of a multi-column
discrete target are one joint class. Inputs are standardised with training-split statistics.

Scores (``MetricResult.score`` is a dict):

- discrete target: ``accuracy``, ``f1_weighted`` and ``majority_baseline`` (test accuracy of
  always predicting the most frequent training class). If the training split holds a single
  class the probe predicts it (``details["note"]`` says so) instead of failing.
- continuous target: ``r2`` (scikit-learn's ``r2_score``, averaged uniformly over columns; a
  constant test target gives 1 for a perfect prediction and 0 otherwise) and ``mse``.

The split is a seeded random permutation (``test_size`` fraction, at least one sample each side)
or explicit ``train_idx``/``test_idx``.
"""

from __future__ import annotations

import numpy as np

from identlam.errors import IdentlamError
from identlam.metrics._shared import is_discrete
from identlam.metrics._result import MetricResult
from identlam.metrics._validation import as_2d, as_labels, check_choice, check_positive_int, check_same_length


def _target(target, discrete: bool | None) -> tuple[np.ndarray, bool]:
    disc = is_discrete(target, discrete)
    if disc:
        return as_labels(target, "target"), True
    y = as_2d(target, "target")
    return (y[:, 0] if y.shape[1] == 1 else y), False


def _split(n: int, test_size: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    if not 0 < test_size < 1:
        raise IdentlamError(f"test_size: expected a fraction in (0, 1), got {test_size}")
    if n < 2:
        raise IdentlamError(f"latents: a held-out split needs at least 2 samples, got {n}")
    n_test = min(max(1, int(round(n * test_size))), n - 1)
    perm = np.random.default_rng(seed).permutation(n)
    return perm[n_test:], perm[:n_test]


def probe_model(kind: str, discrete: bool, seed: int):
    from sklearn.linear_model import LogisticRegression, Ridge
    from sklearn.neural_network import MLPClassifier, MLPRegressor
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    if kind == "linear":
        est = LogisticRegression(max_iter=500) if discrete else Ridge(alpha=1e-6)
    else:
        cls = MLPClassifier if discrete else MLPRegressor
        est = cls(hidden_layer_sizes=(64, 64), max_iter=300, random_state=seed)
    return make_pipeline(StandardScaler(), est)


def fit_score(kind: str, x_train, y_train, x_test, y_test, discrete: bool, seed: int) -> tuple[dict, dict]:
    """Fit one probe and score it on the test samples; returns (scores, details)."""
    from sklearn.metrics import accuracy_score, f1_score, mean_squared_error, r2_score

    details = {"n_train": len(x_train), "n_test": len(x_test)}
    if discrete:
        classes, counts = np.unique(y_train, return_counts=True)
        majority = classes[np.argmax(counts)]
        if classes.size == 1:
            pred = np.full(len(y_test), majority)
            details["note"] = "training split holds one class: the probe predicts it"
        else:
            pred = probe_model(kind, True, seed).fit(x_train, y_train).predict(x_test)
        scores = {
            "accuracy": float(accuracy_score(y_test, pred)),
            "f1_weighted": float(f1_score(y_test, pred, average="weighted", zero_division=0)),
            "majority_baseline": float(np.mean(y_test == majority)),
        }
        return scores, details
    pred = probe_model(kind, False, seed).fit(x_train, y_train).predict(x_test)
    scores = {"r2": float(r2_score(y_test, pred)), "mse": float(mean_squared_error(y_test, pred))}
    return scores, details


def _probe(kind, latents, target, discrete, test_size, seed, train_idx, test_idx) -> MetricResult:
    x = as_2d(latents, "latents")
    y, disc = _target(target, discrete)
    n = check_same_length(latents=x, target=y)
    if (train_idx is None) != (test_idx is None):
        raise IdentlamError("train_idx: give both train_idx and test_idx, or neither")
    if train_idx is None:
        train_idx, test_idx = _split(n, test_size, seed)
    else:
        train_idx, test_idx = np.asarray(train_idx, dtype=np.int64), np.asarray(test_idx, dtype=np.int64)
        if train_idx.size == 0 or test_idx.size == 0:
            raise IdentlamError("train_idx: both train_idx and test_idx must be non-empty")
    scores, details = fit_score(kind, x[train_idx], y[train_idx], x[test_idx], y[test_idx], disc, seed)
    params = {"probe": kind, "discrete_target": disc, "test_size": test_size, "seed": seed,
              "standardize": "train statistics"}
    params["model"] = ("LogisticRegression(max_iter=500)" if disc else "Ridge(alpha=1e-6)") if kind == "linear" \
        else f"MLP{'Classifier' if disc else 'Regressor'}(hidden_layer_sizes=(64, 64), max_iter=300)"
    better = {"accuracy": True, "f1_weighted": True, "majority_baseline": None, "r2": True, "mse": False}
    return MetricResult(f"{kind}_probe", scores, details, params, {k: better[k] for k in scores})


def linear_probe(target, latents, *, discrete: bool | None = None, test_size: float = 0.2, seed: int = 0,
                 train_idx=None, test_idx=None) -> MetricResult:
    """Logistic regression (discrete target) or ridge regression (continuous) on ``latents``.

    >>> target = [0, 1, 2, 3] * 10
    >>> result = linear_probe(target, [[a, (3 * a) % 4] for a in target])
    >>> result.score["accuracy"], result.better("accuracy"), result.better("majority_baseline")
    (1.0, True, None)
    """
    return _probe("linear", latents, target, discrete, test_size, seed, train_idx, test_idx)


def mlp_probe(target, latents, *, discrete: bool | None = None, test_size: float = 0.2, seed: int = 0,
              train_idx=None, test_idx=None) -> MetricResult:
    """Two hidden layers of 64 ReLU units (scikit-learn MLP, Adam, seeded) on ``latents``.

    >>> target = [[0.5 * i] for i in range(40)]
    >>> result = mlp_probe(target, [[0.1 * i, 1.0] for i in range(40)])
    >>> sorted(result.score), result.better("mse")
    (['mse', 'r2'], False)
    """
    return _probe("mlp", latents, target, discrete, test_size, seed, train_idx, test_idx)


def label_budget_curve(target, latents, budgets, *, unit: str = "samples", traj=None, probe: str = "linear",
                       discrete: bool | None = None, test_size: float = 0.2, seed: int = 0) -> MetricResult:
    """Probe score as a function of the number of labelled samples or trajectories.

    A test set is held out once (whole trajectories when ``unit="trajectories"``, so no
    trajectory is on both sides); each budget ``b`` trains on the first ``b`` samples (or
    trajectories) of one seeded permutation of the rest, so larger budgets contain smaller ones.
    ``score`` maps ``"n=<b>"`` to accuracy (discrete) or R² (continuous); ``details`` holds every
    score per budget. A budget larger than the training pool is an error.
    """
    check_choice(unit, "unit", ("samples", "trajectories"))
    check_choice(probe, "probe", ("linear", "mlp"))
    x = as_2d(latents, "latents")
    y, disc = _target(target, discrete)
    n = check_same_length(latents=x, target=y)
    budgets = [check_positive_int(b, "budgets") for b in np.atleast_1d(budgets).tolist()]
    if not budgets:
        raise IdentlamError("budgets: empty list")
    rng = np.random.default_rng(seed)
    if unit == "samples":
        train_pool, test_idx = _split(n, test_size, seed)
        groups = [np.array([i]) for i in train_pool]
    else:
        if traj is None:
            raise IdentlamError("traj: unit='trajectories' needs one trajectory index per sample")
        t = as_labels(traj, "traj")
        check_same_length(latents=x, traj=t)
        n_traj = int(t.max()) + 1
        if n_traj < 2:
            raise IdentlamError("traj: a held-out split by trajectory needs at least 2 trajectories")
        perm = rng.permutation(n_traj)
        n_test = min(max(1, int(round(n_traj * test_size))), n_traj - 1)
        test_idx = np.flatnonzero(np.isin(t, perm[:n_test]))
        order = np.argsort(t, kind="stable")
        members = np.split(order, np.flatnonzero(np.diff(t[order])) + 1)
        groups = [members[g] for g in perm[n_test:]]
    groups = [groups[i] for i in rng.permutation(len(groups))]
    if max(budgets) > len(groups):
        raise IdentlamError(f"budgets: {max(budgets)} exceeds the {len(groups)} training {unit} available")
    key = "accuracy" if disc else "r2"
    curve, rows = {}, []
    for b in budgets:
        train_idx = np.concatenate(groups[:b])
        scores, details = fit_score(probe, x[train_idx], y[train_idx], x[test_idx], y[test_idx], disc, seed)
        curve[f"n={b}"] = scores[key]
        rows.append({"budget": b, **scores, **details})
    params = {"probe": probe, "unit": unit, "metric": key, "test_size": test_size, "seed": seed}
    return MetricResult("label_budget_curve", curve, {"curve": rows, "n_test": int(test_idx.size)}, params,
                        {k: True for k in curve})
