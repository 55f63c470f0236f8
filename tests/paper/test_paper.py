"""`identlam paper` on a tiny store made by the real runner: every output, claims, determinism, errors."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from identlam.cli import main
from identlam.stats import paired_direction_test

from runner_fixtures import TINY as RUNNER_TINY

# the runner tests' two-method sweep of seconds per run, with a third seed for the statistics
TINY = RUNNER_TINY.replace("seeds = [0, 1]", "seeds = [0, 1, 2]")
assert TINY != RUNNER_TINY

CLAIMS = """
[[tiny]]
id = "entropy-vs-lambda0"
text = "entropy regularization changes the codes"
metric = "ami"
compare = [{ method = "entropy" }, { method = "lambda0" }]
direction = "greater"
predicted = "higher AMI with entropy"

[[tiny]]
id = "probe-above-chance"
text = "the latent carries the action"
metric = "action_probe_accuracy"
compare = [{ method = "entropy" }]
threshold = 0.25
direction = "greater"
predicted = "probe accuracy above 0.25"

[[tiny]]
id = "no-such-metric"
text = "a metric the experiment does not record"
metric = "online.return_mean"
compare = [{ method = "entropy" }]
threshold = 0
direction = "greater"
predicted = "positive return"

[[never_ran]]
id = "elsewhere"
text = "a claim of an experiment without results"
metric = "ami"
compare = [{ method = "a" }, { method = "b" }]
direction = "less"
predicted = "lower AMI for a"
"""


@pytest.fixture(scope="module")
def store(tmp_path_factory) -> Path:
    from identlam.runner import load_experiment, run_experiment

    base = tmp_path_factory.mktemp("paper")
    out = base / "store"
    status = run_experiment(load_experiment(write_toml(base, TINY, "tiny.toml")), out, workers=1, echo=lambda _: None)
    assert status["failed"] == {}
    return out


def write_toml(directory: Path, text: str, name: str) -> Path:
    path = directory / name
    path.write_text(text)
    return path


def _paper(store: Path, out: Path, claims_text: str = CLAIMS, *extra: str) -> int:
    claims = out.parent / f"{out.name}-claims.toml"
    claims.write_text(claims_text)
    return main(["paper", "--results", str(store), "--out", str(out), "--claims", str(claims), *extra])


def test_paper_writes_figures_tables_and_a_report_with_every_claim(store, tmp_path, capsys):
    out = tmp_path / "paper"
    assert _paper(store, out) == 0
    said = capsys.readouterr().out
    tallied = re.search(r"^4 claims: (.*)$", said, re.M).group(1)  # every claim counted once, by verdict
    assert tallied.endswith("1 not run") and sum(int(n) for n in re.findall(r"(\d+) ", tallied)) == 4
    for stem in ("tiny", "claims"):
        for ext in ("png", "pdf"):
            assert (out / "figures" / f"{stem}.{ext}").stat().st_size > 1000
    table = (out / "tables" / "tiny.md").read_text()
    assert "| method | seeds | ami | used_codes | action_probe_accuracy |" in table
    assert table.count("| 3 |") == 2  # both methods, three seeds each
    report = (out / "report.md").read_text()
    # every claim points to its config; the unrun one says how to run it and gives no number
    assert "`experiments/tiny.toml`" in report and "`experiments/never_ran.toml`" in report
    row = next(line for line in report.splitlines() if "**elsewhere**" in line)
    assert "not run: `identlam run experiments/never_ran.toml --out results/never_ran`" in row
    assert not re.search(r"\d\.\d", row.split("not run")[1])
    assert "no data: the results have no metric 'online.return_mean'" in report
    assert "1 no data" in tallied and f"4 claims: {tallied}." in report  # the report opens with the same tally
    assert "3 seeds" in report and "![tiny](figures/tiny.png)" in report
    assert "\n> " not in report  # the tiny config opens with no comment: no description to quote
    from identlam.provenance import source_hash

    assert f"6 finished runs, 3 seeds per condition; made by identlam source {source_hash()}." in report
    # the reported numbers are the paired test on the store's own table
    from identlam.runner import load_results

    t = load_results(store)
    ami = t[t["metric"] == "ami"]
    by = {m: dict(zip(p["seed"], p["value"])) for m, p in ami.groupby("method")}
    test = paired_direction_test(by["entropy"], by["lambda0"], "greater")
    row = next(line for line in report.splitlines() if "**entropy-vs-lambda0**" in line)
    assert f"difference {test.mean_diff:.3g} [{test.lo:.3g}, {test.hi:.3g}], p = {test.p_value:.3g}" in row
    assert "exact sign-flip, n = 3 seeds" in row and f"| {test.verdict} |" in row
    html = (out / "report.html").read_text()
    assert "<table>" in html and '<img alt="tiny" src="figures/tiny.png"' in html and "not run" in html


def test_report_is_rebuilt_identically_from_the_store(store, tmp_path):
    out = tmp_path / "paper"
    assert _paper(store, out) == 0
    files = ["report.md", "report.html", "tables/tiny.md", "figures/tiny.png", "figures/claims.png",
             "figures/tiny.pdf"]
    first = {f: (out / f).read_bytes() for f in files}
    for f in files:
        (out / f).unlink()
    assert _paper(store, out) == 0
    assert {f: (out / f).read_bytes() for f in files} == first


def test_two_stores_of_one_experiment_are_pooled(store, tmp_path):
    # copying the same runs twice counts each run once
    import shutil

    twin = tmp_path / "twin"
    shutil.copytree(store / "runs", twin / "runs")
    shutil.copy(store / "experiment.toml", twin / "experiment.toml")
    out = tmp_path / "paper"
    assert main(["paper", "--results", str(store), str(twin), "--out", str(out), "--claims",
                 str(write_toml(tmp_path, CLAIMS, "claims.toml"))]) == 0
    assert (out / "tables" / "tiny.md").read_text().count("| 3 |") == 2


def test_table_rows_follow_the_config_whatever_order_the_stores_come_in(store, tmp_path):
    # a second store holding the config's first method (e.g. an arm run later elsewhere) and the
    # first holding the second: the table lists the methods in the config's order either way
    import shutil

    claims = str(write_toml(tmp_path, CLAIMS, "claims.toml"))
    halves = {}
    for method in ("entropy", "lambda0"):
        half = halves[method] = tmp_path / method
        for run in (store / "runs").glob(f"*_{method}_*"):
            shutil.copytree(run, half / "runs" / run.name)
        shutil.copy(store / "experiment.toml", half / "experiment.toml")
    tables = []
    for order in (["lambda0", "entropy"], ["entropy", "lambda0"]):
        out = tmp_path / "-".join(order)
        assert main(["paper", "--results", *(str(halves[m]) for m in order), "--out", str(out),
                     "--claims", claims]) == 0
        tables.append((out / "tables" / "tiny.md").read_text())
    assert tables[0] == tables[1]
    methods = [line.split("|")[1].strip() for line in tables[0].splitlines()[4:]]
    assert methods == ["entropy", "lambda0"], tables[0]


def test_report_is_rebuilt_from_the_data_it_keeps(store, tmp_path, capsys):
    # the stores may be gone: OUT/data/NAME (table + config) gives the same numbers, figures and order
    first, second = tmp_path / "first", tmp_path / "second"
    assert _paper(store, first) == 0
    kept = first / "data" / "tiny"
    assert sorted(p.name for p in kept.iterdir()) == ["experiment.toml", "results.csv"]
    assert (kept / "experiment.toml").read_text() == (store / "experiment.toml").read_text()
    assert f"rebuild with `identlam paper --results {first / 'data'}/*`" in capsys.readouterr().out
    assert _paper(kept, second) == 0
    for f in ("tables/tiny.md", "figures/tiny.png", "figures/claims.png", "data/tiny/results.csv"):
        assert (second / f).read_bytes() == (first / f).read_bytes(), f
    claim_rows = [[line for line in (d / "report.md").read_text().splitlines() if line.startswith("| **")]
                  for d in (first, second)]
    assert claim_rows[0] == claim_rows[1] and len(claim_rows[0]) == 4
    # the kept data of an experiment left out of this build stays: it may be all that is left of its store
    other = first / "data" / "other"
    other.mkdir()
    (other / "results.csv").write_text("run_id,seed,metric,value\nr,0,ami,0.5\n")
    assert _paper(store, first) == 0
    assert (other / "results.csv").read_text().endswith("r,0,ami,0.5\n")


def test_each_experiment_section_opens_with_its_configs_description(store, tmp_path):
    # the config as run opens with what it tests; the report quotes it up to the paper-scale note
    import shutil

    described = tmp_path / "described"
    shutil.copytree(store / "runs", described / "runs")
    header = ("# Entropy regularization against lambda = 0 on PointMass: entropy *should* give\n"
              "# the higher AMI.\n#\n# Two seeds here.\n"
              "# Paper scale (CUDA): the [paper] table below.\n# (identlam run ... --scale paper)\n")
    (described / "experiment.toml").write_text(header + (store / "experiment.toml").read_text())
    out = tmp_path / "paper"
    assert _paper(described, out) == 0
    report = (out / "report.md").read_text()
    section = report[report.index("### tiny"):]
    assert ("\n> Entropy regularization against lambda = 0 on PointMass: entropy \\*should\\* give the "
            "higher AMI. Two seeds here.\n") in section
    assert "[paper] table below" not in report
    assert "<em>should</em>" not in (out / "report.html").read_text()  # the stars are the config's, not emphasis
    # a config without an opening comment gives no quote (the first test), or its description key's
    keyed = tmp_path / "keyed"
    shutil.copytree(store / "runs", keyed / "runs")
    (keyed / "experiment.toml").write_text('description = "two methods, three seeds"\n' + (store / "experiment.toml").read_text())
    assert _paper(keyed, tmp_path / "keyed-paper") == 0
    assert "\n> two methods, three seeds\n" in (tmp_path / "keyed-paper" / "report.md").read_text()


def test_a_kept_table_reads_back_cell_for_cell(tmp_path):
    from identlam.runner.results import grid_columns, load_results, summarize

    (tmp_path / "results.csv").write_text("method,note,run_id,seed,metric,value,code\n"
                                          "None,NA,r1,0,ami,0.1,012345678901\nnone,,r2,1,ami,0.30000000000000004,\n"
                                          "x,y,r3,2,ami,,1e5a00000000\n")
    t = load_results(tmp_path)
    assert t["method"].tolist() == ["None", "none", "x"] and t["note"].iloc[0] == "NA" and t["note"].isna().iloc[1]
    assert t["value"].iloc[:2].tolist() == [0.1, 0.30000000000000004] and t["value"].isna().iloc[2]
    # a source hash stays text (a hash of digits alone is not a number), and it is not a grid column
    assert t["code"].iloc[0] == "012345678901" and t["code"].isna().iloc[1] and t["code"].iloc[2] == "1e5a00000000"
    assert grid_columns(t) == ["method", "note"] and "code" not in summarize(t).columns


def test_the_report_says_which_code_made_the_runs(store, tmp_path):
    # a kept table pooled from runs of this code and runs that recorded none (made before runs did)
    import pandas as pd

    from identlam.provenance import source_hash
    from identlam.runner.results import read_results_csv, write_table

    first = tmp_path / "first"
    assert _paper(store, first) == 0
    kept = first / "data" / "tiny"
    table = read_results_csv(kept / "results.csv")
    table.loc[table["method"] == "lambda0", "code"] = pd.NA
    write_table(table, kept / "results.csv")
    assert _paper(kept, tmp_path / "second") == 0
    report = (tmp_path / "second" / "report.md").read_text()
    assert (f"made by identlam source {source_hash()} (3 runs); 3 runs do not record the code that made them."
            in report)
    assert (tmp_path / "second" / "tables" / "tiny.md").read_bytes() == (first / "tables" / "tiny.md").read_bytes()


@pytest.mark.parametrize("text, message", [
    ("method,run_id,seed,metric\nx,r,0,ami\n", "no column 'value'"),
    ("method,run_id,seed,metric,value\nx,r,0,ami,high\n", "column 'value': expected numbers"),
    ("", "not a results table"),
    ("method,run_id,seed,metric,value\nx,r,0,ami,0.5\nbroken,row\n", "line 3: column 'seed' is empty"),
    ("method,run_id,seed,metric,value\nx,,0,ami,0.5\n", "line 2: column 'run_id' is empty"),
    ("method,run_id,seed,metric,value\nx,r,zero,ami,0.5\n", "line 2: column 'seed': expected an integer in [0, 4294967295], got 'zero'"),
    ("method,run_id,seed,metric,value\nx,r,1.5,ami,0.5\n", "column 'seed': expected an integer"),
    ("method,run_id,seed,metric,value\nx,r,0,ami,0.5\nx,q,-1,ami,0.5\n", "line 3: column 'seed': expected an integer in [0, "),
    # a repeated row was averaged in, or read as several runs per seed by a claim; a repeated column
    # was renamed 'method.1' by pandas
    ("method,run_id,seed,metric,value\nx,r,0,ami,0.5\nx,r,0,ami,0.7\n",
     "line 3: run 'r' has a second row of metric 'ami' (the first is line 2)"),
    ("method,method,run_id,seed,metric,value\nx,y,r,0,ami,0.5\n", "line 1: column 'method' appears twice"),
])
def test_a_broken_kept_table_is_one_line_and_exit_2(tmp_path, capsys, text, message):
    (tmp_path / "kept").mkdir()
    (tmp_path / "kept" / "results.csv").write_text(text)
    assert main(["paper", "--results", str(tmp_path / "kept"), "--out", str(tmp_path / "p")]) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and "\n" not in err


@pytest.mark.parametrize("config, message", [
    ('name = "../escaped"\n', "experiment.toml: name: expected a name that can be a file name"),
    ('name = ""\n', "experiment.toml: name: expected a name that can be a file name"),
    ("name = 3\n", "experiment.toml: name: expected a string, got 3"),
    ("metrics = 3\n", "experiment.toml: metrics: expected a list of metric names, got 3"),
    ('metrics = "ami"\n', "experiment.toml: metrics: expected a list of metric names, got 'ami'"),
])
def test_a_kept_config_with_a_bad_name_or_metrics_is_one_line_and_exit_2(tmp_path, capsys, config, message):
    # the name is a path in the report (figures/NAME.png, data/NAME/): '../escaped' wrote beside OUT
    kept = tmp_path / "kept"
    kept.mkdir()
    (kept / "results.csv").write_text("method,run_id,seed,metric,value\nx,r,0,ami,0.5\n")
    (kept / "experiment.toml").write_text(config)
    assert main(["paper", "--results", str(kept), "--out", str(tmp_path / "p" / "out")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("identlam paper: error: ") and message in err and "\n" not in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["kept"]


def test_a_kept_table_given_as_dot_is_named_after_its_folder(tmp_path, monkeypatch):
    kept = tmp_path / "kept"
    kept.mkdir()
    (kept / "results.csv").write_text("method,run_id,seed,metric,value\nx,r,0,ami,0.5\n")
    monkeypatch.chdir(kept)
    assert main(["paper", "--results", ".", "--out", str(tmp_path / "p")]) == 0
    assert (tmp_path / "p" / "data" / "kept" / "results.csv").is_file()  # not data/results.csv
    assert (tmp_path / "p" / "figures" / "kept.png").is_file()


@pytest.mark.parametrize("claims, message", [
    ("[[tiny]]\nid = 'x'\n", "tiny.x: missing field 'text'"),
    (CLAIMS.replace('predicted = "higher AMI with entropy"', 'predicted = "higher AMI with entropy"\nneeds_paper_scale = " "'),
     "tiny.entropy-vs-lambda0: needs_paper_scale: expected a non-empty string, got ' '"),
    (CLAIMS.replace('direction = "less"', 'direction = "lower"'), "never_ran.elsewhere: direction: expected"),
    (CLAIMS.replace("{ method = \"entropy\" }, { method", "{ methd = \"entropy\" }, { method"),
     "'methd' is not a grid column of the results"),
    (CLAIMS.replace("threshold = 0.25", "threshold = 'high'"), "threshold: expected a finite number"),
    # a threshold of nan or inf was a traceback in the claims figure
    (CLAIMS.replace("threshold = 0.25", "threshold = nan"), "tiny.probe-above-chance: threshold: expected a finite number, got nan"),
    (CLAIMS.replace("threshold = 0.25", "threshold = -inf"), "threshold: expected a finite number, got -inf"),
    # a group value that no grid value can equal: the claim read "no data"
    (CLAIMS.replace('{ method = "lambda0" }', '{ method = ["lambda0"] }'),
     "tiny.entropy-vs-lambda0: compare[1].method: expected a grid value (a string, a number or a boolean), got ['lambda0']"),
    ("tiny = [1, 2", "not valid TOML"),
    ("tiny = 3", "tiny: expected a list of claims"),
])
def test_bad_claims_file_is_one_line_and_exit_2(store, tmp_path, capsys, claims, message):
    assert _paper(store, tmp_path / "paper", claims) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("identlam paper: error: ") and message in err and "\n" not in err


@pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")  # the inf in the figure
def test_a_claim_leaves_out_runs_without_a_finite_value(tmp_path):
    # an empty cell (NaN: the metric undefined for a run) or inf in a claim's metric was a traceback
    kept = tmp_path / "tiny"
    kept.mkdir()
    rows = ["method,run_id,seed,metric,value"]
    for seed, (a, b) in enumerate([(0.9, 0.5), (0.8, ""), (0.95, 0.4), ("inf", 0.3)]):
        rows += [f"entropy,e{seed},{seed},ami,{a}", f"lambda0,l{seed},{seed},ami,{b}",
                 f"entropy,e{seed},{seed},used_codes,", f"lambda0,l{seed},{seed},used_codes,"]
    (kept / "results.csv").write_text("\n".join(rows) + "\n")
    claims = CLAIMS.split("[[tiny]]\nid = \"probe-above-chance\"")[0] + """
