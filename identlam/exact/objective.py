"""The population objective L_lambda(q, f), desiderata D1-D3 and assumption checks A1-A4, in
closed form on a :class:`~identlam.exact.mdp.TabularMDP` (see :mod:`identlam.exact`).

A labelling ``q`` has shape ``(n_transitions, M)`` (rows sum to 1). FDM classes:

* ``"tabular"``: ``f(s, c)`` is free for every (state, code). The optimum in closed form is the
  q-weighted mean displacement of the transitions from ``s`` labelled ``c``. This is the
  flexible FDM of the theorem; it can undo any state-dependent relabelling.
* ``"shared"``: ``f(s, c) = s + d_c``, one displacement per code for all states (the
  "continuous" restricted class). The optimum ``d_c`` is the q-weighted mean displacement of
  every transition labelled ``c``.

A given FDM can also be passed as an array: ``(n, M, d)`` for tabular, ``(M, d)`` for shared.
All entropies are in nats.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from identlam.errors import IdentlamError
from identlam.exact.mdp import TabularMDP

FDM_CLASSES = ("tabular", "shared")
ENTROPY_TERMS = ("none", "conditional", "policy", "marginal")


def check_labelling(mdp: TabularMDP, q) -> np.ndarray:
    """Validate a stochastic labelling: (n_transitions, M) float, finite, rows sum to 1."""
    q = np.asarray(q, dtype=np.float64)
    if q.ndim != 2 or q.shape[0] != mdp.n_transitions:
        raise IdentlamError(f"labelling field 'q': shape {q.shape}, expected ({mdp.n_transitions}, M)")
    if not np.isfinite(q).all() or (q < 0).any():
        raise IdentlamError("labelling field 'q': NaN, infinite or negative probability")
    if np.abs(q.sum(axis=1) - 1.0).max() > 1e-9:
        raise IdentlamError("labelling field 'q': a row does not sum to 1")
    return q


def _plogp_sum(p: np.ndarray, axis=None) -> np.ndarray:
    """-sum p log p over ``axis`` with 0 log 0 = 0 (unnormalized masses allowed)."""
    safe = np.where(p > 0, p, 1.0)
    return -(p * np.log(safe)).sum(axis=axis)


def fit_fdm(mdp: TabularMDP, q, fdm: str = "tabular") -> np.ndarray:
    """The optimal FDM of class ``fdm`` for labelling ``q`` (closed form, weighted means).
    Returns (n, M, d) for tabular, (M, d) for shared; entries of unused codes are 0."""
    q = check_labelling(mdp, q)
    wq = mdp.trans_weight[:, None] * q  # (T, M) joint mass P(s, s', c)
    if fdm == "tabular":
        mass = np.zeros((mdp.n_states, q.shape[1]))
        np.add.at(mass, mdp.trans_src, wq)
        total = np.zeros(mass.shape + (mdp.trans_disp.shape[1],))
        np.add.at(total, mdp.trans_src, wq[:, :, None] * mdp.trans_disp[:, None, :])
    elif fdm == "shared":
        mass, total = wq.sum(axis=0), wq.T @ mdp.trans_disp
    else:
        raise IdentlamError(f"exact objective field 'fdm': {fdm!r} is not one of {FDM_CLASSES}")
    return np.divide(total, mass[..., None], out=np.zeros_like(total), where=mass[..., None] > 0)


def reconstruction_loss(mdp: TabularMDP, q, fdm="tabular") -> float:
    """L_rec = sum_{s,s'} P(s,s') sum_c q(c|s,s') ||(s' - s) - f(s, c)||^2.

    ``fdm``: a class name (then the optimal member is used) or a given FDM array."""
    q = check_labelling(mdp, q)
    table = fit_fdm(mdp, q, fdm) if isinstance(fdm, str) else np.asarray(fdm, dtype=np.float64)
    n_codes, d = q.shape[1], mdp.trans_disp.shape[1]
    if table.shape == (mdp.n_states, n_codes, d):
        pred = table[mdp.trans_src]  # (T, M, d)
    elif table.shape == (n_codes, d):
        pred = np.broadcast_to(table, (mdp.n_transitions, n_codes, d))
    else:
        raise IdentlamError(f"exact objective field 'fdm': shape {table.shape}, "
                            f"expected ({mdp.n_states}, {n_codes}, {d}) or ({n_codes}, {d})")
    sq = ((mdp.trans_disp[:, None, :] - pred) ** 2).sum(axis=2)
    return float((mdp.trans_weight[:, None] * q * sq).sum())


def entropy_terms(mdp: TabularMDP, q) -> dict[str, float]:
    """The three candidate entropy regularizers, in nats:
    conditional H(Â|S,S'), policy H(Â|S) and marginal H(Â)."""
    q = check_labelling(mdp, q)
    joint_sc = np.zeros((mdp.n_states, q.shape[1]))  # P(s, c)
    np.add.at(joint_sc, mdp.trans_src, mdp.trans_weight[:, None] * q)
    return {
        "conditional": float((mdp.trans_weight * _plogp_sum(q, axis=1)).sum()),
        "policy": float(_plogp_sum(joint_sc) - _plogp_sum(mdp.p_state)),
        "marginal": float(_plogp_sum(joint_sc.sum(axis=0))),
    }


@dataclass(frozen=True)
class ObjectiveValue:
    """L_lambda = reconstruction + lam * entropy, with the choices that produced it."""

    total: float
    reconstruction: float
    entropy: float
    lam: float
    entropy_term: str
    fdm: str


def objective(mdp: TabularMDP, q, lam: float = 0.1, entropy: str = "conditional",
              fdm: str = "tabular") -> ObjectiveValue:
    """The population objective L_lambda(q, f*) with f* the optimal FDM of class ``fdm``."""
    if entropy not in ENTROPY_TERMS:
        raise IdentlamError(f"exact objective field 'entropy': {entropy!r} is not one of {ENTROPY_TERMS}")
    if not np.isfinite(lam) or lam < 0:
        raise IdentlamError(f"exact objective field 'lam': {lam!r} must be finite and >= 0")
    rec = reconstruction_loss(mdp, q, fdm)
    ent = 0.0 if entropy == "none" else entropy_terms(mdp, q)[entropy]
    return ObjectiveValue(rec + lam * ent, rec, ent, float(lam), entropy, fdm)


@dataclass(frozen=True)
class Desiderata:
    """The desiderata D1-D3 in closed form from P(s, a, â) (nats). A desideratum holds when its
    violation is 0: D1 H(Â|S,S'), D2 I(Â;S|A), D3 H(A|Â)."""

    d1_determinism: float  # H(Â|S,S')
    d2_state_invariance: float  # I(Â;S|A) = H(Â|A) - H(Â|S,A)
    d3_injectivity: float  # H(A|Â)
    code_given_action: float  # H(Â|A), the completeness deficit
    used_codes: int

    def broken(self, tol: float = 1e-9) -> tuple[str, ...]:
        """Names of the desiderata whose violation exceeds ``tol``."""
        values = {"D1": self.d1_determinism, "D2": self.d2_state_invariance, "D3": self.d3_injectivity}
        return tuple(name for name, value in values.items() if value > tol)

    def to_dict(self) -> dict:
        return asdict(self)


def desiderata(mdp: TabularMDP, q) -> Desiderata:
    """D1-D3 of labelling ``q`` from the joint P(s, a, â) = p(s) pi(a|s) q(â | s, T(s, a))."""
    q = check_labelling(mdp, q)
    on = mdp.trans_of_sa >= 0
    joint = np.where(on[..., None], mdp.joint_sa()[..., None] * q[np.maximum(mdp.trans_of_sa, 0)], 0.0)
    joint_ac, joint_c = joint.sum(axis=0), joint.sum(axis=(0, 1))
    h_c_given_sa = _plogp_sum(joint) - _plogp_sum(joint.sum(axis=2))
    h_c_given_a = _plogp_sum(joint_ac) - _plogp_sum(joint_ac.sum(axis=1))
    return Desiderata(
        d1_determinism=float((mdp.trans_weight * _plogp_sum(q, axis=1)).sum()),
        d2_state_invariance=float(max(h_c_given_a - h_c_given_sa, 0.0)),
        d3_injectivity=float(max(_plogp_sum(joint_ac) - _plogp_sum(joint_c), 0.0)),
        code_given_action=float(h_c_given_a),
        used_codes=int((joint_c > 1e-12).sum()),
    )


def connected_components(adjacency: np.ndarray) -> np.ndarray:
    """(m,) component id of each node of a symmetric bool (m, m) graph, numbered by first node."""
    labels = -np.ones(len(adjacency), dtype=np.int64)
    count = 0
    for start in range(len(adjacency)):
        if labels[start] >= 0:
            continue
        labels[start], frontier = count, [start]
        while frontier:
            reached = np.flatnonzero(adjacency[frontier].any(axis=0) & (labels < 0))
            labels[reached] = count
            frontier = list(reached)
        count += 1
    return labels


def assumption_report(mdp: TabularMDP, tol: float = 1e-9) -> dict:
    """The assumptions A1-A4 on the tabular DGP, in the shape of synthetic's report.

    A1 (continuity): adjacent states where an action is used move alike (max displacement jump
    <= tol). A2: distinct next states for the actions used at each state (margin = smallest
    displacement gap). A3: each action's support S_a is one component of the adjacency graph.
    A4: every pair of used actions co-occurs, C[a, b] = sum_s p(s) pi(a|s) pi(b|s) > 0."""
    used = mdp.policy > 0
    jumps, components = [], []
    for a in range(mdp.n_actions):
        states = np.flatnonzero(used[:, a])
        pairs = mdp.adjacency[np.ix_(states, states)]
        gaps = np.linalg.norm(mdp.displacement[states, None, a] - mdp.displacement[None, states, a], axis=2)
        jumps.append(float(gaps[pairs].max(initial=0.0)))
        components.append(int(connected_components(pairs).max(initial=-1) + 1))
    margin = np.inf
    for s in range(mdp.n_states):
        acts = np.flatnonzero(used[s])
        for i, a in enumerate(acts):
            for b in acts[i + 1:]:
                same = mdp.next_state[s, a] == mdp.next_state[s, b]
                gap = 0.0 if same else np.linalg.norm(mdp.displacement[s, a] - mdp.displacement[s, b])
                margin = min(margin, gap)
    cooc = mdp.policy.T @ (mdp.p_state[:, None] * mdp.policy)
    active = used.any(axis=0)
    off_diag = ~np.eye(mdp.n_actions, dtype=bool) & active[:, None] & active[None, :]
    return {
        "A1": {"max_jump": max(jumps), "holds": bool(max(jumps) <= tol)},
        "A2": {"margin": float(margin), "holds": bool(margin > tol)},
        "A3": {"components": components, "holds": bool(max(components) <= 1)},
        "A4": {"cooccurrence": cooc, "holds": bool((cooc[off_diag] > 0).all())},
    }
