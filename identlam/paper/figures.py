"""The report's figures, drawn from the results table alone (seaborn; PNG and PDF).

Per experiment: one panel per metric, bars = mean over seeds, whiskers = 95% bootstrap interval
over seeds, dots = the seeds. For the claims: one row per tested claim with the per-seed paired
differences, their mean and its 95% paired-bootstrap interval against zero.
"""

from __future__ import annotations

import textwrap
from contextlib import contextmanager
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd

from identlam.io import atomic_path
from identlam.plots.sweep import (condition_axis_width, layout, metric_label, seeds_phrase, text_inches,
                                  untangle_x_labels)
from identlam.runner.results import grid_columns
from identlam.stats import N_BOOT

PAGE_WIDTH = 7.5  # inches: the figure is drawn at the size it is read
COLUMNS = 2
MANY_BARS = 24  # more bars than this per panel take the whole page width
LEGEND_COLUMNS = 5
MANY_CONDITIONS = 10  # more conditions than this, each with its own bar, are drawn as rows
ROW_IN = 0.2  # inches per condition row
MIN_PANEL_IN = 1.8  # the narrowest panel of rows a bar's length still reads in


@contextmanager
def _fixed_jitter():
    """seaborn draws the dots' jitter from numpy's global generator: seed it so figures are
    reproducible, and give the caller's state back."""
    state = np.random.get_state()
    np.random.seed(0)
    try:
        yield
    finally:
        np.random.set_state(state)


def _save(fig, stem: Path) -> list[Path]:
    stem.parent.mkdir(parents=True, exist_ok=True)
    paths = []
    for ext, meta in (("png", {"Software": None}), ("pdf", {"CreationDate": None, "Producer": None})):
        path = stem.with_suffix(f".{ext}")
        with atomic_path(path) as tmp:
            fig.savefig(tmp, format=ext, dpi=200, metadata=meta)
        paths.append(path)
    return paths


def _theme():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import seaborn as sns

    sns.set_theme(style="whitegrid", context="paper", font_scale=1.15)
    plt.rcParams["svg.hashsalt"] = "identlam"
    return plt, sns