[[tiny]]
id = "all-empty"
text = "a metric without a value in any run"
metric = "used_codes"
compare = [{ method = "entropy" }]
threshold = 1
direction = "greater"
predicted = "more than one code"
"""
    assert _paper(kept, tmp_path / "paper", claims) == 0
    report = (tmp_path / "paper" / "report.md").read_text()
    tested = next(line for line in report.splitlines() if line.startswith("| **entropy-vs-lambda0**"))
    assert "n = 2 seeds" in tested  # seeds 0 and 2: seed 1 has no lambda0 value, seed 3 an infinite one
    empty = next(line for line in report.splitlines() if line.startswith("| **all-empty**"))
    assert "no data: no run matching method=entropy has a finite 'used_codes'" in empty


def test_bad_out_is_one_line_and_exit_2_before_anything_is_written(store, tmp_path, capsys):
    from data_helpers import unwritable_folder

    a_file = tmp_path / "file.txt"
    a_file.write_text("not a folder")
    cases = [(a_file, "is a file, not a directory"), (a_file / "sub", "is a file, not a directory"),
             (unwritable_folder(tmp_path) / "identlam-paper-test", "not writable")]
    for out, needle in cases:
        assert main(["paper", "--results", str(store), "--out", str(out)]) == 2
        err = capsys.readouterr().err
        assert err.startswith("identlam paper: error: ") and needle in err and err.count("\n") == 1, err
    assert a_file.read_text() == "not a folder"


def test_missing_or_foreign_results_dir_is_one_line_and_exit_2(tmp_path, capsys):
    assert main(["paper", "--results", str(tmp_path / "nope"), "--out", str(tmp_path / "p")]) == 2
    assert "is not a directory" in capsys.readouterr().err
    (tmp_path / "plain").mkdir()
    assert main(["paper", "--results", str(tmp_path / "plain"), "--out", str(tmp_path / "p")]) == 2
    err = capsys.readouterr().err
    assert "is not a results store" in err and err.count("\n") == 1
    assert main(["paper", "--results", str(tmp_path / "plain"), "--claims", str(tmp_path / "none.toml")]) == 2
    assert "no such claims file" in capsys.readouterr().err


TINY_CONFIG = """# a tiny grid
name = "{name}"
seeds = [0, 1]
[set]
"train.steps" = {steps}
[data.d]
source = "synthetic"
env = "pointmass"
episodes = 4
steps = 5
[methods.a]
preset = "lapo-entropy"
[methods.b]
preset = "lapo"
[[grid]]
data = ["d"]
method = {methods}
"""


def test_make_paper_pools_a_kept_table_while_its_runs_are_runs_of_the_stores_config(tmp_path, capsys):
    """`make -C paper` passes paper/data/NAME beside results/NAME when every kept run is still a
    run of the store's config (the same config, one whose comments changed, one with arms added
    since), alone when there is no store, and not at all, with a note naming the table, when a
    setting changed since (new run ids) or the store's config cannot be read."""
    import os
    import shutil
    import subprocess
    import sys

    import identlam
    from identlam.runner.spec import load_experiment

    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    makefile = Path(__file__).resolve().parents[2] / "paper" / "Makefile"
    stores = {"same": dict(steps=10, methods='["a"]'), "comment": dict(steps=10, methods='["a"]'),
              "added": dict(steps=10, methods='["a", "b"]'), "changed": dict(steps=20, methods='["a"]'),
              "broken": dict(steps=10, methods='["a"'), "kept_only": None}
    for name, store_settings in stores.items():
        kept = tmp_path / "paper" / "data" / name
        kept.mkdir(parents=True)
        (kept / "experiment.toml").write_text(TINY_CONFIG.format(name=name, steps=10, methods='["a"]'))
        run_ids = [cell.run_id for cell in load_experiment(kept / "experiment.toml").cells]
        (kept / "results.csv").write_text("run_id\n" + "".join(f"{r}\n" for r in run_ids))
        if store_settings is not None:
            store = tmp_path / "results" / name
            (store / "runs").mkdir(parents=True)
            text = TINY_CONFIG.format(name=name, **store_settings)
            (store / "experiment.toml").write_text(text.replace("# a tiny grid", "# reworded") if name == "comment"
                                                   else text)
    source = str(Path(identlam.__file__).resolve().parents[1])  # the identlam under test, wherever make runs
    out = subprocess.run(["make", "-n", "-f", str(makefile), f"ROOT={tmp_path}", f"PYTHON={sys.executable}"],
                         capture_output=True, text=True, check=True, env={**os.environ, "PYTHONPATH": source})
    command = next(line for line in out.stdout.splitlines() if "identlam paper" in line)
    passed = set(command.split("--results ")[1].split(" --out")[0].split())
    rel = {str(Path(p).relative_to(tmp_path)) if p.startswith(str(tmp_path)) else p for p in passed}
    assert rel == {*(f"results/{n}" for n in ("same", "comment", "added", "changed", "broken")),
                   *(f"paper/data/{n}" for n in ("same", "comment", "added", "kept_only"))}
    notes = [line for line in out.stderr.splitlines() if line.startswith("paper:")]
    assert len(notes) == 2 and "paper/data/broken left out: the config of results/broken cannot be" in notes[0]
    assert "paper/data/changed left out: 2 of its runs" in notes[1]


