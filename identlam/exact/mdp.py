"""Tiny enumerable MDPs for the exact population objective (see :mod:`identlam.exact`).

A :class:`TabularMDP` is the data-generating process of the identifiability theorem made finite: ``n`` states
with probabilities ``p(s)``, ``K`` actions, a deterministic transition table ``T[s, a]`` and a
behaviour policy ``pi(a|s)``. States carry integer grid coordinates (a ring is a 1-D grid) and an
adjacency graph, so that "continuity" and "connectivity" (A1, A3) have a discrete meaning.

The forward model predicts ``displacement[s, a]``, the change ``s' - s`` in intrinsic grid
coordinates (wrapped on a torus). On the support a displacement is a function of ``(s, s')``, so
it is an observable target, and a per-state FDM predicting it is equivalent to one predicting
``s'`` itself.

The observed data are the distinct transitions ``(s, s')`` on the support
(``p(s) pi(a|s) > 0``), indexed ``0 .. n_transitions - 1`` in order of ``(s, a)``; several actions
share one transition exactly when A2 fails at that state. A labelling is a table over those
transitions: deterministic ``codes`` of shape ``(n_transitions,)`` int64, or stochastic ``q`` of
shape ``(n_transitions, M)`` whose rows sum to 1.

All arrays are float64 / int64 numpy arrays; no randomness is drawn here.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from identlam.errors import IdentlamError

#: The four unit moves on a 2-D grid: right, up, left, down.
GRID_MOVES = ((1, 0), (0, 1), (-1, 0), (0, -1))


@dataclass(frozen=True, eq=False)
class TabularMDP:
    """A finite deterministic DGP. Fields are validated; derived transition tables are added.

    p_state: (n,) state distribution. policy: (n, K) rows are pi(.|s). next_state: (n, K) int64.
    displacement: (n, K, d) the FDM target s' - s. coords: (n, d) state positions.
    adjacency: (n, n) bool, symmetric, no self loops. region: (n,) int64 region / island id.
    """

    p_state: np.ndarray
    policy: np.ndarray
    next_state: np.ndarray
    displacement: np.ndarray
    coords: np.ndarray
    adjacency: np.ndarray
    region: np.ndarray
    # derived, one entry per distinct transition (s, s') on the support:
    trans_src: np.ndarray = field(init=False, repr=False)  # (T,) source state
    trans_dst: np.ndarray = field(init=False, repr=False)  # (T,) next state
    trans_weight: np.ndarray = field(init=False, repr=False)  # (T,) P(s, s')
    trans_disp: np.ndarray = field(init=False, repr=False)  # (T, d) displacement target
    trans_of_sa: np.ndarray = field(init=False, repr=False)  # (n, K) index, -1 off support

    def __post_init__(self) -> None:
        p, pi = _float_array(self.p_state, "p_state", 1), _float_array(self.policy, "policy", 2)
        n, k = pi.shape
        if p.shape != (n,):
            raise IdentlamError(f"TabularMDP field 'p_state': shape {p.shape}, expected ({n},)")
        for name, arr in (("p_state", p), ("policy", pi)):
            if (arr < 0).any():
                raise IdentlamError(f"TabularMDP field '{name}': negative probability")
        if abs(p.sum() - 1.0) > 1e-9:
            raise IdentlamError(f"TabularMDP field 'p_state': sums to {p.sum():.6g}, not 1")
        if np.abs(pi.sum(axis=1) - 1.0).max() > 1e-9:
            raise IdentlamError("TabularMDP field 'policy': a row does not sum to 1")
        nxt = np.asarray(self.next_state)
        if nxt.shape != (n, k) or not np.issubdtype(nxt.dtype, np.integer):
            raise IdentlamError(f"TabularMDP field 'next_state': expected ({n}, {k}) integers")
        if nxt.min() < 0 or nxt.max() >= n:
            raise IdentlamError("TabularMDP field 'next_state': state index out of range")
        disp = _float_array(self.displacement, "displacement", 3)
        if disp.shape[:2] != (n, k):
            raise IdentlamError(f"TabularMDP field 'displacement': shape {disp.shape}, "
                                f"expected ({n}, {k}, d)")
        coords = _float_array(self.coords, "coords", 2)
        if coords.shape != (n, disp.shape[2]):
            raise IdentlamError(f"TabularMDP field 'coords': shape {coords.shape}, expected ({n}, {disp.shape[2]})")
        adj = np.asarray(self.adjacency, dtype=bool)
        if adj.shape != (n, n) or (adj != adj.T).any() or adj.diagonal().any():
            raise IdentlamError("TabularMDP field 'adjacency': must be a symmetric (n, n) bool matrix without self loops")
        region = np.asarray(self.region)
        if region.shape != (n,) or not np.issubdtype(region.dtype, np.integer):
            raise IdentlamError(f"TabularMDP field 'region': expected ({n},) integers")
        for name, value in (("p_state", p), ("policy", pi), ("next_state", nxt.astype(np.int64)),
                            ("displacement", disp), ("coords", coords), ("adjacency", adj),
                            ("region", region.astype(np.int64))):
            object.__setattr__(self, name, value)
        self._index_transitions()

    def _index_transitions(self) -> None:
        n, k = self.policy.shape
        weight = self.p_state[:, None] * self.policy
        src, dst, w, disp, index = [], [], [], [], -np.ones((n, k), dtype=np.int64)
        for s in range(n):
            seen: dict[int, int] = {}
            for a in range(k):
                if weight[s, a] <= 0:
                    continue
                s2 = int(self.next_state[s, a])
                if s2 in seen:  # A2 fails here: two actions share one observed transition
                    t = seen[s2]
                    if not np.allclose(disp[t], self.displacement[s, a], atol=1e-12):
                        raise IdentlamError(f"TabularMDP field 'displacement': actions reaching the same "
                                            f"next state from state {s} have different displacements")
                    w[t] += weight[s, a]
                else:
                    t = seen[s2] = len(src)
                    src.append(s), dst.append(s2), w.append(weight[s, a])
                    disp.append(self.displacement[s, a])
                index[s, a] = t
        object.__setattr__(self, "trans_src", np.array(src, dtype=np.int64))
        object.__setattr__(self, "trans_dst", np.array(dst, dtype=np.int64))
        object.__setattr__(self, "trans_weight", np.array(w, dtype=np.float64))
        object.__setattr__(self, "trans_disp", np.array(disp, dtype=np.float64).reshape(len(src), -1))
        object.__setattr__(self, "trans_of_sa", index)

    @property
    def n_states(self) -> int:
        return self.policy.shape[0]

    @property
    def n_actions(self) -> int:
        return self.policy.shape[1]

    @property
    def n_transitions(self) -> int:
        return len(self.trans_src)

    def joint_sa(self) -> np.ndarray:
        """(n, K) P(s, a) = p(s) pi(a|s)."""
        return self.p_state[:, None] * self.policy


def _float_array(value, name: str, ndim: int) -> np.ndarray:
    arr = np.asarray(value, dtype=np.float64)
    if arr.ndim != ndim:
        raise IdentlamError(f"TabularMDP field '{name}': expected {ndim} dimensions, got {arr.ndim}")
    if not np.isfinite(arr).all():
        raise IdentlamError(f"TabularMDP field '{name}': contains NaN or infinity")
    return arr


# ---------------------------------------------------------------------------------------
# Constructors


def torus_mdp(shape, moves, policy=None, p_state=None, region=None) -> TabularMDP:
    """States are the cells of a wrapped grid of ``shape`` (a ring when 1-D); action ``a`` moves by
    the integer vector ``moves[a]``: ``T(s, a) = (s + moves[a]) mod shape``. The dynamics are
    translation invariant, so A1 holds; A2 holds when the moves differ modulo ``shape``; the
    torus is connected, so A3 holds for a full-support policy (the default, uniform)."""
    shape = tuple(int(x) for x in np.atleast_1d(shape))
    moves = np.atleast_2d(np.asarray(moves, dtype=np.int64).reshape(len(moves), -1))
    if len(shape) != moves.shape[1] or min(shape) < 1:
        raise IdentlamError(f"torus_mdp field 'moves': {moves.shape[1]}-D moves on a {len(shape)}-D grid {shape}")
    grid = np.indices(shape).reshape(len(shape), -1).T  # (n, d) cell coordinates
    n, k = len(grid), len(moves)
    dims = np.array(shape)
    nxt = np.ravel_multi_index(((grid[:, None, :] + moves[None]) % dims).T, shape).T
    adj = np.zeros((n, n), dtype=bool)
    for axis in range(len(shape)):
        for step in (1, -1):
            unit = np.zeros(len(shape), dtype=np.int64)
            unit[axis] = step
            adj[np.arange(n), np.ravel_multi_index(((grid + unit) % dims).T, shape)] = True
    np.fill_diagonal(adj, False)
    return TabularMDP(
        p_state=np.full(n, 1.0 / n) if p_state is None else p_state,
        policy=np.full((n, k), 1.0 / k) if policy is None else policy,
        next_state=nxt,
        displacement=np.broadcast_to(moves, (n, k, len(shape))).astype(np.float64),
        coords=grid.astype(np.float64),
        adjacency=adj,
        region=np.zeros(n, dtype=np.int64) if region is None else region,
    )


def ring_mdp(n: int, moves=(1, -1), policy=None, region=None) -> TabularMDP:
    """A ring of ``n`` states; action ``a`` steps by ``moves[a]`` (default: +1 and -1)."""
    return torus_mdp((n,), [[m] for m in moves], policy=policy, region=region)


def islands_mdp(shape, moves, second_moves=None) -> TabularMDP:
    """Two disjoint copies of :func:`torus_mdp` (A3 off: every action's support has two
    components). Island 2 uses ``second_moves`` (default: the same moves), e.g. the moves
    rotated by 90 degrees, so that an action's effect differs between islands while A1 and A2
    still hold on each. ``region`` is the island id. p(s) and pi are uniform."""
    first = torus_mdp(shape, moves)
    second = torus_mdp(shape, moves if second_moves is None else second_moves)
    n = first.n_states
    if second.n_actions != first.n_actions:
        raise IdentlamError("islands_mdp field 'second_moves': needs as many moves as 'moves'")
    offset = np.zeros(first.coords.shape[1])
    offset[0] = first.coords[:, 0].max() + 10.0  # far apart: no adjacency between islands
    adj = np.zeros((2 * n, 2 * n), dtype=bool)
    adj[:n, :n], adj[n:, n:] = first.adjacency, second.adjacency
    return TabularMDP(
        p_state=np.full(2 * n, 0.5 / n),
        policy=np.vstack([first.policy, second.policy]),
        next_state=np.vstack([first.next_state, second.next_state + n]),
        displacement=np.concatenate([first.displacement, second.displacement]),
        coords=np.vstack([first.coords, second.coords + offset]),
        adjacency=adj,
        region=np.repeat(np.array([0, 1], dtype=np.int64), n),
    )


def with_policy(mdp: TabularMDP, policy, region=None) -> TabularMDP:
    """The same dynamics under another behaviour policy (and optionally other region ids)."""
    return TabularMDP(mdp.p_state, policy, mdp.next_state, mdp.displacement, mdp.coords,
                      mdp.adjacency, mdp.region if region is None else region)


def with_duplicate_action(mdp: TabularMDP, action: int, share: float = 0.5) -> TabularMDP:
    """Add action K, a copy of ``action`` with the same effect everywhere (A2 off). The new
    action takes the fraction ``share`` of ``action``'s policy mass."""
    if not 0 <= action < mdp.n_actions or not 0 < share < 1:
        raise IdentlamError("with_duplicate_action field 'action'/'share': action out of range or share not in (0, 1)")
    policy = np.hstack([mdp.policy, share * mdp.policy[:, [action]]])
    policy[:, action] *= 1 - share
    return TabularMDP(mdp.p_state, policy, np.hstack([mdp.next_state, mdp.next_state[:, [action]]]),
                      np.concatenate([mdp.displacement, mdp.displacement[:, [action]]], axis=1),
                      mdp.coords, mdp.adjacency, mdp.region)


