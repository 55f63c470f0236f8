"""The Distracting Control Suite, written for identlam: seeded, offline, with its ground truth.

``dcs/<domain>-<task>`` ids exist for every dm_control suite task once :func:`register` ran
(``identlam.envs`` does this when dm_control is importable). Parameters (all recorded in the
dataset's ``generator`` attribute): ``difficulty`` (vanilla, easy, medium, hard,
scale_easy_video_hard), ``dynamic``, ``img_hw``, ``camera_id``, ``fast_render``, ``frame_stack``,
``background`` ("procedural" or a DAVIS-style folder), ``background_split`` (train, eval),
``background_size``, ``background_frames``, ``background_mode`` (auto, composite, texture),
``distractions`` and ``time_limit``. See docs/dcs.md.

Importing this package does not import dm_control; building an environment does.
"""

from __future__ import annotations

from identlam.envs.dcs.tasks import FAMILY, SUITE_TASKS, env_id, task_name

ENTRY_POINT = "identlam.envs.dcs.env:DCSEnv"


def register() -> bool:
    """Register every suite task as ``dcs/<domain>-<task>`` and the ``expert`` policy."""
    from identlam.envs.registry import register_family, register_policy

    ids = [task_name(d, t) for d, t in SUITE_TASKS]
    kwargs = {task_name(d, t): {"domain": d, "task": t} for d, t in SUITE_TASKS}
    docs = {name: f"dm_control {name} with Distracting Control Suite distractions" for name in ids}
    ok = register_family(FAMILY, ids, ENTRY_POINT, kwargs=kwargs, requires=("dm_control", "mujoco"),
                         extra="dcs", docs=docs, check="identlam.envs.dcs.env:check_params")
    if ok:
        register_policy("expert", "identlam.envs.dcs.policies:expert_policy", family=FAMILY)
    return ok


__all__ = ["FAMILY", "SUITE_TASKS", "env_id", "register", "task_name"]
