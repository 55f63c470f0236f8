"""Is the truth the global minimizer on random families? Exact checks on their tiny versions.

``tiny_family(family_seed)`` turns ``synthetic.make("random-family", family_seed=...)`` into a
:class:`TabularMDP`: the states of the data sit on the centres of a grid of cells over the torus,
the first ``actions`` actions are kept (policy renormalized), and every successor ``T(c, a)`` is
kept exactly (see :mod:`synthetic.tabular`). ``check_family`` then scores every labelling
(one per orbit of code permutations) under four settings:

``shared``
    f(s, â) = s + d_â, every labelling of a coarse grid (4 centres, or 3 with 4 actions),
    M = K codes. The restricted
    FDM needs no continuity argument: the truth must win on reconstruction alone.
``shared-spare``
    the same with a spare code (M = K + 1): an action whose effect varies with the state is
    cheaper to reconstruct when split over two codes by state, so the truth is *not* the
    minimizer. A forward model too weak for the state dependence makes actions split.
``continuous``
    the flexible (tabular) FDM with a spare code (M = K + 1) and a continuous labeller on a
    finer grid (8 cells per axis): transitions are linked when their centres are adjacent and
    their displacements differ by less than the geometric mean of the grid's within-action
    change and between-action gap (:func:`synthetic.tabular.continuity_resolution`). This is
    the theorem's setting: a flexible FDM, a continuous IDM, spare codes.
``tabular``
    the flexible FDM on the coarse grid without continuity: every per-state permutation ties
    with the truth, so continuity (A1 with A3) is what makes the truth the unique minimizer.

For each: how many labellings were scored, the minimizers, whether all of them are injective
relabellings of the truth, and the margin ``L(best wrong labelling) − L(truth)``, absolute and
as a fraction of the target's second moment ``E‖s' − s‖²``. ``python -m identlam.exact.families``
prints the table for family seeds 0–9.
"""

from __future__ import annotations

import argparse
import math
from dataclasses import asdict, dataclass

import numpy as np

from identlam.errors import IdentlamError
from identlam.exact.enumeration import batch_objective, enumerate_labellings, relabels_truth
from identlam.exact.mdp import TabularMDP, oracle_labels

SETTINGS = ("shared", "shared-spare", "continuous", "tabular")
FINE = 8  # cells per axis of the grid that resolves continuity


def coarse_cells(dim: int, actions: int) -> tuple[int, ...]:
    """A grid small enough to enumerate every labelling: 12 transitions for 3 or 4 actions."""
    first = (2, 2) if actions <= 3 else (3, 1)
    return first + (1,) * (dim - 2)


def tiny_family(family_seed: int = 0, actions: int = 3, cells=None, **params) -> TabularMDP:
    """The random family ``family_seed`` as a tiny tabular MDP (``params`` override its draws)."""
    import synthetic
    from synthetic.tabular import tiny_tabular

    try:
        env = synthetic.make("random-family", family_seed=family_seed, **params)
        return TabularMDP(**tiny_tabular(env, actions, cells))
    except synthetic.SyntheticError as err:
        raise IdentlamError(str(err)) from None


def canonical(codes) -> np.ndarray:
    """The restricted growth string of a labelling: codes renamed in order of first use."""
    codes = np.asarray(codes, dtype=np.int64)
    order = {}
    return np.array([order.setdefault(int(c), len(order)) for c in codes], dtype=np.int64)


@dataclass(frozen=True)
class SettingResult:
    """One setting of :func:`check_family` (see the module docstring)."""

    setting: str
    n_transitions: int
    n_codes: int
    n_labellings: int
    n_minimizers: int
    truth_is_minimizer: bool
    identified: bool  # every minimizer is an injective relabelling of the truth
    truth_value: float
    margin: float  # L(best labelling that is not a relabelling of the truth) - L(truth)
    relative_margin: float  # margin / E||s' - s||^2


