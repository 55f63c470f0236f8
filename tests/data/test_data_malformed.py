"""Every kind of malformed file fails on opening with one line naming what is wrong."""

from __future__ import annotations

import h5py
import numpy as np
import pytest

from data_helpers import file_attrs, numpy_trajectory
from identlam.data import open_dataset, write_dataset
from identlam.data.privileged import privileged
from identlam.errors import DatasetError


def replace(group, name, data):
    if name in group:
        del group[name]
    group.create_dataset(name, data=data)


def _set_row(group, name, row, value):
    data = group[name][()]
    data[row] = value
    replace(group, name, data)


# (id, mutation of a valid file opened with h5py "a", substrings the one-line message must hold)
CASES = [
    ("unknown-format", lambda f: f.attrs.__setitem__("format", "identlam-9"), ["attribute 'format'", "identlam-9"]),
    ("bad-action-space", lambda f: f.attrs.__setitem__("action_space", "mixed"), ["attribute 'action_space'", "mixed"]),
    ("missing-n-actions", lambda f: f.attrs.__delitem__("n_actions"), ["attribute 'n_actions'"]),
    ("bad-obs-kind", lambda f: f.attrs.__setitem__("obs_kind", "pixels"), ["attribute 'obs_kind'"]),
    ("missing-env-id", lambda f: f.attrs.__delitem__("env_id"), ["attribute 'env_id'"]),
    ("bad-generator-json", lambda f: f.attrs.__setitem__("generator", "{not json"), ["attribute 'generator'", "JSON"]),
    ("no-groups", lambda f: [f.__delitem__(k) for k in list(f.keys())], ["no trajectory groups"]),
    ("gap-in-group-names", lambda f: f.__delitem__("1"), ["group '1': missing"]),
    ("odd-group-name", lambda f: f.move("2", "traj2"), ["group 'traj2'", "unexpected name"]),
    ("missing-obs", lambda f: f["1"].__delitem__("obs"), ["group '1' field 'obs': missing"]),
    ("missing-actions", lambda f: f["0"].__delitem__("actions"), ["group '0' field 'actions': missing"]),
    ("missing-states", lambda f: f["2"].__delitem__("states"), ["group '2' field 'states': missing"]),
    ("field-is-a-group", lambda f: (f["1"].__delitem__("states"), f["1"].create_group("states")), ["group '1' field 'states': is a group"]),
    ("obs-wrong-dtype", lambda f: replace(f["1"], "obs", f["1"]["obs"][()].astype(np.float32)),
     ["group '1' field 'obs'", "(9, 6, 5, 3) float32", "uint8"]),
    ("actions-wrong-dtype", lambda f: replace(f["0"], "actions", f["0"]["actions"][()].astype(np.int32)),
     ["group '0' field 'actions'", "(9,) int32", "int64"]),
    ("states-wrong-ndim", lambda f: replace(f["2"], "states", f["2"]["states"][()][:, 0]),
     ["group '2' field 'states'", "(9,) float32", "(T, S)"]),
    ("length-mismatch", lambda f: replace(f["1"], "actions", f["1"]["actions"][()][:-2]),
     ["group '1' field 'actions'", "(7,) int64", "7 steps but 'obs' has 9"]),
    ("action-out-of-range", lambda f: _set_row(f["2"], "actions", 5, 4), ["group '2' field 'actions'", "value 4 at step 5", "[0, 4)"]),
    ("negative-action", lambda f: _set_row(f["0"], "actions", 3, -1), ["group '0' field 'actions'", "value -1 at step 3"]),
    ("nan-in-states", lambda f: _set_row(f["1"], "states", 6, np.nan), ["group '1' field 'states'", "(9, 3) float32", "NaN", "step 6"]),
    ("inf-in-exo", lambda f: _set_row(f["2"], "exo", 0, np.inf), ["group '2' field 'exo'", "inf", "step 0"]),
    ("nan-in-rewards", lambda f: _set_row(f["0"], "rewards", 8, np.nan), ["group '0' field 'rewards'", "NaN"]),
    ("obs-shape-differs", lambda f: replace(f["2"], "obs", np.zeros((9, 6, 4, 3), np.uint8)),
     ["group '2' field 'obs'", "(9, 6, 4, 3) uint8", "differs from group '0'"]),
    ("state-dim-differs", lambda f: replace(f["1"], "states", np.zeros((9, 2), np.float32)), ["group '1' field 'states'", "state dimension 2"]),
    ("exo-only-in-some-groups", lambda f: f["1"].__delitem__("exo"), ["group '1' field 'exo'", "missing here"]),
    ("one-step-trajectory", lambda f: [replace(f["1"], k, f["1"][k][()][:1]) for k in ("obs", "actions", "states", "exo", "rewards")],
     ["group '1' field 'obs'", "(1, 6, 5, 3) uint8", "at least 2"]),
    ("empty-image-axis", lambda f: [replace(f[g], "obs", np.zeros((9, 6, 0, 3), np.uint8)) for g in "012"], ["group '0' field 'obs'", "empty"]),
]


