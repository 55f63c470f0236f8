"""Entropy, mutual information and conditional mutual information, in nats.

Variables are arrays of shape ``(N, d)`` (1-D accepted). Whether a variable is discrete is
decided by its dtype unless told (``discrete_x=True``): integer, bool and string arrays are
discrete, float arrays continuous. A discrete variable with several columns is one joint symbol
per row.

Estimators (named in every result's ``params["estimator"]``):

- ``plugin``: maximum-likelihood (plug-in) entropies of the empirical distribution. Discrete MI
  is ``sklearn.metrics.mutual_info_score``; never negative, biased upwards by about
  ``(m_x - 1)(m_y - 1) / (2N)`` for independent variables.
- ``miller_madow``: plug-in plus the first-order bias correction ``(m - 1) / (2N)`` on every
  entropy (m = number of occupied cells). For MI this gives
  ``I_MM = I_plugin + (m_x + m_y - m_xy - 1) / (2N)``; it is *not* clipped and can be slightly
  negative for independent variables.
- ``ksg``: Kraskov–Stögbauer–Grassberger estimator (algorithm 1, max-norm, ``n_neighbors``
  neighbours) for two continuous variables. For one column each it is
  ``sklearn.feature_selection.mutual_info_regression``; for several columns our implementation of
  the same algorithm with the same preprocessing. Both scale every column to unit standard
  deviation, add ``1e-10``-scale jitter (seeded) to break ties, and clip negative estimates to 0.
- ``mixed``: Ross (2014) estimator for one continuous and one discrete variable
  (``mutual_info_classif`` for one column, ours for several; same scaling, jitter and clipping).
- ``kl`` (continuous entropy): Kozachenko–Leonenko kNN estimator with Euclidean distances,
  ``H = psi(N) - psi(k) + log V_d + d * mean(log r_k)``, after the same tie-breaking jitter (no
  scaling, since differential entropy is not scale-invariant).

A continuous variable whose columns are all constant carries no information: its MI with
anything is 0, reported with a note instead of running a kNN search on identical points.
"""

from __future__ import annotations

import numpy as np
from scipy.spatial import cKDTree
from scipy.special import digamma, gammaln

from identlam.errors import IdentlamError
from identlam.metrics._result import MetricResult
from identlam.metrics._shared import _n_occupied, is_discrete, joint_labels, plugin_entropy
from identlam.metrics._validation import as_2d, as_labels, check_choice, check_positive_int, check_same_length

MI_ESTIMATORS = ("auto", "plugin", "miller_madow", "ksg", "mixed")
ENTROPY_ESTIMATORS = ("auto", "plugin", "miller_madow", "kl")


def _discrete_mi(lx: np.ndarray, ly: np.ndarray, estimator: str) -> tuple[float, dict]:
    from sklearn.metrics import mutual_info_score

    mi = float(mutual_info_score(lx, ly))
    details = {"n_symbols_x": _n_occupied(lx), "n_symbols_y": _n_occupied(ly)}
    if estimator == "miller_madow":
        m_xy = _n_occupied(joint_labels(lx, ly))
        details["n_symbols_xy"] = m_xy
        mi += (details["n_symbols_x"] + details["n_symbols_y"] - m_xy - 1) / (2 * lx.size)
    return mi, details


# ------------------------------------------------------------------------------ continuous parts
def _prepare_continuous(x: np.ndarray, rng: np.random.Generator, *, scale: bool = True) -> np.ndarray:
    """Unit-std scaling (as scikit-learn) plus tiny seeded jitter so no two points coincide."""
    x = np.array(x, dtype=np.float64)
    if scale:
        std = x.std(axis=0)
        x /= np.where(std > 0, std, 1.0)
    magnitude = np.maximum(1.0, np.abs(x).mean(axis=0))
    return x + 1e-10 * magnitude * rng.standard_normal(x.shape)


def _count_within(points: np.ndarray, radius: np.ndarray, p: float) -> np.ndarray:
    """Points strictly within ``radius`` of each point (the point itself included)."""
    tree = cKDTree(points)
    return tree.query_ball_point(points, np.nextafter(radius, 0), p=p, return_length=True)


def _kth_distance(points: np.ndarray, k: int, p: float) -> np.ndarray:
    dist, _ = cKDTree(points).query(points, k=k + 1, p=p)
    return dist[:, -1]


