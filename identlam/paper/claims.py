"""Claims: what each experiment is run to show, read from a declarative TOML file and tested.

The file maps an experiment name (the ``name`` of ``experiments/NAME.toml``) to a list of claims::

    [[quickstart]]
    id = "entropy-identifies"
    text = "entropy regularization identifies the actions where lambda = 0 need not"
    metric = "ami"
    compare = [{ method = "entropy" }, { method = "lambda0" }]   # group A, group B
    direction = "greater"                                        # A > B ("less": A < B)
    predicted = "AMI higher with entropy regularization"

A group selects runs by grid-parameter values; a claim against a fixed number has one group and
``threshold = 0.9`` instead of a second group. ``needs_paper_scale = "why"`` marks a claim that
CPU-scale runs cannot test (the reason, in a sentence): it is tested on the experiment's
paper-scale runs only, and without them it is reported as not testable here.
"""

from __future__ import annotations

import math
import tomllib
from collections import Counter
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pandas as pd

from identlam.errors import IdentlamError
from identlam.runner.paper_scale import PAPER_SUFFIX
from identlam.runner.results import grid_columns
from identlam.stats import DIRECTIONS, DirectionTest, paired_direction_test

FIELDS = {"id", "text", "metric", "compare", "direction", "predicted", "threshold", "needs_paper_scale"}
REQUIRED = ("id", "text", "metric", "compare", "direction", "predicted")


class ClaimsError(IdentlamError):
    """The claims file is missing, malformed, or does not fit the results it is applied to."""


@dataclass(frozen=True)
class Claim:
    experiment: str
    id: str
    text: str
    metric: str
    groups: tuple[dict[str, Any], ...]  # one or two
    direction: str
    predicted: str
    threshold: float | None = None
    needs_paper_scale: str = ""  # why CPU-scale runs cannot test the claim; empty: they can

    def describe(self) -> str:
        """The compared quantity in words, e.g. ``ami: method=entropy > method=lambda0``."""
        sign = ">" if self.direction == "greater" else "<"
        other = f"{self.threshold:g}" if self.threshold is not None else _group_name(self.groups[1])
        return f"{self.metric}: {_group_name(self.groups[0])} {sign} {other}"


def _group_name(group: dict[str, Any]) -> str:
    return ", ".join(f"{k}={v}" for k, v in group.items()) or "all runs"


def load_claims(path: str | Path) -> list[Claim]:
    """Parse and validate a claims file; every problem is one line naming the file and the field."""
    path = Path(path)
    try:
        raw = tomllib.loads(path.read_text())
    except FileNotFoundError:
        raise ClaimsError(f"{path}: no such claims file") from None
    except (OSError, UnicodeDecodeError) as err:
        raise ClaimsError(f"{path}: cannot read: {err}") from None
    except tomllib.TOMLDecodeError as err:
        raise ClaimsError(f"{path}: not valid TOML: {err}") from None
    claims, seen = [], set()
    for experiment, entries in raw.items():
        if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
            raise ClaimsError(f"{path}: {experiment}: expected a list of claims ([[{experiment}]] tables)")
        for i, entry in enumerate(entries):
            claim = _parse(entry, f"{path}: {experiment}[{i}]", experiment)
            if (experiment, claim.id) in seen:
                raise ClaimsError(f"{path}: {experiment}.{claim.id}: duplicate claim id")
            seen.add((experiment, claim.id))
            claims.append(claim)
    return claims


def _parse(entry: dict[str, Any], where: str, experiment: str) -> Claim:
    if "id" in entry:
        where = f"{where.rsplit(':', 1)[0]}: {experiment}.{entry['id']}"
    unknown = sorted(set(entry) - FIELDS)
    if unknown:
        raise ClaimsError(f"{where}: unknown field '{unknown[0]}' (known: {', '.join(sorted(FIELDS))})")
    for key in REQUIRED:
        if key not in entry:
            raise ClaimsError(f"{where}: missing field '{key}'")
    for key in ("id", "text", "metric", "predicted", "needs_paper_scale"):
        if key in entry and (not isinstance(entry[key], str) or not entry[key].strip()):
            raise ClaimsError(f"{where}: {key}: expected a non-empty string, got {entry[key]!r}")
    if entry["direction"] not in DIRECTIONS:
        raise ClaimsError(f"{where}: direction: expected 'greater' or 'less', got {entry['direction']!r}")
    groups = entry["compare"]
    threshold = entry.get("threshold")
    n_groups = 2 if threshold is None else 1
    if not isinstance(groups, list) or len(groups) != n_groups or not all(isinstance(g, dict) for g in groups):
        shape = "[group A, group B]" if threshold is None else "[group] (one group with a threshold)"
        raise ClaimsError(f"{where}: compare: expected {shape}, each a table of grid values, got {groups!r}")
    for i, group in enumerate(groups):
        for key, value in group.items():
            if not isinstance(value, (str, int, float)):  # bool is an int
                raise ClaimsError(f"{where}: compare[{i}].{key}: expected a grid value (a string, a number or "
                                  f"a boolean), got {value!r}")
    if threshold is not None and (isinstance(threshold, bool) or not isinstance(threshold, (int, float))
                                  or not math.isfinite(threshold)):
        raise ClaimsError(f"{where}: threshold: expected a finite number, got {threshold!r}")
    return Claim(experiment, entry["id"], entry["text"].strip(), entry["metric"], tuple(groups),
                 entry["direction"], entry["predicted"].strip(),
                 None if threshold is None else float(threshold), entry.get("needs_paper_scale", "").strip())


