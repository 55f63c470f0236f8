"""Build the paper from results stores alone: figures, Markdown tables, report.md and report.html.

Nothing here is typed by hand: every number comes from ``identlam.runner.load_results`` on the
stores given, every interval and p-value from :mod:`identlam.stats` with fixed resampling seeds,
so the same stores give byte-identical tables and report.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import pandas as pd

from identlam.errors import IdentlamError
from identlam.io import atomic_write_text
from identlam.paper.claims import Claim, Outcome, evaluate, tally, with_paper_scale
from identlam.paper.figures import plot_claims, plot_experiment, seeds_phrase
from identlam.plots.sweep import varying_columns
from identlam.runner.checks import config_description, name_problem
from identlam.runner.paper_scale import PAPER_SUFFIX
from identlam.runner.results import CODE_COLUMN, grid_columns, level_text, ordered_levels, write_table
from identlam.runner.spec import column_orders
from identlam.stats import EXACT_MAX_PAIRS, N_BOOT, interval_text, mean_interval


@dataclass
class Experiment:
    name: str
    stores: list[Path]
    table: pd.DataFrame
    metrics: list[str]
    orders: dict[str, list] = field(default_factory=dict)  # each grid column's values in the config's order
    description: str = ""  # what the config tests and predicts: its opening comment, else its description key


def load_stores(dirs: Sequence[str | Path]) -> dict[str, Experiment]:
    """Results stores by experiment name; stores of the same experiment are pooled (runs deduplicated)."""
    from identlam.runner import load_results

    experiments: dict[str, Experiment] = {}
    for d in dirs:
        d = Path(d)
        if not d.is_dir():
            raise IdentlamError(f"--results: '{d}' is not a directory")
        table = load_results(d)  # raises the one-line error for a folder that is not a store
        if table.empty:
            raise IdentlamError(f"--results: '{d}' has no finished runs yet; finish them with `identlam run CONFIG --out {d}`")
        name, metrics, orders, description = d.resolve().name, [], {}, ""  # `--results .` is named after the folder too
        config = d / "experiment.toml"
        if config.is_file():
            try:
                text = config.read_text()
                raw = tomllib.loads(text)
            except (tomllib.TOMLDecodeError, UnicodeDecodeError) as err:
                raise IdentlamError(f"{config}: not valid TOML: {err}") from None
            name, metrics = raw.get("name", name), raw.get("metrics", [])
            if name_problem(name):  # the name is a file and a folder of the report: figures/NAME.png, data/NAME/
                raise IdentlamError(f"{config}: name: {name_problem(name)}")
            if not isinstance(metrics, list) or not all(isinstance(m, str) for m in metrics):
                raise IdentlamError(f"{config}: metrics: expected a list of metric names, got {metrics!r}")
            orders, description = column_orders(raw), config_description(text) or str(raw.get("description", ""))
        if name in experiments:
            old = experiments[name]
            old.stores.append(d)
            old.description = old.description or description
            # the same run copied into two stores counts once
            old.table = pd.concat([old.table, table]).drop_duplicates(["run_id", "metric"]).reset_index(drop=True)
        else:
            experiments[name] = Experiment(name, [d], table, metrics, orders, description)
    for exp in experiments.values():
        present = list(dict.fromkeys(exp.table["metric"]))
        exp.metrics = [m for m in exp.metrics if m in present] + [m for m in present if m not in exp.metrics]
    return experiments


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    def cell(v: str) -> str:
        return str(v).replace("|", "\\|").replace("\n", " ")

    lines = ["| " + " | ".join(cell(h) for h in header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def _num(x: float) -> str:
    return f"{x:.3g}"


def summary_table(exp: Experiment) -> str:
    """Grid point x metric: ``mean [lo, hi]`` over seeds, with the number of seeds; the rows in the
    order of the config's grid values, as the figure's (whatever order the stores were given in)."""
    cols = varying_columns(exp.table) or grid_columns(exp.table)[:1]
    rank = {c: ordered_levels(exp.table[c], exp.orders.get(c)) for c in cols}
    points = [(keys if isinstance(keys, tuple) else (keys,), part)
              for keys, part in exp.table.groupby(cols, sort=False, dropna=False)]
    points.sort(key=lambda point: [rank[c].index(level_text(k)) for c, k in zip(cols, point[0])])
    rows = []
    for keys, part in points:
        row = [str(k) for k in keys] + [str(part["seed"].nunique())]
        for metric in exp.metrics:
            values = part.loc[part["metric"] == metric, "value"].to_numpy()
            row.append("-" if len(values) == 0 else interval_text(*mean_interval(values)))
        rows.append(row)
    return markdown_table([*cols, "seeds", *exp.metrics], rows)


def config_ref(name: str, out: Path) -> str:
    """The experiment's config, linked where it exists; a NAME-paper store's is NAME.toml at --scale paper."""
    path, flag = Path("experiments") / f"{name}.toml", ""
    if name.endswith(PAPER_SUFFIX) and not path.is_file():
        path, flag = Path("experiments") / f"{name.removesuffix(PAPER_SUFFIX)}.toml", " `--scale paper`"
    if path.is_file():
        return f"[`{path.as_posix()}`]({Path(os.path.relpath(path, out)).as_posix()}){flag}"
    return f"`{path.as_posix()}`{flag}"


def run_command(name: str, paper_scale: bool = False) -> str:
    """The command that makes experiment ``name``'s store, or its paper-scale store."""
    if paper_scale:
        return f"`identlam run experiments/{name}.toml --scale paper --out results/{name}{PAPER_SUFFIX}`"
    return f"`identlam run experiments/{name}.toml --out results/{name}`"


