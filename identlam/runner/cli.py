"""``identlam run``: an experiment config -> every cell run, a tidy table, a summary and a figure."""

from __future__ import annotations

import argparse
from pathlib import Path

from identlam.argtypes import input_file, output_dir, positive_int


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "run", help="run an experiment config (a grid of runs) into a results store; rerun resumes",
        description="Expand the experiment's grid into runs and run every unfinished one (data, pipeline "
        "stages, evaluation); shared datasets and LAM stages are made once. Killing it and rerunning the "
        "same command finishes the sweep. Ends with a summary table (mean and 95% interval over seeds), "
        "DIR/results.csv and a figure DIR/figures/summary.{png,pdf}.")
    p.add_argument("config", metavar="CONFIG.toml", type=input_file, help="experiment config, e.g. experiments/quickstart.toml")
    p.add_argument("--out", type=output_dir, default=None, metavar="DIR",
                   help="results store (default results/NAME, results/NAME-paper with --scale paper)")
    p.add_argument("--scale", default="cpu", choices=("cpu", "paper"),
                   help="paper: merge the config's [paper] table (its values for a CUDA machine: data sizes, "
                   "updates, the presets' paper scale) over the rest; the experiment is named NAME-paper")
    p.add_argument("--backend", default="local", choices=("local", "ray"), help="local processes or Ray tasks")
    p.add_argument("--workers", type=positive_int, default=1, metavar="N", help="runs at once (local) / CPUs of a local Ray")
    p.add_argument("--address", default=None, metavar="RAY_ADDRESS", help="Ray cluster to join (--backend ray)")
    p.add_argument("--only", action="append", default=[], metavar="COLUMN=VALUE",
                   help="run only the runs with this grid value (repeatable: several values of one column "
                   "select any, different columns all), e.g. --only data=img --only seed=0; a later run "
                   "without it finishes the rest")
    p.add_argument("--recompute-offline", action="store_true",
                   help="also compute the offline report (identifiability metrics) of every finished run again, "
                   "e.g. after updating identlam; training and online returns are kept. Resumable: a rerun "
                   "skips the runs recomputed since the pass began")
    p.add_argument("--dry-run", action="store_true", help="validate and list the runs, run nothing")
    p.add_argument("--no-figure", action="store_true", help="skip the figure")
    p.set_defaults(func=cmd_run)


def cmd_run(args: argparse.Namespace) -> int:
    from identlam.runner.results import absent_metrics, format_summary, load_results
    from identlam.runner.spec import load_experiment, select_cells
    from identlam.runner.sweep import run_experiment

    from identlam.errors import ConfigError

    if args.address and args.backend != "ray":
        raise ConfigError("--address joins a Ray cluster: use it with --backend ray")
    exp = load_experiment(args.config, paper_scale=args.scale == "paper")
    out = args.out or Path("results") / exp.name
    cells = select_cells(exp, args.only) if args.only else exp.cells
    if args.dry_run:
        for cell in cells:
            done = (out / "runs" / cell.run_id / "done").is_file()
            print(f"{'done' if done else 'todo'}  {cell.run_id}  {cell.params}  seed={cell.seed}")
        print(f"{len(cells)} runs, {len({c.data_key for c in cells})} datasets, "
              f"{len({c.train_key for c in cells})} LAM stages")
        return 0
    if args.scale == "paper" and not args.address:
        import torch

        if not torch.cuda.is_available():
            print("note: --scale paper without a CUDA device (torch.cuda.is_available() is false): the runs are "
                  "sized for a GPU and may take hours each here")
    status = run_experiment(exp, out, backend=args.backend, workers=args.workers, address=args.address,
                            cells=cells if args.only else None, recompute_offline=args.recompute_offline)
    table = load_results(out)
    print(f"\n{format_summary(table)}\n")
    print(f"table: {out / 'results.csv'} ({len(table)} rows; identlam.runner.load_results('{out}'))")
    for metric, close in absent_metrics(out, exp.metrics).items():
        if not table.empty:  # with finished runs, a listed metric none of them has is most likely a typo
            hint = f" (did you mean {' or '.join(repr(c) for c in close)}?)" if close else ""
            print(f"note: metrics: no finished run has '{metric}'{hint}; a run's metrics are the keys of "
                  f"\"metrics\" in {out / 'runs' / 'ID' / 'result.json'}")
    if not args.no_figure and not table.empty:
        from identlam.plots import plot_sweep
        from identlam.runner.results import store_orders

        paths = plot_sweep(table, out / "figures" / "summary", metrics=exp.metrics or None, title=exp.name,
                           orders=store_orders(out))
        print(f"figure: {paths[0]} and {paths[1].name}" if paths else "figure: none (no tabulated metric has a value)")
    for run_id, error in status["failed"].items():
        log = out / "runs" / run_id / "run.log"  # a finished run whose report was recomputed
        log = log if log.is_file() else out / "runs" / ".tmp" / run_id / "run.log"
        print(f"FAILED {run_id}: {error} (log: {log})")
    return 1 if status["failed"] else 0