def with_split_policy(mdp: TabularMDP, a: int, b: int, mask) -> TabularMDP:
    """Action ``a`` only where ``mask`` is true, action ``b`` only where it is false (A4 off for
    the pair); the removed mass is spread over the remaining actions in proportion."""
    mask = np.asarray(mask, dtype=bool)
    if mask.shape != (mdp.n_states,) or a == b:
        raise IdentlamError(f"with_split_policy field 'mask': expected ({mdp.n_states},) bools and a != b")
    policy = mdp.policy.copy()
    policy[~mask, a] = 0.0
    policy[mask, b] = 0.0
    if (policy.sum(axis=1) <= 0).any():
        raise IdentlamError("with_split_policy field 'mask': a state would have no action left")
    return with_policy(mdp, policy / policy.sum(axis=1, keepdims=True))


def two_region_mdp(n: int = 8, p_major: float = 0.9) -> TabularMDP:
    """The two-region example: a ring of ``n`` states with moves +1 / -1; in the first half
    pi = (p_major, 1 - p_major), in the second half the reverse. region = half id."""
    if n < 4 or n % 2 or not 0.5 < p_major < 1:
        raise IdentlamError("two_region_mdp field 'n'/'p_major': n must be even and >= 4, p_major in (0.5, 1)")
    region = (np.arange(n) >= n // 2).astype(np.int64)
    policy = np.where(region[:, None] == 0, [p_major, 1 - p_major], [1 - p_major, p_major])
    return ring_mdp(n, policy=policy, region=region)


# ---------------------------------------------------------------------------------------
# Labellings


def labels_from_actions(mdp: TabularMDP, table) -> np.ndarray:
    """Codes per transition from a code per (state, action): ``table`` (n, K) int, or (K,) for a
    state-independent map ``h``. Fails when actions sharing a transition get different codes."""
    table = np.broadcast_to(np.asarray(table, dtype=np.int64), mdp.policy.shape)
    codes = -np.ones(mdp.n_transitions, dtype=np.int64)
    for (s, a), t in np.ndenumerate(mdp.trans_of_sa):
        if t < 0:
            continue
        if codes[t] >= 0 and codes[t] != table[s, a]:
            raise IdentlamError(f"labels_from_actions field 'table': actions sharing the transition "
                                f"from state {s} get different codes")
        codes[t] = table[s, a]
    if (codes < 0).any():
        raise IdentlamError("labels_from_actions field 'table': codes must be >= 0")
    return codes


def oracle_labels(mdp: TabularMDP) -> np.ndarray:
    """The truth, code = action (fails when A2 does, since the truth is then not a labelling)."""
    return labels_from_actions(mdp, np.arange(mdp.n_actions))


def region_permuted_labels(mdp: TabularMDP, perms) -> np.ndarray:
    """Code ``perms[region(s)][a]`` for the transition (s, a): a state-dependent relabelling."""
    perms = np.asarray(perms, dtype=np.int64)
    if perms.ndim != 2 or perms.shape[1] != mdp.n_actions or perms.shape[0] <= mdp.region.max():
        raise IdentlamError(f"region_permuted_labels field 'perms': expected (n_regions, {mdp.n_actions})")
    return labels_from_actions(mdp, perms[mdp.region])


def one_hot(codes, n_codes: int) -> np.ndarray:
    """(T,) int codes -> (T, n_codes) float64 one-hot labelling q."""
    codes = np.asarray(codes, dtype=np.int64)
    if codes.ndim != 1 or codes.min(initial=0) < 0 or codes.max(initial=0) >= n_codes:
        raise IdentlamError(f"one_hot field 'codes': expected a 1-D array of codes in [0, {n_codes})")
    return np.eye(n_codes)[codes]


def mix_codes(q, source: int, target: int, alpha: float, where=None) -> np.ndarray:
    """Move the fraction ``alpha`` of code ``source``'s mass to code ``target`` on the
    transitions selected by ``where`` (bool (T,), default all)."""
    q = np.array(q, dtype=np.float64)
    where = np.ones(len(q), dtype=bool) if where is None else np.asarray(where, dtype=bool)
    moved = alpha * q[where, source]
    q[where, source] -= moved
    q[where, target] += moved
    return q
