"""Benchmark: how identlam's metrics and its identifiability report scale with N.

Three parts, each timed in one process against a baseline measured in the same process:

1. MIG and MCC against straightforward per-pair loops (disentanglement_lib's per-pair
   ``mutual_info_score`` for MIG, a per-pair ``scipy.stats.pearsonr``/``spearmanr`` loop for MCC)
   at ``--sizes`` (default 10k, 100k): both values must agree; time per sample at the larger N
   over that at the smaller N shows how the cost grows (1.0 = linear).
2. DCI with ``importance="hist"`` (histogram gradient boosting) against ``importance="exact"``
   (disentanglement_lib's GradientBoostingClassifier) at ``--dci-sizes`` (default 1k, 10k, 100k):
   time of each, exact/hist time ratio and the score differences. The exact variant above 10k
   samples takes many minutes, so it runs there only with ``--dci-full``.
3. The full identifiability report (``identlam.metrics.desiderata`` with codes, latents, code
   probabilities, next states and distractors; continuous and gridded states) at
   ``--report-sizes`` (default 10k, 100k, 1M): time, and time per sample relative to the
   smallest size.

Usage: ``python benchmarks/metrics.py [--sizes ...] [--dci-sizes ...] [--report-sizes ...]
[--dci-full] [--repeat 3] [--skip loops,dci,report]``
"""

from __future__ import annotations

import argparse
import math
import time
import tracemalloc
from typing import Any, Callable

import numpy as np
from scipy.optimize import linear_sum_assignment
from scipy.stats import pearsonr, spearmanr
from sklearn.metrics import mutual_info_score

from identlam.metrics import dci, desiderata, mcc, mig

EXACT_DCI_LIMIT = 10_000  # above this, exact DCI only with --dci-full


# ------------------------------------------------------------------------------------- the data
def make_data(n: int, seed: int = 0) -> dict[str, np.ndarray]:
    """A latent-action-like sample: 4 actions, 2-D states, 6 latents (3 informative), codes."""
    rng = np.random.default_rng(seed)
    actions = rng.integers(0, 4, n)
    states = rng.uniform(0, 1, size=(n, 2))
    moves = np.array([[1, 0], [-1, 0], [0, 1], [0, -1]], dtype=float) * 0.05
    next_states = states + moves[actions] + rng.normal(0, 0.005, size=(n, 2))
    exo = rng.normal(size=(n, 2))
    # discrete factors: the action and the two state coordinates in 5 bins each
    factors = np.column_stack([actions, np.minimum((states * 5).astype(int), 4)])
    latents = np.column_stack([
        moves[actions] @ rng.normal(size=(2, 2)) * 20 + rng.normal(0, 0.3, size=(n, 2)),
        states[:, 0] + rng.normal(0, 0.05, n),
        rng.normal(size=(n, 3)),
    ])
    codes = np.where(rng.uniform(size=n) < 0.95, (actions + 1) % 4, rng.integers(0, 4, n))
    sources = rng.normal(size=(n, 3))
    mixed = np.column_stack([np.tanh(sources[:, [2, 0, 1]] * [1.0, -2.0, 0.5]), rng.normal(size=(n, 2))])
    return {"actions": actions, "states": states, "next_states": next_states, "exo": exo,
            "factors": factors, "latents": latents, "codes": codes,
            "sources": sources, "mixed": mixed + rng.normal(0, 0.1, size=mixed.shape)}


# ----------------------------------------------------------------------- the straightforward loops
def loop_mig(latents: np.ndarray, factors: np.ndarray, num_bins: int = 20) -> float:
    """disentanglement_lib's MIG: histogram per code, sklearn MI per (code, factor) pair."""
    binned = [np.digitize(c, np.histogram(c, num_bins)[1][:-1]) for c in latents.T]
    gaps = []
    for j in range(factors.shape[1]):
        mi = sorted((mutual_info_score(factors[:, j], b) for b in binned), reverse=True)
        gaps.append((mi[0] - mi[1]) / mutual_info_score(factors[:, j], factors[:, j]))
    return float(np.mean(gaps))


def loop_mcc(latents: np.ndarray, factors: np.ndarray, method: str) -> float:
    """Per-pair correlation loop, Hungarian matching, mean over the true factors."""
    corr = spearmanr if method == "spearman" else pearsonr
    cc = np.array([[abs(corr(factors[:, i], latents[:, j])[0]) for j in range(latents.shape[1])]
                   for i in range(factors.shape[1])])
    rows, cols = linear_sum_assignment(-cc)
    return float(cc[rows, cols].sum() / factors.shape[1])


# ---------------------------------------------------------------------------------- measurement
def measure(fn: Callable[[], Any], repeat: int) -> tuple[float, float, Any]:
    """Best wall time of ``repeat`` calls (s), peak traced memory of one more call (MiB), value."""
    best = min(timed(fn)[0] for _ in range(max(1, repeat)))
    tracemalloc.start()
    value = fn()
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    return best, peak, value


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    """Wall time of one untraced call (s) and its value."""
    start = time.perf_counter()
    value = fn()
    return time.perf_counter() - start, value


def scalar(value: Any) -> float:
    """The headline number of a result (DCI: disentanglement) for the agreement column."""
    score = getattr(value, "score", value)
    return float(score["disentanglement"]) if isinstance(score, dict) else float(score)


