"""The invariance suite every public metric passes (as scikit-learn's ``check_estimator``).

:func:`check_metric` runs a registered metric (:data:`identlam.metrics.METRICS`) on generated
data and checks the contract:

1. the result is a :class:`MetricResult` whose ``greater_is_better`` covers its score (one
   direction per key of a dict score), with finite scores;
2. relabelling the discrete values of ``true`` and ``pred`` by a bijection leaves the score
   unchanged (where the spec says the metric is label-invariant);
3. permuting the samples jointly leaves the score unchanged (where the spec says so);
4. the same data as int32/int64 labels or float32/float64 values gives the same score;
5. a length mismatch raises :class:`IdentlamError` with one line naming the argument;
6. NaN input raises :class:`IdentlamError` with one line naming the argument (the documented
   result of NaN for every metric);
7. the result survives a strict JSON round trip (``to_dict`` → ``json`` → ``from_dict``).

Continuous data is generated on a 1/256 grid so that float32 holds it exactly: a dtype change
then must not move the score at all.
"""

from __future__ import annotations

import json
import math
import numpy as np

from identlam.errors import IdentlamError
from identlam.metrics._registry import METRICS, MetricSpec
from identlam.metrics._result import MetricResult

N_SAMPLES = 240


def make_data(spec: MetricSpec, n: int = N_SAMPLES, seed: int = 0) -> tuple[np.ndarray, np.ndarray, dict]:
    """Ground truth, a related representation of ``spec``'s kinds, and every extra input."""
    rng = np.random.default_rng(seed)
    actions = rng.integers(0, 4, n)
    factors = np.column_stack([actions, rng.integers(0, 3, n)])
    signal = np.column_stack([actions, factors[:, 1]]).astype(np.float64)

    def continuous(base):
        return np.round((base + rng.normal(0, 0.3, base.shape)) * 256) / 256

    true = {"labels": actions, "factors": factors, "continuous": continuous(signal)}[spec.true]
    noisy_codes = np.where(rng.uniform(size=n) < 0.9, actions, rng.integers(0, 4, n)) * 3 + 1
    pred = {"labels": noisy_codes, "factors": np.column_stack([noisy_codes, factors[:, 1]]),
            "continuous": continuous(signal[:, ::-1] * [1.0, -2.0])}[spec.pred]
    extras = {"states": rng.integers(0, 3, (n, 2)), "regions": rng.integers(0, 3, n),
              "exo": continuous(rng.normal(size=(n, 1))), "condition": rng.integers(0, 2, n)}
    return true, pred, extras


def _scores(result: MetricResult) -> dict[str, float]:
    return dict(result.score) if isinstance(result.score, dict) else {"score": float(result.score)}


def _assert_close(name: str, what: str, base: MetricResult, other: MetricResult, tol: float) -> None:
    a, b = _scores(base), _scores(other)
    assert a.keys() == b.keys(), f"{name}: {what} changed the score keys {sorted(a)} -> {sorted(b)}"
    for key in a:
        assert abs(a[key] - b[key]) <= tol, f"{name}: {what} changed {key}: {a[key]!r} -> {b[key]!r}"


def _relabel(x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    values = np.unique(x)
    target = rng.permutation(values.size) * 7 + 5  # a bijection onto non-contiguous labels
    return target[np.searchsorted(values, x)]


def _assert_one_line_error(name: str, what: str, arg: str, call) -> None:
    try:
        call()
    except IdentlamError as err:
        text = str(err)
        assert "\n" not in text, f"{name}: {what} error spans several lines: {text!r}"
        assert arg in text, f"{name}: {what} error does not name {arg!r}: {text!r}"
        return
    raise AssertionError(f"{name}: {what} was accepted without an error")


def check_metric(metric: str | MetricSpec, *, seed: int = 0) -> MetricResult:
    """Run the invariance suite on a registered metric (a name in ``METRICS`` or a spec).

    Raises ``AssertionError`` naming the metric and the broken property; returns the result on
    the generated data. Example: ``check_metric("ami")``.
    """
    spec = METRICS[metric] if isinstance(metric, str) else metric
    name = spec.name
    true, pred, extras = make_data(spec, seed=seed)
    base = spec(true, pred, extras)

    assert isinstance(base, MetricResult), f"{name}: returned {type(base).__name__}, not MetricResult"
    scores = _scores(base)
    assert all(math.isfinite(v) for v in scores.values()), f"{name}: non-finite score {scores}"
    if isinstance(base.score, dict):
        assert isinstance(base.greater_is_better, dict) and base.greater_is_better.keys() == base.score.keys(), \
            f"{name}: greater_is_better must have one entry per score key"
    else:
        assert base.greater_is_better in (True, False, None), f"{name}: greater_is_better must be a bool or None"

    rng = np.random.default_rng(seed + 1)
    if spec.label_invariant:
        t2 = _relabel(true, rng) if spec.true != "continuous" else true
        p2 = _relabel(pred, rng) if spec.pred != "continuous" else pred
        _assert_close(name, "relabelling", base, spec(t2, p2, extras), spec.tolerance)
    if spec.order_invariant:
        order = rng.permutation(len(true))
        shuffled = {k: v[order] for k, v in extras.items()}
        _assert_close(name, "permuting samples", base, spec(true[order], pred[order], shuffled), spec.tolerance)
    for width in (32, 64):
        cast = {"labels": f"int{width}", "factors": f"int{width}", "continuous": f"float{width}"}
        _assert_close(name, f"{width}-bit dtypes", base,
                      spec(true.astype(cast[spec.true]), pred.astype(cast[spec.pred]), extras), spec.tolerance)

    if spec.paired:
        _assert_one_line_error(name, "a length mismatch", spec.pred_name, lambda: spec(true, pred[:-1], extras))
    with_nan = pred.astype(np.float64)
    with_nan[3] = np.nan
    nan_arg = spec.pred_name if spec.paired else spec.true_name
    if spec.paired:
        _assert_one_line_error(name, "NaN input", nan_arg, lambda: spec(true, with_nan, extras))
    else:
        _assert_one_line_error(name, "NaN input", nan_arg, lambda: spec(with_nan, pred, extras))

    text = json.dumps(base.to_dict(), allow_nan=False)
    again = MetricResult.from_dict(json.loads(text))
    assert again.to_dict() == json.loads(text), f"{name}: JSON round trip changed the result"
    assert again.greater_is_better == json.loads(json.dumps(base.greater_is_better)), \
        f"{name}: JSON round trip lost greater_is_better"
    return base
