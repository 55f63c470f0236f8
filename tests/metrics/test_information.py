"""Entropy / MI / conditional MI: closed forms, identities and invariances (docs/metrics.md)."""

import numpy as np
import pytest
from threadpoolctl import threadpool_limits
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.feature_selection import mutual_info_classif

from identlam.errors import IdentlamError
from identlam.metrics import conditional_mutual_info, entropy, mutual_info
from identlam.metrics._information import _prepare_continuous, ksg_joint, ross_joint
from identlam.metrics._shared import plugin_entropy

labels = st.lists(st.integers(0, 4), min_size=2, max_size=60)


@pytest.fixture(autouse=True)
def one_blas_thread():
    """Tiny fits on a shared 2-core machine: BLAS threads only add contention."""
    with threadpool_limits(1):
        yield


def label_pairs():
    return st.integers(2, 60).flatmap(
        lambda n: st.tuples(st.lists(st.integers(0, 4), min_size=n, max_size=n),
                            st.lists(st.integers(0, 3), min_size=n, max_size=n)))


def gaussian_mi_symbolic():
    """-1/2 log(1 - rho^2) derived from H(X) + H(Y) - H(X, Y) of a unit bivariate Gaussian."""
    rho = sp.symbols("rho", positive=True)
    cov = sp.Matrix([[1, rho], [rho, 1]])
    h = lambda d, det: sp.Rational(1, 2) * sp.log((2 * sp.pi * sp.E) ** d * det)  # noqa: E731
    mi = sp.simplify(sp.expand_log(2 * h(1, 1) - h(2, cov.det()), force=True))
    assert sp.simplify(mi - (-sp.log(1 - rho**2) / 2)) == 0
    return sp.lambdify(rho, mi, "numpy")


@pytest.mark.parametrize("rho", [0.3, 0.6, 0.9])
def test_ksg_matches_gaussian_closed_form(rho):
    closed = gaussian_mi_symbolic()
    estimates = []
    for seed in range(3):
        xy = np.random.default_rng(seed).multivariate_normal([0, 0], [[1, rho], [rho, 1]], 2000)
        result = mutual_info(xy[:, 0], xy[:, 1], seed=seed)
        assert result.params["estimator"] == "ksg"
        estimates.append(result.score)
    assert abs(np.mean(estimates) - closed(rho)) < 0.02


def test_multidimensional_ksg_matches_closed_form():
    # two independent coordinate pairs, each with correlation rho: MI = -log(1 - rho^2)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(2000, 2))
    y = 0.5 * x + np.sqrt(0.75) * rng.normal(size=(2000, 2))
    assert abs(mutual_info(x, y).score + np.log(0.75)) < 0.03


def test_own_ksg_equals_scikit_learn_on_one_column():
    rng = np.random.default_rng(3)
    x = rng.normal(size=(500, 1))
    y = x + rng.normal(size=(500, 1))
    prep = np.random.default_rng(0)
    ours = ksg_joint(_prepare_continuous(x, prep), _prepare_continuous(y, prep), 3)
    assert ours == pytest.approx(mutual_info(x, y).score, abs=1e-9)


def test_own_ross_equals_scikit_learn_on_one_column():
    rng = np.random.default_rng(4)
    a = rng.integers(0, 3, 600)
    c = (a + rng.normal(0, 0.7, 600))[:, None]
    ours = ross_joint(_prepare_continuous(c, np.random.default_rng(0)), a, 3)
    assert ours == pytest.approx(mutual_info_classif(c, a, n_neighbors=3, random_state=0)[0], abs=1e-6)
    assert mutual_info(c, a).params["estimator"] == "mixed"


def test_mixed_estimator_is_symmetric_and_uses_several_columns():
    rng = np.random.default_rng(5)
    a = rng.integers(0, 4, 1500)
    z = np.column_stack([a + rng.normal(0, 0.3, 1500), rng.normal(size=1500)])
    assert mutual_info(z, a).score == mutual_info(a, z).score
    assert mutual_info(z, a).score > 1.0  # close to log 4 = 1.386
    assert mutual_info(z[:, 1:], a).score < 0.03


