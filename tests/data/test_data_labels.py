"""The label split: seeded, bounded, and the only door to actions for training."""

from __future__ import annotations

import h5py
import numpy as np
import pytest

from data_helpers import file_attrs, numpy_trajectory
from identlam.data import Dataset, WindowSampler, open_dataset, write_dataset
from identlam.errors import DatasetError


def test_split_is_reproducible_by_seed_and_exposes_only_its_actions(small_dataset):
    path, trajs = small_dataset
    with open_dataset(path) as ds:
        a, b, c = ds.label_split(3, seed=5), ds.label_split(3, seed=5), ds.label_split(3, seed=6)
        assert np.array_equal(a.trajectories, b.trajectories)
        assert len(a.trajectories) == 3 and len(set(a.trajectories.tolist())) == 3
        assert any(not np.array_equal(ds.label_split(3, seed=s).trajectories, a.trajectories) for s in range(6, 12))
        assert c.trajectories.tolist() == sorted(c.trajectories.tolist())
        w = a.sample(500, np.random.default_rng(0), frame_stack=2, future_k=1)
        assert set(w.traj.tolist()) <= set(a.trajectories.tolist())
        for b_ in range(len(w)):
            assert w.actions[b_] == trajs[w.traj[b_]]["actions"][w.t[b_]]
            assert np.array_equal(w.obs_t[b_][..., 3:], trajs[w.traj[b_]]["obs"][w.t[b_]])
        chunks = list(a.transitions(batch_size=4))
        got = np.concatenate([ch.actions for ch in chunks])
        want = np.concatenate([trajs[i]["actions"][:-1] for i in a.trajectories])
        assert np.array_equal(got, want) and np.array_equal(a.actions(), want)
        assert a.n_transitions == len(want)


def test_budget_bounds(small_dataset):
    path, _ = small_dataset
    with open_dataset(path) as ds:
        assert len(ds.label_split(ds.n_trajectories, 0)) == ds.n_trajectories
        for bad in (-1, ds.n_trajectories + 1):
            with pytest.raises(DatasetError, match="n_trajectories"):
                ds.label_split(bad, 0)
        with pytest.raises(DatasetError, match="n_trajectories"):
            ds.label_split(2.0, 0)
        among = ds.label_split(2, seed=3, among=[1, 4, 6])
        assert set(among.trajectories.tolist()) <= {1, 4, 6} and len(among) == 2
        with pytest.raises(DatasetError, match="'among' holds 3 trajectories"):
            ds.label_split(4, 0, among=[1, 4, 6])
        with pytest.raises(DatasetError, match="'among'"):
            ds.label_split(1, 0, among=[9])
        empty = ds.label_split(0, 0)
        assert len(empty) == 0 and empty.actions().shape == (0,)
        with pytest.raises(DatasetError, match="n_trajectories' is 0"):
            empty.sample(4, np.random.default_rng(0))


def test_public_api_has_no_privileged_fields(small_dataset):
    path, _ = small_dataset
    with open_dataset(path) as ds:
        public = {n for n in dir(ds) if not n.startswith("_")} | {n for n in dir(WindowSampler) if not n.startswith("_")}
        assert not {n for n in public if any(word in n for word in ("action", "state", "exo", "reward"))} - {
            "n_actions", "action_space", "action_dim", "state_dim", "exo_dim", "has_rewards"
        }
        w = ds.observations().sample(3, np.random.default_rng(0))
        assert not any(name in vars(w) for name in ("actions", "states", "exo"))
        assert isinstance(ds, Dataset)


def test_scrambling_unlabeled_ground_truth_leaves_everything_training_sees_identical(tmp_path):
    """Replace unlabeled actions and all states and exo by random values: observations and
    label-split windows are bit-identical, so no training objective can depend on them."""
    rng = np.random.default_rng(9)
    trajs = [numpy_trajectory(int(T), rng) for T in rng.integers(4, 12, size=8)]
    original = write_dataset(tmp_path / "a.h5", trajs, file_attrs())
    scrambled = write_dataset(tmp_path / "b.h5", trajs, file_attrs())
    labeled = open_dataset(original).label_split(3, seed=1).trajectories
    with h5py.File(scrambled, "a") as f:
        for i in range(len(trajs)):
            g = f[str(i)]
            for name in ("states", "exo") + (() if i in labeled else ("actions",)):
                data = g[name][()]
                new = rng.integers(0, 4, size=data.shape) if name == "actions" else rng.normal(size=data.shape)
                del g[name]
                g.create_dataset(name, data=new.astype(data.dtype))
    seen = []
    for path in (original, scrambled):
        with open_dataset(path) as ds:
            r = np.random.default_rng(0)
            split = ds.label_split(3, seed=1)
            w = ds.observations(2, 3, True).sample(64, r)
            lw = split.sample(64, r, frame_stack=2, future_k=2)
            parts = [w.obs_t, w.obs_next, w.obs_future, w.obs_past, lw.obs_t, lw.obs_future, lw.actions, split.actions()]
            parts += [c.obs_t for c in ds.observations().transitions(16)]
            seen.append(b"".join(np.ascontiguousarray(p).tobytes() for p in parts))
    assert seen[0] == seen[1]
