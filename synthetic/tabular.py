"""Tiny enumerable versions of a synthetic environment, for exact checks of the objective.

:func:`tiny_tabular` concentrates the state distribution on the centres of a coarse grid of
cells over the torus and keeps the first few actions, so that every labelling of the observed
transitions can be enumerated. Nothing is rounded: the successor ``T(c, a)`` of a centre ``c`` is
a state of its own, observed as ``s'`` but never as ``s`` (probability zero), so the observed pairs
``(s, s')`` are exactly those of the continuous environment at the centres and the forward model's
target is the true displacement ``T(c, a) − c`` (minimal image on the torus). The arrays are the
fields of ``identlam.exact.TabularMDP``; this module itself needs numpy only.
"""

from __future__ import annotations

import itertools

import numpy as np

from synthetic.errors import SyntheticError
from synthetic.family import torus_delta


def default_cells(state_dim: int) -> tuple[int, ...]:
    """Two cells along the first two axes and one along the others (4 centres)."""
    return tuple(2 if i < 2 else 1 for i in range(state_dim))


def cell_centres(cells: tuple[int, ...]) -> np.ndarray:
    """Centres of the grid ``cells`` over the unit torus, (prod(cells), d) float64, C order."""
    axes = [(np.arange(n) + 0.5) / n for n in cells]
    return np.stack(np.meshgrid(*axes, indexing="ij"), -1).reshape(-1, len(cells))


def torus_grid_adjacency(cells: tuple[int, ...]) -> np.ndarray:
    """(n, n) bool: cells that share a face on the torus (wrapping), no self loops."""
    index = np.arange(int(np.prod(cells))).reshape(cells)
    adj = np.zeros((index.size, index.size), dtype=bool)
    for axis, n in enumerate(cells):
        if n > 1:
            adj[index.ravel(), np.roll(index, 1, axis=axis).ravel()] = True
    adj |= adj.T
    np.fill_diagonal(adj, False)
    return adj


def tiny_tabular(env, actions: int = 3, cells: tuple[int, ...] | None = None) -> dict[str, np.ndarray]:
    """The fields of a tabular MDP for ``env`` restricted to ``actions`` actions and grid centres.

    States ``0 .. n-1`` are the cell centres (each with probability 1/n, the policy ``π(a|c)``
    of the first ``actions`` actions renormalized); states ``n + c·actions + a`` are the
    successors ``T(c, a)`` (probability zero, uniform policy, not adjacent to anything).
    ``region`` is 0 for centres and 1 for successors. Returns p_state, policy, next_state,
    displacement, coords, adjacency, region.
    """
    fam = env.family
    if fam.action_space != "discrete" or fam.discrete_states or not fam.periodic:
        raise SyntheticError(f"parameter 'env': tiny tables need discrete actions on a torus; "
                             f"'{env.name}' does not have them")
    if not 2 <= actions <= fam.n_actions:
        raise SyntheticError(f"parameter 'actions': must be in [2, {fam.n_actions}], got {actions}")
    cells = default_cells(fam.state_dim) if cells is None else tuple(int(c) for c in cells)
    if len(cells) != fam.state_dim or min(cells) < 1:
        raise SyntheticError(f"parameter 'cells': expected {fam.state_dim} positive counts, got {cells}")
    centres = cell_centres(cells)
    n, k = len(centres), actions
    src = np.repeat(centres, k, axis=0).astype(np.float32)
    act = np.tile(np.arange(k), n)
    succ = fam.transition(src, act).astype(np.float64)
    disp = torus_delta(src, succ).reshape(n, k, -1)
    pi = env.policy.probs(centres.astype(np.float32))[:, :k]
    pi /= pi.sum(1, keepdims=True)
    m = n + n * k
    adjacency = np.zeros((m, m), dtype=bool)
    adjacency[:n, :n] = torus_grid_adjacency(cells)
    next_state = np.empty((m, k), np.int64)
    next_state[:n] = n + np.arange(n * k).reshape(n, k)
    next_state[n:] = np.arange(n, m)[:, None]  # never observed: successors have p(s) = 0
    displacement = np.zeros((m, k, fam.state_dim))
    displacement[:n] = disp
    return {
        "p_state": np.concatenate([np.full(n, 1.0 / n), np.zeros(n * k)]),
        "policy": np.vstack([pi, np.full((n * k, k), 1.0 / k)]),
        "next_state": next_state,
        "displacement": displacement,
        "coords": np.vstack([centres, succ]),
        "adjacency": adjacency,
        "region": np.concatenate([np.zeros(n, np.int64), np.ones(n * k, np.int64)]),
    }


def continuity_resolution(table: dict[str, np.ndarray]) -> tuple[float, float]:
    """How well the grid resolves continuity: (largest change of one action's displacement between
    adjacent centres, smallest gap between two different actions' displacements at adjacent or
    equal centres). Linking transitions whose displacements differ by less than a threshold in
    between makes each action one linked component, the discrete picture of a continuous labeller."""
    n = int((table["p_state"] > 0).sum())
    disp, adj = table["displacement"][:n], table["adjacency"][:n, :n]
    near = adj | np.eye(n, dtype=bool)
    k = disp.shape[1]
    within, between = 0.0, np.inf
    for a, b in itertools.product(range(k), repeat=2):
        gap = np.linalg.norm(disp[:, None, a] - disp[None, :, b], axis=2)
        if a == b:
            within = max(within, float(gap[adj].max(initial=0.0)))
        else:
            between = min(between, float(gap[near].min()))
    return within, between
