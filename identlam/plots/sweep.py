"""One figure per experiment: a panel per metric, bars = mean over seeds with the 95% bootstrap
interval, dots = the seeds themselves, so spread and outliers show at a glance."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Sequence

import pandas as pd

from identlam.runner.results import grid_columns, level_text, levels, ordered_levels
from identlam.stats import N_BOOT

# What a metric means, in the words a reader of the panel needs (unknown metrics keep their name).
LABELS = {
    "ami": "AMI(code, true action)\n1 = codes are the actions",
    "used_codes": "codes used (> 1% of transitions)\nidentified: K, the number of true actions",
    "distinct_codes": "distinct codes\nseen at least once (used codes: > 1%)",
    "hungarian_gap": "matching gap: per-region - global\n0 = one code means one action everywhere",
    "hungarian_global": "global code->action matching",
    "action_probe_accuracy": "linear probe: latent -> action\naccuracy on held-out transitions",
    "d2_code_state_info_given_action": "D2  I(code; region | action)\n0 = state-invariant codes",
    "d3_action_entropy_given_code": "D3  H(action | code)\n0 = no merged actions",
    "online.return_mean": "return of the decoded policy",
    "online.normalized_return_random": "return of the decoded policy\n0 = random, 1 = BC on all true actions",
    "leakage_latent_exo_given_action": "I(latent; distractor position | action)\nnats; 0 = no distractor beyond the action",
    "leakage_code_exo_given_action": "I(code; distractor position | action)\nnats; 0 = no distractor beyond the action",
    "leakage_latent_exo_next_given_action": "I(latent; next distractor position | action)\nnats; 0 = none beyond the action",
    "leakage_code_exo_next_given_action": "I(code; next distractor position | action)\nnats; 0 = none beyond the action",
    "leakage_latent_exo_step_given_action": "I(latent; distractor step | action)\nnats; 0 = no step beyond the action",
    "leakage_code_exo_step_given_action": "I(code; distractor step | action)\nnats; 0 = no step beyond the action",
    "d3_action_entropy_given_latent": "D3  H(action | latent), nats\n0 = the latent determines the action",
    "d1_idm_conditional_entropy": "D1  H(code | o, o') of the IDM, nats\n0 = deterministic codes",
    "d2_latent_state_info_given_action": "D2  I(latent; state | action), nats\n0 = a state-invariant latent",
    "code_entropy_given_action": "H(code | action), nats\n0 = one code per action",
    "completeness": "completeness\n1 = each action in one code",
    "homogeneity": "homogeneity\n1 = each code holds one action",
    "hungarian_per_region": "code->action matching per region",
    "n_actions": "true actions K",
    "action_probe_r2": "linear probe: latent -> action\nR² on held-out transitions",
    "action_probe_mse": "linear probe: latent -> action\nmean squared error on held-out transitions",
    "action_probe_r2_fit_on_train": "linear probe fitted on the training trajectories\nR² on held-out transitions",
    "action_probe_accuracy_fit_on_train": "linear probe fitted on the training trajectories\naccuracy on held-out transitions",
    "action_mcc_pearson": "mean correlation of matched latent\nand action dimensions (MCC, Pearson)",
    "online.normalized_return": "return of the decoded policy\nover BC on all true actions",
    "label_free.codes_used": "codes used on held-out data\n(label-free, > 1% of transitions)",
    "label_free.h_conditional": "H(code | o, o') on held-out data\n(label-free), nats",
    "label_free.rec_normalized": "held-out prediction error\nover the target's variance (label-free)",
    "label_free.objective_normalized": "held-out objective: error + λ H(code | o, o')\nover the target's variance (label-free)",
}
DECODER_LABELS = {"global_lookup": "code -> majority action", "state_conditioned": "kNN on states within a code",
                  "latent_probe": "linear probe on the latent", "bc_scratch": "kNN on states alone (BC)"}


MAX_JOINT_HUE = 8  # three or more grid columns: the others than x share one hue of at most this many levels


def metric_label(metric: str) -> str:
    """A panel title: LABELS, a decoder-curve point (decoder.NAME@B) in words, else the name."""
    if metric.startswith("decoder.") and "@" in metric:
        name, _, budget = metric.removeprefix("decoder.").partition("@")
        if name in DECODER_LABELS:
            return f"action decoded from {budget} labelled transitions\n{DECODER_LABELS[name]} (held-out accuracy; R² if continuous)"
    return LABELS.get(metric, metric)


MAX_WIDTH = 18.0  # inches: wider summaries wrap their panels into rows
NAMED_BY_VALUE = ("data", "method")  # grid columns whose values read alone; others print as name=value


def seeds_phrase(table: pd.DataFrame) -> str:
    """'3 seeds', or '2-3 seeds' when conditions have different numbers of finished seeds."""
    cols = grid_columns(table)
    per = table.groupby([*cols, "metric"], dropna=False)["seed"].nunique() if cols else table.groupby("metric")["seed"].nunique()
    lo, hi = int(per.min()), int(per.max())
    return f"{lo} seeds" if lo == hi else f"{lo}-{hi} seeds"


def varying_columns(table: pd.DataFrame) -> list[str]:
    return [c for c in grid_columns(table) if table[c].astype(str).nunique() > 1]


def condition_label(row: dict) -> str:
    """One line per grid value of a run's condition; a grid column the run has no value for is left out."""
    def text(v) -> str:  # a column with gaps holds its integers as floats: 32.0 -> 32
        return str(int(v)) if isinstance(v, float) and v.is_integer() else str(v)

    return "\n".join(text(v) if c in NAMED_BY_VALUE else f"{c.split('.')[-1]}={text(v)}" for c, v in row.items()
                     if not (v is None or (isinstance(v, float) and math.isnan(v)) or v == ""))


