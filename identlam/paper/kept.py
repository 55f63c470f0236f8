"""Which tables kept beside the report (``paper/data/NAME``) can be pooled with a results store.

``identlam paper`` keeps each experiment's pooled table and its config in ``paper/data/NAME``, so
that the report can be rebuilt after the stores are gone. When ``results/NAME`` exists too (a
rerun of part of the grid, or new arms), the two are pooled only if every kept run is still a run
of the store's config: the same config read as TOML (comments and layout do not count), or a
config whose grid still expands to the kept run ids (arms added since). A kept table whose runs
the store's config no longer makes (a changed setting gives new run ids) is left out, with a note
on stderr, so that runs of two settings never share one row of the report.

``python -m identlam.paper.kept DATA_DIR RESULTS_DIR`` prints the kept tables to pool, one a line
(``paper/Makefile`` reads it).
"""

from __future__ import annotations

import sys
from pathlib import Path

from identlam.errors import IdentlamError


def missing_runs(kept: Path, store: Path) -> list[str] | None:
    """The run ids of ``kept`` that the config of ``store`` does not make (empty: they may be
    pooled); None when the store's config cannot be expanded (unreadable, or a data file that
    is not where the config says)."""
    import pandas as pd

    from identlam.runner.results import store_config
    from identlam.runner.spec import load_experiment

    kept_config = store_config(kept)  # empty when unreadable: then the store's config must make the runs
    if kept_config and kept_config == store_config(store):
        return []
    try:
        cells = load_experiment(store / "experiment.toml").cells
        run_ids = pd.read_csv(kept / "results.csv", usecols=["run_id"], dtype=str)["run_id"].dropna()
    except (IdentlamError, OSError, ValueError):
        return None
    made = {cell.run_id for cell in cells}
    return sorted(set(run_ids) - made)


def kept_tables(data_dir: str | Path, results_dir: str | Path) -> list[Path]:
    """The folders ``data_dir/NAME`` with a ``results.csv`` that can be pooled with
    ``results_dir/NAME`` (or that have no store beside them); a note on stderr for each one left out."""
    chosen = []
    for table in sorted(Path(data_dir).glob("*/results.csv")):
        kept = table.parent
        store = Path(results_dir) / kept.name
        if not (store / "runs").is_dir():
            chosen.append(kept)
            continue
        missing = missing_runs(kept, store)
        if missing == []:
            chosen.append(kept)
        elif missing is None:
            print(f"paper: {kept} left out: the config of {store} cannot be expanded to check its runs",
                  file=sys.stderr)
        else:
            print(f"paper: {kept} left out: {len(missing)} of its runs (e.g. {missing[0]}) are not runs of "
                  f"{store / 'experiment.toml'} (a setting changed since); pass it with RESULTS to pool it anyway",
                  file=sys.stderr)
    return chosen


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2:
        print("usage: python -m identlam.paper.kept DATA_DIR RESULTS_DIR", file=sys.stderr)
        return 2
    for folder in kept_tables(*args):
        print(folder)
    return 0


if __name__ == "__main__":
    sys.exit(main())
