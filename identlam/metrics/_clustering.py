"""Label-agreement scores between true actions and discrete latent codes.

Both arguments are discrete labelings of the same N samples, ``(N,)`` or ``(N, d)`` (rows encoded
jointly); any hashable values work, so codes may be arbitrary integers. Every score here is
invariant to relabelling either argument by a bijection and to shuffling samples jointly.

Conventions inherited from scikit-learn (and tested):

- NMI uses the arithmetic mean of the two entropies (scikit-learn's default since 0.22);
  AMI adjusts it for chance under the hypergeometric model and can be negative.
- Both labelings constant: NMI = AMI = 1. Exactly one constant: NMI = AMI = 0.
- Homogeneity is 1 when ``true`` is constant; completeness is 1 when ``pred`` is constant;
  homogeneity is 0 when ``pred`` is constant and ``true`` is not. V-measure equals NMI.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import linear_sum_assignment

from identlam.metrics._result import MetricResult
from identlam.metrics._validation import as_labels, check_same_length


def _pair(true, pred) -> tuple[np.ndarray, np.ndarray]:
    t, p = as_labels(true, "true"), as_labels(pred, "pred")
    check_same_length(true=t, pred=p)
    return t, p


def ami(true, pred) -> MetricResult:
    """Adjusted mutual information (arithmetic normalisation); 1 = identical up to relabelling.

    >>> ami([0, 0, 1, 1, 2, 2], [5, 5, 3, 3, 9, 9]).score
    1.0
    """
    from sklearn.metrics import adjusted_mutual_info_score

    t, p = _pair(true, pred)
    return MetricResult("ami", float(adjusted_mutual_info_score(t, p)), {"n_samples": t.size},
                        {"average_method": "arithmetic"}, True)


def nmi(true, pred) -> MetricResult:
    """Normalized mutual information ``I / mean(H(true), H(pred))`` (arithmetic).

    >>> nmi([0, 0, 1, 1], [7, 7, 7, 7]).score  # a constant code carries nothing
    0.0
    """
    from sklearn.metrics import normalized_mutual_info_score

    t, p = _pair(true, pred)
    return MetricResult("nmi", float(normalized_mutual_info_score(t, p)), {"n_samples": t.size},
                        {"average_method": "arithmetic"}, True)


def homogeneity_completeness_v(true, pred) -> MetricResult:
    """Homogeneity ``1 - H(true|pred)/H(true)``, completeness ``1 - H(pred|true)/H(pred)``, V.

    For latent actions (true = actions, pred = codes): homogeneity < 1 means codes merge actions
    (D3 violated), completeness < 1 means one action is spread over several codes (D1/D2).
    Not to be confused with DCI completeness.

    >>> round(homogeneity_completeness_v([0, 0, 1, 1], [0, 1, 2, 3]).score["homogeneity"], 9)  # split, not merged
    1.0
    """
    from sklearn.metrics import homogeneity_completeness_v_measure

    t, p = _pair(true, pred)
    h, c, v = homogeneity_completeness_v_measure(t, p)
    return MetricResult("homogeneity_completeness_v",
                        {"homogeneity": float(h), "completeness": float(c), "v_measure": float(v)},
                        {"n_samples": t.size}, {"beta": 1.0},
                        {"homogeneity": True, "completeness": True, "v_measure": True})


def contingency(true: np.ndarray, pred: np.ndarray) -> np.ndarray:
    """Counts ``C[i, j]`` of samples with pred label i and true label j (int labels ``0..m-1``)."""
    n_true, n_pred = int(true.max()) + 1, int(pred.max()) + 1
    return np.bincount(pred * n_true + true, minlength=n_pred * n_true).reshape(n_pred, n_true)


def _match(true: np.ndarray, pred: np.ndarray) -> tuple[int, np.ndarray]:
    """Best one-to-one matching of codes to actions; returns (#correct, [(code, action), ...])."""
    counts = contingency(true, pred)
    rows, cols = linear_sum_assignment(counts, maximize=True)
    return int(counts[rows, cols].sum()), np.column_stack([rows, cols])


def hungarian_accuracy(true, pred, *, regions=None) -> MetricResult:
    """Accuracy of the best one-to-one matching of codes (``pred``) to actions (``true``).

    One global matching (``scipy.optimize.linear_sum_assignment`` on the contingency table)
    assigns each code at most one action and each action at most one code; samples whose code is
    unmatched (more codes than actions) or matched to another action count as errors. With more
    actions than codes, some actions can never be right.

    With ``regions`` (one label per sample, e.g. a state bin or connected component) it also
    matches separately inside each region. Per-region accuracy is never below global accuracy
    (the global matching is feasible in every region); their gap measures state dependence of
    the codes (D2). Then ``score`` is ``{"global", "per_region", "gap"}``, else a float.
    ``details["matching"]`` lists (code, action) pairs in the labels' sorted order
    (``details["code_values"]``, ``details["action_values"]`` map indices back).

    >>> r = hungarian_accuracy([0, 0, 1, 1], [1, 1, 0, 0], regions=[0, 1, 0, 1])
    >>> r.score, r.better("gap")
    ({'global': 1.0, 'per_region': 1.0, 'gap': 0.0}, False)
    """
    t, p = _pair(true, pred)
    n = t.size
    correct, matching = _match(t, p)
    details = {
        "n_samples": n,
        "matching": matching,
        "code_values": np.unique(np.asarray(pred), axis=0),
        "action_values": np.unique(np.asarray(true), axis=0),
        "n_codes": int(p.max()) + 1,
        "n_actions": int(t.max()) + 1,
    }
    global_acc = correct / n
    if regions is None:
        return MetricResult("hungarian_accuracy", global_acc, details, {"regions": False}, True)
    r = as_labels(regions, "regions")
    check_same_length(true=t, regions=r)
    order = np.argsort(r, kind="stable")
    bounds = np.flatnonzero(np.diff(r[order])) + 1
    region_correct, region_acc = 0, {}
    for idx in np.split(order, bounds):
        c, _ = _match(as_labels(t[idx], "true"), as_labels(p[idx], "pred"))
        region_correct += c
        region_acc[int(r[idx[0]])] = c / idx.size
    per_region = region_correct / n
    details.update(per_region_accuracy=region_acc, n_regions=len(region_acc))
    score = {"global": global_acc, "per_region": per_region, "gap": per_region - global_acc}
    return MetricResult("hungarian_accuracy", score, details, {"regions": True},
                        {"global": True, "per_region": True, "gap": False})