def test_make_paper_experiments_runs_each_listed_run_in_order_then_builds(tmp_path):
    """`make -C paper experiments` runs experiments.txt's lines (config, then its --only
    selections) in order, or the configs EXPERIMENTS names, stops at the first failure, and
    builds the report after the last."""
    import shutil
    import subprocess

    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    makefile = Path(__file__).resolve().parents[2] / "paper" / "Makefile"
    log = tmp_path / "calls.log"
    fake = tmp_path / "python"  # stands in for the interpreter: records each call, fails on demand
    fake.write_text(f'#!/bin/sh\ncase "$*" in *identlam.paper.kept*) echo paper/data/alpha; exit 0;; esac\n'  # the tables to pool
                    f'echo "$*" >> {log}\ncase "$*" in *broken*) exit 3;; esac\n')
    fake.chmod(0o755)
    (tmp_path / "paper" / "data" / "alpha").mkdir(parents=True)
    (tmp_path / "paper" / "data" / "alpha" / "results.csv").write_text("run_id\n")
    (tmp_path / "paper" / "experiments.txt").write_text(
        "# a comment\nalpha\n\nbeta --only data=x --only env.rho=0.9\n")

    def make(*args):
        log.unlink(missing_ok=True)
        done = subprocess.run(["make", "-s", "-f", str(makefile), f"ROOT={tmp_path}", f"PYTHON={fake}",
                               "experiments", *args], capture_output=True, text=True)
        return done.returncode, log.read_text().splitlines() if log.exists() else []

    rc, calls = make()
    assert rc == 0 and calls[:2] == ["-m identlam run experiments/alpha.toml --workers 2",
                                     "-m identlam run experiments/beta.toml --workers 2 --only data=x --only env.rho=0.9"]
    assert len(calls) == 3 and calls[2].startswith("-m identlam paper --results paper/data/alpha --out paper")
    rc, calls = make("EXPERIMENTS=gamma broken alpha", "WORKERS=8")
    assert rc != 0 and calls == ["-m identlam run experiments/gamma.toml --workers 8",
                                 "-m identlam run experiments/broken.toml --workers 8"]