def ksg_joint(x: np.ndarray, y: np.ndarray, k: int) -> float:
    """KSG algorithm 1 on prepared arrays (N, dx), (N, dy); unclipped."""
    inf = np.inf
    radius = _kth_distance(np.hstack([x, y]), k, inf)
    nx = _count_within(x, radius, inf)
    ny = _count_within(y, radius, inf)
    n = x.shape[0]
    return float(digamma(n) + digamma(k) - np.mean(digamma(nx)) - np.mean(digamma(ny)))


def ross_joint(c: np.ndarray, labels: np.ndarray, k: int) -> float:
    """Ross (2014) estimator on a prepared continuous (N, d) array and int labels; unclipped.

    Classes with a single sample are dropped (no within-class neighbour), as in scikit-learn.
    """
    counts = np.bincount(labels)
    keep = counts[labels] > 1
    c, labels = c[keep], labels[keep]
    if labels.size == 0:
        return 0.0
    radius = np.empty(labels.size)
    k_used = np.empty(labels.size)
    for label in np.unique(labels):
        mask = labels == label
        k_c = min(k, int(mask.sum()) - 1)
        radius[mask] = _kth_distance(c[mask], k_c, 2.0)
        k_used[mask] = k_c
    m_all = _count_within(c, radius, 2.0)
    class_sizes = np.bincount(labels)[labels]
    return float(
        digamma(labels.size) + np.mean(digamma(k_used)) - np.mean(digamma(class_sizes)) - np.mean(digamma(m_all))
    )


def _continuous_mi(x, y, k, seed) -> float:
    from sklearn.feature_selection import mutual_info_regression

    if x.shape[1] == 1 and y.shape[1] == 1:
        return float(mutual_info_regression(x, y[:, 0], n_neighbors=k, random_state=seed)[0])
    rng = np.random.default_rng(seed)
    return max(0.0, ksg_joint(_prepare_continuous(x, rng), _prepare_continuous(y, rng), k))


def _mixed_mi(c, labels, k, seed) -> float:
    from sklearn.feature_selection import mutual_info_classif

    if c.shape[1] == 1:
        return float(mutual_info_classif(c, labels, n_neighbors=k, random_state=seed)[0])
    return max(0.0, ross_joint(_prepare_continuous(c, np.random.default_rng(seed)), labels, k))


def _is_constant(x: np.ndarray) -> bool:
    return bool(np.all(x == x[0]))


# ------------------------------------------------------------------------------------ public API
def entropy(x, *, estimator: str = "auto", discrete: bool | None = None, n_neighbors: int = 3,
            seed: int = 0) -> MetricResult:
    """Entropy of one variable ``x`` (N, d), in nats.

    Discrete: ``plugin`` (default) or ``miller_madow``. Continuous: ``kl`` (Kozachenko–Leonenko;
    differential entropy, can be negative). A constant discrete variable has entropy 0.
    ``greater_is_better`` is None: an entropy is a quantity, not a score.

    >>> round(entropy([0, 1, 2, 3]).score, 6) == round(float(np.log(4)), 6)
    True
    """
    check_choice(estimator, "estimator", ENTROPY_ESTIMATORS)
    k = check_positive_int(n_neighbors, "n_neighbors")
    disc = is_discrete(x, discrete) if estimator == "auto" else estimator != "kl"
    if disc:
        estimator = "plugin" if estimator == "auto" else estimator
        labels = as_labels(x, "x")
        h = plugin_entropy(labels)
        m = _n_occupied(labels)
        if estimator == "miller_madow":
            h += (m - 1) / (2 * labels.size)
        return MetricResult("entropy", h, {"n_samples": labels.size, "n_symbols": m},
                            {"estimator": estimator, "units": "nats"})
    x = as_2d(x, "x", min_samples=k + 1)
    n, d = x.shape
    if _is_constant(x):
        raise IdentlamError("x: constant continuous variable has differential entropy -inf")
    pts = _prepare_continuous(x, np.random.default_rng(seed), scale=False)
    r = _kth_distance(pts, k, 2.0)
    log_unit_ball = (d / 2) * np.log(np.pi) - gammaln(d / 2 + 1)
    h = float(digamma(n) - digamma(k) + log_unit_ball + d * np.mean(np.log(r)))
    return MetricResult("entropy", h, {"n_samples": n, "dim": d},
                        {"estimator": "kl", "n_neighbors": k, "seed": seed, "units": "nats"})


