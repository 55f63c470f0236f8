"""The statistics of the report: intervals over seeds and the paired direction test."""

from __future__ import annotations

import numpy as np
import pytest

from identlam.stats import mean_interval, paired_direction_test, sign_flip_p


def _by_seed(values) -> dict[int, float]:
    return {seed: float(v) for seed, v in enumerate(values)}


def test_known_effect_is_supported_with_an_interval_excluding_zero():
    rng = np.random.default_rng(0)
    base = rng.normal(0.5, 0.1, size=10)
    test = paired_direction_test(_by_seed(base + 0.3), _by_seed(base + rng.normal(0, 0.02, 10)), "greater")
    assert test.lo > 0 and test.p_value < 0.01 and test.verdict == "supported"
    assert test.n_pairs == 10 and test.method == "exact sign-flip"
    flipped = paired_direction_test(_by_seed(base + 0.3), _by_seed(base), "less")
    assert flipped.p_value > 0.99 and flipped.verdict == "contradicted"


def test_no_effect_interval_covers_zero_for_most_generator_seeds():
    covered, small_p = 0, 0
    for gen in range(200):
        rng = np.random.default_rng(gen)
        a, b = rng.normal(0, 1, 10), rng.normal(0, 1, 10)
        test = paired_direction_test(_by_seed(a), _by_seed(b), "greater", seed=gen)
        covered += test.lo <= 0 <= test.hi
        small_p += test.p_value < 0.05
    assert covered >= 0.85 * 200  # percentile bootstrap with 10 seeds: slightly under 95%
    assert small_p <= 0.1 * 200  # a level-5% test rejects about 5% of the time


def test_pairing_by_seed_detects_what_an_unpaired_comparison_cannot():
    # a large shared seed effect (dataset difficulty) hides a small consistent improvement
    rng = np.random.default_rng(1)
    seed_effect = rng.normal(0, 1.0, size=8)
    a, b = seed_effect + 0.2 + rng.normal(0, 0.03, 8), seed_effect + rng.normal(0, 0.03, 8)
    paired = paired_direction_test(_by_seed(a), _by_seed(b), "greater")
    assert paired.lo > 0 and paired.p_value < 0.01
    # unpaired: independent bootstrap resamples of each group -> the interval of a - b covers 0
    boot = np.random.default_rng(0)
    diff = a[boot.integers(0, 8, (2000, 8))].mean(1) - b[boot.integers(0, 8, (2000, 8))].mean(1)
    lo, hi = np.percentile(diff, [2.5, 97.5])
    assert lo < 0 < hi
    # and matching the wrong seeds loses the effect too: pairs must be matched by seed
    shuffled = paired_direction_test(_by_seed(a), _by_seed(np.roll(b, 3)), "greater")
    assert shuffled.verdict != "supported"


def test_sign_flip_floor_with_few_seeds_and_only_common_seeds_are_paired():
    # three positive differences: the bootstrap would say p = 0; the exact test cannot go below 1/8
    assert sign_flip_p(np.array([0.1, 0.2, 0.3])) == pytest.approx(1 / 8)
    test = paired_direction_test({0: 1.0, 1: 2.0, 2: 3.0, 7: 9.0}, {0: 0.0, 1: 1.0, 2: 2.5}, "greater")
    assert test.n_pairs == 3 and test.mean_diff == pytest.approx((1 + 1 + 0.5) / 3)
    assert test.p_value == pytest.approx(1 / 8) and test.verdict == "inconclusive"


def test_many_seeds_use_the_paired_bootstrap_and_a_threshold_compares_each_seed():
    rng = np.random.default_rng(2)
    values = _by_seed(rng.normal(0.97, 0.01, 20))
    test = paired_direction_test(values, 0.95, "greater")
    assert test.method == "paired bootstrap" and test.p_value < 0.01 and test.lo > 0


def test_intervals_are_reproducible_and_contain_the_mean():
    values = np.random.default_rng(3).normal(size=7)
    m, lo, hi = mean_interval(values, seed=5)
    assert (m, lo, hi) == mean_interval(values, seed=5) and lo < m < hi
    assert mean_interval([2.0]) == (2.0, 2.0, 2.0)
    with pytest.raises(ValueError):
        paired_direction_test({0: 1.0}, {0: 0.0}, "greater")
    with pytest.raises(ValueError):
        paired_direction_test({0: 1.0, 1: 2.0}, 0.0, "bigger")