@dataclass(frozen=True)
class Outcome:
    """A claim confronted with its experiment's results."""

    claim: Claim
    # "tested", "not run", "no data" (the experiment ran, these runs did not), or "not testable here"
    # (the claim needs paper-scale runs and none were given)
    status: str
    test: DirectionTest | None = None
    note: str = ""
    means: tuple[float, ...] = ()  # mean over seeds of each group
    diffs: tuple[float, ...] = ()  # per paired seed: A - B (or A - threshold)

    @property
    def verdict(self) -> str:
        """supported, inconclusive or contradicted once tested; else the status (not run, no data,
        not testable here)."""
        return self.test.verdict if self.status == "tested" and self.test is not None else self.status


def with_paper_scale(claims: list[Claim], experiments: Any) -> list[Claim]:
    """``claims`` with each claim of experiment X followed by the same claim on X's paper-scale runs
    (``identlam run X.toml --scale paper`` names them X-paper) where ``experiments`` has them; a
    claim that needs paper scale is replaced by its paper-scale copy instead."""
    expanded = []
    for claim in claims:
        at_paper_scale = claim.experiment + PAPER_SUFFIX in experiments
        if not (claim.needs_paper_scale and at_paper_scale):
            expanded.append(claim)
        if at_paper_scale:
            expanded.append(replace(claim, experiment=claim.experiment + PAPER_SUFFIX))
    return expanded


VERDICTS = ("supported", "inconclusive", "contradicted", "no data", "not testable here", "not run")


def tally(outcomes: list[Outcome]) -> str:
    """'51 claims: 24 supported, 12 inconclusive, 11 not run': each verdict that occurs, in one order."""
    counts = Counter(o.verdict for o in outcomes)
    parts = [f"{counts[v]} {v}" for v in VERDICTS if counts[v]]
    return f"{len(outcomes)} claim{'' if len(outcomes) == 1 else 's'}" + (f": {', '.join(parts)}" if parts else "")


def select(table: pd.DataFrame, metric: str, group: dict[str, Any], where: str) -> dict[int, float]:
    """seed -> value of ``metric`` for the runs matching ``group`` (one run per seed)."""
    columns = grid_columns(table)
    rows = table[table["metric"] == metric]
    for key, value in group.items():
        if key not in columns:
            raise ClaimsError(f"{where}: '{key}' is not a grid column of the results (columns: {', '.join(columns)})")
        rows = rows[rows[key].astype(str) == str(value)]
    if rows["seed"].duplicated().any():
        varying = [c for c in columns if rows[c].nunique() > 1]
        raise ClaimsError(f"{where}: group {_group_name(group)} matches several runs per seed; "
                          f"name a value for {', '.join(varying) or 'the grid columns'}")
    return dict(zip(rows["seed"].astype(int), rows["value"].astype(float)))


def evaluate(claim: Claim, table: pd.DataFrame | None, seed: int = 0) -> Outcome:
    """Test one claim on its experiment's table (None: the experiment has no results)."""
    if claim.needs_paper_scale and not claim.experiment.endswith(PAPER_SUFFIX):
        return Outcome(claim, "not testable here", note=claim.needs_paper_scale)
    if table is None:
        return Outcome(claim, "not run")
    where = f"claim {claim.experiment}.{claim.id}"
    if claim.metric not in set(table["metric"]):
        return Outcome(claim, "no data", note=f"the results have no metric '{claim.metric}'")
    groups = [select(table, claim.metric, g, f"{where}: compare[{i}]") for i, g in enumerate(claim.groups)]
    for group, values in zip(claim.groups, groups):
        if not values:
            return Outcome(claim, "no data", note=f"no finished run matches {_group_name(group)}")
    # a run without a finite value (NaN: an empty cell of the table, the metric undefined for it) is left out
    groups = [{seed: v for seed, v in values.items() if math.isfinite(v)} for values in groups]
    for group, values in zip(claim.groups, groups):
        if not values:
            return Outcome(claim, "no data", note=f"no run matching {_group_name(group)} has a finite '{claim.metric}'")
    other = groups[1] if claim.threshold is None else claim.threshold
    paired = len(set(groups[0]) & set(groups[1])) if claim.threshold is None else len(groups[0])
    means = tuple(sum(g.values()) / len(g) for g in groups)
    if paired < 2:
        return Outcome(claim, "no data", note=f"{paired} paired seed(s); the test needs at least 2", means=means)
    test = paired_direction_test(groups[0], other, claim.direction, seed=seed)
    diffs = tuple(v - (other[s] if isinstance(other, dict) else other) for s, v in sorted(groups[0].items())
                  if not isinstance(other, dict) or s in other)
    return Outcome(claim, "tested", test, means=means, diffs=diffs)