@pytest.fixture
def valid_file(tmp_path):
    rng = np.random.default_rng(0)
    return write_dataset(tmp_path / "valid.h5", [numpy_trajectory(9, rng) for _ in range(3)], file_attrs())


# Malformed groups other than '0' whose fields a lazily read file checks at the trajectory's
# first read, not at open (opening reads only group 0 and each group's 'obs' length).
CHECKED_AT_FIRST_READ = {
    "missing-states", "field-is-a-group", "obs-wrong-dtype", "states-wrong-ndim", "length-mismatch",
    "action-out-of-range", "nan-in-states", "inf-in-exo", "obs-shape-differs", "state-dim-differs",
    "exo-only-in-some-groups",
}


def _assert_one_line(err, path, needles):
    msg = str(err.value)
    assert "\n" not in msg
    assert msg.startswith(str(path))
    for needle in needles:
        assert needle in msg, f"{needle!r} not in {msg!r}"


@pytest.mark.parametrize("in_memory", [False, True])
@pytest.mark.parametrize("case, mutate, needles", CASES, ids=[c[0] for c in CASES])
def test_malformed_file_gives_one_line_naming_the_problem(valid_file, case, mutate, needles, in_memory):
    with open_dataset(valid_file):
        pass  # the unmutated file is valid
    with h5py.File(valid_file, "a") as f:
        mutate(f)
    if in_memory or case not in CHECKED_AT_FIRST_READ:
        with pytest.raises(DatasetError) as err:
            open_dataset(valid_file, in_memory=in_memory)
        _assert_one_line(err, valid_file, needles)
        return
    group = int(needles[0].split("'")[1])
    with open_dataset(valid_file, in_memory=False) as ds:
        ds.observations(trajectories=[0]).sample(4, np.random.default_rng(0))  # a valid group reads
        with pytest.raises(DatasetError) as err:
            next(ds.observations(trajectories=[group]).transitions())
        _assert_one_line(err, valid_file, needles)
        with pytest.raises(DatasetError) as err:  # and again: a failed check is not remembered as passed
            privileged(ds).states(group)
        _assert_one_line(err, valid_file, needles)
    with open_dataset(valid_file, in_memory=False) as ds, pytest.raises(DatasetError) as err:
        privileged(ds).transition_table()  # reads every trajectory
    _assert_one_line(err, valid_file, needles)


def test_missing_file_and_non_hdf5_file(tmp_path):
    with pytest.raises(DatasetError, match="dataset file does not exist"):
        open_dataset(tmp_path / "nope.h5")
    text = tmp_path / "notes.h5"
    text.write_text("these are not trajectories\n")
    with pytest.raises(DatasetError, match="not an HDF5 file"):
        open_dataset(text)
    with pytest.raises(DatasetError, match="not a file"):
        open_dataset(tmp_path)
    with pytest.raises(DatasetError, match="in_memory"):
        open_dataset(text, in_memory="sometimes")


