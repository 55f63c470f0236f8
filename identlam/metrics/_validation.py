"""Shared input checks for every metric.

Conventions: a variable is an array of shape ``(N, d)`` (N samples, d dimensions); a 1-D array of
length N is one variable, shape ``(N, 1)``. A discrete variable with several columns is one
joint symbol per row. Every problem raises :class:`identlam.errors.IdentlamError` with a one-line
message that names the argument, so a caller's traceback is never needed to find the culprit.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from identlam.errors import IdentlamError


def as_2d(x: Any, name: str, *, min_samples: int = 1, allow_1d: bool = True) -> np.ndarray:
    """Return ``x`` as a finite float64 array of shape ``(N, d)``.

    1-D input becomes one column. Raises if ``x`` is not numeric, has more than two axes, has
    fewer than ``min_samples`` rows or zero columns, or holds NaN or infinity.
    """
    arr = _numeric(x, name)
    if arr.ndim == 1 and allow_1d:
        arr = arr[:, None]
    check_2d_shape(arr, name)
    if arr.shape[0] < min_samples:
        raise IdentlamError(f"{name}: needs at least {min_samples} samples, got {arr.shape[0]}")
    _check_finite(arr, name)
    return arr.astype(np.float64, copy=False)


def as_labels(x: Any, name: str, *, min_samples: int = 1) -> np.ndarray:
    """Return a discrete variable as 1-D int64 labels ``0..m-1`` (m = number of distinct symbols).

    Accepts ``(N,)`` or ``(N, d)``; rows of a 2-D input are encoded jointly (each distinct row is
    one symbol). Values may be ints, floats without fractional part, bools or strings. Labels are
    assigned in sorted order of the distinct values, so the result is deterministic.
    """
    arr = np.asarray(x)
    if arr.dtype == object or arr.dtype.kind in "US":
        arr = np.asarray(arr, dtype=str)
        if arr.ndim not in (1, 2):
            raise IdentlamError(f"{name}: expected shape (N,) or (N, d), got {arr.shape}")
    else:
        arr = _numeric(arr, name)
        if arr.ndim not in (1, 2):
            raise IdentlamError(f"{name}: expected shape (N,) or (N, d), got {arr.shape}")
        _check_finite(arr, name)
        if arr.dtype.kind == "f" and not np.all(arr == np.round(arr)):
            raise IdentlamError(f"{name}: discrete labels must be whole numbers, got fractions")
    if arr.shape[0] == 0:
        raise IdentlamError(f"{name}: empty input (0 samples)")
    if arr.ndim == 2 and arr.shape[1] == 0:
        raise IdentlamError(f"{name}: empty input (0 columns)")
    if arr.shape[0] < min_samples:
        raise IdentlamError(f"{name}: needs at least {min_samples} samples, got {arr.shape[0]}")
    if arr.ndim == 1:
        return dense_labels(arr)
    if arr.dtype.kind in "iuf":
        return _joint_rows(arr)
    _, labels = np.unique(arr, axis=0, return_inverse=True)
    return labels.reshape(-1).astype(np.int64)


def dense_labels(column: np.ndarray) -> np.ndarray:
    """Labels ``0..m-1`` of a 1-D array in sorted order of its distinct values (``np.unique``'s
    inverse). Integer columns whose value range is at most a few times N take a linear-time path
    through ``np.bincount`` instead of sorting."""
    if column.dtype.kind in "iu" and column.size:
        low = int(column.min())
        span = int(column.max()) - low + 1
        if span <= 4 * column.size + 1024:
            shifted = (column - low).astype(np.int64)
            present = np.bincount(shifted, minlength=span) > 0
            return (np.cumsum(present) - 1)[shifted]
    _, labels = np.unique(column, return_inverse=True)
    return labels.reshape(-1).astype(np.int64)


def count_distinct_rows(arr: np.ndarray) -> int:
    """Number of distinct rows of a numeric ``(N, d)`` array, in linear time for bounded columns."""
    return int(_joint_rows(np.asarray(arr)).max()) + 1 if len(arr) else 0


def _joint_rows(arr: np.ndarray) -> np.ndarray:
    """Row labels equal to ``np.unique(arr, axis=0, return_inverse=True)[1]`` without sorting rows:
    each column becomes dense labels, and the columns are combined as digits of a mixed-radix
    number (first column most significant, so the order of rows is lexicographic as numpy's)."""
    joint = np.zeros(arr.shape[0], dtype=np.int64)
    radix = 1
    for j in range(arr.shape[1]):
        digit = dense_labels(arr[:, j])
        base = int(digit.max()) + 1
        if radix * base >= 2**62:  # the number would overflow: compact what we have first
            joint, radix = dense_labels(joint), int(dense_labels(joint).max()) + 1
            if radix * base >= 2**62:
                _, labels = np.unique(arr, axis=0, return_inverse=True)
                return labels.reshape(-1).astype(np.int64)
        joint = joint * base + digit
        radix *= base
    return dense_labels(joint)


def check_same_length(**arrays: Any) -> int:
    """Check that all given arrays (``None`` skipped) have the same first dimension; return it."""
    lengths = {k: len(v) for k, v in arrays.items() if v is not None}
    if len(set(lengths.values())) > 1:
        described = ", ".join(f"{k}={n}" for k, n in lengths.items())
        first = next(iter(lengths))
        bad = next(k for k, n in lengths.items() if n != lengths[first])
        raise IdentlamError(f"{bad}: length mismatch ({described})")
    return next(iter(lengths.values())) if lengths else 0


def check_positive_int(value: Any, name: str, *, minimum: int = 1) -> int:
    """Return ``value`` as an int, raising if it is not an integer >= ``minimum``."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise IdentlamError(f"{name}: expected an integer >= {minimum}, got {value!r}")
    if value < minimum:
        raise IdentlamError(f"{name}: expected an integer >= {minimum}, got {value}")
    return int(value)


def check_choice(value: Any, name: str, choices: tuple[str, ...]) -> str:
    """Return ``value`` if it is one of ``choices``; raise naming the argument otherwise."""
    if value not in choices:
        raise IdentlamError(f"{name}: expected one of {', '.join(choices)}, got {value!r}")
    return value


def _numeric(x: Any, name: str) -> np.ndarray:
    try:
        arr = np.asarray(x)
    except (ValueError, TypeError) as exc:  # ragged nested lists
        raise IdentlamError(f"{name}: not an array ({exc})".splitlines()[0]) from None
    if arr.dtype.kind == "b":
        return arr.astype(np.int64)
    if arr.dtype.kind not in "iuf":
        raise IdentlamError(f"{name}: expected numbers, got dtype {arr.dtype}")
    return arr


def _check_finite(arr: np.ndarray, name: str) -> None:
    if arr.dtype.kind == "f" and not np.all(np.isfinite(arr)):
        n_bad = int(np.size(arr) - np.count_nonzero(np.isfinite(arr)))
        raise IdentlamError(f"{name}: contains {n_bad} NaN or infinite value(s)")


def check_2d_shape(arr: np.ndarray, name: str) -> None:
    """One-line errors for anything but a non-empty ``(N, d)`` array."""
    if arr.ndim != 2:
        raise IdentlamError(f"{name}: expected shape (N, d) or (N,), got {arr.shape}")
    if arr.shape[0] == 0:
        raise IdentlamError(f"{name}: empty input (0 samples)")
    if arr.shape[1] == 0:
        raise IdentlamError(f"{name}: empty input (0 columns)")
