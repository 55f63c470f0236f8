"""The ``expert`` data-generating policy of the dcs family: a shipped (or given) state-based expert.

It reads the proprioceptive state from ``info["state"]`` (data generation is the data-generating
process; the images it records are what learners see) and acts with the expert's mean action.
"""

from __future__ import annotations

from identlam.envs.dcs.expert_file import load_expert, shipped_expert
from identlam.envs.dcs.tasks import task_name
from identlam.errors import ConfigError


def expert_policy(env, expert: str | None = None):
    """``policy(obs, info, rng) -> action``; ``expert`` is a path to an expert zip (default: shipped)."""
    base = env.unwrapped
    name = task_name(base.domain, base.task)
    model = load_expert(expert) if expert else shipped_expert(name)
    if model.meta.get("task") not in (None, name):
        raise ConfigError(f"expert: {expert} was trained for {model.meta.get('task')}, not {name}")

    def act(obs, info, rng):
        return model.act(info["state"])

    return act
