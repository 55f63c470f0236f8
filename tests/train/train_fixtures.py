"""Tiny datasets and configs shared by the pipeline tests (a few hundred transitions, tens of steps)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from identlam.data import write_dataset

torch.set_num_threads(1)  # the machine's cores are shared; one thread keeps tests predictable

MOVES = np.array([[1, 0], [-1, 0], [0, 1], [0, -1]], np.float32) * 0.07


def _render(states: np.ndarray, size: int) -> np.ndarray:
    """A bright 3x3 dot at the agent's position on a dark background, (T, size, size, 1) uint8."""
    img = np.zeros((len(states), size, size, 1), np.uint8)
    pos = np.clip((states * size).astype(int), 1, size - 2)
    for i, (x, y) in enumerate(pos):
        img[i, y - 1 : y + 2, x - 1 : x + 2, 0] = 255
    return img


def handmade_trajectories(n_traj: int, T: int, seed: int, obs: str = "vector", size: int = 16):
    """PointMass-4 on the torus with an i.i.d. distractor, built without `synthetic`."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n_traj):
        actions = rng.integers(0, 4, size=T).astype(np.int64)
        states = np.empty((T, 2), np.float32)
        states[0] = rng.random(2)
        for t in range(T - 1):
            states[t + 1] = (states[t] + MOVES[actions[t]]) % 1.0
        exo = rng.random((T, 1)).astype(np.float32)
        o = np.concatenate([states, exo], axis=1) if obs == "vector" else _render(states, size)
        out.append({"obs": o, "actions": actions, "states": states, "exo": exo,
                    "rewards": -np.abs(states[:, 0] - 0.5).astype(np.float32)})
    return out


def write_handmade(path: Path, n_traj: int = 6, T: int = 40, seed: int = 0, obs: str = "vector",
                   trajectories=None) -> Path:
    trajs = trajectories if trajectories is not None else handmade_trajectories(n_traj, T, seed, obs)
    attrs = {"env_id": "handmade/pointmass", "action_space": "discrete", "n_actions": 4,
             "obs_kind": obs, "seed": seed}
    return write_dataset(path, trajs, attrs)


TINY = [
    "train.steps=30", "train.batch_size=32", "train.warmup_steps=5", "train.checkpoint_every=10",
    "train.log_every=5", "model.hidden_dim=32", "model.embed_dim=16", "model.latent_dim=8",
    "bc.steps=20", "bc.batch_size=32", "bc.hidden_dim=32", "decoder.steps=20", "decoder.batch_size=32",
    "decoder.hidden_dim=32", "eval.holdout_fraction=0.34", "eval.episodes=2", "eval.max_steps=10",
    "eval.normalizer_steps=20",
]
TINY_IMAGE = TINY + ["model.impala_channels=[4, 8]", "model.embed_dim=16", "bc.impala_scale=1"]
