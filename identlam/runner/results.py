"""The results store's table: one row per run x metric, rebuilt from the run directories alone.

``DIR/runs/ID/`` holds ``cell.json`` (grid values, seed, the metrics to tabulate),
``result.json`` (the run's numbers) and ``done``; nothing else is needed, so stores copied from
several machines into one ``runs/`` folder give one table.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import pandas as pd

from identlam.argtypes import SEED_MAX
from identlam.errors import IdentlamError
from identlam.provenance import recorded_source
from identlam.stats import interval_text, mean_interval

KEY_COLUMNS = ("run_id", "seed", "metric", "value")
CODE_COLUMN = "code"  # the source hash of the identlam code that made the run (empty: not recorded)


MISSING = "nan"  # the level of a run without a value in a grid column (a grid that is not a full product)


def level_text(value: Any) -> str:
    """A grid value as the string that orders and labels it: NaN, None and pandas' NA (a string
    column's gap) are all one level, ``MISSING``."""
    missing = value is None or (pd.api.types.is_scalar(value) and not isinstance(value, str) and pd.isna(value))
    return MISSING if missing else str(value)


def levels(values: pd.Series) -> list[str]:
    """The distinct values as strings (:func:`level_text`), in numeric order when every value given
    is a number, else as they come; a run without one comes last."""
    text = [level_text(v) for v in values]
    numeric = pd.to_numeric(values, errors="coerce")
    if numeric[values.notna()].notna().all():
        text = [text[i] for i in np.argsort(numeric.to_numpy(float), kind="stable")]
    present = list(dict.fromkeys(text))
    return [v for v in present if v != MISSING] + [MISSING] * (MISSING in present)


def ordered_levels(values: pd.Series, wanted: Sequence | None) -> list[str]:
    """:func:`levels`, with the values ``wanted`` lists first in its order (e.g. the config's)."""
    present = levels(values)
    first = list(dict.fromkeys(str(v) for v in (wanted or []) if str(v) in present))
    return first + [v for v in present if v not in first]


def _alphabetical(values: pd.Series) -> pd.Series:
    return values.iloc[values.astype(str).argsort(kind="stable")]


def store_config(out: str | Path) -> dict[str, Any]:
    """The store's config as last run (``out/experiment.toml``, written by ``identlam run``); empty
    without a readable one."""
    import tomllib

    try:
        return tomllib.loads((Path(out) / "experiment.toml").read_text())
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return {}


def store_orders(out: str | Path) -> dict[str, list]:
    """Each grid column's values in the order the store's config lists them (``out/experiment.toml``,
    written by ``identlam run``); empty without a readable one."""
    from identlam.runner.spec import column_orders

    return column_orders(store_config(out))


def store_metrics(out: str | Path) -> list[str]:
    """The metrics the store's config as last run lists (empty: not readable, or none listed)."""
    metrics = store_config(out).get("metrics", [])
    return [m for m in metrics if isinstance(m, str)] if isinstance(metrics, list) else []


def absent_metrics(out: str | Path, metrics: Sequence[str]) -> dict[str, list[str]]:
    """The ``metrics`` that no finished run under ``out/runs`` has in its results, each with the
    names of those it has that are spelt most like it (a typo in a config's metrics list)."""
    import difflib

    recorded: set[str] = set()
    for done in (Path(out) / "runs").glob("*/done"):
        try:
            recorded.update(json.loads((done.parent / "result.json").read_text())["metrics"])
        except (OSError, ValueError, KeyError, TypeError):
            continue
    return {m: difflib.get_close_matches(m, sorted(recorded), n=3) for m in metrics if m not in recorded}


def collect(out: str | Path) -> pd.DataFrame:
    """The tidy table of every finished run under ``out/runs`` (the metrics the store's config as
    last run lists, else those the run was made with, else all), by metric, then grid values in the
    config's order (:func:`store_orders`; values it does not list: numeric, else alphabetical),
    then seed."""
    runs = Path(out) / "runs"
    rows, columns = [], []
    listed = store_metrics(out)  # the config as last run: a metric added to its list after a run shows too
    for done in sorted(runs.glob("*/done")):
        run = done.parent
        cell = json.loads((run / "cell.json").read_text())
        result = json.loads((run / "result.json").read_text())
        wanted = listed or cell.get("metrics") or sorted(result["metrics"])
        source = recorded_source(result)
        for col in cell.get("columns", cell["params"]):
            if col not in columns:
                columns.append(col)
        for metric in wanted:
            if metric in result["metrics"]:
                rows.append({**cell["params"], "run_id": cell["run_id"], "seed": cell["seed"], "metric": metric,
                             "value": result["metrics"][metric], CODE_COLUMN: source})
    table = pd.DataFrame(rows, columns=[*columns, *KEY_COLUMNS, CODE_COLUMN])
    orders = store_orders(out)
    ranks = {c: {v: i for i, v in enumerate(ordered_levels(_alphabetical(table[c]), orders.get(c)))} for c in columns}

    def rank(values: pd.Series) -> pd.Series:
        return values.map(level_text).map(ranks[values.name]) if values.name in ranks else values

    return table.sort_values([c for c in ("metric", *columns, "seed") if c in table], key=rank,
                             kind="stable").reset_index(drop=True)


def grid_columns(table: pd.DataFrame) -> list[str]:
    """The table's grid parameters: every column but the run's identity, metric, value and code."""
    return [c for c in table.columns if c not in (*KEY_COLUMNS, CODE_COLUMN)]


def write_table(table: pd.DataFrame, path: str | Path) -> None:
    """Write a results table as CSV, atomically (:func:`read_results_csv` reads it back cell for cell)."""
    from identlam.io import atomic_path

    with atomic_path(Path(path)) as tmp:
        table.to_csv(tmp, index=False)