@pytest.mark.parametrize("d", [1, 3])
def test_kozachenko_leonenko_entropy_of_gaussian(d):
    sigma = sp.symbols("sigma", positive=True)
    closed = sp.lambdify(sigma, d * sp.log(2 * sp.pi * sp.E * sigma**2) / 2)
    x = 2.0 * np.random.default_rng(d).normal(size=(3000, d))
    result = entropy(x)
    assert result.params["estimator"] == "kl"
    assert abs(result.score - closed(2.0)) < 0.04 * d


@settings(max_examples=40, deadline=None)
@given(label_pairs())
def test_miller_madow_identity(pair):
    x, y = map(np.array, pair)
    n = x.size
    m_x, m_y = np.unique(x).size, np.unique(y).size
    m_xy = np.unique(np.column_stack([x, y]), axis=0).shape[0]
    diff = mutual_info(x, y, estimator="miller_madow").score - mutual_info(x, y, estimator="plugin").score
    assert diff == pytest.approx((m_x + m_y - m_xy - 1) / (2 * n), abs=1e-12)
    h_mm = entropy(x, estimator="miller_madow").score
    assert h_mm == pytest.approx(entropy(x).score + (m_x - 1) / (2 * n), abs=1e-12)


@settings(max_examples=40, deadline=None)
@given(label_pairs(), st.randoms(use_true_random=False))
def test_plugin_bounds_symmetry_and_invariances(pair, rnd):
    x, y = map(np.array, pair)
    mi = mutual_info(x, y).score
    hx, hy = entropy(x).score, entropy(y).score
    assert -1e-12 <= mi <= min(hx, hy) + 1e-12
    assert mutual_info(y, x).score == pytest.approx(mi, abs=1e-12)
    assert mutual_info(x, x).score == pytest.approx(hx, abs=1e-12)
    relabel = np.array(rnd.sample(range(100, 200), 5))  # injective map into a larger label set
    assert mutual_info(relabel[x], y).score == pytest.approx(mi, abs=1e-12)
    order = np.array(rnd.sample(range(x.size), x.size))
    assert mutual_info(x[order], y[order]).score == pytest.approx(mi, abs=1e-12)


@settings(max_examples=30, deadline=None)
@given(st.integers(4, 80).flatmap(lambda n: st.tuples(*[st.lists(st.integers(0, 3), min_size=n, max_size=n)] * 3)))
def test_discrete_cmi_chain_rule_is_exact(triple):
    x, y, z = map(np.array, triple)
    cmi = conditional_mutual_info(x, y, z).score
    # I(X; Y | Z) = I(X; (Y, Z)) - I(X; Z), with (Y, Z) encoded jointly
    chain = mutual_info(x, np.column_stack([y, z])).score - mutual_info(x, z).score
    assert cmi == pytest.approx(chain, abs=1e-12)
    assert cmi >= -1e-12
    h_x_given_z = entropy(np.column_stack([x, z])).score - entropy(z).score
    assert cmi <= h_x_given_z + 1e-12


def test_frenzel_pompe_on_gaussian_markov_chain():
    rng = np.random.default_rng(0)
    x = rng.normal(size=2000)
    y = x + rng.normal(size=2000)
    z = y + rng.normal(size=2000)
    independent = conditional_mutual_info(x, z, y)
    assert independent.params["estimator"] == "frenzel_pompe"
    assert independent.score < 0.02
    # given z, (x, y) have partial correlation 1/2: I = -1/2 log(3/4)
    assert abs(conditional_mutual_info(x, y, z).score + 0.5 * np.log(0.75)) < 0.03


def test_per_group_cmi_removes_dependence_explained_by_a_discrete_variable():
    rng = np.random.default_rng(1)
    a = rng.integers(0, 4, 3000)
    x = 3 * a + rng.normal(size=3000)
    y = 3 * a + rng.normal(size=3000)
    assert mutual_info(x, y).score > 0.5
    result = conditional_mutual_info(x, y, a)
    assert result.params["estimator"] == "per_group"
    assert result.score < 0.02
    assert result.details["skipped_weight"] == 0.0