def run_loops(sizes: list[int], repeat: int) -> list[dict[str, Any]]:
    print(f"\n1. MIG and MCC against per-pair loops; sizes {sizes}")
    print(HEADER)
    rows = []
    for n in sizes:
        data = make_data(n)
        z, f, y, m = data["latents"], data["factors"], data["sources"], data["mixed"]
        cases = [
            ("MIG (20 bins)", lambda: mig(f, z, discretizer="equal_width"), lambda: loop_mig(z, f)),
            ("MCC pearson", lambda: mcc(y, m), lambda: loop_mcc(m, y, "pearson")),
            ("MCC spearman", lambda: mcc(y, m, method="spearman"), lambda: loop_mcc(m, y, "spearman")),
        ]
        for name, ours, loop in cases:
            t, mem, value = measure(ours, repeat)
            lt, lmem, lvalue = measure(loop, repeat)
            row = {"metric": name, "n": n, "time": t, "mem": mem, "score": scalar(value), "loop_time": lt,
                   "loop_mem": lmem, "loop_score": scalar(lvalue)}
            rows.append(row)
            print_row(row, flush=True)
    print_scaling(rows, sizes)
    return rows


def run_dci(sizes: list[int], full: bool) -> None:
    print(f"\n2. DCI: importance='hist' against 'exact' (disentanglement_lib); sizes {sizes}")
    print(f"{'N':>8}{'hist s':>9}{'exact s':>9}{'exact/hist':>11}{'D hist':>8}{'D exact':>8}"
          f"{'C hist':>8}{'C exact':>8}{'I hist':>8}{'I exact':>8}")
    for n in sizes:
        data = make_data(n)
        f, z = data["factors"], data["latents"]
        t_hist, hist = timed(lambda: dci(f, z, importance="hist"))
        if n <= EXACT_DCI_LIMIT or full:
            t_exact, exact = timed(lambda: dci(f, z, importance="exact"))
        else:
            t_exact, exact = None, None
        h, e = hist.score, (exact.score if exact is not None else {})
        cells = [f"{n:>8}", f"{t_hist:>9.2f}", f"{t_exact:>9.2f}" if exact else f"{'-':>9}",
                 f"{t_exact / t_hist:>10.1f}x" if exact else f"{'-':>11}"]
        for key in ("disentanglement", "completeness", "informativeness_test"):
            cells += [f"{h[key]:>8.3f}", f"{e[key]:>8.3f}" if exact else f"{'-':>8}"]
        print("".join(cells), flush=True)


def run_report(sizes: list[int]) -> None:
    print(f"\n3. The full identifiability report (desiderata); sizes {sizes}")
    print(f"{'states':<12}{'N':>9}{'seconds':>10}{'us/sample':>11}{'per-sample vs first N':>23}")
    for kind in ("continuous", "grid 10x10"):
        first = None
        for n in sizes:
            data = make_data(n)
            states, nxt = data["states"], data["next_states"]
            if kind != "continuous":
                states, nxt = np.floor(states * 10), np.floor(np.clip(nxt, 0, 0.999) * 10)
            probs = np.full((n, 4), 0.02)
            probs[np.arange(n), data["codes"]] = 0.94
            t, _ = timed(lambda: desiderata(data["actions"], states, data["latents"], codes=data["codes"],
                                            next_states=nxt, exo=data["exo"], probs=probs, seed=0))
            per = t / n
            first = first or per
            print(f"{kind:<12}{n:>9}{t:>10.2f}{1e6 * per:>11.2f}{per / first:>22.2f}x", flush=True)


HEADER = (f"{'metric':<22}{'N':>8}{'ours s':>9}{'loop s':>9}{'speed-up':>9}{'ours MiB':>10}"
          f"{'loop MiB':>10}{'us/sample':>10}{'|d score|':>11}")


def print_row(row: dict[str, Any], flush: bool = False) -> None:
    loop_t = row["loop_time"]
    cells = [f"{row['metric']:<22}", f"{row['n']:>8}", f"{row['time']:>9.3f}", f"{loop_t:>9.3f}",
             f"{loop_t / row['time']:>8.1f}x", f"{row['mem']:>10.1f}", f"{row['loop_mem']:>10.1f}",
             f"{1e6 * row['time'] / row['n']:>10.2f}", f"{abs(row['score'] - row['loop_score']):>11.1e}"]
    print("".join(cells), flush=flush)


def print_scaling(rows: list[dict[str, Any]], sizes: list[int]) -> None:
    """Time per sample at each size divided by that at the previous size (1.0 = linear)."""
    sizes = sorted(sizes)
    if len(sizes) < 2:
        return
    print("Scaling: time per sample at the larger N / at the smaller N (1.0 = linear in N)")
    by_key = {(r["metric"], r["n"]): r for r in rows}
    for small, large in zip(sizes, sizes[1:]):
        for metric in dict.fromkeys(k[0] for k in by_key):
            a, b = by_key[(metric, small)], by_key[(metric, large)]
            ours = (b["time"] / large) / (a["time"] / small)
            loop = (b["loop_time"] / large) / (a["loop_time"] / small)
            print(f"  {small:>8} -> {large:<8} {metric:<20} ours: {ours:5.2f}   loop: {loop:5.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--dci-sizes", type=int, nargs="+", default=[1_000, 10_000, 100_000])
    parser.add_argument("--report-sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--repeat", type=int, default=3, help="timing repeats (best of) for MIG/MCC")
    parser.add_argument("--dci-full", action="store_true", help="also run exact DCI above 10k samples")
    parser.add_argument("--skip", default="", help="comma-separated parts to skip: loops, dci, report")
    args = parser.parse_args()
    skip = set(filter(None, args.skip.split(",")))
    if "loops" not in skip:
        run_loops(args.sizes, args.repeat)
    if "dci" not in skip:
        run_dci(args.dci_sizes, args.dci_full)
    if "report" not in skip:
        run_report(args.report_sizes)


if __name__ == "__main__":
    main()