def mutual_info(x, y, *, estimator: str = "auto", discrete_x: bool | None = None, discrete_y: bool | None = None,
                n_neighbors: int = 3, seed: int = 0) -> MetricResult:
    """Mutual information ``I(X; Y)`` in nats.

    ``estimator="auto"`` picks ``plugin`` for two discrete variables, ``ksg`` for two continuous
    ones and ``mixed`` (Ross) for one of each. ``plugin``/``miller_madow`` treat both variables
    as discrete (float input must hold whole numbers); ``ksg`` treats both as continuous.
    ``greater_is_better`` is None: whether more information is better depends on the variables.

    >>> round(mutual_info([0, 0, 1, 1], [3, 3, 8, 8]).score, 6) == round(float(np.log(2)), 6)
    True
    """
    check_choice(estimator, "estimator", MI_ESTIMATORS)
    k = check_positive_int(n_neighbors, "n_neighbors")
    dx, dy = is_discrete(x, discrete_x), is_discrete(y, discrete_y)
    if estimator in ("plugin", "miller_madow"):
        dx = dy = True
    elif estimator == "ksg":
        dx = dy = False
    elif estimator == "mixed" and dx == dy:
        raise IdentlamError(
            "estimator: 'mixed' needs one discrete and one continuous variable (set discrete_x/discrete_y)")
    elif estimator == "auto":
        estimator = "plugin" if dx and dy else ("ksg" if not (dx or dy) else "mixed")
    params = {"estimator": estimator, "units": "nats", "discrete_x": dx, "discrete_y": dy}
    if estimator in ("plugin", "miller_madow"):
        lx, ly = as_labels(x, "x"), as_labels(y, "y")
        n = check_same_length(x=lx, y=ly)
        mi, details = _discrete_mi(lx, ly, estimator)
        return MetricResult("mutual_info", mi, {"n_samples": n, **details}, params)
    params.update(n_neighbors=k, seed=seed, clipped_at_zero=True)
    xa = as_labels(x, "x") if dx else as_2d(x, "x", min_samples=k + 1)
    ya = as_labels(y, "y") if dy else as_2d(y, "y", min_samples=k + 1)
    n = check_same_length(x=xa, y=ya)
    continuous = [a for a, disc in ((xa, dx), (ya, dy)) if not disc]
    if any(_is_constant(a) for a in continuous):
        note = "constant continuous variable: MI is 0"
        return MetricResult("mutual_info", 0.0, {"n_samples": n, "note": note}, params)
    if estimator == "ksg":
        mi = _continuous_mi(xa, ya, k, seed)
    else:
        c, labels = (ya, xa) if dx else (xa, ya)
        mi = _mixed_mi(c, labels, k, seed)
    return MetricResult("mutual_info", mi, {"n_samples": n}, params)