def test_paper_scale_runs_have_their_own_store_and_answer_the_same_claims(store, tmp_path, monkeypatch, capsys):
    import tomllib

    monkeypatch.chdir(tmp_path)  # the default store is results/NAME-paper
    config = write_toml(tmp_path, TINY + '\n[paper.set]\n"train.steps" = 14\n', "tiny.toml")
    assert main(["run", str(config), "--scale", "paper", "--no-figure"]) == 0
    import torch

    said = capsys.readouterr().out
    assert ("note: --scale paper without a CUDA device" in said) == (not torch.cuda.is_available())
    paper_store = tmp_path / "results" / "tiny-paper"
    as_run = tomllib.loads((paper_store / "experiment.toml").read_text())
    assert as_run["name"] == "tiny-paper" and as_run["set"]["train.steps"] == 14 and "paper" not in as_run
    claims = tmp_path / "claims.toml"
    claims.write_text(CLAIMS)
    capsys.readouterr()
    assert main(["paper", "--results", str(store), str(paper_store), "--out", str(tmp_path / "p"),
                 "--claims", str(claims)]) == 0
    assert re.search(r"^7 claims: ", capsys.readouterr().out, re.M)  # the three tiny claims twice, and one not run
    report = (tmp_path / "p" / "report.md").read_text()
    rows = [line for line in report.splitlines() if line.startswith("| **entropy-vs-lambda0**")]
    assert len(rows) == 2 and "`--scale paper`" not in rows[0] and "`experiments/tiny.toml` `--scale paper`" in rows[1]
    # each is tested on its own store's runs: 14 updates instead of 12 give other numbers
    assert rows[0].split("|")[4] != rows[1].split("|")[4]
    assert "### tiny-paper" in report and "Claims: entropy-vs-lambda0, probe-above-chance, no-such-metric." in report

    # a claim that needs paper scale: tested on the paper-scale runs only; without them, not
    # testable here with its reason and the paper-scale command, never a CPU-scale number
    why = "the CPU-scale runs are too short to show it."
    claims.write_text(CLAIMS.replace('predicted = "higher AMI with entropy"',
                                     f'predicted = "higher AMI with entropy"\nneeds_paper_scale = "{why}"'))
    for stores, tally in (([store], "4 claims: .*1 not testable here, 1 not run"), ([store, paper_store], "6 claims: ")):
        capsys.readouterr()
        out = tmp_path / f"p{len(stores)}"
        assert main(["paper", "--results", *map(str, stores), "--out", str(out), "--claims", str(claims)]) == 0
        assert re.search(f"^{tally}", capsys.readouterr().out, re.M)
        report = (out / "report.md").read_text()
        [row] = [line for line in report.splitlines() if line.startswith("| **entropy-vs-lambda0**")]
        if len(stores) == 1:
            assert ("not testable at CPU scale: the CPU-scale runs are too short to show it. At paper scale (CUDA): "
                    "`identlam run experiments/tiny.toml --scale paper --out results/tiny-paper`") in row
            assert row.rstrip(" |").endswith("not testable here") and "difference" not in row
            assert "### Claims that need paper scale" in report
        else:
            assert "`--scale paper`" in row and "difference" in row and "not testable at CPU scale" not in report
            assert row.split("|")[4] == rows[1].split("|")[4]  # the same test as without the field
