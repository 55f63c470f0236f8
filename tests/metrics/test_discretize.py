"""Discretizers and the plug-in MI matrix: dlib's utility checks, exact values, invariances."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import mutual_info_score

from identlam.errors import IdentlamError
from identlam.metrics._shared import (
    discretize,
    entropies,
    factor_labels,
    mutual_info_matrix,
    occupied_levels,
)

PROPERTY = settings(max_examples=15, deadline=None)


def test_equal_width_matches_dlib_utils_test():
    x = np.array([0.1, 0.2, 0.3, 0.4, 0.5, 0.6])
    labels, levels, used = discretize(x, "equal_width", 3)
    assert used == "equal_width"
    np.testing.assert_array_equal(labels[:, 0], [0, 0, 1, 1, 2, 2])  # dlib's 1..3, shifted
    np.testing.assert_array_equal(levels, [3])


def test_equal_width_is_dlib_histogram_rule_per_column():
    x = np.random.default_rng(0).normal(size=(500, 3)) * [1.0, 10.0, 0.01]
    labels, _, _ = discretize(x, "equal_width", 20)
    for j in range(3):
        expected = np.digitize(x[:, j], np.histogram(x[:, j], 20)[1][:-1]) - 1
        np.testing.assert_array_equal(labels[:, j], expected)
    assert labels[np.argmax(x[:, 1]), 1] == 19  # the maximum lands in the last bin
    assert labels.min() == 0


@PROPERTY
@given(seed=st.integers(0, 10_000), bins=st.integers(1, 40), scale=st.sampled_from([1e-9, 1.0, 3e7]))
def test_equal_width_equals_np_digitize_including_values_on_edges(seed, bins, scale):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=200) * scale + rng.normal() * scale
    x = np.concatenate([x, np.histogram_bin_edges(x, bins)])  # values exactly on every edge
    expected = np.digitize(x, np.histogram(x, bins)[1][:-1]) - 1
    np.testing.assert_array_equal(discretize(x, "equal_width", bins)[0][:, 0], expected)


def test_constant_column_is_one_bin():
    labels, _, _ = discretize(np.full((10, 1), 3.5), "equal_width", 20)
    assert np.unique(labels).size == 1


def test_quantile_hand_example_and_ties():
    labels, levels, _ = discretize(np.array([5.0, 1, 3, 2, 4, 6]), "quantile", 3)
    np.testing.assert_array_equal(labels[:, 0], [2, 0, 1, 0, 1, 2])
    np.testing.assert_array_equal(levels, [3])
    tied, _, _ = discretize(np.array([1.0, 1, 1, 2]), "quantile", 2)
    np.testing.assert_array_equal(tied[:, 0], [0, 0, 0, 1])


@PROPERTY
@given(seed=st.integers(0, 10_000), bins=st.integers(2, 30))
def test_quantile_bins_invariant_under_increasing_maps(seed, bins):
    x = np.random.default_rng(seed).normal(size=(300, 2))
    base, _, _ = discretize(x, "quantile", bins)
    for mapped in (np.exp(x), x**3, 3.0 * x - 7.0, np.arctan(x)):
        np.testing.assert_array_equal(discretize(mapped, "quantile", bins)[0], base)


def test_identity_keeps_every_code_distinct():
    codes = np.arange(50).repeat(4)
    labels, levels, used = discretize(codes, "identity")
    assert used == "identity"
    np.testing.assert_array_equal(levels, [50])
    np.testing.assert_array_equal(labels[:, 0], codes)


def test_auto_rule_integer_identity_float_equal_width():
    assert discretize(np.arange(40).repeat(2), "auto")[2] == "identity"
    assert discretize(np.array([True, False, True]), "auto")[2] == "identity"
    assert discretize(np.linspace(0, 1, 40), "auto")[2] == "equal_width"
    # float whole numbers within num_bins values are binned losslessly, so auto allows them
    labels, _, used = discretize(np.arange(10.0).repeat(3), "auto", 20)
    assert used == "equal_width" and np.unique(labels).size == 10


def test_auto_refuses_to_merge_float_categorical_codes():
    codes = np.arange(30.0).repeat(3)[:, None]
    with pytest.raises(IdentlamError, match=r"latents column 0: float column holds 30"):
        discretize(codes, "auto", 20)
    assert np.unique(discretize(codes, "identity")[0]).size == 30  # explicit choice works


@pytest.mark.parametrize(
    ("x", "kwargs", "message"),
    [
        (np.zeros(4), {"method": "kmeans"}, "discretizer: expected one of"),
        (np.zeros(4), {"method": "equal_width", "num_bins": 0}, "num_bins"),
        (np.array([0.0, np.nan]), {"method": "equal_width"}, "latents: contains 1 NaN"),
        (np.zeros((0, 2)), {"method": "equal_width"}, "latents: empty input"),
        (np.zeros((5, 0)), {"method": "identity"}, "latents: empty input"),
        (np.array([0.5, 1.0]), {"method": "identity"}, "latents column 0: discrete labels"),
        (np.zeros((2, 2, 2)), {"method": "quantile"}, "latents: expected shape"),
        ([[1, 2], [3]], {"method": "identity"}, "latents: not a rectangular array"),
    ],
)
def test_bad_input_raises_one_line(x, kwargs, message):
    with pytest.raises(IdentlamError, match=message) as info:
        discretize(x, **kwargs)
    assert "\n" not in str(info.value)


def test_factor_labels_default_refuses_continuous_factors():
    with pytest.raises(IdentlamError, match="factors column 0: discrete labels"):
        factor_labels(np.array([0.1, 0.2, 0.3]))
    labels, levels = factor_labels(np.array([0.1, 0.2, 0.3]), "equal_width", 2)
    np.testing.assert_array_equal(labels[:, 0], [0, 1, 1])  # the middle edge is 0.2


def test_mi_matrix_dlib_utils_example():
    a = np.array([[1, 2, 1, 2], [1, 1, 2, 2]]).T
    b = np.array([[1, 2, 1, 2], [2, 2, 1, 1]]).T
    la, lva = factor_labels(a)
    lb, lvb = factor_labels(b)
    expected = np.array([[np.log(2), 0.0], [0.0, np.log(2)]])
    np.testing.assert_allclose(mutual_info_matrix(la, lva, lb, lvb), expected, atol=1e-15)


def test_entropy_of_three_equiprobable_labels_is_log3():
    labels, levels = factor_labels(np.array([0, 1, 2, 0, 1, 2]))
    np.testing.assert_allclose(entropies(labels, levels), [np.log(3)], rtol=1e-15)


@PROPERTY
@given(seed=st.integers(0, 10_000), n=st.integers(1, 400), la=st.integers(1, 7), lb=st.integers(1, 7))
def test_mi_matrix_equals_sklearn_and_respects_bounds(seed, n, la, lb):
    rng = np.random.default_rng(seed)
    a = rng.integers(0, la, size=(n, 3))
    b = np.column_stack([a[:, 0] % lb, rng.integers(0, lb, size=n)])
    a_lab, a_lv = factor_labels(a)
    b_lab, b_lv = factor_labels(b)
    mi = mutual_info_matrix(a_lab, a_lv, b_lab, b_lv)
    expected = np.array([[mutual_info_score(b[:, j], a[:, i]) for j in range(2)] for i in range(3)])
    np.testing.assert_allclose(mi, expected, rtol=1e-12, atol=1e-14)
    h_a, h_b = entropies(a_lab, a_lv), entropies(b_lab, b_lv)
    assert np.all(mi >= 0.0)
    assert np.all(mi <= np.minimum(h_a[:, None], h_b[None, :]) + 1e-12)
    np.testing.assert_allclose(  # I(X; X) = H(X)
        np.diag(mutual_info_matrix(a_lab, a_lv, a_lab, a_lv)), h_a, rtol=1e-12, atol=1e-14
    )


def test_occupied_levels_counts_present_values_only():
    labels, _, _ = discretize(np.array([[0.0, 1.0], [0.0, 5.0], [0.0, 9.0]]), "equal_width", 20)
    np.testing.assert_array_equal(occupied_levels(labels), [1, 3])


def test_disentanglement_modules_import_neither_torch_nor_sklearn():
    import subprocess
    import sys

    code = (
        "import sys\n"
        "import identlam.metrics._mig, identlam.metrics._dci, identlam.metrics._sap\n"
        "import identlam.metrics._modularity, identlam.metrics._mcc\n"
        "print(sorted(m for m in ('torch', 'sklearn') if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


@PROPERTY
@given(seed=st.integers(0, 10_000), low=st.integers(-10**12, 10**12), span=st.integers(1, 10**6))
def test_identity_labels_equal_np_unique_inverse(seed, low, span):
    rng = np.random.default_rng(seed)
    x = rng.integers(low, low + span, size=(300, 2))  # wide spans take the sorting path
    expected = np.column_stack([np.unique(c, return_inverse=True)[1] for c in x.T])
    labels, levels, _ = discretize(x, "identity")
    np.testing.assert_array_equal(labels, expected)
    np.testing.assert_array_equal(levels, expected.max(axis=0) + 1)
    np.testing.assert_array_equal(discretize(x.astype(np.uint64) if low >= 0 else x, "identity")[0], expected)
