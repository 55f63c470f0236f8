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
    assert "claims: 4 (3 with results, 1 not run)" in said
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
    assert "3 seeds" in report and "![tiny](figures/tiny.png)" in report
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


@pytest.mark.parametrize("claims, message", [
    ("[[tiny]]\nid = 'x'\n", "tiny.x: missing field 'text'"),
    (CLAIMS.replace('direction = "less"', 'direction = "lower"'), "never_ran.elsewhere: direction: expected"),
    (CLAIMS.replace("{ method = \"entropy\" }, { method", "{ methd = \"entropy\" }, { method"),
     "'methd' is not a grid column of the results"),
    (CLAIMS.replace("threshold = 0.25", "threshold = 'high'"), "threshold: expected a number"),
    ("tiny = [1, 2", "not valid TOML"),
    ("tiny = 3", "tiny: expected a list of claims"),
])
def test_bad_claims_file_is_one_line_and_exit_2(store, tmp_path, capsys, claims, message):
    assert _paper(store, tmp_path / "paper", claims) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("identlam paper: error: ") and message in err and "\n" not in err


def test_missing_or_foreign_results_dir_is_one_line_and_exit_2(tmp_path, capsys):
    assert main(["paper", "--results", str(tmp_path / "nope"), "--out", str(tmp_path / "p")]) == 2
    assert "is not a directory" in capsys.readouterr().err
    (tmp_path / "plain").mkdir()
    assert main(["paper", "--results", str(tmp_path / "plain"), "--out", str(tmp_path / "p")]) == 2
    err = capsys.readouterr().err
    assert "is not a results store" in err and err.count("\n") == 1
    assert main(["paper", "--results", str(tmp_path / "plain"), "--claims", str(tmp_path / "none.toml")]) == 2
    assert "no such claims file" in capsys.readouterr().err
