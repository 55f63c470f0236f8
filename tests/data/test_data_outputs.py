"""Writing a dataset: bad output paths, killed writes, two writers of one path, implausible values."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import h5py
import numpy as np
import pytest

import identlam
from data_helpers import file_attrs, numpy_trajectory, unwritable_folder
from identlam.data import open_dataset, write_dataset
from identlam.errors import DatasetError

HERE = Path(__file__).resolve().parent
REPO = Path(identlam.__file__).resolve().parents[1]

# Writes 6 trajectories; after 3 it announces itself in MARKER and waits for GO to exist.
WRITER = """
import sys, time, pathlib
import numpy as np
sys.path.insert(0, sys.argv[4])
from data_helpers import numpy_trajectory, file_attrs
from identlam.data import write_dataset
target, marker, go = map(pathlib.Path, sys.argv[1:4])
def trajectories():
    rng = np.random.default_rng(1)
    for i in range(6):
        if i == 3:
            marker.write_text("mid-write")
            while not go.exists():
                time.sleep(0.01)
        yield numpy_trajectory(9, rng)
write_dataset(target, trajectories(), file_attrs())
"""


def start_writer(target: Path, tmp_path: Path) -> tuple[subprocess.Popen, Path, Path]:
    marker, go = tmp_path / "marker", tmp_path / "go"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
    proc = subprocess.Popen([sys.executable, "-c", WRITER, str(target), str(marker), str(go), str(HERE)], env=env)
    deadline = time.monotonic() + 120
    while not marker.exists():
        assert proc.poll() is None, "the writer exited before reaching the middle of its write"
        assert time.monotonic() < deadline, "the writer did not reach the middle of its write"
        time.sleep(0.02)
    return proc, marker, go


def never_drawn():
    raise AssertionError("a trajectory was drawn before the output path was checked")
    yield  # pragma: no cover


@pytest.mark.parametrize("old_file", [False, True])
def test_a_killed_write_leaves_the_old_file_or_none_and_the_next_write_cleans_up(tmp_path, old_file):
    out = tmp_path / "out"
    out.mkdir()
    target = out / "data.h5"
    if old_file:
        write_dataset(target, [numpy_trajectory(5, np.random.default_rng(0))], file_attrs())
    before = target.read_bytes() if old_file else None
    proc, _, _ = start_writer(target, tmp_path)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert (target.read_bytes() if target.exists() else None) == before
    leftovers = sorted(p.name for p in out.iterdir() if p != target)
    assert any(name.endswith(".tmp") for name in leftovers), leftovers  # the kill did land mid-write
    rng = np.random.default_rng(2)
    write_dataset(target, [numpy_trajectory(7, rng) for _ in range(2)], file_attrs())
    assert sorted(p.name for p in out.iterdir()) == ["data.h5"]
    with open_dataset(target) as ds:
        assert ds.n_trajectories == 2


def test_a_second_writer_of_the_same_path_stops_with_one_line(tmp_path, cli_main, capsys):
    target = tmp_path / "data.h5"
    proc, _, go = start_writer(target, tmp_path)
    try:
        with pytest.raises(DatasetError) as err:
            write_dataset(target, never_drawn(), file_attrs())
        msg = str(err.value)
        assert "\n" not in msg and msg.startswith(str(target)) and f"pid {proc.pid}" in msg and "being written" in msg
        assert cli_main(["generate", "pointmass", "--out", str(target), "--episodes", "2", "--steps", "5", "--quiet"]) == 2
        line = capsys.readouterr().err.strip()
        assert "\n" not in line and "being written" in line
        # Another path in the same directory is not blocked.
        write_dataset(tmp_path / "other.h5", [numpy_trajectory(4, np.random.default_rng(0))], file_attrs())
    finally:
        go.write_text("go")
        assert proc.wait(timeout=120) == 0
    with open_dataset(target) as ds:
        assert ds.n_trajectories == 6
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".data.h5")) == []


def test_bad_output_paths_are_refused_before_any_trajectory_is_drawn(tmp_path, cli_main, capsys):
    a_file = tmp_path / "file.txt"
    a_file.write_text("not a directory")
    cases = [
        (tmp_path, "is a directory"),
        (a_file / "data.h5", "is a file, not a directory"),
        (a_file / "sub" / "data.h5", "is a file, not a directory"),
    ]
    # the dataset writer tries /proc itself and says so; elsewhere its check finds the folder read-only
    cases.append((unwritable_folder(tmp_path) / "identlam-test" / "data.h5",
                  "cannot be written" if os.geteuid() == 0 else "not writable"))
    for path, needle in cases:
        with pytest.raises(DatasetError) as err:
            write_dataset(path, never_drawn(), file_attrs())
        assert "\n" not in str(err.value) and needle in str(err.value), str(err.value)
    for path, needle in cases[:2]:
        assert cli_main(["generate", "pointmass", "--out", str(path), "--episodes", "2", "--steps", "5", "--quiet"]) == 2
        line = capsys.readouterr().err.strip()
        assert "\n" not in line and needle in line, line


@pytest.mark.parametrize("value", [1e30, -3e12, np.nan])
def test_implausible_continuous_actions_are_refused_on_writing_and_reading(tmp_path, value):
    rng = np.random.default_rng(3)
    trajs = [numpy_trajectory(6, rng, action_space="continuous", action_dim=2) for _ in range(3)]
    attrs = file_attrs(action_space="continuous", action_dim=2)
    bad = [dict(t) for t in trajs]
    bad[1]["actions"] = bad[1]["actions"].copy()
    bad[1]["actions"][4, 1] = value
    with pytest.raises(DatasetError) as err:
        write_dataset(tmp_path / "bad.h5", bad, attrs)
    msg = str(err.value)
    assert "group '1' field 'actions'" in msg and "step 4" in msg and "\n" not in msg
    assert ("NaN" in msg) if np.isnan(value) else ("exceeds 1e+09" in msg)
    path = write_dataset(tmp_path / "good.h5", trajs, attrs)
    with h5py.File(path, "a") as f:
        data = f["1"]["actions"][()]
        data[4, 1] = value
        f["1"]["actions"][...] = data
    message = r"group '1' field 'actions': \(6, 2\) float32: .*step 4"
    with pytest.raises(DatasetError, match=message):
        open_dataset(path, in_memory=True)
    with open_dataset(path, in_memory=False) as ds:  # lazily: at the trajectory's first read
        with pytest.raises(DatasetError, match=message):
            ds.label_split(3, seed=0).actions()


def test_nan_in_vector_observations_of_a_lazy_file_is_refused_when_read(tmp_path):
    rng = np.random.default_rng(4)
    trajs = [numpy_trajectory(8, rng, obs_kind="vector", obs_shape=(3,)) for _ in range(3)]
    path = write_dataset(tmp_path / "v.h5", trajs, file_attrs(obs_kind="vector"))
    with h5py.File(path, "a") as f:
        data = f["2"]["obs"][()]
        data[5, 0] = np.inf
        f["2"]["obs"][...] = data
    with pytest.raises(DatasetError, match=r"group '2' field 'obs': \(8, 3\) float32: contains inf .*step 5"):
        open_dataset(path, in_memory=True)
    with open_dataset(path, in_memory=False) as ds:  # a lazy open does not read observations
        windows = ds.observations()
        with pytest.raises(DatasetError, match=r"group '2' field 'obs': \(8, 3\) float32: contains inf .*step 5"):
            for _ in windows.transitions(batch_size=4):
                pass
