"""Label-agreement scores: invariances, bounds, sklearn conventions, Hungarian matching."""

import numpy as np
import pytest
from threadpoolctl import threadpool_limits
from hypothesis import given, settings
from hypothesis import strategies as st

from identlam.errors import IdentlamError
from identlam.metrics import ami, homogeneity_completeness_v, hungarian_accuracy, nmi


@pytest.fixture(autouse=True)
def one_blas_thread():
    """Tiny fits on a shared 2-core machine: BLAS threads only add contention."""
    with threadpool_limits(1):
        yield


def labelings():
    """(actions, codes, regions) of one length, small alphabets."""
    return st.integers(2, 80).flatmap(lambda n: st.tuples(
        st.lists(st.integers(0, 3), min_size=n, max_size=n),
        st.lists(st.integers(0, 5), min_size=n, max_size=n),
        st.lists(st.integers(0, 2), min_size=n, max_size=n),
    ))


def all_scores(a, c, r):
    hcv = homogeneity_completeness_v(a, c).score
    hung = hungarian_accuracy(a, c, regions=r).score
    return np.array([ami(a, c).score, nmi(a, c).score, hcv["homogeneity"], hcv["completeness"],
                     hcv["v_measure"], hungarian_accuracy(a, c).score, hung["global"], hung["per_region"]])


@settings(max_examples=30, deadline=None)
@given(labelings(), st.randoms(use_true_random=False))
def test_invariant_to_relabelling_and_shuffling(data, rnd):
    a, c, r = map(np.array, data)
    base = all_scores(a, c, r)
    code_map = np.array(rnd.sample(range(1000, 1100), 6))  # injective into a larger code set
    action_map = np.array(rnd.sample(range(4), 4))  # permutation of the true actions
    order = np.array(rnd.sample(range(a.size), a.size))
    np.testing.assert_allclose(all_scores(a, code_map[c], r), base, atol=1e-12)
    np.testing.assert_allclose(all_scores(action_map[a], c, r), base, atol=1e-12)
    np.testing.assert_allclose(all_scores(a[order], c[order], r[order]), base, atol=1e-12)


@settings(max_examples=30, deadline=None)
@given(labelings())
def test_bounds_v_equals_nmi_and_argument_swap(data):
    a, c, r = map(np.array, data)
    hcv = homogeneity_completeness_v(a, c).score
    assert 0 <= nmi(a, c).score <= 1 + 1e-12 and 0 <= hcv["v_measure"] <= 1 + 1e-12
    assert ami(a, c).score <= 1 + 1e-12
    assert hcv["v_measure"] == pytest.approx(nmi(a, c).score, abs=1e-12)
    swapped = homogeneity_completeness_v(c, a).score
    assert swapped["homogeneity"] == pytest.approx(hcv["completeness"], abs=1e-12)
    assert swapped["completeness"] == pytest.approx(hcv["homogeneity"], abs=1e-12)
    assert nmi(c, a).score == pytest.approx(nmi(a, c).score, abs=1e-12)
    hung = hungarian_accuracy(a, c, regions=r).score
    assert 0 < hung["global"] <= hung["per_region"] <= 1
    assert hung["gap"] == pytest.approx(hung["per_region"] - hung["global"])


def test_perfect_constant_and_random_labelings():
    rng = np.random.default_rng(0)
    a = rng.integers(0, 4, 10_000)
    assert ami(a, 3 * a + 7).score == pytest.approx(1.0)
    constant = np.zeros_like(a)
    assert ami(a, constant).score == 0.0
    assert homogeneity_completeness_v(a, constant).score["homogeneity"] == 0.0
    assert homogeneity_completeness_v(a, constant).score["completeness"] == 1.0
    assert abs(ami(a, rng.integers(0, 8, 10_000)).score) < 0.05


def test_scikit_learn_constant_conventions():
    const, other = np.zeros(20, dtype=int), np.arange(20) % 3
    assert nmi(const, const).score == 1.0 and ami(const, const).score == 1.0
    assert nmi(const, other).score == 0.0 and ami(const, other).score == 0.0
    assert homogeneity_completeness_v(const, other).score["homogeneity"] == 1.0


def test_merged_and_split_labelings():
    rng = np.random.default_rng(1)
    a = rng.integers(0, 4, 2000)
    merged = np.where(a == 3, 2, a)  # two actions share one code
    hcv = homogeneity_completeness_v(a, merged).score
    assert hcv["homogeneity"] < 0.9 and hcv["completeness"] == pytest.approx(1.0)
    split = np.where(a == 0, rng.integers(10, 12, 2000), a)  # one action spread over two codes
    hcv = homogeneity_completeness_v(a, split).score
    assert hcv["completeness"] < 0.95 and hcv["homogeneity"] == pytest.approx(1.0)


def test_global_versus_per_region_matching():
    rng = np.random.default_rng(2)
    a = rng.integers(0, 4, 4000)
    region = rng.integers(0, 2, 4000)
    swap = np.array([[0, 1, 2, 3], [1, 0, 3, 2]])
    result = hungarian_accuracy(a, swap[region, a], regions=region)
    assert result.score["per_region"] == 1.0
    # one global matching can be right in one region only: the larger one
    assert result.score["global"] == pytest.approx(max(np.mean(region == 0), np.mean(region == 1)))
    assert result.details["per_region_accuracy"] == {0: 1.0, 1: 1.0}
    same = hungarian_accuracy(a, swap[0, a], regions=region).score
    assert same == {"global": 1.0, "per_region": 1.0, "gap": 0.0}


def test_rectangular_matchings():
    a = np.array([0, 0, 1, 1, 2, 2])
    more_codes = np.array([5, 6, 7, 7, 8, 8])  # action 0 split over codes 5 and 6
    assert hungarian_accuracy(a, more_codes).score == pytest.approx(5 / 6)
    fewer_codes = np.array([0, 0, 1, 1, 1, 1])  # actions 1 and 2 merged
    result = hungarian_accuracy(a, fewer_codes)
    assert result.score == pytest.approx(4 / 6)
    assert result.details["matching"].shape == (2, 2)
    assert result.details["n_codes"] == 2 and result.details["n_actions"] == 3


def test_bad_inputs():
    with pytest.raises(IdentlamError, match=r"^pred: length mismatch \(true=3, pred=2\)$"):
        ami([0, 1, 2], [0, 1])
    with pytest.raises(IdentlamError, match="^regions: length mismatch"):
        hungarian_accuracy([0, 1, 2], [0, 1, 2], regions=[0, 1])
    with pytest.raises(IdentlamError, match="^true: empty input"):
        nmi([], [])
    with pytest.raises(IdentlamError, match="^pred: contains 1 NaN"):
        homogeneity_completeness_v([0, 1], [0.0, np.nan])