def text_inches(chars: int, fontsize: float) -> float:
    """About how wide a line of ``chars`` characters prints at ``fontsize`` points (DejaVu Sans)."""
    return chars * 0.55 * fontsize / 72


def condition_axis_width(order: Sequence[str], fontsize: float = 9.0) -> float:
    """Inches a panel needs to print multi-line condition labels upright side by side."""
    chars = max((len(line) for label in order for line in str(label).split("\n")), default=1)
    return len(order) * (text_inches(chars, fontsize) + 0.15)


def layout(table: pd.DataFrame, orders: dict[str, list] | None = None
           ) -> tuple[pd.DataFrame, str, str | None, list, list | None]:
    """(data, x, hue, order, hue_order): two varying grid columns forming a full product are drawn
    as x and hue; otherwise every condition gets its own bar, labelled by all its grid values, so no
    two conditions are pooled into one bar. ``orders`` gives the order of a column's values (the
    config's, :func:`identlam.runner.spec.column_orders`); values it does not list follow in
    :func:`levels` order, and conditions are sorted column by column."""
    orders = orders or {}
    data = table.copy()
    varying = varying_columns(table)
    if not varying:
        data["condition"] = "all runs"
        return data, "condition", None, ["all runs"], None

    def ordered(col: str) -> list[str]:
        return ordered_levels(data[col], orders.get(col))

    conditions = data[varying].astype(str).drop_duplicates()
    sizes = {c: data[c].nunique() for c in varying}
    # a run without a value in a column (grid blocks of different columns) is never part of a product
    product = not data[varying].isna().any().any() and len(conditions) == math.prod(sizes.values())
    if len(varying) == 2 and product:
        # the axis with more levels reads better along x
        x, hue = sorted(varying, key=lambda c: -sizes[c])
        order, hue_order = ordered(x), ordered(hue)
        data[x], data[hue] = data[x].astype(str), data[hue].astype(str)
        return data, x, hue, order, hue_order
    ranks = {c: {v: i for i, v in enumerate(ordered(c))} for c in varying}
    if len(varying) == 1:
        x = varying[0]
        order = ordered(x)
        data[x] = data[x].astype(str)
        return data, x, None, order, None
    x = max(varying, key=lambda c: sizes[c])
    rest = [c for c in varying if c != x]
    if product and math.prod(sizes[c] for c in rest) <= MAX_JOINT_HUE:
        # a full product of three or more columns: x the one with most levels, hue the others' pairs
        hue = ", ".join(c.split(".")[-1] for c in rest)
        order = ordered(x)
        data[x] = data[x].astype(str)
        joint = [(tuple(ranks[c][level_text(v)] for c, v in zip(rest, row)),
                  condition_label(dict(zip(rest, row))).replace("\n", ", "))
                 for row in data[rest].itertuples(index=False)]
        data[hue] = [label for _, label in joint]
        hue_order = [label for _, label in sorted(set(joint))]
        return data, x, hue, order, hue_order
    rows = list(data[varying].itertuples(index=False))
    data["condition"] = [condition_label(dict(zip(varying, row))) for row in rows]
    keyed = {label: tuple(ranks[c][level_text(v)] for c, v in zip(varying, row)) for label, row in zip(data["condition"], rows)}
    return data, "condition", None, sorted(keyed, key=keyed.get), None


