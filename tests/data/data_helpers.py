"""Helpers for the data tests: trajectories built with numpy in the identlam-1 layout."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np


def numpy_trajectory(T, rng, obs_kind="image", action_space="discrete", n_actions=4, action_dim=2,
                     obs_shape=(6, 5, 3), state_dim=3, exo_dim=2, rewards=True):
    """One random trajectory in the identlam-1 layout (the stored dtypes)."""
    if obs_kind == "image":
        obs = rng.integers(0, 256, size=(T, *obs_shape), dtype=np.uint8)
    else:
        obs = rng.normal(size=(T, *obs_shape)).astype(np.float32)
    if action_space == "discrete":
        actions = rng.integers(0, n_actions, size=T).astype(np.int64)
    else:
        actions = rng.normal(size=(T, action_dim)).astype(np.float32)
    traj = {"obs": obs, "actions": actions, "states": rng.normal(size=(T, state_dim)).astype(np.float32)}
    if exo_dim:
        traj["exo"] = rng.normal(size=(T, exo_dim)).astype(np.float32)
    if rewards:
        traj["rewards"] = rng.normal(size=T).astype(np.float32)
    return traj


def file_attrs(obs_kind="image", action_space="discrete", n_actions=4, action_dim=2):
    attrs = {"env_id": "test/numpy", "action_space": action_space, "obs_kind": obs_kind, "seed": 0,
             "generator": {"source": "numpy"}}
    attrs["n_actions" if action_space == "discrete" else "action_dim"] = n_actions if action_space == "discrete" else action_dim
    return attrs


def unwritable_folder(tmp_path: Path) -> Path:
    """A folder in which nothing can be created: /proc for root (who may write anywhere else),
    a read-only folder under ``tmp_path`` otherwise."""
    if os.geteuid() == 0:
        return Path("/proc")
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    return locked
