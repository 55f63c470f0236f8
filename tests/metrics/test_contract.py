"""The metric contract: the invariance suite over every registered metric, doctests, the parts
of the report, and the third extension path (a new metric registers and passes the suite)."""

import doctest
import importlib
import json

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

import identlam.metrics as metrics
from identlam.errors import IdentlamError
from identlam.metrics import METRICS, MetricResult, check_metric, register_metric
from identlam.metrics._checks import make_data
from identlam.metrics._validation import as_labels, check_same_length


@pytest.fixture(autouse=True)
def one_thread():
    with threadpool_limits(1):
        yield


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("name", sorted(METRICS))
def test_every_registered_metric_passes_the_invariance_suite(name):
    check_metric(name)


def test_every_public_metric_function_is_registered():
    registered = {spec.function for spec in METRICS.values()}
    helpers = {"MetricResult", "METRICS", "MetricSpec", "register_metric", "check_metric", "state_regions",
               "parse_regions", "RegionSpec", "DEFAULT_REGIONS", "REGIONS_HELP", "check_state_dim", "check_region_count",
               "label_budget_curve"}  # the curve is a series of linear_probe results, checked through it
    for name in set(metrics.__all__) - helpers:
        assert getattr(metrics, name) in registered, f"{name} is public but not in METRICS"


MODULES = sorted({module for module in metrics._LOCATIONS.values()} | {"_result"})


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("module_name", MODULES)
def test_docstring_examples_run(module_name):
    module = importlib.import_module(f"identlam.metrics.{module_name}")
    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0
    if module_name not in ("_registry", "_checks"):
        assert result.attempted > 0, f"{module_name} has no runnable example"


def code_purity(actions, codes):
    """Fraction of samples whose code's most frequent action is their own action."""
    a, c = as_labels(actions, "actions"), as_labels(codes, "codes")
    check_same_length(actions=a, codes=c)
    table = np.zeros((c.max() + 1, a.max() + 1))
    np.add.at(table, (c, a), 1)
    return MetricResult("code_purity", float(table.max(axis=1).sum() / a.size), {"n_samples": a.size}, {}, True)


def test_a_new_metric_registers_and_passes_the_suite(monkeypatch):
    monkeypatch.setitem(METRICS, "code_purity", METRICS.get("code_purity"))  # removed again after the test
    spec = register_metric("code_purity", code_purity, true="labels", pred="labels")
    assert spec.true_name == "actions" and spec.pred_name == "codes"
    result = check_metric("code_purity")
    assert 0.85 < result.score <= 1.0


def test_the_suite_catches_a_metric_that_breaks_its_promise(monkeypatch):
    def order_dependent(actions, codes):
        a, c = as_labels(actions, "actions"), as_labels(codes, "codes")
        check_same_length(actions=a, codes=c)
        return MetricResult("first_half", float(np.mean(a[: a.size // 2] == c[: c.size // 2])), {}, {}, True)

    monkeypatch.setitem(METRICS, "first_half", None)
    register_metric("first_half", order_dependent, true="labels", pred="labels", label_invariant=False)
    with pytest.raises(AssertionError, match="permuting samples"):
        check_metric("first_half")


def test_result_json_round_trip_keeps_direction():
    result = metrics.dci(*make_data(METRICS["dci"])[:2], importance="hist")
    again = MetricResult.from_dict(json.loads(json.dumps(result.to_dict())))
    assert again.greater_is_better == result.greater_is_better and again.better("completeness") is True
    assert again.score == result.score


def test_report_is_its_parts():
    rng = np.random.default_rng(3)
    n = 600
    actions = rng.integers(0, 4, n)
    states = rng.integers(0, 5, (n, 2))
    codes = np.where(rng.uniform(size=n) < 0.8, actions, rng.integers(0, 6, n))
    exo = rng.normal(size=(n, 1))
    z = np.eye(4)[actions] + rng.normal(0, 0.3, (n, 4))
    report = metrics.desiderata(actions, states, z, codes=codes, exo=exo, budgets=[8])
    parts = [metrics.determinism(actions, states, codes=codes), metrics.state_invariance(actions, states, codes=codes),
             metrics.injectivity(actions, codes=codes), metrics.used_codes(actions, codes),
             metrics.label_agreement(actions, codes, states=states), metrics.action_probe(actions, z),
             metrics.distractor_leakage(actions, exo, z, codes=codes)]
    combined = {}
    for part in parts:
        assert not set(part.score) & set(combined), f"{part.name} repeats a key"
        combined.update(part.score)
        assert all(report.better(k) == part.better(k) for k in part.score)
    assert combined == report.score


def test_hist_and_exact_dci_agree_on_a_clear_representation():
    rng = np.random.default_rng(0)
    factors = rng.integers(0, 4, (3000, 2))
    latents = np.column_stack([factors + rng.normal(0, 0.2, factors.shape), rng.normal(size=3000)])
    exact = metrics.dci(factors, latents, importance="exact")
    hist = metrics.dci(factors, latents, importance="hist")
    assert hist.params["importance"] == "hist" and exact.params["importance"] == "exact"
    for key in ("disentanglement", "completeness", "informativeness_test"):
        assert hist.score[key] == pytest.approx(exact.score[key], abs=0.05)
    assert np.argmax(hist.details["importance_matrix"], axis=0).tolist() == [0, 1]


def test_auto_importance_switches_to_hist_beyond_dlib_study_size():
    rng = np.random.default_rng(1)
    factors = rng.integers(0, 2, (16_000, 1))
    latents = factors + rng.normal(0, 0.5, (16_000, 1))
    assert metrics.dci(factors, latents).params["importance"] == "hist"
    assert metrics.dci(factors[:3000], latents[:3000]).params["importance"] == "exact"
    with pytest.raises(IdentlamError, match="importance"):
        metrics.dci(factors, latents, importance="fast")


def test_regions_spec_gives_labels():
    states = np.array([[0.0, 0.0], [0.4, 1.0], [0.6, 0.0], [1.0, 1.0]])
    assert metrics.parse_regions("threshold:0:0.5").labels(states).tolist() == [0, 0, 1, 1]
    assert metrics.parse_regions("grid:2").labels(states).tolist() == [0, 1, 2, 3]
    assert len(set(metrics.parse_regions("kmeans:2").labels(states, seed=0).tolist())) == 2
