"""Modularity and explicitness: dlib's matrix-level and behavioural checks, degenerate inputs."""

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.preprocessing import MultiLabelBinarizer

from identlam.errors import IdentlamError
from identlam.metrics._modularity import explicitness, modularity, modularity_from_mi

PROPERTY = settings(max_examples=10, deadline=None)
DIAG = np.diag(5.0 * np.ones(5))


@pytest.mark.parametrize(
    ("mi", "expected"),
    [
        (DIAG, 1.0),
        (np.diag([1.0, 1.0, 0.0]), 2.0 / 3.0),  # the empty code counts as 0 in the mean
        (np.zeros((5, 5)), 0.0),
        (np.vstack([DIAG, DIAG]), 1.0),  # redundancy is not penalised
        (np.hstack([DIAG, DIAG]), 1.0 - 1.0 / 9.0),  # each code on 2 of 10 factors
    ],
)
def test_dlib_matrix_checks(mi, expected):
    assert modularity_from_mi(mi)[0] == pytest.approx(expected, abs=1e-14)


def test_hand_computed_delta():
    # code 0: theta = 2, other = 1 -> delta = 1 / (4 * 2) over K - 1 = 2 others; code 1: pure.
    score, per = modularity_from_mi(np.array([[2.0, 1.0, 0.0], [0.0, 0.0, 3.0]]))
    np.testing.assert_allclose(per, [1.0 - 1.0 / 8.0, 1.0], rtol=1e-15)
    assert score == pytest.approx((2.0 - 1.0 / 8.0) / 2.0, abs=1e-15)


def test_one_factor_gives_one_for_informative_codes():
    score, per = modularity_from_mi(np.array([[0.5], [0.0]]))
    np.testing.assert_array_equal(per, [1.0, 0.0])
    assert score == 0.5


@pytest.fixture(scope="module")
def factors_20000(make_factors):
    return make_factors(20000, 10, 10, seed=3)


def test_dlib_identity_and_duplicated_codes(factors_20000):
    assert modularity(factors_20000, factors_20000).score >= 0.9
    assert modularity(factors_20000, np.hstack([factors_20000] * 2)).score >= 0.9


def test_dlib_shuffled_codes(factors_20000):
    rng = np.random.default_rng(0)
    shuffled = rng.permuted(factors_20000, axis=1)  # each sample's codes permuted independently
    assert 0.0 <= modularity(factors_20000, shuffled).score <= 0.2


def test_constant_factor_excluded_constant_code_counts(noisy_codes):
    z, f = noisy_codes
    base = modularity(f, z)
    with_constant = modularity(np.column_stack([f, np.zeros(len(f), dtype=int)]), z)
    assert with_constant.details["constant_factors"] == [4]
    assert json.loads(json.dumps(with_constant.to_dict(), allow_nan=False))["name"] == "modularity"
    assert with_constant.score == pytest.approx(base.score, abs=1e-15)
    diluted = modularity(f, np.column_stack([z, np.zeros(len(z))]))
    assert diluted.details["modularity_per_latent"][-1] == 0.0
    assert diluted.score == pytest.approx(base.score * 4 / 5, abs=1e-14)


def test_every_factor_constant_raises():
    with pytest.raises(IdentlamError, match="factors: every factor is constant"):
        modularity(np.zeros(10, dtype=int), np.arange(10.0))


@PROPERTY
@given(seed=st.integers(0, 10_000))
def test_invariances_and_bounds(seed):
    rng = np.random.default_rng(seed)
    f = rng.integers(0, 4, size=(400, 3))
    z = np.column_stack([f[:, 0] + rng.normal(0, 0.5, 400), f[:, :2].sum(1) + rng.normal(0, 0.5, 400),
                         rng.normal(size=400)])
    base = modularity(f, z).score
    assert 0.0 <= base <= 1.0
    assert modularity(f, z[:, [2, 0, 1]]).score == pytest.approx(base, abs=1e-15)
    assert modularity(f[:, [1, 2, 0]], z).score == pytest.approx(base, abs=1e-12)
    rows = rng.permutation(400)
    assert modularity(f[rows], z[rows]).score == pytest.approx(base, abs=1e-12)
    scale, shift = rng.uniform(0.1, 10.0, 3), rng.normal(0, 5, 3)
    assert modularity(f, z * scale + shift).score == pytest.approx(base, abs=1e-12)


def _dlib_explicitness(x, y, n_train):
    mean, std = x[:n_train].mean(0), x[:n_train].std(0)
    xs = (x - mean) / std
    clf = LogisticRegression().fit(xs[:n_train], y[:n_train])
    out = []
    for rows in (slice(0, n_train), slice(n_train, None)):
        labels = MultiLabelBinarizer().fit_transform(y[rows][:, None])
        out.append(roc_auc_score(labels, clf.predict_proba(xs[rows])))
    return out


def test_explicitness_matches_dlib_formula(make_factors):
    f = make_factors(600, 2, 3, seed=6)
    z = f + np.random.default_rng(6).normal(0, 0.8, size=f.shape)
    res = explicitness(f, z, seed=0)
    expected = np.array([_dlib_explicitness(z, f[:, k], 400) for k in range(2)])
    np.testing.assert_allclose(res.details["auc_train"], expected[:, 0], rtol=1e-12)
    np.testing.assert_allclose(res.details["auc_test"], expected[:, 1], rtol=1e-12)
    assert res.score["test"] == pytest.approx(expected[:, 1].mean(), abs=1e-12)
    assert 0.8 < res.score["test"] < 1.0


def test_explicitness_degenerate_cases():
    y = np.array([0, 1, 2] * 18 + [0, 1] * 13)  # 54 train rows; class 2 is absent from test
    z = np.column_stack([y + np.random.default_rng(0).normal(0, 0.1, 80), np.ones(80)])
    res = explicitness(y, z)  # constant latent: no division by a zero std
    assert res.score["test"] == pytest.approx(1.0, abs=1e-12)
    with_constant = explicitness(np.column_stack([y, np.zeros(80, dtype=int)]), z)
    assert with_constant.details["constant_factors"] == [1]
    assert with_constant.details["auc_test"][1] is None
    with pytest.raises(IdentlamError, match="no factor has a defined ROC-AUC on the test split"):
        explicitness(np.r_[np.arange(54) % 2, np.zeros(26, dtype=int)], z)
