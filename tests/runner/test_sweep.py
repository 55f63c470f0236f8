"""Sweeps: shared work done once, resumable after SIGKILL, failures recorded, rerun is a no-op."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
from runner_fixtures import TINY, write_toml

from identlam.provenance import source_hash
from identlam.runner import load_experiment, load_results, run_experiment
from identlam.runner.results import format_summary

ROOT = Path(__file__).resolve().parents[2]


def _sorted(table: pd.DataFrame) -> pd.DataFrame:
    return table.sort_values(["metric", "method", "seed"]).reset_index(drop=True)


def test_reference_table_is_tidy(tiny_reference):
    out, table = tiny_reference
    assert list(table.columns) == ["data", "method", "run_id", "seed", "metric", "value", "code"]
    assert set(table["code"]) == {source_hash()}  # the code that made each run
    assert len(table) == 2 * 2 * 3  # methods x seeds x metrics
    assert set(table["metric"]) == {"ami", "used_codes", "action_probe_accuracy"}
    assert sorted(p.name for p in (out / "data").glob("*.h5")).__len__() == 2  # one dataset per data seed
    on_disk = pd.read_csv(out / "results.csv", dtype={"code": str})
    pd.testing.assert_frame_equal(_sorted(on_disk), _sorted(table), check_dtype=False)
    summary = format_summary(table)
    assert "over 2 seeds" in summary and "entropy" in summary and "[" in summary


def test_rerun_of_a_finished_sweep_does_nothing(tiny_reference, tiny_toml):
    out, table = tiny_reference
    stamps = {p: p.stat().st_mtime_ns for p in (out / "runs").glob("*/result.json")}
    said = []
    status = run_experiment(load_experiment(tiny_toml), out, workers=2, echo=said.append)
    assert status["ran"] == 0 and "nothing to do" in said[0]
    assert stamps == {p: p.stat().st_mtime_ns for p in (out / "runs").glob("*/result.json")}
    pd.testing.assert_frame_equal(load_results(out), table)


def test_killed_sweep_resumes_to_the_same_table(tmp_path):
    # more and longer runs than the shared tiny sweep, so that on an idle machine the kill still
    # lands while runs are in flight (8 runs of a few seconds each)
    text = TINY.replace("seeds = [0, 1]", "seeds = [0, 1, 2, 3]").replace('"train.steps" = 12', '"train.steps" = 150')
    assert text.count("[0, 1, 2, 3]") == 1 and '"train.steps" = 150' in text
    tiny_toml = write_toml(tmp_path, text, "kill.toml")
    run_experiment(load_experiment(tiny_toml), tmp_path / "reference", workers=2, echo=lambda _: None)
    reference = load_results(tmp_path / "reference")
    out = tmp_path / "store"
    cmd = [sys.executable, "-m", "identlam", "run", str(tiny_toml), "--out", str(out), "--workers", "2",
           "--no-figure"]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 120
    while time.time() < deadline and not list((out / "runs").glob("*/done")):
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)  # mid-sweep: one run finished, others running
    proc.wait()
    time.sleep(1.0)  # the orphaned workers notice and exit
    visible = [p for p in (out / "runs").iterdir() if p.name != ".tmp"]
    assert visible and all((p / "done").is_file() for p in visible)  # never a partial run in runs/
    assert len(visible) < 8
    rerun = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    assert rerun.returncode == 0, rerun.stderr
    assert f"{8 - len(visible)} of 8 runs to do" in rerun.stdout
    pd.testing.assert_frame_equal(_sorted(load_results(out)).drop(columns="run_id"),
                                  _sorted(reference).drop(columns="run_id"))


def test_a_worker_whose_sweep_died_before_it_started_exits():
    # a sweep killed while its workers still import torch leaves them to init before their
    # initializer runs: the initializer must not take init for the sweep and work on alone
    code = ("import os, time\nfrom identlam.runner.cell import init_worker\n"
            "init_worker(1, os.getppid() + 1_000_000)\ntime.sleep(60)\n")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    start = time.time()
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=50)
    assert done.returncode == 1 and done.stderr == "" and time.time() - start < 45


def test_shared_lam_stage_once_and_a_failed_cell_recorded(tmp_path):
    # two bc budgets share one LAM stage; laom-sup asking for more labelled trajectories than
    # the data has fails at stage 1 (only the data can tell), in one line
    text = TINY.replace('stages = ["train", "relabel", "evaluate"]', 'stages = ["train", "relabel", "bc", "evaluate"]')
    text = text.replace('[grid]\nmethod = ["entropy", "lambda0"]',
                        '[methods.sup]\npreset = "laom-sup"\nset = { labels = 100 }\n\n'
                        '[[grid]]\nmethod = ["entropy"]\n"bc.steps" = [3, 6]\n[[grid]]\nmethod = ["sup"]\n')
    text = text.replace("seeds = [0, 1]", "seeds = [0]")
    out = tmp_path / "store"
    said = []
    status = run_experiment(load_experiment(write_toml(tmp_path, text)), out, workers=2, echo=said.append)
    shared = list((out / "shared").glob("train-*"))
    assert len(shared) == 1 and sum("shared LAM stage" in s for s in said) == 1
    runs = [p for p in (out / "runs").iterdir() if p.name != ".tmp"]
    assert len(runs) == 2
    inode = (shared[0] / "model.pt").stat().st_ino
    assert all((r / "model.pt").stat().st_ino == inode for r in runs)  # linked, not retrained
    assert all("$ identlam bc" in (r / "run.log").read_text() for r in runs)
    [(run_id, error)] = status["failed"].items()
    assert run_id.startswith("pm_sup_s0_") and "labels" in error and "\n" not in error
    assert (out / "failed" / f"{run_id}.json").is_file()
    assert set(load_results(out)["method"]) == {"entropy"}


def test_the_summary_keeps_grid_points_whose_grid_column_is_empty():
    # a width that only the continuous method sets: the codes' rows have no value there
    import pandas as pd

    rows = []
    for seed in (0, 1):
        rows.append({"method": "codes", "model.latent_dim": None, "run_id": f"c{seed}", "seed": seed,
                     "metric": "ami", "value": 0.9 + seed / 100})
        for width in (2, 32):
            rows.append({"method": "continuous", "model.latent_dim": width, "run_id": f"k{width}s{seed}",
                         "seed": seed, "metric": "ami", "value": width / 100})
    text = format_summary(pd.DataFrame(rows))
    lines = text.splitlines()[2:]
    assert len(lines) == 3, text
    assert any(line.split()[0] == "codes" and "-" in line.split() for line in lines), text


def test_regions_that_do_not_fit_a_collected_dataset_fail_its_runs_before_training(tmp_path):
    # a collect source's state dimension is known only once its dataset is made: a threshold on a
    # dimension PointMass (2-D states) does not have failed each run at its evaluation, after training
    text = TINY.replace('source = "synthetic"\nenv = "pointmass"', 'source = "collect"\nenv = "synthetic/pointmass"\n'
                        'policy = "random"\nregions = "threshold:3:0"')
    text = text.replace("seeds = [0, 1]", "seeds = [0]").replace('method = ["entropy", "lambda0"]', 'method = ["entropy"]')
    assert text.count("threshold:3:0") == 1
    out = tmp_path / "store"
    status = run_experiment(load_experiment(write_toml(tmp_path, text)), out, workers=1, echo=lambda _: None)
    [(run_id, error)] = status["failed"].items()
    assert error == "--regions 'threshold:3:0.0': DIM 3 is outside the state's dimensions 0..1"
    assert not list((out / "runs").rglob("model.pt")) and not (out / "runs" / ".tmp" / run_id / "run.log").exists()


def test_the_summary_interval_is_the_reports():
    # one bootstrap for the run's table, its figure and the report: the same store prints the
    # same interval wherever it is read
    import numpy as np

    from identlam.runner.results import summarize
    from identlam.stats import interval_text, mean_interval

    values = np.random.default_rng(3).normal(0.5, 0.2, size=5)
    table = pd.DataFrame({"method": "m", "run_id": [f"r{s}" for s in range(5)], "seed": range(5),
                          "metric": "ami", "value": values})
    [row] = summarize(table).to_dict("records")
    assert (row["mean"], row["lo"], row["hi"]) == mean_interval(values) and row["seeds"] == 5
    assert interval_text(*mean_interval(values)) in format_summary(table)


def test_a_selection_runs_first_and_the_rest_finishes_to_the_same_table(tiny_reference, tiny_toml, tmp_path):
    from identlam.runner.spec import select_cells

    out, reference = tiny_reference
    exp = load_experiment(tiny_toml)
    store = tmp_path / "store"
    said = []
    status = run_experiment(exp, store, workers=1, echo=said.append,
                            cells=select_cells(exp, ["method=entropy", "seed=0"]))
    assert status["ran"] == 1 and "1 of 1 runs (selected by --only from 4) to do" in said[0]
    [done] = [p.parent.name for p in (store / "runs").glob("*/done")]
    assert done.startswith("pm_entropy_s0_")
    assert set(load_results(store)["run_id"]) == {done}  # the table holds what is finished
    status = run_experiment(exp, store, workers=2, echo=lambda _: None)
    assert status["finished_before"] == 1 and status["ran"] == 3
    pd.testing.assert_frame_equal(_sorted(load_results(store)), _sorted(reference))


def test_a_selection_trains_a_shared_lam_stage_where_the_rest_finds_it(tmp_path):
    from identlam.runner.spec import select_cells

    text = TINY.replace('stages = ["train", "relabel", "evaluate"]', 'stages = ["train", "relabel", "bc", "evaluate"]')
    text = text.replace('[grid]\nmethod = ["entropy", "lambda0"]', '[grid]\nmethod = ["entropy"]\n"bc.steps" = [3, 6]')
    text = text.replace("seeds = [0, 1]", "seeds = [0]")
    exp = load_experiment(write_toml(tmp_path, text))
    out = tmp_path / "store"
    run_experiment(exp, out, echo=lambda _: None, cells=select_cells(exp, ["bc.steps=3"]))
    [shared] = list((out / "shared").glob("train-*"))
    said = []
    run_experiment(exp, out, echo=said.append)
    assert not any("shared LAM stage" in s for s in said)  # trained once, by the selection
    inode = (shared / "model.pt").stat().st_ino
    assert [(r / "model.pt").stat().st_ino for r in (out / "runs").iterdir() if r.name != ".tmp"] == [inode, inode]


def test_only_with_a_bad_filter_is_one_line_and_status_2(tiny_toml, tmp_path):
    cases = [("method", "expected COLUMN=VALUE, got 'method'"),
             ("solver=adam", "unknown column 'solver' (columns: data, method, seed)"),
             ("method=vq", "no run has method=vq (values: entropy, lambda0)"),
             ("seed=7", "no run has seed=7 (values: 0, 1)")]
    for only, message in cases:
        cmd = [sys.executable, "-m", "identlam", "run", str(tiny_toml), "--out", str(tmp_path / "s"), "--only", only,
               "--dry-run"]
        proc = subprocess.run(cmd, env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True, text=True,
                              timeout=120)
        assert proc.returncode == 2 and message in proc.stderr and len(proc.stderr.strip().splitlines()) == 1, \
            (only, proc.stderr)
    proc = subprocess.run([sys.executable, "-m", "identlam", "run", str(tiny_toml), "--out", str(tmp_path / "s"),
                           "--only", "method=lambda0", "--only", "seed=1", "--only", "seed=0", "--dry-run"],
                          env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0 and proc.stdout.count("todo") == 2 and "entropy" not in proc.stdout


def _tamper(run: Path, value: float) -> None:
    """Write ``value`` as the run's AMI in both metrics.json and result.json (a stale report)."""
    import json

    report = json.loads((run / "metrics.json").read_text())
    report["offline"]["score"]["ami"] = value
    (run / "metrics.json").write_text(json.dumps(report))
    result = json.loads((run / "result.json").read_text())
    result["metrics"]["ami"] = value
    (run / "result.json").write_text(json.dumps(result))


