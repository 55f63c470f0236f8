"""Names of Distracting Control Suite tasks and how they map onto dm_control's suite.

An environment id is ``dcs/<domain>-<task>`` (``dcs/cheetah-run``, ``dcs/ball_in_cup-catch``).
Domain names never contain ``-``, so the first ``-`` splits domain from task.
"""

from __future__ import annotations

import os
from collections import OrderedDict

import numpy as np

from identlam.errors import ConfigError

FAMILY = "dcs"
# dm_control 1.0.50's suite.ALL_TASKS, listed so that registering ids needs no dm_control import
# (a test checks the list against the installed suite)
SUITE_TASKS = (
    ('acrobot', 'swingup'),
    ('acrobot', 'swingup_sparse'),
    ('ball_in_cup', 'catch'),
    ('cartpole', 'balance'),
    ('cartpole', 'balance_sparse'),
    ('cartpole', 'swingup'),
    ('cartpole', 'swingup_sparse'),
    ('cartpole', 'two_poles'),
    ('cartpole', 'three_poles'),
    ('cheetah', 'run'),
    ('dog', 'stand'),
    ('dog', 'walk'),
    ('dog', 'trot'),
    ('dog', 'run'),
    ('dog', 'fetch'),
    ('finger', 'spin'),
    ('finger', 'turn_easy'),
    ('finger', 'turn_hard'),
    ('fish', 'upright'),
    ('fish', 'swim'),
    ('hopper', 'stand'),
    ('hopper', 'hop'),
    ('humanoid', 'stand'),
    ('humanoid', 'walk'),
    ('humanoid', 'run'),
    ('humanoid', 'run_pure_state'),
    ('humanoid_CMU', 'stand'),
    ('humanoid_CMU', 'walk'),
    ('humanoid_CMU', 'run'),
    ('lqr', 'lqr_2_1'),
    ('lqr', 'lqr_6_2'),
    ('manipulator', 'bring_ball'),
    ('manipulator', 'bring_peg'),
    ('manipulator', 'insert_ball'),
    ('manipulator', 'insert_peg'),
    ('pendulum', 'swingup'),
    ('point_mass', 'easy'),
    ('point_mass', 'hard'),
    ('quadruped', 'walk'),
    ('quadruped', 'run'),
    ('quadruped', 'escape'),
    ('quadruped', 'fetch'),
    ('reacher', 'easy'),
    ('reacher', 'hard'),
    ('stacker', 'stack_2'),
    ('stacker', 'stack_4'),
    ('swimmer', 'swimmer6'),
    ('swimmer', 'swimmer15'),
    ('walker', 'stand'),
    ('walker', 'walk'),
    ('walker', 'run'),
)


def have_dm_control() -> bool:
    # dm_control picks its GL backend at import; headless machines have no display for GLFW
    os.environ.setdefault("MUJOCO_GL", "egl")
    try:
        import dm_control.suite  # noqa: F401
    except Exception:  # ImportError, or a broken GL stack raising at import
        return False
    return True


def require_dm_control() -> None:
    if not have_dm_control():
        raise ConfigError(
            "dcs: dm_control is not importable; install the extra with `pip install 'identlam[dcs]'`"
        )


def suite_tasks() -> list[tuple[str, str]]:
    """Every (domain, task) pair of dm_control's suite."""
    return list(SUITE_TASKS)


def task_name(domain: str, task: str) -> str:
    return f"{domain}-{task}"


def env_id(domain: str, task: str) -> str:
    return f"{FAMILY}/{task_name(domain, task)}"


def parse_task(name: str) -> tuple[str, str]:
    """``cheetah-run`` or ``dcs/cheetah-run`` -> ("cheetah", "run"), checked against the suite."""
    if name.startswith(FAMILY + "/"):
        name = name[len(FAMILY) + 1 :]
    domain, sep, task = name.partition("-")
    if not sep or not domain or not task:
        raise ConfigError(f"task: {name!r} is not DOMAIN-TASK (for example cheetah-run)")
    if (domain, task) not in set(suite_tasks()):
        known = ", ".join(task_name(d, t) for d, t in suite_tasks()[:8])
        raise ConfigError(f"task: {name!r} is not a dm_control suite task (known: {known}, ...)")
    return domain, task


def load_suite(domain: str, task: str, seed: int | None, time_limit: float | None = None):
    """dm_control's environment for (domain, task); the physics' own randomness is seeded."""
    require_dm_control()
    from dm_control import suite

    kwargs = {"random": None if seed is None else int(seed) % (2**31)}
    env_kwargs = {} if time_limit is None else {"time_limit": float(time_limit)}
    return suite.load(domain, task, task_kwargs=kwargs, environment_kwargs=env_kwargs)


def flat_state(observation: "OrderedDict[str, np.ndarray]") -> np.ndarray:
    """The proprioceptive state in LAOM's order: keys sorted alphabetically, each flattened.

    LAOM flattens gymnasium's Dict observation, whose keys gymnasium sorts; matching that order
    lets experts and probes trained on LAOM's files read ours and the other way round.
    """
    parts = [np.asarray(observation[key], dtype=np.float32).ravel() for key in sorted(observation)]
    return np.concatenate(parts) if parts else np.zeros(0, np.float32)

