"""Exhaustive search over deterministic labellings of a tiny :class:`TabularMDP` (see
:mod:`identlam.exact`).

Labellings are enumerated up to a joint permutation of the codes (every term of L_lambda is
invariant under it) as restricted growth strings: the first item gets code
0 and every later item either reuses a code already used or opens the next one. The number of
such strings of length T with at most M codes is sum_{k <= M} S(T, k) (Stirling numbers of the
second kind), e.g. 88,574 for T = 12, M = 3.

``continuous=True`` keeps only the labellings a continuous IDM can produce, the discrete
analogue of A1 on the model side: transitions ``(s1, s1')`` and ``(s2, s2')`` are *linked* when
``s1`` and ``s2`` are adjacent and their displacements differ by at most ``tol``; a continuous
labeller with discrete values is constant on every connected component of this graph (it is
locally constant). A3 makes each action's transitions one component.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from identlam.errors import IdentlamError
from identlam.exact.mdp import TabularMDP, one_hot
from identlam.exact.objective import (
    ENTROPY_TERMS,
    FDM_CLASSES,
    connected_components,
    desiderata,
)

_CHUNK = 16384  # labellings scored at once; bounds the memory of the bincount tables


def linked_components(mdp: TabularMDP, tol: float = 1e-9) -> np.ndarray:
    """(n_transitions,) component id of each transition in the continuity graph."""
    src, disp = mdp.trans_src, mdp.trans_disp
    near = np.linalg.norm(disp[:, None, :] - disp[None, :, :], axis=2) <= tol
    return connected_components(mdp.adjacency[np.ix_(src, src)] & near)


def count_canonical(n_items: int, n_codes: int) -> int:
    """Number of labellings of ``n_items`` with at most ``n_codes`` codes, up to code permutation."""
    blocks = [1] + [0] * n_codes  # blocks[k]: strings of the current length using k codes
    for _ in range(n_items):
        blocks = [0] + [k * blocks[k] + blocks[k - 1] for k in range(1, n_codes + 1)]
    return sum(blocks[1:]) if n_items else 1


def canonical_labellings(n_items: int, n_codes: int, limit: int = 2_000_000) -> np.ndarray:
    """(N, n_items) int64: every labelling with at most ``n_codes`` codes, one per orbit of the
    code permutations (restricted growth strings), in lexicographic order."""
    if n_codes < 1 or n_items < 0:
        raise IdentlamError(f"enumeration field 'n_codes': {n_codes} must be >= 1")
    total = count_canonical(n_items, n_codes)
    if total > limit:
        raise IdentlamError(f"enumeration field 'n_codes': {total} labellings exceed the limit {limit}; "
                            "use fewer codes, a smaller MDP or continuous=True")
    strings = np.zeros((1, min(n_items, 1)), dtype=np.int64)
    used = np.ones(1, dtype=np.int64)  # codes used so far by each string
    for _ in range(1, n_items):
        choices = np.minimum(used + 1, n_codes)
        rows = np.repeat(np.arange(len(strings)), choices)
        values = np.arange(len(rows)) - np.repeat(np.cumsum(choices) - choices, choices)
        strings = np.hstack([strings[rows], values[:, None]])
        used = np.maximum(used[rows], values + 1)
    return strings


def enumerate_labellings(mdp: TabularMDP, n_codes: int, continuous: bool = False,
                         tol: float = 1e-9, limit: int = 2_000_000) -> np.ndarray:
    """(N, n_transitions) int64 codes: all deterministic labellings up to code permutation;
    with ``continuous`` only those constant on each linked component."""
    if not continuous:
        return canonical_labellings(mdp.n_transitions, n_codes, limit)
    component = linked_components(mdp, tol)
    return canonical_labellings(int(component.max()) + 1, n_codes, limit)[:, component]


def batch_objective(mdp: TabularMDP, codes, n_codes: int, lam: float = 0.1,
                    entropy: str = "conditional", fdm: str = "tabular") -> dict[str, np.ndarray]:
    """L_lambda of many deterministic labellings at once (optimal FDM of class ``fdm``).

    codes: (N, n_transitions) int. Returns (N,) arrays "total", "reconstruction", "entropy".
    Uses L_rec = sum w ||x||^2 - sum_groups ||sum w x||^2 / sum w over the groups the FDM
    averages: (state, code) for tabular, code for shared."""
    codes = np.asarray(codes, dtype=np.int64)
    if codes.ndim != 2 or codes.shape[1] != mdp.n_transitions:
        raise IdentlamError(f"enumeration field 'codes': shape {codes.shape}, "
                            f"expected (N, {mdp.n_transitions})")
    if codes.size and (codes.min() < 0 or codes.max() >= n_codes):
        raise IdentlamError(f"enumeration field 'codes': values outside [0, {n_codes})")
    if entropy not in ENTROPY_TERMS or fdm not in FDM_CLASSES:
        raise IdentlamError(f"enumeration field 'entropy'/'fdm': {entropy!r}/{fdm!r} not in {ENTROPY_TERMS}/{FDM_CLASSES}")
    out = {key: np.empty(len(codes)) for key in ("total", "reconstruction", "entropy")}
    for start in range(0, len(codes), _CHUNK):
        part = codes[start:start + _CHUNK]
        rec, ent = _score_chunk(mdp, part, n_codes, entropy, fdm)
        out["reconstruction"][start:start + len(part)] = rec
        out["entropy"][start:start + len(part)] = ent
    out["total"] = out["reconstruction"] + lam * out["entropy"]
    return out


def _score_chunk(mdp, codes, n_codes, entropy, fdm):
    rows, n, w, x = len(codes), mdp.n_states, mdp.trans_weight, mdp.trans_disp
    # joint mass per (labelling, state, code): the basis of the policy and marginal entropies
    state_key = (np.arange(rows)[:, None] * n + mdp.trans_src[None, :]) * n_codes + codes
    mass_sc = np.bincount(state_key.ravel(), np.broadcast_to(w, codes.shape).ravel(),
                          minlength=rows * n * n_codes).reshape(rows, n, n_codes)
    key = state_key if fdm == "tabular" else np.arange(rows)[:, None] * n_codes + codes
    size = rows * n * n_codes if fdm == "tabular" else rows * n_codes
    mass = np.bincount(key.ravel(), np.broadcast_to(w, codes.shape).ravel(), minlength=size)
    explained = np.zeros(size)
    for j in range(x.shape[1]):
        sums = np.bincount(key.ravel(), np.broadcast_to(w * x[:, j], codes.shape).ravel(), minlength=size)
        explained += np.divide(sums ** 2, mass, out=np.zeros(size), where=mass > 0)
    rec = (w * (x ** 2).sum(axis=1)).sum() - explained.reshape(rows, -1).sum(axis=1)
    rec = np.maximum(rec, 0.0)  # the two sums cancel exactly at a perfect labelling
    if entropy == "policy":
        safe = np.where(mass_sc > 0, mass_sc, 1.0)
        p_s = np.where(mdp.p_state > 0, mdp.p_state, 1.0)
        ent = -(mass_sc * np.log(safe)).sum(axis=(1, 2)) + (mdp.p_state * np.log(p_s)).sum()
    elif entropy == "marginal":
        marg = mass_sc.sum(axis=1)
        ent = -(marg * np.log(np.where(marg > 0, marg, 1.0))).sum(axis=1)
    else:  # "conditional" is 0 for a deterministic labelling; "none" is 0 by definition
        ent = np.zeros(rows)
    return rec, ent


@dataclass(frozen=True)
class Minimizers:
    """The global minimizers among the enumerated deterministic labellings (one per orbit of
    code permutations): codes (m, n_transitions), the minimal value, how many were searched."""

    codes: np.ndarray
    value: float
    n_enumerated: int


def minimizers(mdp: TabularMDP, n_codes: int, lam: float = 0.1, entropy: str = "conditional",
               fdm: str = "tabular", continuous: bool = False, tol: float = 1e-9,
               atol: float = 1e-9, limit: int = 2_000_000) -> Minimizers:
    """All deterministic labellings whose L_lambda is within ``atol`` of the minimum."""
    codes = enumerate_labellings(mdp, n_codes, continuous, tol, limit)
    total = batch_objective(mdp, codes, n_codes, lam, entropy, fdm)["total"]
    best = float(total.min())
    return Minimizers(codes[total <= best + atol], best, len(codes))


def relabels_truth(mdp: TabularMDP, codes) -> bool:
    """True when the deterministic labelling is ``h(a)`` with ``h`` injective on the actions
    used (D1, D2 and D3 all hold), i.e. an identified labelling."""
    codes = np.asarray(codes, dtype=np.int64)
    return not desiderata(mdp, one_hot(codes, int(codes.max()) + 1)).broken()
