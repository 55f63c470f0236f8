"""Linear and MLP probes, held-out splits and label-budget curves."""

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

from identlam.errors import IdentlamError
from identlam.metrics import linear_probe, mlp_probe
from identlam.metrics._probes import label_budget_curve


@pytest.fixture(autouse=True)
def one_blas_thread():
    """Tiny fits on a shared 2-core machine: BLAS threads only add contention."""
    with threadpool_limits(1):
        yield


@pytest.fixture(scope="module")
def separable():
    rng = np.random.default_rng(0)
    a = rng.integers(0, 4, 600)
    z = np.eye(4)[a] + 0.1 * rng.normal(size=(600, 4))
    return z, a


def test_linear_probe_on_separable_classes(separable):
    z, a = separable
    result = linear_probe(a, z, seed=0)
    assert result.score["accuracy"] == 1.0 and result.score["f1_weighted"] == 1.0
    assert result.details == {"n_train": 480, "n_test": 120}
    assert result.params["discrete_target"] is True and result.params["seed"] == 0
    # the majority baseline is the test frequency of the most common training class
    perm = np.random.default_rng(0).permutation(600)
    train_idx, test_idx = perm[120:], perm[:120]
    majority = np.bincount(a[train_idx]).argmax()
    assert result.score["majority_baseline"] == pytest.approx(np.mean(a[test_idx] == majority))


def test_probe_is_invariant_to_input_scale_and_depends_on_the_seed(separable):
    z, a = separable
    noisy = z + np.random.default_rng(1).normal(0, 0.6, z.shape)
    base = linear_probe(a, noisy, seed=3).score
    assert linear_probe(a, noisy * 1e4 + 5.0, seed=3).score == pytest.approx(base)  # train-statistics scaling
    assert linear_probe(a, noisy, seed=3).score == base
    assert linear_probe(a, noisy, seed=4).score != base


def test_continuous_targets_report_r2_and_mse():
    rng = np.random.default_rng(2)
    z = rng.normal(size=(500, 3))
    y = z @ np.array([[1.0, 0.0], [2.0, 1.0], [0.0, -1.0]])
    result = linear_probe(y, z)
    assert result.score["r2"] > 0.999999 and result.score["mse"] < 1e-8
    independent = linear_probe(rng.normal(size=500), z)
    assert independent.score["r2"] < 0.05
    assert set(independent.score) == {"r2", "mse"}


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_mlp_probe_decodes_what_a_linear_probe_cannot():
    rng = np.random.default_rng(3)
    z = rng.uniform(-1, 1, size=(300, 2))
    xor = ((z[:, 0] > 0) ^ (z[:, 1] > 0)).astype(int)
    assert linear_probe(xor, z).score["accuracy"] < 0.7
    assert mlp_probe(xor, z, seed=0).score["accuracy"] > 0.9


def test_single_training_class_predicts_it():
    z = np.arange(10.0)
    y = np.array([0] * 9 + [1])
    result = linear_probe(y, z, train_idx=np.arange(8), test_idx=np.arange(8, 10))
    assert result.score["accuracy"] == 0.5 and "one class" in result.details["note"]


def test_label_budget_curve_by_samples_and_trajectories(separable):
    z, a = separable
    noisy = z + np.random.default_rng(4).normal(0, 0.5, z.shape)
    curve = label_budget_curve(a, noisy, [4, 40, 400], seed=0)
    assert list(curve.score) == ["n=4", "n=40", "n=400"]
    assert curve.score["n=400"] > curve.score["n=4"]
    assert [row["n_train"] for row in curve.details["curve"]] == [4, 40, 400]
    traj = np.repeat(np.arange(30), 20)
    by_traj = label_budget_curve(a, noisy, [1, 10], unit="trajectories", traj=traj, seed=0)
    assert [row["n_train"] for row in by_traj.details["curve"]] == [20, 200]
    assert by_traj.details["n_test"] == 6 * 20  # whole trajectories held out


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"budgets": [10_000]}, "^budgets: 10000 exceeds the 480 training samples available$"),
        ({"budgets": [0]}, "^budgets: expected an integer >= 1"),
        ({"budgets": [5], "unit": "trajectories"}, "^traj: unit='trajectories' needs"),
        ({"budgets": [5], "unit": "episodes"}, "^unit: expected one of samples, trajectories"),
        ({"budgets": [5], "probe": "forest"}, "^probe: expected one of linear, mlp"),
    ],
)
def test_label_budget_curve_errors(separable, kwargs, match):
    z, a = separable
    with pytest.raises(IdentlamError, match=match):
        label_budget_curve(a, z, **kwargs)


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda z, a: linear_probe(a, z[:5]), r"^target: length mismatch \(latents=5, target=600\)$"),
        (lambda z, a: linear_probe(a, np.where(z > 0.5, np.nan, z)), "^latents: contains .* NaN"),
        (lambda z, a: linear_probe(a, z, test_size=1.5), r"^test_size: expected a fraction in \(0, 1\)"),
        (lambda z, a: linear_probe(a[:1], z[:1]), "^latents: a held-out split needs at least 2 samples"),
        (lambda z, a: mlp_probe(a, z, train_idx=[0, 1]), "^train_idx: give both"),
        (lambda z, a: linear_probe([], np.zeros((0, 2))), r"^latents: empty input"),
    ],
)
def test_probe_errors(separable, call, match):
    z, a = separable
    with pytest.raises(IdentlamError, match=match):
        call(z, a)
