"""The identifiability theorem scenario by scenario: which desiderata the exact minimizers keep.

Each scenario is a tiny DGP with one assumption (A1-A4) switched off (or none), a code
budget M, an FDM class and a labeller class (any labelling, or continuous ones only; see
:mod:`identlam.exact.enumeration`). For each entropy variant, :func:`scenario_table`
enumerates the global minimizers of L_lambda and reports how many there are, whether they are
all, some or none of them injective relabellings of the truth, and which desiderata break in
every minimizer and in at least one.

    python -m identlam.exact.scenarios          # prints the table (about a second)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from identlam.exact.enumeration import minimizers
from identlam.exact.mdp import (
    GRID_MOVES,
    TabularMDP,
    islands_mdp,
    one_hot,
    ring_mdp,
    torus_mdp,
    two_region_mdp,
    with_duplicate_action,
    with_split_policy,
)
from identlam.exact.objective import desiderata

VARIANTS = ("conditional", "policy", "marginal")


@dataclass(frozen=True)
class Scenario:
    name: str
    switched_off: str  # the assumption that fails ("-" when A1-A4 hold)
    build: Callable[[], TabularMDP]
    n_codes: int
    fdm: str
    continuous: bool


def _full_support_torus() -> TabularMDP:
    policy = np.random.default_rng(3).dirichlet(np.ones(4), size=9)  # fixed draw: a generic policy
    return torus_mdp((3, 3), GRID_MOVES, policy=policy)


SCENARIOS = (
    Scenario("ring, shared FDM, M = K", "-", lambda: ring_mdp(6), 2, "shared", False),
    Scenario("torus, continuous IDM, M > K", "-", _full_support_torus, 5, "tabular", True),
    Scenario("ring, shared FDM, spare code", "-", lambda: ring_mdp(6), 3, "shared", False),
    Scenario("ring, discontinuous IDM", "A1 (model)", lambda: ring_mdp(6), 2, "tabular", False),
    Scenario("two-region ring, discontinuous IDM", "A1 (model)", lambda: two_region_mdp(8), 2, "tabular", False),
    Scenario("duplicate action", "A2", lambda: with_duplicate_action(ring_mdp(6), 0), 3, "tabular", True),
    Scenario("rotated islands, continuous IDM", "A3",
             lambda: islands_mdp((3,), [[1], [-1]], second_moves=[[-1], [1]]), 2, "tabular", True),
    Scenario("rotated islands, shared FDM", "A3",
             lambda: islands_mdp((3,), [[1], [-1]], second_moves=[[-1], [1]]), 2, "shared", False),
    Scenario("split policy, continuous IDM", "A4",
             lambda: with_split_policy(ring_mdp(6, moves=(1, -1, 2)), 0, 2, np.arange(6) < 3), 3, "tabular", True),
)


def scenario_table(lam: float = 0.05, scenarios=SCENARIOS) -> list[dict]:
    """One row per (scenario, entropy variant): n_minimizers, identified ("all" | "some" |
    "none" of the minimizers relabel the truth injectively), broken_in_every, broken_in_some."""
    rows = []
    for sc in scenarios:
        mdp = sc.build()
        for entropy in VARIANTS:
            best = minimizers(mdp, sc.n_codes, lam=lam, entropy=entropy, fdm=sc.fdm, continuous=sc.continuous)
            broken = [set(desiderata(mdp, one_hot(c, sc.n_codes)).broken()) for c in best.codes]
            n_ok = sum(not b for b in broken)
            rows.append({
                "scenario": sc.name, "off": sc.switched_off, "M": sc.n_codes, "fdm": sc.fdm,
                "labeller": "continuous" if sc.continuous else "any", "entropy": entropy,
                "n_minimizers": len(best.codes), "n_enumerated": best.n_enumerated,
                "identified": "all" if n_ok == len(broken) else ("none" if n_ok == 0 else "some"),
                "broken_in_every": tuple(sorted(set.intersection(*broken))),
                "broken_in_some": tuple(sorted(set.union(*broken))),
            })
    return rows


def format_table(rows: list[dict]) -> str:
    head = (f"{'scenario':<36} {'off':<10} {'M':>2} {'fdm':<8} {'labeller':<10} {'entropy':<11} "
            f"{'minimizers':>10} {'identified':<10} {'broken in every':<16} broken in some")
    lines = [head, "-" * len(head)]
    for r in rows:
        lines.append(f"{r['scenario']:<36} {r['off']:<10} {r['M']:>2} {r['fdm']:<8} {r['labeller']:<10} "
                     f"{r['entropy']:<11} {r['n_minimizers']:>10} {r['identified']:<10} "
                     f"{','.join(r['broken_in_every']) or '-':<16} {','.join(r['broken_in_some']) or '-'}")
    return "\n".join(lines)


if __name__ == "__main__":
    print(format_table(scenario_table()))
