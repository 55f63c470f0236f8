"""`identlam inspect` (and the argument checks of `identlam generate`) through identlam.cli.main."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest

import identlam
from data_helpers import file_attrs, numpy_trajectory
from identlam.data import write_dataset
from identlam.data.summary import discretize, plug_in_mi


@pytest.fixture
def distractor_file(tmp_path):
    """exo[:, 0] moves by the action, exo[:, 1] is independent noise, exo[:, 2] copies it half the time."""
    rng = np.random.default_rng(0)
    trajs = []
    for _ in range(40):
        tr = numpy_trajectory(60, rng, exo_dim=3)
        a = tr["actions"][:-1]
        exo = np.zeros((60, 3), np.float32)
        exo[1:, 0] = np.cumsum(a)
        exo[:, 1] = rng.normal(size=60)
        exo[1:, 2] = np.cumsum(np.where(rng.random(59) < 0.5, a, rng.integers(0, 4, size=59)))
        tr["exo"] = exo
        trajs.append(tr)
    attrs = file_attrs()
    attrs["assumptions"] = {"A1": {"holds": True, "lipschitz": 1.5}, "A3": {"holds": False, "components": [2, 2, 1, 1]}}
    return write_dataset(tmp_path / "exo.h5", trajs, attrs), trajs


def test_inspect_json_reports_actions_and_distractor_dependence(cli_main, distractor_file, capsys):
    path, trajs = distractor_file
    assert cli_main(["inspect", str(path), "--json"]) == 0
    s = json.loads(capsys.readouterr().out)
    counts = np.bincount(np.concatenate([t["actions"][:-1] for t in trajs]), minlength=4)
    assert s["actions"]["counts"] == counts.tolist() and s["transitions"] == 40 * 59
    assert s["fields"]["obs"] == {"step_shape": [6, 5, 3], "dtype": "uint8"}
    d = s["distractor"]
    h_action = s["actions"]["entropy_nats"]
    mi = d["mi_action_change_nats"]
    assert mi[0] == pytest.approx(h_action, abs=1e-9)  # the change is the action: I = H(a)
    assert mi[1] < 0.05 and mi[1] < 3 * max(d["mi_shuffled_nats"][1], 0.005)  # independent noise
    assert 0.2 < mi[2] < h_action - 0.3  # copied with probability 1/2
    assert s["assumptions"]["A3"]["holds"] is False


def test_inspect_text_shows_tables_and_assumptions(cli_main, distractor_file, capsys):
    path, _ = distractor_file
    assert cli_main(["inspect", str(path)]) == 0
    out = capsys.readouterr().out
    assert "actions      discrete, 4 actions" in out
    assert "fields       obs (T, 6, 5, 3) uint8 | actions (T,) int64 | states (T, 3) float32" in out
    assert "I(a;chg)" in out
    assert re.search(r"^  A3 +connected supports per action +no +components=\[2, 2, 1, 1\]$", out, re.M)
    assert re.search(r"^  A1 +continuity of the transition +yes +lipschitz=1.5$", out, re.M)
    # Every file the output names is a page of the repository.
    for named in re.findall(r"[\w./-]+\.md", out):
        assert (Path(identlam.__file__).resolve().parents[1] / named).is_file(), named


def test_inspect_continuous_vectors(cli_main, tmp_path, capsys):
    rng = np.random.default_rng(1)
    trajs = [numpy_trajectory(20, rng, obs_kind="vector", obs_shape=(4,), action_space="continuous", exo_dim=0) for _ in range(3)]
    path = write_dataset(tmp_path / "c.h5", trajs, file_attrs("vector", "continuous"))
    assert cli_main(["inspect", str(path), "--json"]) == 0
    s = json.loads(capsys.readouterr().out)
    actions = np.concatenate([t["actions"][:-1] for t in trajs])
    assert s["actions"]["mean"] == pytest.approx(actions.mean(0).tolist(), rel=1e-6)
    assert s["actions"]["max"] == pytest.approx(actions.max(0).tolist())
    assert s["distractor"] is None


@pytest.mark.parametrize(
    "argv, needle",
    [
        (["inspect", "missing.h5"], "dataset file does not exist"),
        (["inspect", "bad.h5"], "group '0' field 'states'"),
        (["generate", "pointmass", "--out", "x.h5", "--set", "K4"], "--set 'K4': expected key=value"),
        (["generate", "pointmass", "--out", "x.h5", "--episodes", "0"], "argument '--episodes' is 0"),
        (["generate", "pointmass", "--out", "x.h5", "--steps", "1"], "argument '--steps' is 1"),
    ],
)
def test_bad_input_gives_one_line_and_status_2(cli_main, tmp_path, monkeypatch, capsys, argv, needle):
    monkeypatch.chdir(tmp_path)
    rng = np.random.default_rng(2)
    tr = numpy_trajectory(5, rng)
    tr["states"][2, 1] = np.nan
    import h5py

    write_dataset(tmp_path / "good.h5", [numpy_trajectory(5, rng)], file_attrs())
    (tmp_path / "good.h5").rename(tmp_path / "bad.h5")
    with h5py.File(tmp_path / "bad.h5", "a") as f:
        del f["0"]["states"]
        f["0"].create_dataset("states", data=tr["states"])
    assert cli_main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith(f"identlam {argv[0]}: error: ") and needle in err
    assert "Traceback" not in err and not (tmp_path / "x.h5").exists()


def test_plug_in_mi_and_discretize():
    rng = np.random.default_rng(3)
    a = rng.integers(0, 4, size=20_000)
    assert plug_in_mi(a, a) == pytest.approx(np.log(4), abs=0.01)
    assert plug_in_mi(a, rng.integers(0, 4, size=20_000)) < 0.002
    x = rng.normal(size=10_000)
    codes = discretize(x, bins=8)
    assert codes.min() == 0 and codes.max() == 7 and np.bincount(codes).min() > 1200  # quantile bins
    assert discretize(np.array([0.5, -1.0, 0.5, 2.0])).tolist() == [1, 0, 1, 2]  # few values: by value


def test_inspect_summary_does_not_depend_on_the_block_size(distractor_file, monkeypatch):
    """inspect streams fields in blocks of trajectories; blocks of one trajectory give the same
    counts, mutual information and returns (moments up to float64 rounding)."""
    import identlam.data.store as store
    from identlam.data import open_dataset
    from identlam.data.summary import summarize

    path, _ = distractor_file
    with open_dataset(path, in_memory=False) as ds:
        whole = summarize(ds)
        monkeypatch.setattr(store, "BLOCK_BYTES", 1)
        tiny = summarize(ds)
    assert whole["actions"] == tiny["actions"] and whole["distractor"]["mi_action_change_nats"] == tiny["distractor"]["mi_action_change_nats"]
    assert whole["returns"] == tiny["returns"]
    assert np.allclose(whole["states"]["mean"], tiny["states"]["mean"], rtol=1e-12)
    assert np.allclose(whole["distractor"]["change_std"], tiny["distractor"]["change_std"], rtol=1e-12)