def test_recompute_offline_replaces_stale_reports_in_place_and_resumes(tiny_reference, tiny_toml, tmp_path):
    import json
    import shutil

    out, reference = tiny_reference
    store = tmp_path / "store"
    shutil.copytree(out, store)
    exp = load_experiment(tiny_toml)
    runs = sorted(p.parent for p in (store / "runs").glob("*/done"))
    for run in runs:
        _tamper(run, -1.0)
    seconds = {run: json.loads((run / "result.json").read_text())["seconds"] for run in runs}
    said = []
    status = run_experiment(exp, store, workers=2, echo=said.append, recompute_offline=True)
    assert status["failed"] == {} and "4 of them finished runs whose offline report is recomputed" in said[0]
    pd.testing.assert_frame_equal(load_results(store), reference)  # the same numbers as the first evaluation
    results = [json.loads((run / "result.json").read_text()) for run in runs]
    assert [r["seconds"] for r in results] == [seconds[run] for run in runs]
    assert all(r["offline_code"]["source"] == source_hash() for r in results)
    assert not (store / "recompute.json").exists()  # a whole pass without failure clears its marker
    assert all((run / "done").is_file() for run in runs)

    # an interrupted pass: its marker is older than one run's report, newer than the other's
    first, second = runs[:2]
    _tamper(first, -1.0)
    _tamper(second, -2.0)
    now = time.time()
    os.utime(first / "metrics.json", (now - 100, now - 100))  # stale: before the pass began
    (store / "recompute.json").write_text(json.dumps({"started": now - 50}))
    said = []
    run_experiment(exp, store, workers=1, echo=said.append, recompute_offline=True)
    assert "continuing the recomputation" in said[0] and "1 of 4 runs to do" in said[1]
    ami = {run: json.loads((run / "result.json").read_text())["metrics"]["ami"] for run in (first, second)}
    assert ami[first] != -1.0 and ami[second] == -2.0  # recomputed since the pass began: kept