def score(mdp: TabularMDP, setting: str, n_codes: int, tol: float = 1e-9, lam: float = 0.1,
          entropy: str = "conditional", atol: float = 1e-12, limit: int = 3_000_000) -> SettingResult:
    """Enumerate the labellings of ``mdp`` for one setting and compare the truth with the rest."""
    if setting not in SETTINGS:
        raise IdentlamError(f"families field 'setting': {setting!r} not in {SETTINGS}")
    fdm = "shared" if setting.startswith("shared") else "tabular"
    codes = enumerate_labellings(mdp, n_codes, continuous=setting == "continuous", tol=tol,
                                 limit=limit)
    total = batch_objective(mdp, codes, n_codes, lam, entropy, fdm)["total"]
    truth = canonical(oracle_labels(mdp))
    is_truth = (codes == truth).all(axis=1)
    if not is_truth.any():  # the continuity graph links transitions of different actions
        raise IdentlamError("families field 'tol': the truth is not among the continuous labellings")
    truth_value = float(total[is_truth][0])
    best = float(total.min())
    winners = codes[total <= best + atol]
    wrong = total[~is_truth]
    margin = float(wrong.min() - truth_value) if len(wrong) else math.inf
    second_moment = float((mdp.trans_weight * (mdp.trans_disp ** 2).sum(axis=1)).sum())
    return SettingResult(setting, mdp.n_transitions, n_codes, len(codes), len(winners),
                         truth_value <= best + atol, all(relabels_truth(mdp, c) for c in winners),
                         truth_value, margin, margin / second_moment)


def check_family(family_seed: int, actions: int = 3, settings=SETTINGS, **params) -> dict[str, SettingResult]:
    """The ``settings`` (default all) of the module docstring for one random family."""
    import synthetic
    from synthetic.tabular import continuity_resolution, tiny_tabular

    unknown = set(settings) - set(SETTINGS)
    if unknown:
        raise IdentlamError(f"families field 'settings': {sorted(unknown)} not in {SETTINGS}")
    try:
        env = synthetic.make("random-family", family_seed=family_seed, **params)
    except synthetic.SyntheticError as err:
        raise IdentlamError(str(err)) from None
    out = {}
    coarse = tiny_family(family_seed, actions, coarse_cells(env.family.state_dim, actions), **params)
    for name in ("shared", "shared-spare", "tabular"):
        if name in settings:
            out[name] = score(coarse, name, actions + (name == "shared-spare"))
    if "continuous" in settings:
        cells = (FINE,) * env.family.state_dim
        within, between = continuity_resolution(tiny_tabular(env, actions, cells))
        if within >= between:
            raise IdentlamError(f"families field 'cells': {FINE} cells per axis do not resolve continuity "
                                f"(within-action change {within:.3g} >= between-action gap {between:.3g})")
        fine = tiny_family(family_seed, actions, cells, **params)
        out["continuous"] = score(fine, "continuous", actions + 1, tol=math.sqrt(within * between))
    return {name: out[name] for name in SETTINGS if name in out}


def family_table(seeds, actions: int = 3) -> list[dict]:
    """One row per (family seed, setting): the fields of :class:`SettingResult`."""
    return [{"family_seed": seed, **asdict(result)}
            for seed in seeds for result in check_family(seed, actions).values()]


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(prog="python -m identlam.exact.families",
                                     description="exact check that the true labelling minimizes the objective")
    parser.add_argument("--seeds", type=int, default=10, help="family seeds 0..N-1 (default 10)")
    parser.add_argument("--actions", type=int, default=3, choices=(2, 3, 4), help="actions kept (default 3)")
    args = parser.parse_args(argv)
    print(f"{'seed':>4} {'setting':<12} {'T':>5} {'M':>2} {'labellings':>10} {'minimizers':>10} "
          f"{'truth min':>9} {'identified':>10} {'margin':>10} {'relative':>9}")
    for row in family_table(range(args.seeds), args.actions):
        print(f"{row['family_seed']:>4} {row['setting']:<12} {row['n_transitions']:>5} {row['n_codes']:>2} "
              f"{row['n_labellings']:>10} {row['n_minimizers']:>10} {str(row['truth_is_minimizer']):>9} "
              f"{str(row['identified']):>10} {_tidy(row['margin']):>10.3g} {_tidy(row['relative_margin']):>9.3f}")


def _tidy(x: float) -> float:
    return 0.0 if abs(x) < 1e-15 else x  # exact ties print as 0, not as rounding residue


if __name__ == "__main__":
    main()