def test_ross_difference_cmi_for_discrete_x_and_continuous_conditioning():
    rng = np.random.default_rng(2)
    code = rng.integers(0, 3, 2000)
    s = rng.normal(size=2000)
    cond = code + 0.2 * rng.normal(size=2000)
    result = conditional_mutual_info(code, s, cond)
    assert result.params["estimator"] == "ross_difference"
    assert abs(result.score) < 0.03
    assert conditional_mutual_info(code, cond, s).score > 0.7


def test_constant_inputs_have_defined_values():
    assert entropy(np.zeros(10, dtype=int)).score == 0.0
    assert mutual_info(np.zeros(10, dtype=int), np.arange(10)).score == 0.0
    result = mutual_info(np.ones(50), np.random.default_rng(0).normal(size=50))
    assert result.score == 0.0 and "constant" in result.details["note"]
    with pytest.raises(IdentlamError, match="^x: constant continuous"):
        entropy(np.ones((20, 2)))


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: mutual_info([1.0, np.nan, 2.0, 3.0, 4.0], [1.0, 2.0, 3.0, 4.0, 5.0]), "^x: contains 1 NaN"),
        (lambda: mutual_info([], []), "^x: empty input"),
        (lambda: mutual_info([1, 2, 3], [1, 2]), "^y: length mismatch"),
        (lambda: mutual_info([1, 2], [1, 2], estimator="mixed"), "^estimator: 'mixed' needs one discrete"),
        (lambda: mutual_info([1, 2], [1, 2], estimator="bogus"), "^estimator: expected one of"),
        (lambda: mutual_info([0.0, 1.0, 2.0], [1.0, 0.0, 2.0]), "^x: needs at least 4 samples"),
        (lambda: mutual_info([0.5, 1.0], [1, 2], estimator="plugin"), "^x: discrete labels must be whole"),
        (lambda: mutual_info([1, 2, 3, 4], [1, 2, 3, 4], n_neighbors=0), "^n_neighbors: expected an integer"),
        (lambda: conditional_mutual_info([1, 2], [1, 2], [0.1, 0.2]), "^z: continuous conditioning with two discrete"),
        (lambda: conditional_mutual_info(np.ones(6), np.ones(6), np.arange(6)), "^z: every group"),
        (lambda: entropy(np.zeros((3, 2, 2))), r"^x: expected shape \(N, d\)"),
    ],
)
def test_bad_input_raises_one_line_error_naming_the_argument(call, match):
    with pytest.raises(IdentlamError, match=match) as info:
        call()
    assert "\n" not in str(info.value)


def test_results_name_estimator_and_units():
    result = mutual_info(np.arange(10) % 3, np.arange(10) % 2, estimator="miller_madow")
    assert result.params == {"estimator": "miller_madow", "units": "nats", "discrete_x": True, "discrete_y": True}
    assert result.details["n_samples"] == 10
    assert plugin_entropy(np.array([0, 1, 2])) == pytest.approx(np.log(3))


@settings(max_examples=30, deadline=None)
@given(st.integers(4, 80).flatmap(lambda n: st.tuples(*[st.lists(st.integers(0, 3), min_size=n, max_size=n)] * 3)))
def test_completeness_deficit_decomposition_is_exact(triple):
    """The chain rule H(Â|A) = H(Â|S,A) + I(Â;S|A) for plug-in estimates on discrete S."""
    code, state, action = map(np.array, triple)
    h = lambda *cols: entropy(np.column_stack(cols)).score  # noqa: E731
    h_code_given_action = h(code, action) - h(action)
    h_code_given_state_action = h(code, state, action) - h(state, action)
    cmi = conditional_mutual_info(code, state, action).score
    assert h_code_given_action == pytest.approx(h_code_given_state_action + cmi, abs=1e-12)
