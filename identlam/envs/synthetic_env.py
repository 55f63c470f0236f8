"""The ``synthetic/<name>`` family: gymnasium adapters of the ``synthetic`` MDPs.

``SyntheticEnv(preset, **params)`` wraps ``synthetic.make(preset, **params)``: the ``preset``
(a key of ``synthetic.ENVIRONMENTS``) with any of its parameters overridden. ``reset(seed=s)``
starts the same episode as the synthetic environment's own ``reset(seed=s)``, so returns
measured through this adapter equal those measured on ``synthetic`` directly.

The behaviour policy (``policy="behaviour"``) has two equivalent forms: a per-step callable
for the generic collection loop, and :meth:`SyntheticEnv.rollouts`, which hands collection the
vectorized ``synthetic.generate`` stream (episode ``i`` of a seed is a function of the
parameters, the seed and ``i`` only, so chunks generated in separate processes agree).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import gymnasium
import numpy as np
from gymnasium import spaces

import synthetic
from identlam.envs.registry import EnvError

# Keys of generator attributes written before the environment interface existed: the full
# ``env.config`` was nested under "config" beside the run's episodes, steps, seed and spec.
_LEGACY_KEYS = ("env", "episodes", "steps", "seed", "overrides", "spec")


def _params(name: str, params: dict[str, Any]) -> dict[str, Any]:
    """Accept the parameters of older files: a nested ``config`` or an ``env.config`` (with family, name)."""
    if isinstance(params.get("config"), dict):
        params = dict(params["config"])
    else:
        params = {k: v for k, v in params.items() if k not in _LEGACY_KEYS}
    for key in ("family", "name"):
        if key in params:
            value = params.pop(key)
            expected = synthetic.ENVIRONMENTS[name]["family"] if key == "family" else name
            if value != expected:
                raise EnvError(f"parameter '{key}': {value!r} does not match environment 'synthetic/{name}'")
    return params


def make_mdp(preset: str, **params):
    """The synthetic MDP behind the environment; a parameter it refuses is an EnvError."""
    try:
        return synthetic.make(preset, **_params(preset, params))
    except synthetic.SyntheticError as err:
        raise EnvError(str(err)) from None


def check_params(preset: str, **params) -> None:
    """Raise EnvError for a parameter the environment would refuse (the family's value check:
    a synthetic MDP is cheap to make, and making it is how its parameters are checked)."""
    make_mdp(preset, **params)


class SyntheticEnv(gymnasium.Env):
    """A ``synthetic`` environment behind gymnasium's API, ground truth in ``info``."""

    metadata = {"render_modes": []}

    def __init__(self, preset: str, **params):
        self.core = make_mdp(preset, **params)
        spec = self.core.spec
        shape = tuple(spec["obs_shape"])
        if spec["obs_kind"] == "image":
            self.observation_space = spaces.Box(0, 255, shape, np.uint8)
        else:
            self.observation_space = spaces.Box(-np.inf, np.inf, shape, np.float32)
        if spec["action_space"] == "discrete":
            self.action_space = spaces.Discrete(spec["n_actions"])
        else:  # Gaussian behaviour actions: unbounded
            self.action_space = spaces.Box(-np.inf, np.inf, (spec["action_dim"],), np.float32)

    def _info(self) -> dict[str, np.ndarray]:
        return {"state": self.core.state, "exo": self.core.exo}

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed)
        if seed is None:  # continue this env's seeded stream, as gymnasium's own envs do
            seed = int(self.np_random.integers(2**63 - 1))
        obs = self.core.reset(seed=seed)
        return obs, self._info()

    def step(self, action):
        try:
            obs, reward, terminated, _ = self.core.step(action)
        except synthetic.SyntheticError as err:
            raise EnvError(str(err)) from None
        return obs, reward, terminated, False, self._info()

    def dataset_attrs(self, seed: int = 0) -> dict[str, Any]:
        """The file attributes of data from this env; the assumption report is measured with ``seed``."""
        spec = self.core.spec
        space = spec["action_space"]
        size_key = "n_actions" if space == "discrete" else "action_dim"
        return {
            "env_id": spec["env_id"], "action_space": space, size_key: spec[size_key],
            "obs_kind": spec["obs_kind"], "generator": dict(self.core.params),
            "assumptions": self.core.assumptions(seed=seed).to_dict(),
        }

    def rollouts(self, policy: str, *, start: int, episodes: int, steps: int,
                 seed: int) -> Iterator[synthetic.Trajectory] | None:
        """Episodes ``start ..`` of the behaviour policy, vectorized; None for any other policy."""
        if policy != "behaviour":
            return None
        return synthetic.generate(self.core, episodes=episodes, steps=steps, seed=seed, start=start)


def behaviour_policy(env: gymnasium.Env):
    """The environment's behaviour policy, one step at a time, from the true state in ``info``."""
    core = env.unwrapped.core
    discrete = core.family.action_space == "discrete"

    def act(obs, info, rng: np.random.Generator):
        a = core.policy.sample_rng(np.asarray(info["state"])[None], rng)[0]
        return int(a) if discrete else a

    return act


def register() -> None:
    from identlam.envs.registry import register_family, register_policy
    from synthetic.distractors import EXO_PERIOD

    names = tuple(synthetic.ENVIRONMENTS)
    register_family("synthetic", names, "identlam.envs.synthetic_env:SyntheticEnv",
                    kwargs={n: {"preset": n} for n in names},
                    docs={n: synthetic.ENVIRONMENTS[n]["doc"] for n in names}, exo_period=EXO_PERIOD,
                    check="identlam.envs.synthetic_env:check_params")
    register_policy("behaviour", "identlam.envs.synthetic_env:behaviour_policy", family="synthetic")
