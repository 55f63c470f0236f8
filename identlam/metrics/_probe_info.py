"""A lower bound on ``I(X; Y | Z)`` from a classifier, for wide continuous X and discrete Y, Z.

kNN estimators (KSG, Ross) lose their neighbours in wide spaces: on a 128-wide LAM latent that
carries a distractor's step (a held-out MLP classifier predicts it with cross-entropy 0.25 nats
where its entropy given the action is 1.06), the Ross estimate reads 0.11. A classifier gives
a bound that cannot overstate: for any model ``q(y | x, z)``,
``E[-log q(Y | X, Z)] >= H(Y | X, Z)``, so

    I(X; Y | Z) = H(Y | Z) - H(Y | X, Z) >= CE(null) - CE(probe)

with both cross-entropies measured on held-out folds (cross-fitting: every row is scored once
by models that did not train on it; the probe's temperature is fitted on a part of its training
rows, so an overconfident probe does not throw the bound below 0). The null model is ``q(y | z)``, the class frequencies
within each group of Z (add-one/2 smoothed); the probe is an MLP on the standardized X and the
one-hot Z (the MLP of :func:`identlam.metrics.mlp_probe`). Its value is the "predictive information" of the probe class: less than the true
information when the probe cannot find it all, and never much above it (a probe that overfits
raises its own cross-entropy). Clipped at 0.
"""

from __future__ import annotations

import numpy as np

from identlam.errors import IdentlamError
from identlam.metrics._probes import probe_model
from identlam.metrics._result import MetricResult
from identlam.metrics._validation import as_2d, as_labels, check_positive_int, check_same_length

MIX_WITH_NULL = 1e-3  # a class the probe never saw keeps a finite loss
MIN_SAMPLES_PER_FOLD = 20  # the probe trains on 80% of the other folds and calibrates on 20%
FIT_FRACTION = 0.8


def _null_log_probs(y_train, z_train, y_test, z_test, n_classes, n_groups) -> np.ndarray:
    counts = np.full((n_groups, n_classes), 0.5)
    np.add.at(counts, (z_train, y_train), 1.0)
    probs = counts / counts.sum(axis=1, keepdims=True)
    return probs[z_test]


def _log_softmax(log_probs: np.ndarray, temperature: float) -> np.ndarray:
    scaled = log_probs / temperature
    scaled -= scaled.max(axis=1, keepdims=True)
    return scaled - np.log(np.exp(scaled).sum(axis=1, keepdims=True))


def _probe_log_loss(x_train, y_train, x_test, y_test, null_test, n_classes, seed) -> np.ndarray:
    """Held-out loss of an MLP fitted on 80% of the training rows, its temperature fitted on the
    other 20% (an overconfident probe would otherwise throw the bound below 0)."""
    import warnings

    from scipy.optimize import minimize_scalar
    from sklearn.exceptions import ConvergenceWarning

    probs = np.zeros((len(y_test), n_classes))
    order = np.random.default_rng(seed).permutation(len(y_train))
    cut = int(FIT_FRACTION * len(order))
    fit, calibrate = order[:cut], order[cut:]
    seen = np.unique(y_train[fit])
    if len(seen) == 1:
        probs[:, seen[0]] = 1.0
    else:
        model = probe_model("mlp", True, seed)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            model.fit(x_train[fit], y_train[fit])

        def log_probs(x):
            out = np.full((len(x), n_classes), np.log(MIX_WITH_NULL / n_classes))
            out[:, model.classes_] = np.log(np.clip(model.predict_proba(x), 1e-12, None))
            return out

        held = log_probs(x_train[calibrate])
        rows = np.arange(len(calibrate))
        best = minimize_scalar(lambda log_t: -_log_softmax(held, np.exp(log_t))[rows, y_train[calibrate]].mean(),
                               bounds=(-3.0, 6.0), method="bounded")
        probs = np.exp(_log_softmax(log_probs(x_test), float(np.exp(best.x))))
    probs = (1 - MIX_WITH_NULL) * probs + MIX_WITH_NULL * null_test
    return -np.log(probs[np.arange(len(y_test)), y_test])


def probe_mutual_info(target, latents, condition=None, *, folds: int = 2, seed: int = 0) -> MetricResult:
    """Lower bound (nats) on ``I(Z; Y | C)`` (``I(Z; Y)`` without ``condition``) for discrete
    ``target`` Y (N,), continuous ``latents`` Z (N, d) and discrete ``condition`` C (N,):
    held-out cross-entropy of the class frequencies given C minus that of an MLP probe on
    ``(Z, C)``, over ``folds`` cross-fitted folds. Higher means more information.

    >>> rng = np.random.default_rng(0)
    >>> y = rng.integers(0, 4, 800)
    >>> x = np.eye(4)[y] + 0.1 * rng.normal(size=(800, 4))
    >>> probe_mutual_info(y, x).score > 1.2  # ln 4 = 1.386
    True
    """
    folds = check_positive_int(folds, "folds")
    if folds < 2:
        raise IdentlamError(f"folds: needs at least 2 (held-out scoring), got {folds}")
    xa = as_2d(latents, "latents")
    ya = np.unique(as_labels(target, "target"), return_inverse=True)[1]
    za = (np.zeros(len(ya), np.int64) if condition is None
          else np.unique(as_labels(condition, "condition"), return_inverse=True)[1])
    n = check_same_length(target=ya, latents=xa, condition=za)
    if n < MIN_SAMPLES_PER_FOLD * folds:
        raise IdentlamError(f"latents: {n} samples are too few for a {folds}-fold probe "
                            f"(at least {MIN_SAMPLES_PER_FOLD * folds})")
    n_classes, n_groups = int(ya.max()) + 1, int(za.max()) + 1
    features = np.hstack([xa, np.eye(n_groups)[za]]) if n_groups > 1 else xa
    fold_of = np.random.default_rng(seed).permutation(n) % folds
    loss_null, loss_probe = np.empty(n), np.empty(n)
    for fold in range(folds):
        test, train = fold_of == fold, fold_of != fold
        null = _null_log_probs(ya[train], za[train], ya[test], za[test], n_classes, n_groups)
        loss_null[test] = -np.log(null[np.arange(test.sum()), ya[test]])
        loss_probe[test] = _probe_log_loss(features[train], ya[train], features[test], ya[test], null, n_classes,
                                           seed)
    raw = float(loss_null.mean() - loss_probe.mean())
    details = {"n_samples": n, "cross_entropy_null": float(loss_null.mean()),
               "cross_entropy_probe": float(loss_probe.mean()), "unclipped": raw}
    params = {"estimator": "probe", "units": "nats", "folds": folds, "probe": "mlp", "seed": seed,
              "clipped_at_zero": True, "lower_bound": True}
    return MetricResult("probe_mutual_info", max(0.0, raw), details, params)