def test_evaluate_recomputes_the_offline_report_only_when_asked(tiny_reference, tmp_path):
    import json
    import shutil

    out, _ = tiny_reference
    run = tmp_path / "run"
    shutil.copytree(next(p.parent for p in (out / "runs").glob("*/done")), run)
    (run / ".lock").unlink(missing_ok=True)
    _tamper(run, -1.0)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-m", "identlam", "evaluate", str(run), "--threads", "1"]
    subprocess.run(command, env=env, check=True, capture_output=True)
    assert json.loads((run / "metrics.json").read_text())["offline"]["score"]["ami"] == -1.0  # kept: skipped
    proc = subprocess.run([*command, "--recompute-offline"], env=env, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert json.loads((run / "metrics.json").read_text())["offline"]["score"]["ami"] >= 0


def test_the_table_follows_the_configs_order_of_grid_values(tiny_reference, tmp_path):
    import shutil

    out, reference = tiny_reference
    store = tmp_path / "store"
    shutil.copytree(out / "runs", store / "runs")
    assert list(dict.fromkeys(load_results(store)["method"])) == ["entropy", "lambda0"]  # no config: alphabetical
    text = (out / "experiment.toml").read_text().replace('method = ["entropy", "lambda0"]',
                                                         'method = ["lambda0", "entropy"]')
    (store / "experiment.toml").write_text(text)
    table = load_results(store)
    assert list(dict.fromkeys(table["method"])) == ["lambda0", "entropy"]
    pd.testing.assert_frame_equal(_sorted(table), _sorted(reference))


def test_a_rerun_names_the_finished_runs_that_other_code_made(tiny_reference, tiny_toml, tmp_path):
    """Runs are keyed by config alone: the sweep keeps a run made by older code and says so."""
    import json
    import shutil


    out = tmp_path / "store"
    shutil.copytree(tiny_reference[0], out)
    results = sorted((out / "runs").glob("*/result.json"))
    for path in results:  # every run records the code that made it
        code = json.loads(path.read_text())["code"]
        assert code["source"] == source_hash() and code["identlam"] and code["torch"]
    said = []
    run_experiment(load_experiment(tiny_toml), out, workers=1, echo=said.append)
    assert not any("other identlam code" in line for line in said)
    older, unrecorded = results[0], results[1]
    older.write_text(json.dumps({**json.loads(older.read_text()), "code": {"source": "0123456789ab"}}))
    result = json.loads(unrecorded.read_text())
    del result["code"]
    unrecorded.write_text(json.dumps(result))
    said = []
    status = run_experiment(load_experiment(tiny_toml), out, workers=1, echo=said.append)
    assert status["ran"] == 0
    note = next(line for line in said if "other identlam code" in line)
    assert "2 finished run(s)" in note and "1 by source 0123456789ab" in note and "1 with none recorded" in note
    assert f"this is source {source_hash()}" in note


def test_the_source_hash_follows_the_package_files_and_ignores_caches(tmp_path):
    from identlam import provenance

    (tmp_path / "pkg" / "sub").mkdir(parents=True)
    (tmp_path / "pkg" / "a.py").write_text("x = 1\n")
    (tmp_path / "pkg" / "sub" / "b.py").write_text("y = 2\n")
    first = source_hash(tmp_path / "pkg")
    assert len(first) == 12
    (tmp_path / "pkg" / "__pycache__").mkdir()
    (tmp_path / "pkg" / "__pycache__" / "a.py").write_text("cached")
    (tmp_path / "pkg" / "notes.txt").write_text("not code")
    provenance._source_hash.cache_clear()
    assert source_hash(tmp_path / "pkg") == first
    (tmp_path / "pkg" / "sub" / "b.py").write_text("y = 3\n")
    provenance._source_hash.cache_clear()
    assert source_hash(tmp_path / "pkg") != first


def test_the_recorded_source_is_read_one_way_and_absent_when_malformed():
    from identlam.provenance import recorded_source

    assert recorded_source({"code": {"source": "0123456789ab", "torch": "2"}}) == "0123456789ab"
    for result in ({}, {"code": None}, {"code": "0123456789ab"}, {"code": {"source": ""}},
                   {"code": {"source": 7}}, [], None):
        assert recorded_source(result) is None


def test_the_table_follows_the_configs_metrics_and_a_misspelt_one_is_named(tiny_reference, tiny_toml, tmp_path,
                                                                           capsys):
    # the runs were made listing ami, used_codes, action_probe_accuracy; their results hold more
    import shutil

    from identlam.cli import main

    out = tmp_path / "store"
    shutil.copytree(tiny_reference[0], out)
    text = tiny_toml.read_text()
    listed = 'metrics = ["ami", "used_codes", "action_probe_accuracy"]'
    assert listed in text
    edited = write_toml(tmp_path, text.replace(listed, 'metrics = ["ami", "hungarian_global", "used_kodes"]'),
                        "edited.toml")
    assert main(["run", str(edited), "--out", str(out), "--no-figure"]) == 0
    said = capsys.readouterr().out
    table = load_results(out)
    # a metric added to the list after the runs were made shows; one taken off does not
    assert set(table["metric"]) == {"ami", "hungarian_global"} and len(table) == 2 * 2 * 2
    note = next(line for line in said.splitlines() if line.startswith("note: metrics:"))
    assert "no finished run has 'used_kodes' (did you mean 'used_codes'?)" in note
    assert "hungarian_global" not in said.split("note: metrics:")[1]  # recorded by every run: no note


def test_the_eta_counts_runs_resumed_from_a_checkpoint_only_until_a_fresh_one_finishes(tmp_path):
    from identlam.runner.sweep import run_tasks

    class Clockless:  # runs each task at once and reports the seconds it is told to
        slots = 1

        def submit(self, task):
            return task["id"]

        def wait(self, handles, timeout):
            return handles[:1]

        def result(self, handle):
            return {"ok": True, "error": None, "seconds": {"resumed": 10.0}.get(handle, 100.0)}

    def cell(run_id):
        return {"id": run_id, "kind": "cell", "run_id": run_id, "out": str(tmp_path), "deps": [], "label": run_id}

    checkpoints = tmp_path / "runs" / ".tmp" / "resumed" / "checkpoints"
    checkpoints.mkdir(parents=True)
    (checkpoints / "train.pt").write_bytes(b"")  # an interrupted sweep left it a checkpoint
    said = []
    assert run_tasks([cell("resumed"), cell("fresh1"), cell("fresh2")], Clockless(), 3, 0, said.append) == {}
    assert said[0] == "[1/3] resumed done in 10.0 s (running: -; ETA 20s)"  # no fresh run yet: the only clue
    assert said[1] == "[2/3] fresh1 done in 100.0 s (running: -; ETA 1m40s)"  # not the mean with the resumed 10 s
