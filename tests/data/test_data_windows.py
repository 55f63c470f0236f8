"""Windows: right frames, stacked oldest first, never crossing a trajectory end, uniform."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from data_helpers import file_attrs, numpy_trajectory
from identlam.data import open_dataset, write_dataset
from identlam.errors import DatasetError


def brute_stack(obs, u, F):
    """Frames u-F+1 .. u (index clipped at 0), concatenated along the last axis, oldest first."""
    return np.concatenate([obs[max(v, 0)] for v in range(u - F + 1, u + 1)], axis=-1)


def check_windows(w, trajs, F, K, past):
    for b in range(len(w)):
        i, t, k = int(w.traj[b]), int(w.t[b]), int(w.k[b])
        T = len(trajs[i]["obs"])
        assert 0 <= t and 1 <= k <= K and t + K <= T - 1  # never crosses the trajectory end
        obs = trajs[i]["obs"]
        assert np.array_equal(w.obs_t[b], brute_stack(obs, t, F))
        assert np.array_equal(w.obs_next[b], brute_stack(obs, t + 1, F))
        assert np.array_equal(w.obs_future[b], brute_stack(obs, t + k, F))
        if past:
            assert np.array_equal(w.obs_past[b], brute_stack(obs, t - 1, F))
        else:
            assert w.obs_past is None


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    obs_kind=st.sampled_from(["image", "vector"]),
    F=st.integers(1, 4),
    K=st.integers(1, 5),
    past=st.booleans(),
    in_memory=st.booleans(),
    seed=st.integers(0, 1000),
)
def test_sampled_windows_match_brute_force(tmp_path, obs_kind, F, K, past, in_memory, seed):
    rng = np.random.default_rng(seed)
    shape = (5, 4, 3) if obs_kind == "image" else (4,)
    trajs = [numpy_trajectory(int(T), rng, obs_kind=obs_kind, obs_shape=shape) for T in rng.integers(2, 14, size=5)]
    path = write_dataset(tmp_path / "w.h5", trajs, file_attrs(obs_kind), chunk_bytes=64)
    with open_dataset(path, in_memory=in_memory) as ds:
        sampler = ds.observations(frame_stack=F, future_k=K, past_frame=past)
        if sampler.n_windows == 0:
            with pytest.raises(DatasetError, match="future_k"):
                sampler.sample(4, rng)
            return
        w = sampler.sample(64, np.random.default_rng(seed))
        if obs_kind == "image":
            assert w.obs_t.shape == (64, 5, 4, 3 * F) and w.obs_t.dtype == np.uint8
        else:
            assert w.obs_t.shape == (64, 4 * F) and w.obs_t.dtype == np.float32
        assert w.k.dtype == np.int64 and w.traj.dtype == np.int64 and w.t.dtype == np.int64
        check_windows(w, trajs, F, K, past)


def test_lazy_and_in_memory_sampling_agree_bit_for_bit(small_dataset):
    path, _ = small_dataset
    with open_dataset(path, in_memory=True) as mem, open_dataset(path, in_memory=False) as lazy:
        assert mem.in_memory and not lazy.in_memory
        a = mem.observations(3, 4, True).sample(200, np.random.default_rng(7))
        b = lazy.observations(3, 4, True).sample(200, np.random.default_rng(7))
        for name in ("obs_t", "obs_next", "obs_future", "obs_past", "k", "traj", "t"):
            assert np.array_equal(getattr(a, name), getattr(b, name)), name


def test_sampling_is_uniform_over_valid_windows(small_dataset):
    path, trajs = small_dataset
    K = 3
    with open_dataset(path) as ds:
        w = ds.observations(future_k=K).sample(40_000, np.random.default_rng(0))
    valid = [(i, t) for i, tr in enumerate(trajs) for t in range(len(tr["obs"]) - K)]
    counts = {key: 0 for key in valid}
    for key in zip(w.traj.tolist(), w.t.tolist()):
        counts[key] += 1  # a KeyError would be a window that crosses a trajectory end
    expected = 40_000 / len(valid)
    # Binomial counts: 5 standard deviations around the uniform expectation.
    sd = np.sqrt(expected * (1 - 1 / len(valid)))
    assert all(abs(c - expected) < 5 * sd for c in counts.values())
    k_counts = np.bincount(w.k, minlength=K + 1)[1:]
    assert k_counts.min() > 40_000 / K * 0.95  # k ~ U{1..K}
    assert (np.bincount(w.k, minlength=K + 2)[[0, K + 1]] == 0).all()


def test_transitions_cover_every_transition_in_dataset_order(small_dataset):
    path, trajs = small_dataset
    with open_dataset(path, in_memory=False) as ds:
        chunks = list(ds.observations(frame_stack=2, past_frame=True).transitions(batch_size=6))
    assert all(len(c) <= 6 for c in chunks)
    traj = np.concatenate([c.traj for c in chunks])
    t = np.concatenate([c.t for c in chunks])
    expected = [(i, s) for i, tr in enumerate(trajs) for s in range(len(tr["obs"]) - 1)]
    assert list(zip(traj.tolist(), t.tolist())) == expected
    for c in chunks:
        assert (c.k == 1).all() and c.obs_future is c.obs_next
        check_windows(c, trajs, 2, 1, True)


def test_trajectory_subset_and_bad_arguments(small_dataset):
    path, trajs = small_dataset
    with open_dataset(path) as ds:
        w = ds.observations(trajectories=[2, 4]).sample(300, np.random.default_rng(1))
        assert set(w.traj.tolist()) == {2, 4}
        for bad in ({"frame_stack": 0}, {"future_k": -1}, {"future_k": 2.5}, {"past_frame": "yes"}):
            with pytest.raises(DatasetError, match=next(iter(bad))):
                ds.observations(**bad)
        with pytest.raises(DatasetError, match="trajectories"):
            ds.observations(trajectories=[7])
        with pytest.raises(DatasetError, match="future_k"):
            ds.observations(future_k=15).sample(2, np.random.default_rng(0))
        with pytest.raises(DatasetError, match="batch_size"):
            next(ds.observations().transitions(batch_size=0))


def test_lazy_reads_merge_requests_into_few_slices(small_dataset, monkeypatch):
    """The read plan issues at most one HDF5 read per trajectory and chunk-separated span."""
    import h5py

    path, _ = small_dataset
    reads = []
    original = h5py.Dataset.__getitem__

    def counting(self, key):
        reads.append(key)
        return original(self, key)

    with open_dataset(path, in_memory=False) as ds:
        sampler = ds.observations(frame_stack=3, future_k=2)
        monkeypatch.setattr(h5py.Dataset, "__getitem__", counting)
        w = sampler.sample(256, np.random.default_rng(3))
    assert len(reads) <= len(set(w.traj.tolist())) * 2
    assert all(isinstance(k, slice) for k in reads)
