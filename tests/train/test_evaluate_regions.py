"""``identlam evaluate RUN --regions SPEC``: given state regions in the offline report.

The run is a tiny pointmass-islands file (8 trajectories, the held-out half alternates between
the two discs) with a hand-made ``latents.npz`` whose code is the action on the left island and
a rotated action on the right one: a per-island relabelling that no global matching can fix.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from train_fixtures import TINY

from identlam.cli import main
from identlam.data import open_dataset
from identlam.data.cli import generate
from identlam.data.privileged import privileged
from identlam.errors import ConfigError
from identlam.train import evaluate_online
from identlam.train.evaluate import run_evaluate
from identlam.train.pipeline import make_config
from identlam.metrics import RegionSpec, parse_regions
from identlam.train.rundir import RunDir

N_ACTIONS = 4


@pytest.fixture(scope="module")
def islands_run(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("islands")
    data = root / "islands.h5"
    generate("pointmass-islands", data, 8, 30, 0, {"K": N_ACTIONS})
    cfg = make_config(data, "lapo-entropy", overrides=[*TINY, "eval.holdout_fraction=0.5"])
    run = RunDir.create(root / "run", cfg, data)
    with open_dataset(data) as ds:
        table = privileged(ds).transition_table()
    right = table.states[:, 0] >= 0.5
    assert 0.4 < right[table.traj >= 4].mean() < 0.6  # the held-out half visits both islands
    codes = np.where(right, (table.actions + 1) % N_ACTIONS, table.actions).astype(np.int64)
    with open(run.output("relabel"), "wb") as fh:
        np.savez(fh, z=np.eye(N_ACTIONS, dtype=np.float32)[codes], codes=codes, traj=table.traj, t=table.t,
                 n_codes=np.int64(N_ACTIONS))
    return run.path


def _offline(run_path: Path, regions: str | None) -> dict:
    return run_evaluate(RunDir(run_path), regions=regions)["offline"]


def test_island_threshold_matches_per_island_while_the_global_matching_fails(islands_run):
    offline = _offline(islands_run, "threshold:0:0.5")
    score = offline["score"]
    assert offline["params"]["regions"] == "threshold:0:0.5"
    assert offline["params"]["regions_given"] is True and offline["params"]["n_regions"] == 2
    assert score["hungarian_per_region"] == 1.0
    assert 0.4 < score["hungarian_global"] < 0.6
    assert score["hungarian_gap"] == pytest.approx(1.0 - score["hungarian_global"])
    saved = json.loads((islands_run / "metrics.json").read_text())
    assert saved["offline"]["params"]["regions"] == "threshold:0:0.5"


def test_regions_that_do_not_separate_the_islands_show_no_per_region_match(islands_run):
    across = _offline(islands_run, "threshold:1:0.5")["score"]  # splits each disc in half, not the discs
    assert across["hungarian_per_region"] < 0.75
    single = _offline(islands_run, "grid:1")["score"]
    assert single["hungarian_per_region"] == single["hungarian_global"]
    halves = _offline(islands_run, "grid:2")  # the box's midpoint in x lies between the discs
    assert halves["score"]["hungarian_per_region"] == 1.0 and halves["params"]["n_regions"] >= 2


def test_kmeans_is_the_default_and_a_rerun_without_regions_keeps_the_spec(islands_run):
    (islands_run / "metrics.json").unlink(missing_ok=True)
    default = _offline(islands_run, None)
    assert default["params"]["regions"] == "kmeans:16" and default["params"]["regions_given"] is False
    assert _offline(islands_run, "kmeans:16") == default  # same spec: the finished report is returned
    two = _offline(islands_run, "kmeans:2")
    assert two["params"]["regions"] == "kmeans:2" and two["params"]["n_regions"] == 2
    assert _offline(islands_run, None)["params"]["regions"] == "kmeans:2"


def test_cli_evaluate_takes_regions_and_reports_bad_specs_in_one_line(islands_run, capsys):
    assert main(["evaluate", str(islands_run), "--regions", "threshold:0:0.5"]) == 0
    assert json.loads((islands_run / "metrics.json").read_text())["offline"]["params"]["regions"] == "threshold:0:0.5"
    for spec, words in (("voronoi:3", "unknown kind"), ("threshold:2:0.5", "DIM 2 is outside"),
                        ("grid:0", "N must be >= 1"), ("kmeans:many", "K must be an integer")):
        capsys.readouterr()
        assert main(["evaluate", str(islands_run), "--regions", spec]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and "--regions" in err[0] and words in err[0], err


@pytest.mark.parametrize("spec, words", [
    ("", "unknown kind"), ("kmeans", "kmeans takes kmeans:K"), ("kmeans:0", "K must be >= 1"),
    ("kmeans:1.5", "K must be an integer"), ("threshold:0", "threshold takes threshold:DIM:VALUE"),
    ("threshold:-1:0.5", "DIM must be >= 0"), ("threshold:0:half", "VALUE must be a number"),
    ("threshold:0:nan", "VALUE must be finite"), ("grid:-2", "N must be >= 1"), ("grid:4:4", "grid takes grid:N"),
])
def test_bad_specs_raise_one_line_config_errors(spec, words):
    with pytest.raises(ConfigError, match="--regions") as err:
        parse_regions(spec)
    assert words in str(err.value) and "\n" not in str(err.value)


def test_state_dimension_checks():
    with pytest.raises(ConfigError, match="DIM 3 is outside the state's dimensions 0..2"):
        parse_regions("threshold:3:0", state_dim=3)
    with pytest.raises(ConfigError, match="exceeds 4096"):
        parse_regions("grid:3", state_dim=8)
    assert parse_regions("grid:8", state_dim=4) == RegionSpec("grid", count=8)


def test_region_labels_from_states():
    states = np.array([[0.0, 5.0], [0.49, 5.0], [0.5, 5.0], [1.0, 5.0]])
    np.testing.assert_array_equal(parse_regions("threshold:0:0.5").desiderata_arguments(states)["regions"],
                                  [0, 0, 1, 1])
    cells = parse_regions("grid:4").desiderata_arguments(states)["regions"]
    np.testing.assert_array_equal(cells, [[0, 0], [1, 0], [2, 0], [3, 0]])  # a constant dimension is one cell
    assert parse_regions("kmeans:7").desiderata_arguments(states) == {"n_regions": 7}


@settings(max_examples=30, deadline=None)
@given(kind=st.sampled_from(["kmeans", "grid", "threshold"]), count=st.integers(1, 10_000),
       value=st.floats(allow_nan=False, allow_infinity=False))
def test_the_recorded_spec_parses_back_to_itself(kind, count, value):
    text = f"threshold:{count}:{value!r}" if kind == "threshold" else f"{kind}:{count}"
    spec = parse_regions(text)
    assert parse_regions(str(spec)) == spec and str(spec) == text


def test_pipeline_forwards_regions_and_keeps_the_online_part(islands_run, tmp_path, capsys, monkeypatch):
    data = str(RunDir(islands_run).data_path)
    argv = ["pipeline", "--data", data, "--method", "lapo-entropy", "--out", str(tmp_path / "run"), "--labels", "2",
            *[arg for item in TINY for arg in ("--set", item)], "--set", "train.steps=6", "--set", "bc.steps=4",
            "--set", "decoder.steps=4", "--set", "eval.normalizer_steps=4"]
    assert main([*argv[:5], "--out", str(tmp_path / "bad"), "--regions", "grid:x"]) == 2
    assert "--regions" in capsys.readouterr().err and not (tmp_path / "bad").exists()  # refused before training
    assert main([*argv, "--regions", "threshold:0:0.5"]) == 0
    first = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert first["offline"]["params"]["regions"] == "threshold:0:0.5" and first["online"]["episodes"] == 2
    def no_rollouts(*args):
        raise AssertionError("changing --regions must not redo the online evaluation")

    monkeypatch.setattr(evaluate_online, "online_report", no_rollouts)
    assert main([*argv, "--regions", "grid:2"]) == 0
    second = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert second["offline"]["params"]["regions"] == "grid:2" and second["online"] == first["online"]