def measured(o: Outcome) -> str:
    if o.status == "not run":
        return f"not run: {run_command(o.claim.experiment)}, then add `--results results/{o.claim.experiment}`"
    if o.status == "no data":
        return f"no data: {o.note}"
    if o.status == "not testable here":
        name = o.claim.experiment
        return (f"not testable at CPU scale: {o.note.rstrip('.')}. At paper scale (CUDA): "
                f"{run_command(name, paper_scale=True)}, then add `--results results/{name}{PAPER_SUFFIX}`")
    t = o.test
    means = " vs ".join(_num(m) for m in o.means)
    if o.claim.threshold is not None:
        means += f" vs threshold {o.claim.threshold:g}"
    return (f"means {means}; difference {interval_text(t.mean_diff, t.lo, t.hi)}, "
            f"p = {t.p_value:.3g} ({t.method}, n = {t.n_pairs} seeds)")


def claims_section(outcomes: list[Outcome], out: Path) -> list[str]:
    lines = ["## Claims", "",
             "Each claim names the experiment config that tests it. *Measured*: the mean of each group over "
             "seeds, the mean paired difference A - B with its 95% paired-bootstrap interval, and the one-sided "
             "p-value of the claimed direction (see *Statistics*). *Verdict*: supported (interval excludes 0 on "
             "the claimed side and p < 0.05), contradicted (interval wholly on the other side), inconclusive, "
             "not testable here (the claim needs paper-scale runs, and none were given: the reason is in "
             f"*measured*), or not run. {tally(outcomes)}.", ""]
    rows = []
    for o in outcomes:
        rows.append([f"**{o.claim.id}**: {o.claim.text}", config_ref(o.claim.experiment, out),
                     f"{o.claim.predicted} ({o.claim.describe()})", measured(o), o.verdict])
    lines += [markdown_table(["claim", "config", "predicted", "measured", "verdict"], rows), ""]
    few = sorted({o.test.n_pairs for o in outcomes if o.status == "tested" and 2.0 ** -o.test.n_pairs >= 0.05})
    if few:
        lines += [f"With n paired seeds the smallest possible exact p-value is 2^-n: claims tested on "
                  f"{' or '.join(map(str, few))} seeds cannot reach p < 0.05 whatever the effect; at least 5 "
                  "seeds (all agreeing) are needed, more to be robust to one disagreeing seed.", ""]
    if any(o.status == "tested" for o in outcomes):
        n = sum(o.status == "tested" for o in outcomes)
        lines += ["![claims](figures/claims.png)", "",
                  f"*Figure 1. The {n} tested claims: per-seed paired differences A - B (dots), their mean "
                  f"(diamond) and 95% paired-bootstrap interval ({N_BOOT} resamples); the number of seeds n is "
                  "in each row's title. Green: supported, gray: inconclusive, red: contradicted.*", ""]
    return lines


