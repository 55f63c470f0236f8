"""Benchmark: identlam's disentanglement metrics against straightforward per-pair loops.

For N in ``--sizes`` (default 10k and 100k) this times MIG, DCI and MCC as identlam computes them
and as a straightforward loop computes them in the same process (the loops are written below:
disentanglement_lib's per-pair ``mutual_info_score`` for MIG, its per-factor GBT loop for DCI, a
per-pair ``scipy.stats.pearsonr``/``spearmanr`` loop for MCC), checks that both give the same
value, and reports time, peak traced memory (``tracemalloc``: numpy and Python allocations) and
time per sample, whose ratio between the two sizes shows how the cost scales with N. It also
times the full ``identlam.metrics.desiderata`` report on the same data.

DCI's cost is the gradient-boosted trees, identical in both versions; at large N identlam offers
``max_train_samples`` (a seeded subsample of the train split). The dlib-exact loop at 100k takes
several minutes on a laptop core, so it runs only with ``--dci-full``.

Usage: ``python benchmarks/metrics.py [--sizes 10000 100000] [--repeat 3] [--dci-full]``
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
from sklearn.ensemble import GradientBoostingClassifier
from sklearn.metrics import mutual_info_score

from identlam.metrics import dci, mcc, mig

DCI_SUBSAMPLE = 10_000


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


def loop_dci(latents: np.ndarray, factors: np.ndarray, seed: int = 0) -> dict[str, float]:
    """disentanglement_lib's DCI: one default GBT per factor, then the entropy formulas."""
    from scipy.stats import entropy

    n_train = math.ceil(len(latents) * 2 / 3)
    x_train, x_test = latents[:n_train], latents[n_train:]
    r = np.zeros((latents.shape[1], factors.shape[1]))
    acc = []
    for j in range(factors.shape[1]):
        model = GradientBoostingClassifier(random_state=seed).fit(x_train, factors[:n_train, j])
        r[:, j] = np.abs(model.feature_importances_)
        acc.append(np.mean(model.predict(x_test) == factors[n_train:, j]))
    d_per = 1 - entropy(r.T + 1e-11, base=r.shape[1])
    c_per = 1 - entropy(r + 1e-11, base=r.shape[0])
    return {"disentanglement": float(np.sum(d_per * r.sum(1) / r.sum())),
            "completeness": float(np.sum(c_per * r.sum(0) / r.sum())),
            "informativeness_test": float(np.mean(acc))}


def loop_mcc(latents: np.ndarray, factors: np.ndarray, method: str) -> float:
    """Per-pair correlation loop, Hungarian matching, mean over the true factors."""
    corr = spearmanr if method == "spearman" else pearsonr
    cc = np.array([[abs(corr(factors[:, i], latents[:, j])[0]) for j in range(latents.shape[1])]
                   for i in range(factors.shape[1])])
    rows, cols = linear_sum_assignment(-cc)
    return float(cc[rows, cols].sum() / factors.shape[1])


# ---------------------------------------------------------------------------------- measurement
def measure(fn: Callable[[], Any], repeat: int) -> tuple[float, float, Any]:
    """Best wall time of ``repeat`` calls (s), peak traced memory of one more call (MiB), value.

    ``repeat=0`` times the traced call itself (for the slow DCI runs; tracing adds little there,
    since the trees are built in compiled code).
    """
    best = math.inf
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    tracemalloc.start()
    start = time.perf_counter()
    value = fn()
    elapsed = time.perf_counter() - start
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    return (elapsed if repeat == 0 else best), peak, value


def scalar(value: Any) -> float:
    """The headline number of a result (DCI: disentanglement) for the agreement column."""
    score = getattr(value, "score", value)
    return float(score["disentanglement"]) if isinstance(score, dict) else float(score)


