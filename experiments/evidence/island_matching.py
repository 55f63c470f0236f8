"""Hungarian code->action matching with regions = islands (claim C), on held-out transitions.

Writes ``RUN/island_matching.json`` with ``island_hungarian_global``, ``island_hungarian_per_region``
and ``island_hungarian_gap`` from :func:`identlam.metrics.hungarian_accuracy`, where
the region of a transition is the island of its state (left disc: s_0 < 0.5, right disc:
s_0 >= 0.5; pointmass-islands' discs are centred at (0.25, 0.5) and (0.75, 0.5)).

Usage: python island_matching.py RUN [RUN ...]. For new runs, `identlam evaluate RUN --regions
threshold:0:0.5` puts the same numbers into metrics.json (hungarian_*); this script serves the
claim C runs evaluated before that option existed.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

from identlam.data import open_dataset
from identlam.data.privileged import privileged
from identlam.io import atomic_write_json
from identlam.metrics import hungarian_accuracy, parse_regions

ISLANDS = parse_regions("threshold:0:0.5")  # the same spec as `identlam evaluate --regions threshold:0:0.5`


def island_matching(run: Path) -> dict[str, float]:
    report = json.loads((run / "metrics.json").read_text())
    held_out = np.asarray(report["offline"]["trajectories"])
    table = privileged(open_dataset(report["run"]["data"])).transition_table(held_out)
    lat = np.load(run / "latents.npz")
    codes = lat["codes"][np.isin(lat["traj"], held_out)]
    island = ISLANDS.desiderata_arguments(np.asarray(table.states))["regions"]
    score = hungarian_accuracy(np.asarray(table.actions), codes, regions=island).score
    return {f"island_hungarian_{k}": float(v) for k, v in score.items()}


if __name__ == "__main__":
    for arg in sys.argv[1:]:
        result = island_matching(Path(arg))
        atomic_write_json(Path(arg) / "island_matching.json", result)
        print(arg, json.dumps({k: round(v, 4) for k, v in result.items()}))
