"""SAP: dlib's behavioural checks, the score matrix against dlib's per-pair loop, degenerate inputs."""

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.svm import LinearSVC

from identlam.errors import IdentlamError
from identlam.metrics._sap import sap

PROPERTY = settings(max_examples=10, deadline=None)


@pytest.fixture(scope="module")
def gaussian_factors():
    """dlib's SAP tests use continuous factors; 3000 samples of 10 standard normals."""
    return np.random.default_rng(0).normal(size=(3000, 10))


def test_dlib_identity_codes(gaussian_factors):
    assert 0.9 <= sap(gaussian_factors, gaussian_factors, continuous_factors=True).score <= 1.0


def test_dlib_zero_codes(gaussian_factors):
    zeros = np.zeros_like(gaussian_factors)
    assert sap(gaussian_factors, zeros, continuous_factors=True).score == 0.0  # dlib's var rule


def test_dlib_duplicated_codes_are_penalised(gaussian_factors):
    doubled = np.hstack([gaussian_factors, gaussian_factors])
    assert 0.0 <= sap(gaussian_factors, doubled, continuous_factors=True).score <= 0.2


def test_continuous_score_matrix_is_dlib_loop():
    rng = np.random.default_rng(1)
    y = rng.normal(size=(200, 3))
    z = np.column_stack([y @ rng.normal(size=(3, 4)) + rng.normal(size=(200, 4)), np.full(200, 2.0)])
    res = sap(y, z, continuous_factors=True)
    expected = np.zeros((5, 3))
    for i in range(5):
        for j in range(3):
            cov = np.cov(z[:, i], y[:, j], ddof=1)
            expected[i, j] = cov[0, 1] ** 2 / (cov[0, 0] * cov[1, 1]) if cov[0, 0] > 1e-12 else 0.0
    np.testing.assert_allclose(res.details["score_matrix"], expected, rtol=1e-10, atol=1e-15)
    top = np.sort(expected, axis=0)
    assert res.score == pytest.approx(np.mean(top[-1] - top[-2]), abs=1e-12)


def test_hand_computed_continuous():
    y = np.array([-1.0, -1.0, 1.0, 1.0])
    z = np.column_stack([y, [-1.0, 1.0, 1.0, 1.0]])  # squared correlations 1 and 1/3
    res = sap(y, z, continuous_factors=True)
    np.testing.assert_allclose(res.details["score_matrix"][:, 0], [1.0, 1.0 / 3.0], rtol=1e-14)
    assert res.score == pytest.approx(2.0 / 3.0, abs=1e-14)
    assert res.details["best_latent"].tolist() == [0]


def test_discrete_score_matrix_is_dlib_loop(make_factors):
    f = make_factors(300, 2, 3, seed=4)
    z = f + np.random.default_rng(4).normal(0, 0.4, size=f.shape)
    res = sap(f, z)  # dlib's study setting: discrete factors, LinearSVC, test accuracy
    expected = np.zeros((2, 2))
    for i in range(2):
        for j in range(2):
            svm = LinearSVC(C=0.01, class_weight="balanced", random_state=0).fit(z[:200, i:i + 1], f[:200, j])
            expected[i, j] = np.mean(svm.predict(z[200:, i:i + 1]) == f[200:, j])
    np.testing.assert_array_equal(res.details["score_matrix"], expected)
    assert res.params["n_train"] == 200 and res.params["continuous_factors"] is False
    assert res.details["score_matrix"][0, 0] > 0.6 and res.details["score_matrix"][1, 0] < 0.5


def test_single_code_gap_is_its_score():
    y = np.array([-1.0, -1.0, 1.0, 1.0])
    res = sap(y, np.array([-1.0, 1.0, 1.0, 1.0]), continuous_factors=True)
    assert res.score == pytest.approx(1.0 / 3.0, abs=1e-14)


@pytest.mark.parametrize("continuous", [True, False])
def test_constant_factor_excluded_and_reported(continuous, make_factors):
    f = make_factors(300, 2, 3, seed=5)
    z = f + np.random.default_rng(5).normal(0, 0.3, size=f.shape)
    with_constant = np.column_stack([f[:, 0], np.ones(300, dtype=int), f[:, 1]])
    res = sap(with_constant, z, continuous_factors=continuous)
    base = sap(f, z, continuous_factors=continuous)
    assert res.details["constant_factors"] == [1]
    assert res.details["gap_per_factor"][1] == 0.0
    assert json.loads(json.dumps(res.to_dict(), allow_nan=False))["details"]["constant_factors"] == [1]
    assert res.score == pytest.approx(base.score, abs=1e-15)


@pytest.mark.parametrize("continuous", [True, False])
def test_every_factor_constant_raises(continuous):
    with pytest.raises(IdentlamError, match="factors: every factor is constant"):
        sap(np.zeros(12, dtype=int), np.arange(12.0), continuous_factors=continuous)


@pytest.mark.parametrize(
    ("latents", "factors", "message"),
    [
        (np.zeros(1), np.zeros(1), "latents: needs at least 2 samples"),
        (np.zeros(5), np.zeros(4), "factors: length mismatch"),
        (np.array([0.0, np.inf, 1.0]), np.zeros(3), "latents: contains 1 NaN or infinite"),
    ],
)
def test_bad_input_raises(latents, factors, message):
    with pytest.raises(IdentlamError, match=message):
        sap(factors, latents, continuous_factors=True)


@PROPERTY
@given(seed=st.integers(0, 10_000))
def test_continuous_invariances_and_bounds(seed):
    rng = np.random.default_rng(seed)
    y = rng.normal(size=(300, 3))
    z = y @ rng.normal(size=(3, 4)) + rng.normal(0, 0.5, size=(300, 4))
    base = sap(y, z, continuous_factors=True).score
    assert 0.0 <= base <= 1.0
    assert sap(y, z[:, rng.permutation(4)], continuous_factors=True).score == pytest.approx(base, abs=1e-12)
    assert sap(y[:, rng.permutation(3)], z, continuous_factors=True).score == pytest.approx(base, abs=1e-12)
    rows = rng.permutation(300)
    assert sap(y[rows], z[rows], continuous_factors=True).score == pytest.approx(base, abs=1e-12)
    scale, shift = rng.uniform(0.1, 10.0, 4), rng.normal(0, 5, 4)
    assert sap(y, z * scale + shift, continuous_factors=True).score == pytest.approx(base, abs=1e-12)
