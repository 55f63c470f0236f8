"""Tiny datasets and configs shared by the pipeline tests (a few hundred transitions, tens of steps)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from identlam.data import open_dataset, write_dataset
from identlam.data.cli import generate
from identlam.data.privileged import privileged

torch.set_num_threads(1)  # the machine's cores are shared; one thread keeps tests predictable


def make_pointmass(path: Path, episodes: int = 6, steps: int = 40, **params) -> Path:
    """PointMass-4 from `synthetic`, written by the data layer (attrs carry the generator)."""
    generate("pointmass", path, episodes, steps, 0, {"K": 4, **params})
    return path


def poisoned_copy(src: Path, dst: Path, keep: np.ndarray, seed: int) -> Path:
    """``src`` with the actions of trajectories not in ``keep``, all states and all exo replaced
    by random values (observations, rewards and attributes unchanged)."""
    rng = np.random.default_rng(seed)
    with open_dataset(src) as ds:
        view = privileged(ds)
        n_obs = ds.observations()
        trajectories = []
        for i in range(ds.n_trajectories):
            T = int(ds.lengths[i])
            obs = n_obs.read(np.full(T - 1, i), np.arange(T - 1), None)
            frames = np.concatenate([obs.obs_t, obs.obs_next[-1:]])
            actions = view.actions(i) if i in keep else rng.integers(0, ds.n_actions, T).astype(np.int64)
            exo = view.exo(i)
            trajectories.append({
                "obs": frames, "actions": actions, "rewards": view.rewards(i),
                "states": rng.normal(size=view.states(i).shape).astype(np.float32),
                "exo": None if exo is None else rng.normal(size=exo.shape).astype(np.float32),
            })
        attrs = dict(ds.attrs)
    return write_dataset(dst, trajectories, attrs)


TINY = [
    "train.steps=30", "train.batch_size=32", "train.optim.warmup_steps=5", "train.checkpoint_every=10",
    "train.log_every=5", "model.hidden_dim=32", "model.embed_dim=16", "model.latent_dim=8",
    "bc.steps=20", "bc.batch_size=32", "bc.hidden_dim=32", "decoder.steps=20", "decoder.batch_size=32",
    "decoder.hidden_dim=32", "eval.holdout_fraction=0.34", "eval.episodes=2", "eval.max_steps=10",
    "eval.normalizer_steps=20",
    "train.merge_steps=5",  # lapo-entropy's merge test fine-tunes 200 updates per tried merge: most of a tiny run
]
TINY_IMAGE = TINY + ["model.impala_channels=[4, 8]", "model.embed_dim=16", "bc.impala_scale=1"]