def test_truncated_file(valid_file, tmp_path):
    data = valid_file.read_bytes()
    cut = tmp_path / "cut.h5"
    cut.write_bytes(data[: len(data) // 2])  # e.g. a copy interrupted half-way
    with pytest.raises(DatasetError, match=r"cut.h5: cannot be opened as HDF5 \(.*truncated file"):
        open_dataset(cut)


def test_continuous_action_dim_must_match(tmp_path):
    rng = np.random.default_rng(1)
    trajs = [numpy_trajectory(5, rng, action_space="continuous", action_dim=3)]
    with pytest.raises(DatasetError, match=r"field 'actions': \(5, 3\) float32: expected \(T, 2\) for action_dim 2"):
        write_dataset(tmp_path / "c.h5", trajs, file_attrs(action_space="continuous", action_dim=2))


def test_nan_is_found_in_a_late_block_of_a_lazy_scan(valid_file, monkeypatch):
    """The lazy scan reads bounded blocks; a NaN in the last block is still found, at its step."""
    import identlam.data.reader as reader

    monkeypatch.setattr(reader, "SCAN_BYTES", 12)  # one 3-float row per block
    with h5py.File(valid_file, "a") as f:
        _set_row(f["2"], "states", 8, np.nan)
    with pytest.raises(DatasetError, match=r"group '2' field 'states'.*step 8"):
        open_dataset(valid_file, in_memory=True)
    with open_dataset(valid_file, in_memory=False) as ds:  # lazily: at the group's first read
        with pytest.raises(DatasetError, match=r"group '2' field 'states'.*step 8"):
            ds.observations(trajectories=[2]).sample(1, np.random.default_rng(0))
    with h5py.File(valid_file, "a") as f:
        _set_row(f["2"], "states", 8, 0.0)
        _set_row(f["0"], "states", 7, np.nan)
    with pytest.raises(DatasetError, match=r"group '0' field 'states'.*step 7"):
        open_dataset(valid_file, in_memory=False)  # group 0 is checked fully at open


def test_auto_loading_that_outgrows_the_budget_reads_lazily_and_still_checks_values(tmp_path):
    """in_memory="auto" estimates the size from group 0; when later groups are longer and the
    arrays outgrow the budget, opening switches to lazy reading and still checks every group:
    group 0 at open, the others at their first read."""
    rng = np.random.default_rng(5)
    trajs = [numpy_trajectory(T, rng) for T in (2, 20, 20, 20)]
    path = write_dataset(tmp_path / "grow.h5", trajs, file_attrs())
    step_bytes = 6 * 5 * 3 + 8 + 3 * 4 + 2 * 4 + 4
    budget = 4 * 2 * step_bytes + 1  # the estimate from group 0 fits, the whole file does not
    with open_dataset(path, memory_budget=budget) as ds, open_dataset(path, in_memory=True) as mem:
        assert not ds.in_memory and mem.in_memory
        a = ds.observations(2, 3).sample(50, np.random.default_rng(0))
        b = mem.observations(2, 3).sample(50, np.random.default_rng(0))
        assert np.array_equal(a.obs_future, b.obs_future)
    with h5py.File(path, "a") as f:
        _set_row(f["3"], "states", 17, np.nan)
    with pytest.raises(DatasetError, match=r"group '3' field 'states'.*NaN.*step 17"):
        open_dataset(path, in_memory=True)
    with open_dataset(path, memory_budget=budget) as ds:
        assert not ds.in_memory
        ds.observations(trajectories=[0, 1, 2]).sample(8, np.random.default_rng(0))
        with pytest.raises(DatasetError, match=r"group '3' field 'states'.*NaN.*step 17"):
            ds.observations(trajectories=[3]).sample(1, np.random.default_rng(0))
    with h5py.File(path, "a") as f:
        _set_row(f["3"], "states", 17, 0.0)
        _set_row(f["1"], "actions", 4, 9)  # read before the switch: still checked at first read
    with open_dataset(path, memory_budget=budget) as ds:
        with pytest.raises(DatasetError, match=r"group '1' field 'actions'.*value 9 at step 4"):
            ds.observations(trajectories=[1]).sample(1, np.random.default_rng(0))
    with h5py.File(path, "a") as f:
        _set_row(f["1"], "actions", 4, 0)
        _set_row(f["0"], "exo", 1, np.inf)  # loaded before the switch: checked as it happens
    with pytest.raises(DatasetError, match=r"group '0' field 'exo'.*inf.*step 1"):
        open_dataset(path, memory_budget=budget)
