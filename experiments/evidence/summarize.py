"""Tables of per-seed numbers (and mean ± std) from the ``metrics.json`` of evidence runs.

Layout read: ``ROOT/<method>/s<seed>/metrics.json`` (written by ``identlam evaluate``) and,
when present, ``state_leakage.json`` and ``island_matching.json`` beside it (written by
``state_leakage.py`` and ``island_matching.py``).
Derived columns: ``action_probe_error = 1 - action_probe_accuracy``; ``norm_return_random`` is
the online ``normalized_return_random`` = (R - R_random) / (R_bc_all - R_random).

Usage: python summarize.py ROOT --methods lapo laom [--keys k1 k2 ...]  (prints markdown)
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path

DEFAULT_KEYS = ["action_probe_error", "norm_return_random", "leakage_latent_exo_given_action"]


def run_numbers(run: Path) -> dict[str, float]:
    """Flat dict of the numbers of one finished run (empty when metrics.json is missing)."""
    path = run / "metrics.json"
    if not path.exists():
        return {}
    report = json.loads(path.read_text())
    out = dict((report.get("offline") or {}).get("score", {}))
    if "action_probe_accuracy" in out:
        out["action_probe_error"] = 1.0 - out["action_probe_accuracy"]
    online = report.get("online") or {}
    for key, name in (("normalized_return_random", "norm_return_random"), ("return_mean", "return"),
                      ("normalized_return", "norm_return")):
        if online.get(key) is not None:
            out[name] = online[key]
    for extra in ("state_leakage.json", "island_matching.json"):
        if (run / extra).exists():
            out.update(json.loads((run / extra).read_text()))
    log = run / "log.jsonl"
    if log.exists():
        train = [json.loads(line) for line in log.read_text().splitlines() if '"stage": "train"' in line]
        if train:
            out["train_s"] = train[-1].get("elapsed_s", math.nan)
    return out


def mean_std(values: list[float]) -> str:
    vals = [v for v in values if v is not None and not math.isnan(v)]
    if not vals:
        return "–"
    m = sum(vals) / len(vals)
    sd = math.sqrt(sum((v - m) ** 2 for v in vals) / (len(vals) - 1)) if len(vals) > 1 else 0.0
    return f"{m:.3f} ± {sd:.3f} (n={len(vals)})"


def table(root: Path, methods: list[str], keys: list[str]) -> str:
    lines = ["| method | seed | " + " | ".join(keys) + " |", "|" + "---|" * (len(keys) + 2)]
    summary = []
    for method in methods:
        per_key: dict[str, list[float]] = {k: [] for k in keys}
        for run in sorted((root / method).glob("s*"), key=lambda p: int(p.name[1:]) if p.name[1:].isdigit() else -1):
            if not run.is_dir():
                continue
            nums = run_numbers(run)
            if not nums:
                lines.append(f"| {method} | {run.name[1:]} | " + " | ".join("missing" for _ in keys) + " |")
                continue
            cells = []
            for k in keys:
                v = nums.get(k)
                per_key[k].append(float(v) if v is not None else math.nan)
                cells.append("–" if v is None else f"{float(v):.3f}")
            lines.append(f"| {method} | {run.name[1:]} | " + " | ".join(cells) + " |")
        summary.append(f"| **{method}** | mean ± std | " + " | ".join(mean_std(per_key[k]) for k in keys) + " |")
    return "\n".join(lines + summary)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("root", type=Path)
    parser.add_argument("--methods", nargs="+", required=True)
    parser.add_argument("--keys", nargs="+", default=DEFAULT_KEYS)
    args = parser.parse_args()
    print(table(args.root, args.methods, args.keys))


if __name__ == "__main__":
    main()