def code_phrase(table: pd.DataFrame) -> str:
    """Which identlam code made the runs (source hashes, with run counts when not all runs share
    one), and how many runs did not record it."""
    codes = table[CODE_COLUMN] if CODE_COLUMN in table else pd.Series(pd.NA, index=table.index, dtype=object)
    per_run = codes.groupby(table["run_id"]).first()
    made, unknown = per_run.value_counts(), int(per_run.isna().sum())
    if made.empty:
        return "the runs do not record the identlam code that made them"

    def runs(n: int) -> str:
        return f"{n} run{'s' * (n != 1)}"

    text = "made by identlam " + ", ".join(f"source {h}" + (f" ({runs(n)})" if n < len(per_run) else "")
                                           for h, n in made.items())
    return text + (f"; {runs(unknown)} {'do' if unknown != 1 else 'does'} not record the code that made "
                   f"{'them' if unknown != 1 else 'it'}" if unknown else "")


def experiment_section(exp: Experiment, figure: int, number: int, claims: list[Claim], out: Path) -> list[str]:
    t = exp.table
    stores = ", ".join(f"`{s}`" for s in exp.stores)
    copies = ", ".join(f"`{s / 'experiment.toml'}`" for s in exp.stores if (s / "experiment.toml").is_file())
    lines = [f"### {exp.name}", "",
             f"Config {config_ref(exp.name, out)}{f' (as run: {copies})' if copies else ''}; "
             f"results store {stores}: {t['run_id'].nunique()} finished "
             f"runs, {seeds_phrase(t)} per condition; {code_phrase(t)}.", ""]
    if exp.description:  # the config's own statement of its question and prediction, read before the numbers
        lines += ["> " + exp.description.replace("*", "\\*"), ""]
    ids = [c.id for c in claims if c.experiment == exp.name]
    lines += [f"Claims: {', '.join(ids)}." if ids else "No claim of the claims file concerns this experiment.", ""]
    lines += [f"![{exp.name}](figures/{exp.name}.png)", "",
              f"*Figure {figure}. {exp.name}: bars = mean over {seeds_phrase(t)}, whiskers = 95% bootstrap "
              f"interval over seeds ({N_BOOT} resamples), dots = individual seeds. "
              f"PDF: [figures/{exp.name}.pdf](figures/{exp.name}.pdf).*", "",
              f"*Table {number}. {exp.name}: mean [95% bootstrap interval] over seeds "
              f"(file: [tables/{exp.name}.md](tables/{exp.name}.md)).*", "", summary_table(exp), ""]
    return lines


STATISTICS = f"""## Statistics

Every interval is over run seeds: the percentile bootstrap of the mean ({N_BOOT} resamples, fixed
resampling seed, so a rebuilt report is identical). A claimed difference between two groups is
tested on runs paired by seed (same seed = same dataset draw and initialization draw), so the
variation between seeds cancels. The one-sided p-value of the claimed direction comes from an
exact sign-flip permutation test of the per-seed differences when there are at most
{EXACT_MAX_PAIRS} pairs (all 2^n sign patterns; with n seeds it cannot be below 2^-n, which is
honest about few seeds where the bootstrap is overconfident), and otherwise from the fraction of
paired-bootstrap resamples on the wrong side of zero. A claim against a threshold uses the
differences value - threshold in the same way.
"""


