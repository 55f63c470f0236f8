"""Every experiment config shipped in experiments/ validates (what `identlam run CONFIG --dry-run`
checks), so a renamed run-config field, preset, family or generator parameter breaks this test
rather than a sweep hours later; the metrics each config tabulates are names the stages write."""

from __future__ import annotations

import functools
import tomllib
from pathlib import Path

import pytest

from identlam.cli import main
from identlam.metrics._desiderata import DIRECTIONS
from identlam.metrics._report import DECODERS
from identlam.runner.spec import load_experiment
from identlam.train.quality import QUALITY_KEYS

EXPERIMENTS = Path(__file__).resolve().parents[2] / "experiments"
CONFIGS = sorted(EXPERIMENTS.glob("*.toml"))
# Numbers the online evaluation writes (metrics.json "online"), tabulated as online.NAME.
ONLINE = {"return_mean", "return_std", "random_return_mean", "bc_all_return_mean", "normalized_return",
          "normalized_return_random"}
# The theory and seed-claim experiments: each tests its assumption on and off over >= 5 seeds.
THEORY = [p for p in CONFIGS if p.stem.startswith(("E", "claim_", "flagship", "laom_cpu", "dcs_"))]


def test_the_configs_are_found():
    assert len(CONFIGS) >= 10 and len(THEORY) >= 15


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: p.stem)
def test_config_validates_and_expands(path):
    exp = load_experiment(path)
    assert exp.cells, f"{path.name} expands to no runs"
    assert len({c.run_id for c in exp.cells}) == len(exp.cells), "two grid points give the same run"
    for metric in exp.metrics:
        if metric.startswith("decoder."):  # decoder.NAME@B, B a power of two (default_budgets)
            name, _, budget = metric.removeprefix("decoder.").partition("@")
            assert name in DECODERS and budget.isdigit() and int(budget) & (int(budget) - 1) == 0, \
                f"{path.name}: metric {metric!r} is written by no stage"
            continue
        name = metric.removeprefix("online.").removeprefix("label_free.")
        known = ONLINE if metric.startswith("online.") else QUALITY_KEYS if metric.startswith("label_free.") \
            else DIRECTIONS
        assert name in known, f"{path.name}: metric {metric!r} is written by no stage"
        if metric.startswith("online."):
            assert "evaluate" in exp.stages and "decode" in exp.stages, f"{path.name}: {metric} needs a decoder"


@pytest.mark.parametrize("path", THEORY, ids=lambda p: p.stem)
def test_theory_configs_have_five_seeds_and_a_paper_scale(path):
    exp = load_experiment(path)
    assert min(len(exp.seeds), *(len({c.seed for c in exp.cells}),)) >= 5
    # the values for a CUDA machine, ready to run: `identlam run CONFIG --scale paper`
    paper = load_experiment(path, paper_scale=True)
    assert paper.name == f"{exp.name}-paper" and len(paper.cells) >= len(exp.cells)
    assert not {c.run_id for c in paper.cells} & {c.run_id for c in exp.cells}, "[paper] changes no run"


def test_cli_dry_run_lists_every_run(tmp_path, capsys):
    path = EXPERIMENTS / "E1_entropy.toml"
    assert main(["run", str(path), "--dry-run", "--out", str(tmp_path / "store")]) == 0
    out = capsys.readouterr().out
    assert out.count("todo ") == len(load_experiment(path).cells)
    assert not (tmp_path / "store").exists(), "a dry run wrote to the results store"


def test_the_pointmass_recipe_configs_restore_the_package_constant():
    from identlam.presets import POINTMASS_RECIPE

    families = tomllib.loads((EXPERIMENTS / "identification_families.toml").read_text())
    assert families["methods"]["previous"]["set"] == POINTMASS_RECIPE
    for name in ("identification_recipe", "identification_ablations"):
        assert tomllib.loads((EXPERIMENTS / f"{name}.toml").read_text())["set"] == POINTMASS_RECIPE, name


CLAIMS_FILE = EXPERIMENTS.parent / "paper" / "claims.toml"


@functools.lru_cache(maxsize=None)
def _expanded(path: Path, paper_scale: bool = False):
    return load_experiment(path, paper_scale=paper_scale)  # one expansion per config, shared by its claims


def _claims():
    from identlam.paper import load_claims

    return load_claims(CLAIMS_FILE)


@pytest.mark.parametrize("claim", _claims(), ids=lambda c: f"{c.experiment}.{c.id}")
def test_every_claim_is_testable_on_the_runs_its_config_makes(claim):
    # a claim naming a grid value, a column or a metric its config does not make would only show
    # as "no data" in the report after the sweep: check it on the config's own runs
    import numpy as np
    import pandas as pd

    from dataclasses import replace

    from identlam.paper.claims import evaluate
    from identlam.runner.paper_scale import PAPER_SUFFIX

    path = EXPERIMENTS / f"{claim.experiment}.toml"
    assert path.is_file(), f"claim {claim.id}: no config experiments/{claim.experiment}.toml"
    if claim.needs_paper_scale:  # tested on the paper-scale runs only, as the report does
        claim = replace(claim, experiment=claim.experiment + PAPER_SUFFIX)
    exp = _expanded(path, paper_scale=bool(claim.needs_paper_scale))
    assert not exp.metrics or claim.metric in exp.metrics, f"{path.name} does not tabulate {claim.metric!r}"
    rng = np.random.default_rng(0)
    table = pd.DataFrame([{**cell.params, "run_id": cell.run_id, "seed": cell.seed, "metric": claim.metric,
                           "value": rng.normal()} for cell in exp.cells])
    outcome = evaluate(claim, table)
    assert outcome.status == "tested", outcome.note
    seeds = [{c.seed for c in exp.cells if all(str(c.params.get(k)) == str(v) for k, v in g.items())}
             for g in claim.groups]
    assert outcome.test.n_pairs == len(set.intersection(*seeds)) >= 3


def test_paper_experiments_list_makes_exactly_the_kept_tables_runs():
    """paper/experiments.txt names real configs with valid --only selections, and for every
    experiment the report keeps a table of, its lines select exactly that table's runs."""
    import csv
    import shlex

    from identlam.runner.spec import select_cells

    root = EXPERIMENTS.parent
    selected: dict[str, set[str]] = {}
    for line in (root / "paper" / "experiments.txt").read_text().splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        name, *args = shlex.split(line)
        assert args[0::2] == ["--only"] * (len(args) // 2) and len(args) % 2 == 0, line
        exp = _expanded(EXPERIMENTS / f"{name}.toml")
        cells = select_cells(exp, args[1::2]) if args else exp.cells
        selected.setdefault(name, set()).update(c.run_id for c in cells)
    for table in sorted((root / "paper" / "data").glob("*/results.csv")):
        name = table.parent.name
        with table.open() as f:
            kept = {row["run_id"] for row in csv.DictReader(f)}
        assert selected.get(name) == kept, f"{name}: experiments.txt does not select the kept table's runs"