def run(sizes: list[int], repeat: int, dci_full: bool) -> list[dict[str, Any]]:
    rows = []
    for n in sizes:
        data = make_data(n)
        z, f, y, m = data["latents"], data["factors"], data["sources"], data["mixed"]
        cases: list[tuple[str, Callable[[], Any], Callable[[], Any] | None, int]] = [
            ("MIG (20 bins)", lambda: mig(f, z, discretizer="equal_width"), lambda: loop_mig(z, f), repeat),
            ("MCC pearson", lambda: mcc(y, m), lambda: loop_mcc(m, y, "pearson"), repeat),
            ("MCC spearman", lambda: mcc(y, m, method="spearman"), lambda: loop_mcc(m, y, "spearman"), repeat),
        ]
        if n <= DCI_SUBSAMPLE * 3 // 2:
            cases.append(("DCI (dlib-exact)", lambda: dci(f, z), lambda: loop_dci(z, f), 0))
        else:
            cases.append((f"DCI (fit on {DCI_SUBSAMPLE // 1000}k)",
                          lambda: dci(f, z, max_train_samples=DCI_SUBSAMPLE),
                          (lambda: loop_dci(z, f)) if dci_full else None, 0))
        for name, ours, loop, reps in cases:
            t, mem, value = measure(ours, reps)
            row = {"metric": name, "n": n, "time": t, "mem": mem, "score": scalar(value)}
            if loop is not None:
                lt, lmem, lvalue = measure(loop, reps)
                row.update(loop_time=lt, loop_mem=lmem, loop_score=scalar(lvalue))
            rows.append(row)
            print_row(row, flush=True)
        desiderata = _desiderata()
        if desiderata is not None:
            t, mem, value = measure(lambda: desiderata(
                data["actions"], data["states"], z, codes=data["codes"],
                next_states=data["next_states"], exo=data["exo"], seed=0), 0)
            row = {"metric": "desiderata (full)", "n": n, "time": t, "mem": mem, "report": value}
            rows.append(row)
            print_row(row, flush=True)
    return rows


def _desiderata():
    try:
        from identlam.metrics.desiderata import desiderata
    except ImportError:
        return None
    return desiderata


HEADER = (f"{'metric':<22}{'N':>8}{'ours s':>9}{'loop s':>9}{'speed-up':>9}{'ours MiB':>10}"
          f"{'loop MiB':>10}{'us/sample':>10}{'|d score|':>11}")


def print_row(row: dict[str, Any], flush: bool = False) -> None:
    loop_t = row.get("loop_time")
    cells = [f"{row['metric']:<22}", f"{row['n']:>8}", f"{row['time']:>9.3f}",
             f"{loop_t:>9.3f}" if loop_t is not None else f"{'-':>9}",
             f"{loop_t / row['time']:>8.1f}x" if loop_t is not None else f"{'-':>9}",
             f"{row['mem']:>10.1f}",
             f"{row['loop_mem']:>10.1f}" if loop_t is not None else f"{'-':>10}",
             f"{1e6 * row['time'] / row['n']:>10.2f}",
             f"{abs(row['score'] - row['loop_score']):>11.1e}" if loop_t is not None else f"{'-':>11}"]
    print("".join(cells), flush=flush)


def print_scaling(rows: list[dict[str, Any]], sizes: list[int]) -> None:
    """Time per sample at each size divided by that at the previous size (1.0 = linear)."""
    sizes = sorted(sizes)
    if len(sizes) < 2:
        return
    print("\nScaling: time per sample at the larger N / at the smaller N (1.0 = linear in N)")
    by_key = {(r["metric"].split(" (")[0] if r["metric"].startswith("DCI") else r["metric"], r["n"]): r
              for r in rows}
    for small, large in zip(sizes, sizes[1:]):
        for metric in dict.fromkeys(k[0] for k in by_key):
            a, b = by_key.get((metric, small)), by_key.get((metric, large))
            if a is None or b is None:
                continue
            ours = (b["time"] / large) / (a["time"] / small)
            loop = ("" if "loop_time" not in a or "loop_time" not in b else
                    f"   loop: {(b['loop_time'] / large) / (a['loop_time'] / small):5.2f}")
            note = "   (fit on a fixed-size subsample at the larger N)" if metric == "DCI" else ""
            print(f"  {small:>8} -> {large:<8} {metric:<20} ours: {ours:5.2f}{loop}{note}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--repeat", type=int, default=5, help="timing repeats (best of) for MIG/MCC")
    parser.add_argument("--dci-full", action="store_true", help="also run dlib-exact DCI at large N")
    args = parser.parse_args()
    print(f"identlam disentanglement metrics vs per-pair loops; sizes {args.sizes}")
    print(HEADER)
    rows = run(args.sizes, args.repeat, args.dci_full)
    print_scaling(rows, args.sizes)
    for row in rows:
        if row["metric"] == "desiderata (full)":
            score = {k: round(v, 4) for k, v in row["report"].score.items()}
            print(f"\ndesiderata score at N={row['n']}: {score}")


if __name__ == "__main__":
    main()
