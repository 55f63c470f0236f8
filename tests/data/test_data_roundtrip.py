"""Writing then reading a dataset gives back every array bit for bit; writes are atomic."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from data_helpers import file_attrs, numpy_trajectory
from identlam.data import open_dataset, write_dataset
from identlam.data.privileged import privileged
from identlam.errors import DatasetError

layouts = st.fixed_dictionaries(
    {
        "obs_kind": st.sampled_from(["image", "vector"]),
        "action_space": st.sampled_from(["discrete", "continuous"]),
        "lengths": st.lists(st.integers(2, 12), min_size=1, max_size=4),
        "exo_dim": st.integers(0, 3),
        "rewards": st.booleans(),
        "state_dim": st.integers(1, 4),
        "image_shape": st.tuples(st.integers(1, 5), st.integers(1, 5), st.sampled_from([1, 3, 4])),
        "vector_dim": st.integers(1, 6),
        "seed": st.integers(0, 2**16),
        "in_memory": st.booleans(),
    }
)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(layout=layouts)
def test_write_then_read_round_trips_bit_exactly(tmp_path, layout):
    rng = np.random.default_rng(layout["seed"])
    obs_shape = layout["image_shape"] if layout["obs_kind"] == "image" else (layout["vector_dim"],)
    trajs = [
        numpy_trajectory(T, rng, obs_kind=layout["obs_kind"], action_space=layout["action_space"], obs_shape=obs_shape,
                         state_dim=layout["state_dim"], exo_dim=layout["exo_dim"], rewards=layout["rewards"])
        for T in layout["lengths"]
    ]
    attrs = file_attrs(layout["obs_kind"], layout["action_space"])
    path = write_dataset(tmp_path / "rt.h5", iter(trajs), attrs)
    with open_dataset(path, in_memory=layout["in_memory"]) as ds:
        assert ds.in_memory == layout["in_memory"]
        assert ds.lengths.tolist() == layout["lengths"]
        assert ds.obs_shape == obs_shape and ds.obs_kind == layout["obs_kind"]
        assert ds.exo_dim == layout["exo_dim"] and ds.has_rewards == layout["rewards"]
        assert ds.attrs["generator"] == {"source": "numpy"} and ds.attrs["format"] == "identlam-1"
        view = privileged(ds)
        sampler = ds.observations()
        obs_rows = np.concatenate([w.obs_t for w in sampler.transitions(batch_size=5)])
        expected_obs = np.concatenate([tr["obs"][:-1].reshape(len(tr["obs"]) - 1, -1) for tr in trajs])
        assert obs_rows.reshape(len(obs_rows), -1).tobytes() == expected_obs.tobytes()
        for i, tr in enumerate(trajs):
            for name, getter in (("actions", view.actions), ("states", view.states), ("exo", view.exo), ("rewards", view.rewards)):
                got = getter(i)
                if name not in tr:
                    assert got is None
                    continue
                assert got.dtype == tr[name].dtype and got.shape == tr[name].shape
                assert got.tobytes() == tr[name].tobytes()


def test_writer_casts_lossless_dtypes_and_records_returns(tmp_path):
    rng = np.random.default_rng(1)
    tr = numpy_trajectory(6, rng, obs_kind="vector", obs_shape=(3,))
    loose = {"obs": tr["obs"].astype(np.float64), "actions": tr["actions"].astype(np.int32),
             "states": tr["states"].astype(np.float64), "exo": np.zeros((6, 0)), "rewards": tr["rewards"]}
    path = write_dataset(tmp_path / "cast.h5", [loose], file_attrs("vector"))
    import h5py

    with h5py.File(path, "r") as f:
        g = f["0"]
        assert g["obs"].dtype == np.float32 and g["actions"].dtype == np.int64 and g["states"].dtype == np.float32
        assert "exo" not in g  # width-0 distractors mean none
        assert g.attrs["traj_return"] == pytest.approx(float(tr["rewards"].sum(dtype=np.float64)), abs=0)
        assert g["obs"].chunks is not None and g["obs"].chunks[1:] == (3,)
    with open_dataset(path) as ds:
        assert np.array_equal(privileged(ds).actions(0), tr["actions"])


@pytest.mark.parametrize(
    "field, value, needle",
    [
        ("actions", lambda tr: tr["actions"].astype(np.float32), "field 'actions': dtype float32 cannot be stored as int64"),
        ("obs", lambda tr: tr["obs"].astype(np.float32), "field 'obs': dtype float32 cannot be stored as uint8"),
        ("states", lambda tr: np.where(np.arange(9)[:, None] == 4, np.nan, tr["states"]), "field 'states'"),
        ("actions", lambda tr: tr["actions"] + 10, "outside [0, 4)"),
    ],
)
def test_writer_rejects_bad_trajectories_with_one_line(tmp_path, field, value, needle):
    rng = np.random.default_rng(2)
    good, bad = numpy_trajectory(9, rng), numpy_trajectory(9, rng)
    bad[field] = value(bad)
    with pytest.raises(DatasetError) as err:
        write_dataset(tmp_path / "bad.h5", [good, bad], file_attrs())
    msg = str(err.value)
    assert needle in msg and "\n" not in msg
    assert ("trajectory 1" in msg) or ("group '1'" in msg)
    assert list(tmp_path.iterdir()) == []


def test_writer_rejects_bad_attributes_and_empty_input(tmp_path):
    with pytest.raises(DatasetError, match="attribute 'n_actions'"):
        write_dataset(tmp_path / "a.h5", [], {"env_id": "e", "action_space": "discrete", "obs_kind": "image"})
    with pytest.raises(DatasetError, match="attribute 'action_space'"):
        write_dataset(tmp_path / "a.h5", [], {"env_id": "e", "action_space": "mixed", "obs_kind": "image"})
    with pytest.raises(DatasetError, match="no trajectories"):
        write_dataset(tmp_path / "a.h5", [], file_attrs())
    assert list(tmp_path.iterdir()) == []


def test_failing_iterator_leaves_no_file_and_keeps_an_existing_one(tmp_path):
    rng = np.random.default_rng(3)
    target = tmp_path / "keep.h5"
    write_dataset(target, [numpy_trajectory(5, rng)], file_attrs())
    before = target.read_bytes()

    def exploding():
        yield numpy_trajectory(5, rng)
        yield numpy_trajectory(5, rng)
        raise RuntimeError("generator failed mid-way")

    with pytest.raises(RuntimeError, match="mid-way"):
        write_dataset(target, exploding(), file_attrs())
    assert target.read_bytes() == before
    with pytest.raises(RuntimeError):
        write_dataset(tmp_path / "new.h5", exploding(), file_attrs())
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep.h5"]  # no temporary file left
    with open_dataset(target) as ds:
        assert ds.n_trajectories == 1


def test_writer_streams_one_trajectory_at_a_time(tmp_path):
    """The writer consumes the iterator lazily: trajectory i is written before i+1 is produced."""
    rng = np.random.default_rng(4)
    written = []

    def source():
        for i in range(4):
            assert written == list(range(i))
            yield numpy_trajectory(4, rng)

    write_dataset(tmp_path / "s.h5", source(), file_attrs(), on_trajectory=lambda i, T: written.append(i))
    assert written == [0, 1, 2, 3]