def plot_sweep(table: pd.DataFrame, stem: str | Path, *, metrics: Sequence[str] | None = None,
               x: str | None = None, hue: str | None = None, title: str = "",
               orders: dict[str, list] | None = None) -> list[Path]:
    """Write ``stem.png`` and ``stem.pdf``; returns their paths (empty when no metric has a value).

    Without ``x`` and ``hue`` the bars follow :func:`layout` (two varying grid columns: x and hue;
    more: one bar per condition); ``metrics`` defaults to all in the table's order; ``orders``
    gives the order of a column's values (e.g. the config's).
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import seaborn as sns

    # a metric with no value in any run (e.g. R / R_bc when returns are negative) gets no empty panel
    measured = set(table.loc[table["value"].notna(), "metric"])
    metrics = [m for m in (metrics or dict.fromkeys(table["metric"])) if m in measured]
    if not metrics:
        return []
    orders = orders or {}
    if x is None and hue is None:
        data, x, hue, order, hue_order = layout(table[table["metric"].isin(metrics)], orders)
    else:
        data = table[table["metric"].isin(metrics)].copy()
        x = x or "method"
        for col in (x, hue):
            if col:
                data[col] = data[col].astype(str)
        order = ordered_levels(data[x], orders.get(x))
        hue_order = ordered_levels(data[hue], orders.get(hue)) if hue else None
    sns.set_theme(style="whitegrid", context="notebook")
    # one bar per condition (multi-line labels, read upright): panels as wide as their labels, in rows
    panel = max(3.6, condition_axis_width(order) + 0.6) if x == "condition" else 3.6
    ncols = max(1, min(len(metrics), int(MAX_WIDTH // panel)))
    nrows = -(-len(metrics) // ncols)
    lines = max(str(o).count("\n") + 1 for o in order)
    fig, axes = plt.subplots(nrows, ncols, figsize=(panel * ncols + 1.5, (3.2 + 0.2 * lines) * nrows + 0.6),
                             squeeze=False)
    for ax, metric in zip(axes.flat, metrics):
        part = data[data["metric"] == metric]
        # a condition without this metric gets no slot (an empty slot would read as 0)
        present = [o for o in order if o in set(part[x])] if not hue else order
        sns.barplot(part, x=x, y="value", hue=hue, order=present, hue_order=hue_order, errorbar=("ci", 95),
                    n_boot=N_BOOT, seed=0, ax=ax, alpha=0.85, capsize=0.1, err_kws={"linewidth": 1.2})
        sns.stripplot(part, x=x, y="value", hue=hue, order=present, hue_order=hue_order, dodge=bool(hue),
                      palette="dark:black" if hue else None, color=None if hue else "black", size=3.5,
                      ax=ax, legend=False, jitter=0.08)
        ax.set_title(metric_label(metric), fontsize=10)
        ax.set_xlabel("" if x == "condition" else x)
        ax.set_ylabel("")
        if x == "condition":
            ax.tick_params(axis="x", labelsize=9)
        if ax.get_legend() is not None:
            ax.get_legend().remove()
    for ax in list(axes.flat)[len(metrics):]:
        ax.set_visible(False)
    if hue:
        handles, labels = axes.flat[0].get_legend_handles_labels()
        fig.legend(handles[: len(hue_order)], labels[: len(hue_order)], title=hue, loc="center right",
                   frameon=False)
    fig.suptitle(f"{title}{' — ' if title else ''}bars: mean over {seeds_phrase(data)}, whiskers: 95% bootstrap "
                 f"interval, dots: seeds", fontsize=11)
    fig.tight_layout(rect=(0, 0, 0.9 if hue else 1, 0.95))
    untangle_x_labels(fig, rect=(0, 0, 0.9 if hue else 1, 0.95))
    stem = Path(stem)
    stem.parent.mkdir(parents=True, exist_ok=True)
    paths = []
    from identlam.io import atomic_path

    for ext in ("png", "pdf"):
        path = stem.with_suffix(f".{ext}")
        with atomic_path(path) as tmp:
            fig.savefig(tmp, format=ext, dpi=150)
        paths.append(path)
    plt.close(fig)
    return paths


def _x_labels_collide(fig) -> bool:
    """Whether neighbouring x labels of a panel print over each other: side by side when upright;
    when tilted, parallel lines closer than a line's height."""
    renderer = fig.canvas.get_renderer()
    for ax in fig.axes:
        labels = [t for t in ax.get_xticklabels() if t.get_text()]
        boxes = [t.get_window_extent(renderer) for t in labels]
        for (ta, a), (tb, b) in zip(zip(labels, boxes), zip(labels[1:], boxes[1:])):
            angle = math.radians(ta.get_rotation())
            if angle == 0:
                if a.x1 > b.x0 and a.y1 > b.y0 and b.y1 > a.y0:
                    return True
            else:
                spacing = abs(ax.transData.transform((tb.get_position()[0], 0))[0]
                              - ax.transData.transform((ta.get_position()[0], 0))[0])
                if spacing * math.sin(angle) < ta.get_fontsize() * fig.dpi / 72 * 1.2:
                    return True
    return False


def untangle_x_labels(fig, rect) -> None:
    """Many or long condition names collide under their bars: tilt them (on one line each),
    upright if need be, and make the figure taller by what the tilted labels take so the panels
    keep their height."""
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    flat = max((t.get_window_extent(renderer).height for ax in fig.axes for t in ax.get_xticklabels()), default=0)
    for angle in (45, 90):
        if not _x_labels_collide(fig):
            return
        for ax in fig.axes:
            # a tilted label is one line: tilted lines stacked in one label run into its neighbours
            ax.set_xticks(ax.get_xticks(), [t.get_text().replace("\n", ", ") for t in ax.get_xticklabels()])
            for label in ax.get_xticklabels():
                label.set(rotation=angle, ha="right" if angle < 90 else "center",
                          rotation_mode="anchor" if angle < 90 else "default")
        fig.canvas.draw()
        tall = max(t.get_window_extent(renderer).height for ax in fig.axes for t in ax.get_xticklabels())
        fig.set_figheight(fig.get_figheight() + max(0.0, tall - flat) / fig.dpi)
        flat = tall
        fig.tight_layout(rect=rect)
        fig.canvas.draw()