def write_results(out: str | Path) -> pd.DataFrame:
    """Rebuild ``out/results.csv`` from the run directories; returns the table."""
    table = collect(out)
    write_table(table, Path(out) / "results.csv")
    return table


def read_results_csv(path: str | Path) -> pd.DataFrame:
    """A table written by :func:`write_results`, cell for cell: only empty cells are missing (a grid
    value such as ``None`` or ``NA`` stays a string) and floats read back to the same bits."""
    def number(cell: str) -> float:
        # Python's float() is exact for the shortest repr that to_csv writes; a NaN metric is empty
        return float(cell) if cell else float("nan")

    try:
        # a source hash of digits alone would otherwise read as a number
        table = pd.read_csv(path, keep_default_na=False, na_values=[""], converters={"value": number},
                            dtype={CODE_COLUMN: str})
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as err:
        raise IdentlamError(f"{path}: not a results table: {str(err).strip().splitlines()[0]}") from None
    except ValueError as err:
        raise IdentlamError(f"{path}: column 'value': expected numbers ({err})") from None
    missing = [c for c in KEY_COLUMNS if c not in table.columns]
    if missing:
        raise IdentlamError(f"{path}: not a results table: no column '{missing[0]}'")
    with open(path, newline="", encoding="utf-8") as f:  # pandas renames a repeated column 'x' to 'x.1'
        header = next(csv.reader(f), [])
    repeated = [c for c in dict.fromkeys(header) if header.count(c) > 1]
    if repeated:
        raise IdentlamError(f"{path}: line 1: column '{repeated[0]}' appears twice")
    for column in KEY_COLUMNS[:3]:  # a metric may be NaN (empty); a run's identity may not
        empty = table.index[table[column].isna()]
        if len(empty):
            raise IdentlamError(f"{path}: line {empty[0] + 2}: column '{column}' is empty")
    seeds = pd.to_numeric(table["seed"], errors="coerce")
    bad = table.index[seeds.isna() | (seeds != seeds.round()) | (seeds < 0) | (seeds > SEED_MAX)]
    if len(bad):  # a run's seed, as a config gives it
        raise IdentlamError(f"{path}: line {bad[0] + 2}: column 'seed': expected an integer in [0, {SEED_MAX}], "
                            f"got {table['seed'][bad[0]]!r}")
    table["seed"] = seeds.astype(int)
    again = table.index[table.duplicated(["run_id", "metric"])]
    if len(again):
        run_id, metric = table["run_id"][again[0]], table["metric"][again[0]]
        first = table.index[(table["run_id"] == run_id) & (table["metric"] == metric)][0]
        raise IdentlamError(f"{path}: line {again[0] + 2}: run '{run_id}' has a second row of metric '{metric}' "
                            f"(the first is line {first + 2})")
    return table


def load_results(out: str | Path) -> pd.DataFrame:
    """The results of the experiment stored in ``out`` as a tidy DataFrame: rebuilt from its runs,
    or, in a folder without ``runs/`` (a store exported with its table alone, such as the data
    ``identlam paper`` keeps beside the report), read from its ``results.csv``.

    Columns: every grid parameter (``data``, ``method``, dotted run-config paths, ``env.*``),
    then ``run_id``, ``seed``, ``metric``, ``value`` and ``code`` (the source hash of the identlam
    code that made the run, :func:`identlam.provenance.source_hash`; empty where the run did not
    record it, and absent from tables written before runs recorded it).
    """
    out = Path(out)
    if (out / "runs").is_dir():
        return collect(out)
    if (out / "results.csv").is_file():
        return read_results_csv(out / "results.csv")
    raise IdentlamError(f"'{out}' is not a results store (no runs/ folder or results.csv); "
                        f"run `identlam run CONFIG --out {out}`")


def summarize(table: pd.DataFrame) -> pd.DataFrame:
    """Mean, 95% bootstrap interval and number of seeds per grid point and metric."""
    groups = [c for c in grid_columns(table) if table[c].notna().any()]
    rows = []
    for keys, part in table.groupby([*groups, "metric"], dropna=False, sort=False):
        mean, lo, hi = mean_interval(part["value"].to_numpy())
        rows.append({**dict(zip([*groups, "metric"], keys)), "mean": mean, "lo": lo, "hi": hi,
                     "seeds": part["seed"].nunique()})
    return pd.DataFrame(rows)


def format_summary(table: pd.DataFrame) -> str:
    """One row per grid point, one column per metric: ``mean [lo, hi]`` over seeds."""
    if table.empty:
        return "(no finished runs)"
    summary = summarize(table)
    groups = [c for c in summary.columns if c not in ("metric", "mean", "lo", "hi", "seeds")]
    summary["cell"] = [interval_text(*cell) for cell in zip(summary["mean"], summary["lo"], summary["hi"])]
    # a grid column that only some runs set (e.g. a latent width of continuous methods only) is
    # empty for the others; the pivot would drop those grid points
    for col in groups:
        summary[col] = summary[col].astype(object).where(summary[col].notna(), "-")
    order = list(dict.fromkeys(summary["metric"]))
    wide = summary.pivot_table(index=[*groups, "seeds"], columns="metric", values="cell", aggfunc="first",
                               sort=False)
    wide = wide[[m for m in order if m in wide.columns]].reset_index()
    seeds = sorted(set(summary["seeds"]))
    head = (f"mean [95% bootstrap interval] over {seeds[0] if len(seeds) == 1 else seeds} seeds; "
            "missing = the method has no such metric")
    return head + "\n" + wide.fillna("-").to_string(index=False)
