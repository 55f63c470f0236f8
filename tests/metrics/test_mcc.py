"""MCC: reference formula, division by the true dimension, invariances, degenerate inputs."""

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import linear_sum_assignment
from scipy.stats import spearmanr

from identlam.errors import IdentlamError
from identlam.metrics._mcc import mcc

PROPERTY = settings(max_examples=15, deadline=None)


def _reference(true, learned, method):
    """The reference ``mean_corr_coef_np`` (iVAE): averages over matched pairs only."""
    d = true.shape[1]
    if method == "pearson":
        cc = np.corrcoef(true, learned, rowvar=False)[:d, d:]
    else:
        cc = spearmanr(true, learned)[0][:d, d:]
    cc = np.abs(cc)
    return cc[linear_sum_assignment(-cc)].mean(), cc


@pytest.mark.parametrize("method", ["pearson", "spearman"])
def test_matches_reference_on_square_input(method):
    rng = np.random.default_rng(0)
    y = rng.normal(size=(500, 3))
    z = y @ rng.normal(size=(3, 3)) + rng.normal(0, 0.5, size=(500, 3))
    res = mcc(y, z, method=method)
    expected, cc = _reference(y, z, method)
    assert res.score == pytest.approx(expected, abs=1e-12)
    np.testing.assert_allclose(np.abs(res.details["correlation"]).T, cc, atol=1e-12)
    assert res.params["method"] == method


def test_permuted_flipped_scaled_copy_scores_one():
    y = np.random.default_rng(1).normal(size=(300, 3))
    z = y[:, [2, 0, 1]] * [-2.0, 0.5, 7.0] + [1.0, -3.0, 0.0]
    res = mcc(y, z)
    assert res.score == pytest.approx(1.0, abs=1e-12)
    assert res.details["assignment"].tolist() == [1, 2, 0]
    np.testing.assert_allclose(res.details["correlation"][0, 2], -1.0, atol=1e-12)


def test_missing_factor_counts_as_zero():
    y = np.random.default_rng(2).normal(size=(300, 3))
    res = mcc(y, y[:, [0, 2]])  # 2 learned dims for 3 true ones
    assert res.score == pytest.approx(2.0 / 3.0, abs=1e-12)
    assert res.details["assignment"].tolist() == [0, -1, 1]
    np.testing.assert_allclose(res.details["matched_abs_correlation"], [1.0, 0.0, 1.0], atol=1e-12)
    assert _reference(y, y[:, [0, 2]], "pearson")[0] == pytest.approx(1.0)  # what we fix


def test_extra_latents_are_ignored():
    rng = np.random.default_rng(3)
    y = rng.normal(size=(300, 2))
    assert mcc(y, np.column_stack([rng.normal(size=300), y])).score == pytest.approx(1.0, abs=1e-12)


def test_hand_computed_value():
    y = np.array([-1.0, -1.0, 1.0, 1.0])
    z = np.array([-1.0, 1.0, 1.0, 1.0])  # |rho| = 1/sqrt(3)
    assert mcc(y, z).score == pytest.approx(1.0 / np.sqrt(3.0), abs=1e-15)
    assert mcc(y, z, method="spearman").score == pytest.approx(1.0 / np.sqrt(3.0), abs=1e-15)


def test_constant_latent_has_zero_correlation():
    y = np.random.default_rng(4).normal(size=(100, 2))
    res = mcc(y, np.column_stack([np.full(100, 0.3), y[:, 0]]))
    np.testing.assert_array_equal(res.details["correlation"][0], 0.0)
    assert res.score == pytest.approx(0.5, abs=1e-12)


def test_constant_factor_excluded_and_reported():
    y = np.random.default_rng(5).normal(size=(100, 2))
    res = mcc(np.column_stack([y[:, 0], np.full(100, 2.0), y[:, 1]]), y)
    assert res.score == pytest.approx(1.0, abs=1e-12)
    assert res.details["constant_factors"] == [1]
    assert res.details["assignment"][1] == -1
    assert json.loads(json.dumps(res.to_dict(), allow_nan=False))["details"]["assignment"] == [0, -1, 1]
    with pytest.raises(IdentlamError, match="factors: every factor is constant"):
        mcc(np.ones(100), y)


@pytest.mark.parametrize(
    ("latents", "factors", "kwargs", "message"),
    [
        (np.zeros(5), np.zeros(5), {"method": "rdc"}, "method: expected one of"),
        (np.zeros(1), np.zeros(1), {}, "latents: needs at least 2 samples"),
        (np.zeros(5), np.zeros(6), {}, "factors: length mismatch"),
        (np.array([1.0, np.nan, 2.0]), np.arange(3.0), {}, "latents: contains 1 NaN"),
        (np.arange(3.0), np.zeros((3, 0)), {}, "factors: empty input"),
    ],
)
def test_bad_input_raises(latents, factors, kwargs, message):
    with pytest.raises(IdentlamError, match=message):
        mcc(factors, latents, **kwargs)


def test_independent_baseline():
    rng = np.random.default_rng(6)
    assert mcc(rng.normal(size=(2000, 3)), rng.normal(size=(2000, 3))).score < 0.06


@PROPERTY
@given(seed=st.integers(0, 10_000))
def test_invariances_and_bounds(seed):
    rng = np.random.default_rng(seed)
    y = rng.normal(size=(200, 3))
    z = np.tanh(y @ rng.normal(size=(3, 4))) + rng.normal(0, 0.3, size=(200, 4))
    for method in ("pearson", "spearman"):
        base = mcc(y, z, method=method).score
        assert 0.0 <= base <= 1.0
        assert mcc(y, z[:, rng.permutation(4)], method=method).score == pytest.approx(base, abs=1e-12)
        assert mcc(y[:, rng.permutation(3)], z, method=method).score == pytest.approx(base, abs=1e-12)
        rows = rng.permutation(200)
        assert mcc(y[rows], z[rows], method=method).score == pytest.approx(base, abs=1e-12)
        signs = rng.choice([-1.0, 1.0], 4) * rng.uniform(0.1, 10.0, 4)
        assert mcc(y, z * signs + 3.0, method=method).score == pytest.approx(base, abs=1e-12)
    # Spearman is invariant to strictly monotone maps; Pearson is not.
    spearman = mcc(y, z, method="spearman").score
    assert mcc(y, np.exp(3 * z), method="spearman").score == pytest.approx(spearman, abs=1e-12)
    assert mcc(y, np.exp(3 * z)).score != pytest.approx(mcc(y, z).score, abs=1e-3)