def conditional_mutual_info(x, y, z, *, estimator: str = "auto", discrete_x: bool | None = None,
                            discrete_y: bool | None = None, discrete_z: bool | None = None,
                            n_neighbors: int = 3, seed: int = 0) -> MetricResult:
    """Conditional mutual information ``I(X; Y | Z)`` in nats.

    - All discrete: exact plug-in via the chain rule
      ``I = H(X,Z) + H(Y,Z) - H(X,Y,Z) - H(Z)`` (``miller_madow`` corrects each entropy).
    - Discrete Z, X or Y continuous: ``sum_z p(z) I(X; Y | Z=z)`` with the KSG or Ross estimator
      inside each group (``per_group``); groups with at most ``n_neighbors`` samples are skipped
      and their total weight is reported as ``details["skipped_weight"]``.
    - X, Y, Z all continuous: Frenzel–Pompe (``frenzel_pompe``): KSG with the conditioning
      variable, ``psi(k) - <psi(n_xz) + psi(n_yz) - psi(n_z)>``, clipped at 0.
    - Continuous Z with discrete X or Y: the chain rule on Ross estimates,
      ``I(D; (C, Z)) - I(D; Z)`` (``ross_difference``); both discrete with continuous Z is refused.

    ``greater_is_better`` is None, as for :func:`mutual_info`.

    >>> conditional_mutual_info([0, 1, 0, 1], [0, 1, 0, 1], [0, 0, 1, 1]).score > 0.69
    True
    """
    check_choice(estimator, "estimator", ("auto", "plugin", "miller_madow"))
    k = check_positive_int(n_neighbors, "n_neighbors")
    dx, dy, dz = is_discrete(x, discrete_x), is_discrete(y, discrete_y), is_discrete(z, discrete_z)
    if estimator != "auto":
        dx = dy = dz = True
    if dx and dy and dz:
        est = "plugin" if estimator == "auto" else estimator
        lx, ly, lz = as_labels(x, "x"), as_labels(y, "y"), as_labels(z, "z")
        n = check_same_length(x=lx, y=ly, z=lz)
        lxz, lyz, lxyz = joint_labels(lx, lz), joint_labels(ly, lz), joint_labels(lx, ly, lz)
        cmi = plugin_entropy(lxz) + plugin_entropy(lyz) - plugin_entropy(lxyz) - plugin_entropy(lz)
        if est == "miller_madow":
            m = [_n_occupied(v) for v in (lxz, lyz, lxyz, lz)]
            cmi += (m[0] + m[1] - m[2] - m[3]) / (2 * n)
        return MetricResult("conditional_mutual_info", float(cmi), {"n_samples": n},
                            {"estimator": est, "units": "nats"})
    if dx and dy:
        raise IdentlamError("z: continuous conditioning with two discrete variables is not supported; discretize z")
    params = {"units": "nats", "n_neighbors": k, "seed": seed, "discrete_x": dx, "discrete_y": dy, "discrete_z": dz}
    xa = as_labels(x, "x") if dx else as_2d(x, "x", min_samples=k + 1)
    ya = as_labels(y, "y") if dy else as_2d(y, "y", min_samples=k + 1)
    za = as_labels(z, "z") if dz else as_2d(z, "z", min_samples=k + 1)
    n = check_same_length(x=xa, y=ya, z=za)
    if dz:
        return _per_group_cmi(xa, ya, za, dx, dy, k, seed, params)
    if not (dx or dy):
        rng = np.random.default_rng(seed)
        px, py, pz = (_prepare_continuous(a, rng) for a in (xa, ya, za))
        radius = _kth_distance(np.hstack([px, py, pz]), k, np.inf)
        n_xz = _count_within(np.hstack([px, pz]), radius, np.inf)
        n_yz = _count_within(np.hstack([py, pz]), radius, np.inf)
        n_z = _count_within(pz, radius, np.inf)
        raw = float(digamma(k) - np.mean(digamma(n_xz) + digamma(n_yz) - digamma(n_z)))
        params.update(estimator="frenzel_pompe", clipped_at_zero=True)
        return MetricResult("conditional_mutual_info", max(0.0, raw), {"n_samples": n, "unclipped": raw}, params)
    labels, c = (xa, ya) if dx else (ya, xa)
    joint = mutual_info(labels, np.hstack([c, za]), discrete_x=True, discrete_y=False, n_neighbors=k, seed=seed)
    marginal = mutual_info(labels, za, discrete_x=True, discrete_y=False, n_neighbors=k, seed=seed)
    params.update(estimator="ross_difference")
    cmi = float(joint) - float(marginal)
    return MetricResult("conditional_mutual_info", cmi,
                        {"n_samples": n, "I_joint": float(joint), "I_conditioning": float(marginal)}, params)


def _per_group_cmi(xa, ya, za, dx, dy, k, seed, params) -> MetricResult:
    n = za.size
    total, skipped, per_group = 0.0, 0, {}
    for g in np.unique(za):
        mask = za == g
        size = int(mask.sum())
        if size <= k:
            skipped += size
            continue
        xg, yg = xa[mask], ya[mask]
        if dx or dy:
            labels, c = (xg, yg) if dx else (yg, xg)
            value = 0.0 if _is_constant(c) else _mixed_mi(c, as_labels(labels, "x"), k, seed)
        else:
            value = 0.0 if (_is_constant(xg) or _is_constant(yg)) else _continuous_mi(xg, yg, k, seed)
        per_group[int(g)] = value
        total += size / n * value
    if skipped == n:
        raise IdentlamError(f"z: every group of the conditioning variable has at most n_neighbors={k} samples")
    params.update(estimator="per_group")
    return MetricResult("conditional_mutual_info", float(total),
                        {"n_samples": n, "per_group": per_group, "skipped_weight": skipped / n}, params)
