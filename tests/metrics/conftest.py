"""Shared data for the disentanglement-metric tests: dlib-style ground-truth factors.

disentanglement_lib's metric tests draw factors i.i.d. uniform on a few values and use the factors
themselves (or transformations of them) as codes; the fixtures here do the same with seeds.
"""

import numpy as np
import pytest


def uniform_factors(n: int, k: int, levels: int, seed: int) -> np.ndarray:
    """``(n, k)`` int64 factors, i.i.d. uniform on ``0..levels-1``."""
    return np.random.default_rng(seed).integers(0, levels, size=(n, k))


@pytest.fixture(scope="session")
def factors_3000():
    """dlib's IdentityObservationsData scale: 3000 samples of 10 factors with 10 values each."""
    return uniform_factors(3000, 10, 10, seed=0)


@pytest.fixture(scope="session")
def noisy_codes():
    """Factors ``(2000, 4)`` on 6 values and float codes = factor + N(0, 0.3) noise."""
    rng = np.random.default_rng(1)
    f = rng.integers(0, 6, size=(2000, 4))
    return f + rng.normal(0.0, 0.3, size=f.shape), f


@pytest.fixture(scope="session")
def make_factors():
    """The :func:`uniform_factors` generator, for tests that need their own sizes."""
    return uniform_factors
