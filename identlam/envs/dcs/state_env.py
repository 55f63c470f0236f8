"""A state-only gymnasium view of a dm_control task, for training experts.

Experts act on the proprioceptive state (as LAOM's do); rendering is never touched here, so
training runs at physics speed.
"""

from __future__ import annotations

import gymnasium as gym
import numpy as np

from identlam.envs.dcs.tasks import flat_state, load_suite


class StateEnv(gym.Env):
    """dm_control (domain, task) with the flat LAOM-ordered state as observation."""

    metadata = {"render_modes": []}

    def __init__(self, domain: str, task: str, seed: int | None = None):
        self.domain, self.task = domain, task
        self._seed = seed
        self._env = load_suite(domain, task, seed)
        spec = self._env.action_spec()
        self.action_space = gym.spaces.Box(
            spec.minimum.astype(np.float32), spec.maximum.astype(np.float32), dtype=np.float32
        )
        size = flat_state(_zeros(self._env.observation_spec())).shape[0]
        self.observation_space = gym.spaces.Box(-np.inf, np.inf, (size,), np.float32)

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        if seed is not None:  # a new seed rebuilds the task so its own generator restarts from it
            self._env = load_suite(self.domain, self.task, seed)
        ts = self._env.reset()
        return flat_state(ts.observation), {}

    def step(self, action):
        action = np.clip(np.asarray(action, np.float32), self.action_space.low, self.action_space.high)
        ts = self._env.step(action)
        obs = flat_state(ts.observation)
        # dm_control tasks end only by the time limit (discount stays 1), which is a truncation
        terminated = bool(ts.last() and ts.discount == 0.0)
        truncated = bool(ts.last() and not terminated)
        return obs, float(ts.reward or 0.0), terminated, truncated, {}


def _zeros(spec) -> dict:
    return {key: np.zeros(value.shape, np.float32) for key, value in spec.items()}
