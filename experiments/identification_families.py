"""Per-family verdicts and the label-free criterion of the identification study, from its results store.

    identlam run experiments/identification_families.toml --workers 2
    python experiments/identification_families.py results/identification_families

Reads the store with ``identlam.runner.load_results`` (nothing else) and prints, per method:

- one line per dataset: AMI and used codes per seed, K, and whether the dataset is identified
  (AMI >= 0.9 with used codes = K in at least 2 of its seeds; with one seed, in that seed);
- the count of identified random families (the goal: at least 8 of 10, plus PointMass);
- how well the held-out label-free criteria rank runs as AMI does: the Spearman rank correlation
  over all runs, and, per dataset, the AMI of the run each criterion would pick against the best
  and the average run (what a researcher who has only unlabeled data would get).

Writes ``DIR/figures/label_free.png`` (AMI against the held-out reconstruction criterion).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import spearmanr

from identlam.runner import load_results

AMI_GOAL = 0.9
# criterion (metric name in the store) -> sign that makes "larger is better"
CRITERIA = {"label_free.rec_normalized": -1.0, "label_free.objective_normalized": -1.0,
            "label_free.h_conditional": -1.0}


def wide(store: Path) -> pd.DataFrame:
    """One row per run: data, method, seed and every metric as a column."""
    table = load_results(store)
    return table.pivot_table(index=["data", "method", "seed"], columns="metric", values="value").reset_index()


def verdicts(runs: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for (method, data), group in runs.groupby(["method", "data"], sort=True):
        ok = (group["ami"] >= AMI_GOAL) & (group["used_codes"] == group["n_actions"])
        need = 2 if len(group) >= 3 else len(group)
        rows.append({"method": method, "data": data, "K": int(group["n_actions"].iloc[0]),
                     "ami": " ".join(f"{v:.3f}" for v in group["ami"]),
                     "used": " ".join(str(int(v)) for v in group["used_codes"]),
                     "seeds ok": f"{int(ok.sum())}/{len(group)}", "identified": bool(ok.sum() >= need)})
    return pd.DataFrame(rows)


def criterion_report(runs: pd.DataFrame) -> list[str]:
    lines = []
    for metric, sign in CRITERIA.items():
        if metric not in runs:
            continue
        have = runs.dropna(subset=[metric])
        rho = spearmanr(have["ami"], sign * have[metric]).statistic
        picked, best, mean = [], [], []
        for _, group in have.groupby(["data"]):
            if len(group) < 2:
                continue
            picked.append(group.loc[(sign * group[metric]).idxmax(), "ami"])
            best.append(group["ami"].max())
            mean.append(group["ami"].mean())
        lines.append(f"  {metric:34s} Spearman with AMI {rho:+.3f} over {len(have)} runs; picking one run per "
                     f"dataset by it: mean AMI {np.mean(picked):.3f} (best run {np.mean(best):.3f}, "
                     f"average run {np.mean(mean):.3f}, {len(picked)} datasets)")
    return lines


def figure(runs: pd.DataFrame, out: Path) -> Path | None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import seaborn as sns

    if "label_free.rec_normalized" not in runs:
        return None
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    fig, ax = plt.subplots(figsize=(7.5, 4.5))
    sns.scatterplot(data=runs, x="label_free.rec_normalized", y="ami", hue="data", style="method", ax=ax, s=45)
    ax.set_xscale("log")
    values = runs["label_free.rec_normalized"].dropna()
    decades = np.log10(values.max() / max(values.min(), 1e-12))
    ax.xaxis.set_major_locator(LogLocator(subs=(1.0,) if decades > 2.5 else (1.0, 2.0, 5.0)))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    ax.xaxis.set_minor_formatter(NullFormatter())  # minor labels of a log axis overlap
    ax.set_xlabel("held-out reconstruction error / target variance\n(label-free; lower is better)")
    ax.set_ylabel("AMI(true action, code)")
    ax.set_title(f"Label-free criterion against AMI ({len(runs)} runs)")
    ax.legend(fontsize=7, ncol=2, bbox_to_anchor=(1.02, 1), loc="upper left")
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=150, bbox_inches="tight")
    plt.close(fig)
    return out


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("store", type=Path, help="results store of experiments/identification_families.toml")
    args = parser.parse_args(argv)
    runs = wide(args.store)
    table = verdicts(runs)
    with pd.option_context("display.width", 200, "display.max_columns", 20):
        print(table.to_string(index=False))
    for method, group in table.groupby("method"):
        families = group[group["data"].str.startswith("family")]
        print(f"{method}: identified on {int(families['identified'].sum())} of {len(families)} random families"
              + "".join(f"; {d}: {'yes' if v else 'no'}" for d, v in zip(group["data"], group["identified"])
                        if not d.startswith("family")))
    print("label-free criteria (all runs):")
    print("\n".join(criterion_report(runs)))
    path = figure(runs, args.store / "figures" / "label_free.png")
    if path:
        print(f"figure: {path}")


if __name__ == "__main__":
    main()
