"""The probe's lower bound on I(Z; Y | C): near the truth where a probe can read Y, near 0 where
Z holds nothing of Y beyond C, and where kNN estimators fail (wide latents) it still sees."""

import numpy as np
import pytest

from identlam.errors import IdentlamError
from identlam.metrics import conditional_mutual_info, probe_mutual_info


def _wide(rng, labels, n_classes, width=128, noise=0.3):
    """A wide latent: a random linear embedding of the label plus isotropic noise."""
    return np.eye(n_classes)[labels] @ rng.normal(size=(n_classes, width)) + noise * rng.normal(size=(len(labels), width))


def test_bound_reaches_the_entropy_of_a_readable_target():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 4, 1200)
    r = probe_mutual_info(y, _wide(rng, y, 4))
    assert np.log(4) - 0.1 < r.score < np.log(4) + 0.05
    assert r.params["lower_bound"] and r.params["estimator"] == "probe"


def test_bound_is_near_zero_without_information_even_for_a_wide_latent():
    rng = np.random.default_rng(1)
    y = rng.integers(0, 4, 1200)
    r = probe_mutual_info(y, rng.normal(size=(1200, 128)))
    assert r.score < 0.03  # an overconfident, uncalibrated probe would read far below 0 (clipped)


def test_condition_removes_what_it_explains():
    """Y is a function of C and Z copies C: Z knows Y, but nothing beyond C."""
    rng = np.random.default_rng(2)
    c = rng.integers(0, 4, 1500)
    y = c % 2
    z = _wide(rng, c, 4, width=16)
    assert probe_mutual_info(y, z).score > 0.6  # ln 2 = 0.69 without the condition
    assert probe_mutual_info(y, z, c).score < 0.03


def test_wide_latent_where_knn_fails():
    """A 128-wide latent that carries a 4-valued step as a small part beside a large smooth code
    of a distractor's position (as a LAM latent does): the kNN neighbours follow the position, the
    Ross estimate collapses; the probe still reads the step."""
    rng = np.random.default_rng(3)
    n = 1500
    a, step, position = rng.integers(0, 4, n), rng.integers(0, 4, n), rng.random((n, 2))
    position_code = 3.0 * np.cos(6.0 * position @ rng.normal(size=(2, 128)) + rng.uniform(0, 2 * np.pi, 128))
    z = position_code + _wide(rng, step, 4, noise=0.0) * 0.3 + _wide(rng, a, 4, noise=0.0)
    knn = float(conditional_mutual_info(z, step, a, discrete_y=True, discrete_z=True))
    bound = float(probe_mutual_info(step, z, a))
    assert knn < 0.5 and bound > np.log(4) - 0.1


def test_arguments_are_checked():
    y = np.arange(30) % 3
    with pytest.raises(IdentlamError, match="too few for a 2-fold probe"):
        probe_mutual_info(y, np.zeros((30, 2)))
    with pytest.raises(IdentlamError, match="folds: needs at least 2"):
        probe_mutual_info(y, np.zeros((30, 2)), folds=1)
    with pytest.raises(IdentlamError, match="condition: length"):
        probe_mutual_info(np.arange(60) % 3, np.zeros((60, 2)), condition=np.zeros(50, int))


def _calibration():
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[2] / "experiments" / "probe_bound.py"
    spec = importlib.util.spec_from_file_location("probe_bound", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_calibrations_truth_is_right_and_the_bound_stays_below_it():
    # experiments/probe_bound.py reports the bound as a fraction of this truth: check the truth
    cal = _calibration()
    none, _ = cal.true_information(cal.mixture(0.0, seed=0)[0], 20_000, seed=1)
    assert abs(none) < 1e-12  # Y does not move the mean: no information
    full, _ = cal.true_information(cal.mixture(12.0, seed=0)[0], 20_000, seed=1)
    assert full == pytest.approx(np.log(4), abs=1e-3)  # Y read off exactly: H(Y | A) = ln 4
    means, rotations = cal.mixture(2.0, seed=0)
    truth, se = cal.true_information(means, 50_000, seed=1)
    assert 0.8 < truth < 1.0 and se < 0.01
    for nonlinear in (False, True):  # the invertible map keeps the information the bound may find
        a, y, z = cal.sample(means, rotations, 600, nonlinear, np.random.default_rng(0))
        assert 0.2 < probe_mutual_info(y, z, a).score < truth
