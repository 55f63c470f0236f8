"""Policies every family gets: ``random``."""

from __future__ import annotations

import gymnasium
import numpy as np
from gymnasium import spaces

from identlam.envs.registry import EnvError


def random_policy(env: gymnasium.Env):
    """Uniform actions: ``0..n-1`` (Discrete), ``U[low, high]`` (bounded Box) or ``U[-1, 1]``
    on the unbounded coordinates of a Box, drawn from the ``rng`` collection passes in."""
    space = env.action_space
    if isinstance(space, spaces.Discrete):
        n, first = int(space.n), int(space.start)
        return lambda obs, info, rng: first + int(rng.integers(n))
    if isinstance(space, spaces.Box):
        low = np.where(np.isfinite(space.low), space.low, -1.0).astype(np.float64)
        high = np.where(np.isfinite(space.high), space.high, 1.0).astype(np.float64)
        return lambda obs, info, rng: rng.uniform(low, high).astype(np.float32)
    raise EnvError(f"parameter 'policy': 'random' supports Discrete and Box action spaces, not {space}")
