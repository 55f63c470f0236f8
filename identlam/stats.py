"""Statistics over seeds: bootstrap intervals of a mean and the paired test of a claimed direction.

Every function takes an explicit ``seed`` for its resamples, so a report rebuilt from the same
results prints the same intervals and p-values.

The direction test pairs the two conditions by run seed: runs with the same seed share their
dataset and initialization draw, so seed-to-seed variation cancels in the per-seed difference.
Its p-value is one-sided (H0: no difference, H1: the claimed direction):

* up to ``EXACT_MAX_PAIRS`` pairs, an exact sign-flip permutation test: under H0 each per-seed
  difference is as likely positive as negative, so all ``2**n`` sign patterns are enumerated.
  With few seeds the bootstrap's "fraction of resamples on the wrong side" is overconfident (three
  positive differences give p = 0), whereas the sign-flip p-value cannot fall below ``2**-n``;
* beyond that, the fraction of paired-bootstrap resamples of the mean difference on the wrong side
  of zero (counting ties as half), which is accurate once there are many seeds.

The 95% interval of the mean difference is always the percentile interval of the paired bootstrap.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Mapping

import numpy as np

N_BOOT = 2000
EXACT_MAX_PAIRS = 12  # 4096 sign patterns
DIRECTIONS = ("greater", "less")


def bootstrap_means(values: np.ndarray, n_boot: int = N_BOOT, seed: int = 0) -> np.ndarray:
    """Means of ``n_boot`` resamples (with replacement) of ``values``."""
    values = np.asarray(values, dtype=float)
    rng = np.random.default_rng(seed)
    return values[rng.integers(0, len(values), size=(n_boot, len(values)))].mean(axis=1)


def mean_interval(values, level: float = 0.95, n_boot: int = N_BOOT, seed: int = 0) -> tuple[float, float, float]:
    """(mean, lo, hi): the mean and its percentile bootstrap interval (one value: the value itself)."""
    values = np.asarray(values, dtype=float)
    mean = float(values.mean())
    if len(values) < 2:
        return mean, mean, mean
    lo, hi = np.percentile(bootstrap_means(values, n_boot, seed), [50 * (1 - level), 50 * (1 + level)])
    return mean, float(lo), float(hi)


def interval_text(mean: float, lo: float, hi: float) -> str:
    """``mean [lo, hi]`` at three significant digits: how every table of identlam prints an interval."""
    return f"{mean:.3g} [{lo:.3g}, {hi:.3g}]"


def sign_flip_p(diffs: np.ndarray) -> float:
    """Exact one-sided p-value of mean(diffs) > 0 under random signs (ties count as at least as extreme)."""
    diffs = np.asarray(diffs, dtype=float)
    signs = np.array(list(itertools.product((1.0, -1.0), repeat=len(diffs))))
    flipped = (signs * diffs).mean(axis=1)
    return float(np.mean(flipped >= diffs.mean() - 1e-12 * max(1.0, abs(diffs.mean()))))


@dataclass(frozen=True)
class DirectionTest:
    """The claimed direction of ``a - b`` tested over paired seeds."""

    direction: str  # "greater": a > b is claimed; "less": a < b
    n_pairs: int
    mean_diff: float  # mean over seeds of a - b
    lo: float  # 95% paired-bootstrap interval of the mean difference
    hi: float
    p_value: float  # one-sided, for the claimed direction
    method: str  # "exact sign-flip" or "paired bootstrap"

    @property
    def verdict(self) -> str:
        """supported: the interval excludes 0 on the claimed side and p < 0.05; contradicted: the
        interval lies wholly on the other side; else inconclusive."""
        sign = 1 if self.direction == "greater" else -1
        lo, hi = sorted((sign * self.lo, sign * self.hi))
        if lo > 0 and self.p_value < 0.05:
            return "supported"
        if hi < 0:
            return "contradicted"
        return "inconclusive"


def paired_direction_test(a: Mapping[int, float], b: Mapping[int, float] | float, direction: str,
                          level: float = 0.95, n_boot: int = N_BOOT, seed: int = 0) -> DirectionTest:
    """Test ``a > b`` (direction "greater") or ``a < b`` ("less") over the seeds both have.

    ``a`` and ``b`` map run seed -> value; ``b`` may be a number (a threshold the claim compares
    against). Needs at least two paired seeds.
    """
    if direction not in DIRECTIONS:
        raise ValueError(f"direction must be one of {DIRECTIONS}, got {direction!r}")
    if isinstance(b, Mapping):
        seeds = sorted(set(a) & set(b))
        diffs = np.array([a[s] - b[s] for s in seeds], dtype=float)
    else:
        seeds = sorted(a)
        diffs = np.array([a[s] - float(b) for s in seeds], dtype=float)
    if len(diffs) < 2:
        raise ValueError(f"needs at least 2 paired seeds, got {len(diffs)}")
    sign = 1.0 if direction == "greater" else -1.0
    mean, lo, hi = mean_interval(diffs, level, n_boot, seed)
    if len(diffs) <= EXACT_MAX_PAIRS:
        p, method = sign_flip_p(sign * diffs), "exact sign-flip"
    else:
        boots = sign * bootstrap_means(diffs, n_boot, seed)
        p, method = float(np.mean(boots < 0) + 0.5 * np.mean(boots == 0)), "paired bootstrap"
    return DirectionTest(direction, len(diffs), mean, lo, hi, p, method)
