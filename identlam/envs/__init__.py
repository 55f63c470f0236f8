"""The environment interface: every environment is a ``gymnasium.Env`` registered as ``<family>/<name>``.

``reset(seed=)`` returns ``(obs, info)`` and ``step(action)`` ``(obs, reward, terminated,
truncated, info)``; ``info["state"]`` (S,) and ``info["exo"]`` (E,) float32 carry the ground
truth; ``env.unwrapped.dataset_attrs()`` gives the attributes of the data the env produces,
whose ``generator`` rebuilds it: ``make(attrs["env_id"], **attrs["generator"])``::

    import identlam.envs as envs
    env = envs.make("synthetic/pointmass", K=4, obs="image")
    obs, info = env.reset(seed=0)
    envs.collect("synthetic/pointmass", {"K": 4}, "behaviour", episodes=10, steps=50, seed=0, out="pm.h5")

Importing this package registers every built-in family whose dependencies are installed;
:func:`register_family` and :func:`register_policy` add more, in this package or from another one
through the ``identlam.envs`` entry-point group (see docs/environments.md).
"""

from identlam.envs import dcs as _dcs
from identlam.envs import policies as _policies
from identlam.envs import synthetic_env as _synthetic_env
from identlam.envs.collect import collect, episode_seed, policy_rng
from identlam.envs.plugins import load_plugins
from identlam.envs.registry import (
    EnvError,
    available,
    check_env_id,
    check_params,
    describe,
    exo_period,
    is_registered,
    make,
    make_policy,
    policies,
    register_family,
    register_policy,
    unregister_family,
)

register_policy("random", _policies.random_policy)
# Families shipped with identlam register here; other packages through the entry points.
_synthetic_env.register()
_dcs.register()  # only when dm_control is installed (the `dcs` extra)
load_plugins()

__all__ = [
    "EnvError", "available", "check_env_id", "check_params", "collect", "describe", "episode_seed", "is_registered", "load_plugins", "make",
    "make_policy", "policies", "policy_rng", "register_family", "register_policy", "unregister_family",
]
