"""The shared input checks of identlam.metrics._validation."""

import numpy as np
import pytest

from identlam.errors import IdentlamError
from identlam.metrics._validation import as_2d, as_labels, check_choice, check_positive_int, check_same_length


def test_as_2d_accepts_1d_and_returns_float64_columns():
    out = as_2d(np.arange(4, dtype=np.int32), "z")
    assert out.shape == (4, 1) and out.dtype == np.float64
    assert as_2d(np.ones((3, 2), dtype=np.float32), "z").shape == (3, 2)
    assert as_2d([True, False], "z").tolist() == [[1.0], [0.0]]


@pytest.mark.parametrize(
    "value, match",
    [
        ([], r"^z: empty input \(0 samples\)$"),
        (np.zeros((3, 0)), r"^z: empty input \(0 columns\)$"),
        ([1.0, np.inf], r"^z: contains 1 NaN or infinite value\(s\)$"),
        ([[np.nan, np.nan]], r"^z: contains 2 NaN"),
        (np.zeros((2, 2, 2)), r"^z: expected shape \(N, d\) or \(N,\), got \(2, 2, 2\)$"),
        (["a", "b"], "^z: expected numbers, got dtype"),
    ],
)
def test_as_2d_rejects_bad_input_with_one_line_naming_the_argument(value, match):
    with pytest.raises(IdentlamError, match=match):
        as_2d(value, "z")


def test_as_2d_min_samples():
    with pytest.raises(IdentlamError, match="^z: needs at least 4 samples, got 3$"):
        as_2d([1.0, 2.0, 3.0], "z", min_samples=4)


def test_as_labels_encodes_rows_jointly_in_sorted_order():
    assert as_labels([7, 3, 7, 9], "a").tolist() == [1, 0, 1, 2]
    assert as_labels([[1, 0], [0, 1], [1, 0]], "a").tolist() == [1, 0, 1]
    assert as_labels(["x", "y", "x"], "a").tolist() == [0, 1, 0]
    assert as_labels([2.0, 1.0], "a").tolist() == [1, 0]


@pytest.mark.parametrize(
    "value, match",
    [
        ([0.5, 1.0], "^codes: discrete labels must be whole numbers"),
        ([1.0, np.nan], "^codes: contains 1 NaN"),
        ([], r"^codes: empty input \(0 samples\)$"),
        (np.zeros((2, 2, 2), dtype=int), r"^codes: expected shape \(N,\) or \(N, d\)"),
    ],
)
def test_as_labels_rejects_bad_input(value, match):
    with pytest.raises(IdentlamError, match=match):
        as_labels(value, "codes")


def test_length_int_and_choice_checks():
    assert check_same_length(a=[1, 2], b=np.zeros((2, 3)), c=None) == 2
    with pytest.raises(IdentlamError, match=r"^b: length mismatch \(a=2, b=3\)$"):
        check_same_length(a=[1, 2], b=[1, 2, 3])
    assert check_positive_int(np.int64(3), "k") == 3
    for bad in (0, 2.5, True, "3"):
        with pytest.raises(IdentlamError, match="^k: expected an integer >= 1"):
            check_positive_int(bad, "k")
    assert check_choice("a", "mode", ("a", "b")) == "a"
    with pytest.raises(IdentlamError, match="^mode: expected one of a, b, got 'c'$"):
        check_choice("c", "mode", ("a", "b"))
