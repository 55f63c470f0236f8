"""A file in LAOM's layout (no `format` attribute) reads as-is."""

from __future__ import annotations

import h5py
import numpy as np
import pytest

from identlam.data import open_dataset
from identlam.data.privileged import privileged
from identlam.errors import DatasetError


def write_laom_file(path, n=3, T=12, A=6, S=17, seed=0):
    """A small file laid out as LAOM's DCS datasets: attrs as LAOM writes them, float32 actions."""
    rng = np.random.default_rng(seed)
    data = []
    with h5py.File(path, "w", track_order=True) as f:
        f.attrs.update({"domain_name": "cheetah", "task_name": "run", "difficulty": "scale_easy_video_hard",
                        "dynamic": True, "img_hw": 64, "split": "train", "dataset_return": 812.5})
        for i in range(n):
            g = f.create_group(str(i))
            obs = rng.integers(0, 256, size=(T, 64, 64, 3), dtype=np.uint8)
            actions = rng.uniform(-1, 1, size=(T, A)).astype(np.float32)
            states = rng.normal(size=(T, S)).astype(np.float32)
            g.create_dataset("obs", data=obs, chunks=(4, 64, 64, 3))
            g.create_dataset("actions", data=actions)
            g.create_dataset("states", data=states)
            g.attrs["traj_return"] = 800.0 + i
            data.append((obs, actions, states))
    return data


def test_laom_layout_reads_with_dcs_env_id(tmp_path):
    path = tmp_path / "cheetah-run-example.hdf5"
    data = write_laom_file(path)
    with open_dataset(path, in_memory=False) as ds:
        assert ds.format == "laom" and ds.env_id == "dcs/cheetah-run"
        assert ds.action_space == "continuous" and ds.action_dim == 6 and ds.n_actions is None
        assert ds.obs_kind == "image" and ds.obs_shape == (64, 64, 3) and ds.state_dim == 17 and ds.exo_dim == 0
        assert ds.attrs["difficulty"] == "scale_easy_video_hard" and ds.attrs["img_hw"] == 64
        w = ds.observations(frame_stack=3, future_k=4).sample(8, np.random.default_rng(0))
        assert w.obs_t.shape == (8, 64, 64, 9)
        b = 0
        obs = data[w.traj[b]][0]
        assert np.array_equal(w.obs_future[b][..., 6:], obs[w.t[b] + w.k[b]])
        split = ds.label_split(2, seed=42)
        lw = split.sample(5, np.random.default_rng(1))
        assert lw.actions.shape == (5, 6) and lw.actions.dtype == np.float32
        assert np.array_equal(lw.actions[0], data[lw.traj[0]][1][lw.t[0]])
        table = privileged(ds).transition_table()
        assert table.exo is None and table.rewards is None and table.states.shape == (3 * 11, 17)


def test_laom_layout_without_domain_is_rejected(tmp_path):
    path = tmp_path / "anon.hdf5"
    write_laom_file(path, n=1)
    with h5py.File(path, "a") as f:
        del f.attrs["domain_name"]
    with pytest.raises(DatasetError, match="attribute 'domain_name': missing"):
        open_dataset(path)


def test_laom_layout_with_nan_actions_is_rejected(tmp_path):
    path = tmp_path / "nan.hdf5"
    write_laom_file(path, n=2)
    with h5py.File(path, "a") as f:
        a = f["1"]["actions"][()]
        a[3, 2] = np.nan
        del f["1"]["actions"]
        f["1"].create_dataset("actions", data=a)
    with pytest.raises(DatasetError, match=r"group '1' field 'actions': \(12, 6\) float32: contains NaN"):
        open_dataset(path)
