"""MIG: dlib's behavioural checks, exact hand-computed values, degenerate inputs, invariances."""

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import mutual_info_score

from identlam.errors import IdentlamError
from identlam.metrics._shared import discretize
from identlam.metrics._mig import mig

PROPERTY = settings(max_examples=10, deadline=None)
LOG2_3 = np.log2(3.0)


def test_dlib_identity_codes(factors_3000):
    assert 0.9 <= mig(factors_3000, factors_3000).score <= 1.0
    assert 0.9 <= mig(factors_3000, factors_3000.astype(float)).score <= 1.0  # equal-width path


def test_dlib_zero_codes(factors_3000):
    assert 0.0 <= mig(factors_3000, np.zeros_like(factors_3000)).score <= 0.2


def test_dlib_duplicated_codes_are_penalised(factors_3000):
    assert 0.0 <= mig(factors_3000, np.hstack([factors_3000, factors_3000])).score <= 0.1


def test_random_codes_score_low(factors_3000):
    noise = np.random.default_rng(5).normal(size=factors_3000.shape)
    assert mig(factors_3000, noise).score <= 0.05


def test_hand_computed_gap():
    # factor H = log 2; code 0 copies it (I = log 2), code 1 = [0,0,0,1] has I = H(3/4,1/4) - log(2)/2.
    f = np.array([0, 0, 1, 1])
    z = np.array([[0, 0], [0, 0], [1, 0], [1, 1]])
    res = mig(f, z)
    i_second = (2.0 - 0.75 * LOG2_3) * np.log(2) - 0.5 * np.log(2)
    np.testing.assert_allclose(res.details["mi_matrix"][:, 0], [np.log(2), i_second], rtol=1e-14)
    np.testing.assert_allclose(res.score, 0.75 * LOG2_3 - 0.5, rtol=1e-14)
    np.testing.assert_allclose(res.details["factor_entropy"], [np.log(2)], rtol=1e-15)
    assert res.details["best_latent"].tolist() == [0]
    assert res.params["discretizer"] == "identity" and res.params["num_bins"] is None
    assert json.loads(json.dumps(res.to_dict(), allow_nan=False))["details"]["best_latent"] == [0]


def test_single_code_gap_is_mi_over_entropy():
    res = mig(np.array([0, 0, 1, 1]), np.array([0, 0, 0, 1]))
    np.testing.assert_allclose(res.score, 1.5 - 0.75 * LOG2_3, rtol=1e-14)
    assert mig(np.array([0, 0, 1, 1]), np.array([3, 3, 7, 7])).score == pytest.approx(1.0, abs=1e-15)


def test_constant_factor_is_excluded_and_reported(noisy_codes):
    z, f = noisy_codes
    with_constant = np.column_stack([f[:, :2], np.full(len(f), 4), f[:, 2:]])
    base, res = mig(f, z), mig(with_constant, z)
    assert res.score == pytest.approx(base.score, abs=1e-15)
    assert res.details["constant_factors"] == [2]
    assert res.details["gap_per_factor"][2] == 0.0
    assert res.details["factor_entropy"][2] == 0.0


def test_every_factor_constant_raises():
    with pytest.raises(IdentlamError, match="factors: every factor is constant"):
        mig(np.ones((50, 2), dtype=int), np.random.default_rng(0).normal(size=(50, 2)))


def test_constant_code_never_wins(noisy_codes):
    z, f = noisy_codes
    res = mig(f, np.column_stack([np.zeros(len(z)), z]))
    np.testing.assert_array_equal(res.details["mi_matrix"][0], 0.0)
    assert res.score == pytest.approx(mig(f, z).score, abs=1e-15)


def test_duplicated_code_zeroes_that_factors_gap(noisy_codes):
    z, f = noisy_codes
    res = mig(f, np.column_stack([z, z[:, 1]]))
    assert res.details["gap_per_factor"][1] == 0.0
    assert res.details["gap_per_factor"][0] > 0.5


def test_mi_matrix_is_sklearn_on_dlib_bins(noisy_codes):
    z, f = noisy_codes
    res = mig(f, z, discretizer="equal_width", num_bins=20)
    binned = np.column_stack([np.digitize(c, np.histogram(c, 20)[1][:-1]) for c in z.T])
    expected = [[mutual_info_score(f[:, j], binned[:, i]) for j in range(4)] for i in range(4)]
    np.testing.assert_allclose(res.details["mi_matrix"], expected, rtol=1e-12)
    assert res.params["num_bins"] == 20 and res.params["n_samples"] == 2000


@pytest.mark.parametrize(
    ("latents", "factors", "message"),
    [
        (np.zeros((5, 2)), np.zeros((4, 1), dtype=int), "factors: length mismatch"),
        (np.full((5, 2), np.nan), np.zeros((5, 1), dtype=int), "latents: contains 10 NaN"),
        (np.zeros((0, 2)), np.zeros((0, 1), dtype=int), "empty input"),
        (np.zeros((5, 2)), np.linspace(0, 1, 5), "factors column 0: discrete labels"),
    ],
)
def test_bad_input_raises(latents, factors, message):
    with pytest.raises(IdentlamError, match=message):
        mig(factors, latents)


@PROPERTY
@given(seed=st.integers(0, 10_000))
def test_invariances(seed):
    rng = np.random.default_rng(seed)
    f = rng.integers(0, 4, size=(400, 3))
    z = np.column_stack([f[:, 0] + rng.normal(0, 0.5, 400), f[:, 1] * rng.normal(1, 0.3, 400),
                         rng.normal(size=400), f.sum(axis=1) + rng.normal(0, 1, 400)])
    base = mig(f, z)
    assert 0.0 <= base.score <= 1.0
    perm = rng.permutation(4)
    assert mig(f, z[:, perm]).score == base.score  # code permutation: exact
    fperm = rng.permutation(3)
    assert mig(f[:, fperm], z).score == pytest.approx(base.score, abs=1e-12)
    relabelled = np.column_stack([rng.permutation(10)[f[:, j]] * 3 + 1 for j in range(3)])
    assert mig(relabelled, z).score == pytest.approx(base.score, abs=1e-12)
    rows = rng.permutation(400)
    assert mig(f[rows], z[rows]).score == pytest.approx(base.score, abs=1e-12)
    scale, shift = rng.uniform(0.1, 10.0, 4), rng.normal(0, 5, 4)
    assert mig(f, z * scale + shift).score == pytest.approx(base.score, abs=1e-12)


def test_monotone_map_moves_equal_width_mig_but_not_quantile_mig(noisy_codes):
    z, f = noisy_codes
    # Equal-width bins are not invariant to nonlinear monotone maps (dlib's setting) ...
    assert mig(f, np.exp(z), discretizer="equal_width").score < mig(f, z).score - 0.1
    # ... while quantile bins depend only on the order of values.
    quantile = mig(f, z, discretizer="quantile")
    assert mig(f, np.exp(z), discretizer="quantile").score == quantile.score
    assert quantile.params["discretizer"] == "quantile"


def test_auto_uses_identity_for_integer_codes():
    f = np.random.default_rng(3).integers(0, 40, size=(4000, 1))
    assert mig(f, f).score == pytest.approx(1.0, abs=1e-12)
    # dlib's equal-width rule merges 40 categorical codes into 20 bins and loses information
    assert mig(f, f, discretizer="equal_width").score < 0.85
    assert discretize(f, "auto")[2] == "identity"