def legend_columns(entries: Sequence[str], fontsize: float = 10.0) -> int:
    """As many legend entries side by side as fit the page (a marker and a gap beside each text)."""
    entry_in = text_inches(max(len(str(e)) for e in entries), fontsize) + 0.6
    return max(1, min(len(entries), LEGEND_COLUMNS, int(PAGE_WIDTH // entry_in)))


def plot_experiment(table: pd.DataFrame, stem: str | Path, metrics: Sequence[str], title: str,
                    orders: dict[str, list] | None = None) -> list[Path]:
    """One panel per metric of one experiment; writes ``stem.png`` and ``stem.pdf``. ``orders``:
    each grid column's values in the order to draw them (default: numeric, else as in the table)."""
    plt, sns = _theme()
    data, x, hue, order, hue_order = layout(table[table["metric"].isin(metrics)], orders)
    if x == "condition" and len(order) > MANY_CONDITIONS:
        return _plot_condition_rows(plt, sns, data, order, metrics, f"{title}: mean over {seeds_phrase(table)}", Path(stem))
    # conditions whose labels do not fit half the page width get the whole width
    wide = (x == "condition" and condition_axis_width(order, 8.5) > PAGE_WIDTH / COLUMNS - 0.6) or \
        (hue is not None and len(order) * len(hue_order) > MANY_BARS)
    ncols = 1 if wide else min(COLUMNS, len(metrics))
    nrows = -(-len(metrics) // ncols)
    label_lines = max(str(o).count("\n") + 1 for o in order)
    fig, axes = plt.subplots(nrows, ncols, figsize=(PAGE_WIDTH, (2.4 + 0.25 * label_lines) * nrows + 0.6),
                             squeeze=False)
    for ax, metric in zip(axes.flat, metrics):
        part = data[data["metric"] == metric]
        # a condition without this metric gets no slot (an empty slot would read as 0)
        present = [o for o in order if o in set(part[x])] if not hue else order
        sns.barplot(part, x=x, y="value", hue=hue, order=present, hue_order=hue_order, errorbar=("ci", 95),
                    n_boot=N_BOOT, seed=0, ax=ax, alpha=0.8, capsize=0.12, err_kws={"linewidth": 1.2},
                    legend=bool(hue))
        with _fixed_jitter():
            sns.stripplot(part, x=x, y="value", hue=hue, order=present, hue_order=hue_order, dodge=bool(hue),
                          palette="dark:black" if hue else None, color=None if hue else "black", size=3,
                          jitter=0.08, ax=ax, legend=False)
        ax.set_title(metric_label(metric), fontsize=10)
        ax.set_xlabel("" if x == "condition" else x)
        ax.tick_params(axis="x", labelsize=8.5 if x == "condition" else 9.5)
        ax.set_ylabel(metric, fontsize=9)
        if ax.get_legend() is not None:
            ax.get_legend().remove()
    for ax in list(axes.flat)[len(metrics):]:
        ax.set_visible(False)
    columns = legend_columns(hue_order) if hue else 0
    if hue:
        handles, labels = axes.flat[0].get_legend_handles_labels()
        fig.legend(handles[: len(hue_order)], labels[: len(hue_order)], title=hue, loc="upper center",
                   ncol=columns, frameon=False, bbox_to_anchor=(0.5, 1.0))
    # the legend's rows take a fixed height in inches above the title
    legend_in = 0.3 + 0.22 * -(-len(hue_order) // columns) if hue else 0.0
    suptitle = fig.suptitle(f"{title}: mean over {seeds_phrase(table)}, 95% bootstrap interval, dots = seeds",
                            fontsize=10)

    def top_band(height: float) -> tuple[float, float, float, float]:
        # tight_layout keeps the panels below the title by itself; the legend above it needs its band
        suptitle.set_y(1 - (legend_in + 0.05) / height)
        return (0, 0, 1, 1 - legend_in / height)

    fig.tight_layout(rect=top_band(fig.get_figheight()))
    untangle_x_labels(fig, rect=top_band(fig.get_figheight()))
    # tilted labels made the figure taller: the title band keeps its height in inches
    fig.tight_layout(rect=top_band(fig.get_figheight()))
    paths = _save(fig, Path(stem))
    plt.close(fig)
    return paths


def _plot_condition_rows(plt, sns, data: pd.DataFrame, order: list[str], metrics: Sequence[str], title: str,
                         stem: Path) -> list[Path]:
    """Many conditions, one bar each: a row per condition with its name written once, on the left
    and level, and the metrics side by side, so no name is tilted or cut and the rows line up."""
    from matplotlib.transforms import blended_transform_factory

    names = [o.replace("\n", ", ") for o in order]
    data = data.assign(condition=data["condition"].str.replace("\n", ", "))
    label_in = text_inches(max(len(n) for n in names), 8.5) + 0.3
    ncols = max(1, min(len(metrics), int((PAGE_WIDTH - label_in) // MIN_PANEL_IN)))
    nrows = -(-len(metrics) // ncols)
    panel_in = (PAGE_WIDTH - label_in) / ncols
    wrap = max(12, int(panel_in * 16))  # characters per title line at 9 pt
    titles = {m: "\n".join(textwrap.fill(line, wrap) for line in metric_label(m).split("\n")) for m in metrics}
    title_lines = max(t.count("\n") + 1 for t in titles.values())
    row_height = ROW_IN * len(names) + 0.2 * title_lines + 0.5
    fig, axes = plt.subplots(nrows, ncols, figsize=(PAGE_WIDTH, row_height * nrows + 0.5), squeeze=False,
                             layout="constrained")
    for i, (ax, metric) in enumerate(zip(axes.flat, metrics)):
        part = data[data["metric"] == metric]
        sns.barplot(part, x="value", y="condition", order=names, orient="h", errorbar=("ci", 95), n_boot=N_BOOT,
                    seed=0, ax=ax, alpha=0.8, capsize=0.3, err_kws={"linewidth": 1.0})
        with _fixed_jitter():
            sns.stripplot(part, x="value", y="condition", order=names, orient="h", color="black", size=2.5,
                          jitter=0.15, ax=ax, legend=False)
        # a condition without this metric keeps its row, marked, so that it does not read as 0
        on_axis = blended_transform_factory(ax.transAxes, ax.transData)
        measured = set(part.loc[part["value"].notna(), "condition"])
        for row, name in enumerate(names):
            if name not in measured:
                ax.text(0.02, row, "not measured", transform=on_axis, va="center", fontsize=7, color="0.45")
        ax.set_title(titles[metric], fontsize=9)
        ax.set_xlabel(metric, fontsize=7)
        ax.set_ylabel("")
        ax.tick_params(axis="x", labelsize=8)
        if i % ncols:
            ax.set_yticklabels([])
        else:
            ax.tick_params(axis="y", labelsize=8.5)
    for ax in list(axes.flat)[len(metrics):]:
        ax.set_visible(False)
    fig.suptitle(f"{title}, 95% bootstrap interval, dots = seeds", fontsize=10)
    paths = _save(fig, stem)
    plt.close(fig)
    return paths


def plot_claims(outcomes: Sequence, stem: str | Path) -> list[Path]:
    """One row per tested claim: per-seed differences, their mean and 95% interval, zero marked."""
    plt, sns = _theme()
    tested = [o for o in outcomes if o.status == "tested"]
    # titles wrapped to the page width (~14 characters per inch at 8.5 pt); each row grows with them
    titles = [textwrap.wrap(f"{o.claim.experiment} / {o.claim.id}: {o.claim.describe()}", int(PAGE_WIDTH * 14))
              for o in tested]
    heights = [1.05 + 0.16 * len(lines) for lines in titles]
    fig, axes = plt.subplots(len(tested), 1, figsize=(PAGE_WIDTH, sum(heights) + 0.5), squeeze=False,
                             gridspec_kw={"height_ratios": heights})
    colors = {"supported": "tab:green", "contradicted": "tab:red", "inconclusive": "tab:gray"}
    for ax, outcome, lines in zip(axes[:, 0], tested, titles):
        test, claim = outcome.test, outcome.claim
        ax.axvline(0, color="black", linewidth=0.8)
        ax.plot(outcome.diffs, [-0.35] * len(outcome.diffs), "o", color="black", markersize=3.5, alpha=0.7)
        ax.errorbar([test.mean_diff], [0.2], xerr=[[test.mean_diff - test.lo], [test.hi - test.mean_diff]],
                    fmt="D", color=colors[test.verdict], markersize=6, capsize=4, linewidth=1.8)
        span = max(abs(v) for v in (*outcome.diffs, test.lo, test.hi)) or 1.0
        ax.set_xlim(-1.15 * span, 1.15 * span)
        ax.set_yticks([])
        ax.set_ylim(-0.8, 0.7)
        claimed = "> 0" if claim.direction == "greater" else "< 0"
        ax.set_title("\n".join(lines) + "\n"
                     f"claimed difference {claimed}; n = {test.n_pairs} seeds, p = {test.p_value:.3g} "
                     f"({test.method}): {test.verdict}", fontsize=8.5, loc="left")
        ax.tick_params(axis="x", labelsize=8)
    axes[-1, 0].set_xlabel("A - B (or A - threshold) in the metric's units; dots: seeds; diamond: mean with 95% paired bootstrap interval",
                           fontsize=8.5)
    fig.tight_layout()
    paths = _save(fig, Path(stem))
    plt.close(fig)
    return paths