def build_report(stores: dict[str, Experiment], claims: list[Claim], out: str | Path,
                 command: str) -> tuple[dict[str, list[Path]], list[Outcome]]:
    """Write figures/, tables/, report.md and report.html under ``out``; returns what was written
    (paths by kind) and each claim's outcome."""
    out = Path(out)
    claims = with_paper_scale(claims, stores)
    outcomes = [evaluate(c, stores[c.experiment].table if c.experiment in stores else None) for c in claims]
    written: dict[str, list[Path]] = {"figures": [], "tables": [], "data": [], "report": []}
    first = 1
    if any(o.status == "tested" for o in outcomes):
        first = 2
        written["figures"] += plot_claims(outcomes, out / "figures" / "claims")
    lines = ["# identlam: results", "",
             f"Built by `{command}` from the results stores alone; every number below is computed from "
             "them. Rerun the command after adding runs or stores. Each experiment's table of per-run numbers "
             f"and its config as run are kept in [{DATA}/]({DATA}/) (`{DATA}/NAME/results.csv`): "
             f"`identlam paper --results {(out / DATA).as_posix()}/*` rebuilds this report (with any other experiment kept there) from them alone.", ""]
    lines += claims_section(outcomes, out)
    lines += ["## Experiments", ""]
    for i, exp in enumerate(sorted(stores.values(), key=lambda e: e.name)):
        written["figures"] += plot_experiment(exp.table, out / "figures" / exp.name, exp.metrics, exp.name,
                                              exp.orders)
        table_path = out / "tables" / f"{exp.name}.md"
        atomic_write_text(table_path, f"# {exp.name}: mean [95% bootstrap interval] over seeds\n\n"
                                      f"{summary_table(exp)}\n")
        written["tables"].append(table_path)
        written["data"] += keep_data(exp, out / DATA / exp.name)
        lines += experiment_section(exp, first + i, i + 1, claims, out)
    missing = sorted({o.claim.experiment for o in outcomes if o.status == "not run"})
    if missing:
        lines += ["### Not run", "", "Experiments with claims but no results store given:", ""]
        lines += [f"- {config_ref(n, out)}: {run_command(n)}" for n in missing] + [""]
    paper_only = sorted({o.claim.experiment for o in outcomes if o.status == "not testable here"})
    if paper_only:
        lines += ["### Claims that need paper scale", "",
                  "Experiments with claims that CPU-scale runs cannot test (each claim's row says why); "
                  "their paper-scale runs, on a CUDA machine:", ""]
        lines += [f"- {config_ref(n, out)}: {run_command(n, paper_scale=True)}" for n in paper_only] + [""]
    lines += [STATISTICS]
    text = "\n".join(lines).rstrip() + "\n"
    atomic_write_text(out / "report.md", text)
    atomic_write_text(out / "report.html", render_html(text))
    written["report"] += [out / "report.md", out / "report.html"]
    return written, outcomes


DATA = "data"  # OUT/data/NAME: each experiment's table and config, enough to rebuild the report
DATA_FILES = ("results.csv", "experiment.toml")


def keep_data(exp: Experiment, folder: Path) -> list[Path]:
    """Write the experiment's pooled table and its config as run into ``folder``: a results store
    without run directories, which ``--results`` accepts, so the report can be rebuilt from its own
    folder after the stores are gone."""
    write_table(exp.table, folder / DATA_FILES[0])
    written = [folder / DATA_FILES[0]]
    config = next((s / DATA_FILES[1] for s in exp.stores if (s / DATA_FILES[1]).is_file()), None)
    if config is not None:
        text = config.read_text()  # read before writing: the source may be this very file
        atomic_write_text(folder / DATA_FILES[1], text)
        written.append(folder / DATA_FILES[1])
    return written


def render_html(text: str) -> str:
    """report.md as a standalone HTML page (python-markdown with its tables extension)."""
    try:
        import markdown
    except ImportError:
        raise IdentlamError("rendering report.html needs python-markdown: pip install 'identlam[paper]'") from None
    body = markdown.markdown(text, extensions=["tables"], output_format="html")
    style = ("body{font-family:sans-serif;max-width:60em;margin:2em auto;padding:0 1em;line-height:1.4}"
             "img{max-width:100%}table{border-collapse:collapse;font-size:0.9em}"
             "td,th{border:1px solid #ccc;padding:0.3em 0.5em;vertical-align:top}")
    return (f'<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n<title>identlam: results</title>\n'
            f"<style>{style}</style>\n</head>\n<body>\n{body}\n</body>\n</html>\n")
