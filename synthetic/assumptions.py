"""Numerical checks of the identifiability assumptions A1–A4 on an environment.

A1 continuity of ``s ↦ T(s, a)``; A2 injectivity in the action (different actions lead to
different next states); A3 connected supports (the states where each action is taken form one
connected set); A4 co-occurrence (every pair of actions is taken in some common state). What
each buys is in docs/synthetic.md, "The assumptions A1–A4 and what they buy".

Every number is measured by evaluating the environment's transition and policy on samples; no
check reads a switch. Conventions: distances use the family's state metric (minimal image on a
torus); "support" samples come from ``family.sample_support`` (uniform on the state space, or the
stationary Gaussian of the linear system).

- A1 continuity: empirical Lipschitz constants ``max d(T(x,a), T(y,a)) / d(x,y)`` over random
  pairs at two separations η (1e-2 and 1e-3 state units). Holds if the small-scale constant is
  at most ``max_lipschitz`` and at most twice the large-scale one: a jump J shows up as J/η,
  growing tenfold when η shrinks tenfold, a Lipschitz map does not.
- A2 action injectivity: margin ``min_s min_{a≠a'} d(T(s,a), T(s,a'))`` over a dense grid of
  states, for action pairs both in the policy's support at s. Holds if margin > ``tol_margin``
  times the agent's step. Continuous actions: the smallest singular value of the numerical
  Jacobian of u ↦ T(s, u), minimized over states.
- A3 connectivity: per action a, the number of connected components (scipy.sparse.csgraph) of
  the r-neighbourhood graph on sampled states where π(a|s) > 0, with r = 5 × the median
  nearest-neighbour distance; components holding fewer than 1% of the points are reported but
  not counted. Holds if every action has one component.
- A4 co-occurrence: ``C[a,a'] = E_s[π(a|s) π(a'|s)]``; holds if every off-diagonal entry
  exceeds ``tol_cooccurrence``.

``scope`` records whether the environment lies inside the theorem's data-generating process at
all: discrete actions, a continuous state space, deterministic transitions (measured by stepping
twice with different noise draws) and no stochastic exogenous variables in the observation.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree

from synthetic.family import wrap_unit


@dataclass
class AssumptionReport:
    """Measured A1–A4 and the scope of the theorem for one environment."""

    env_id: str
    checks: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def holds(self) -> dict[str, bool]:
        return {k: bool(v["holds"]) for k, v in self.checks.items()}

    def to_dict(self) -> dict[str, Any]:
        """JSON-able: {"A1": {..., "holds": bool}, ..., "A4": {...}, "scope": {..., "holds": bool}}."""
        return {k: _jsonable(v) for k, v in self.checks.items()}


def _jsonable(x):
    if isinstance(x, dict):
        return {str(k): _jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_jsonable(v) for v in x]
    if isinstance(x, np.ndarray):
        return _jsonable(x.tolist())
    if isinstance(x, (np.bool_, bool)):
        return bool(x)
    if isinstance(x, (np.integer,)):
        return int(x)
    if isinstance(x, (float, np.floating)):
        x = float(x)
        return x if np.isfinite(x) else (None if np.isnan(x) else ("inf" if x > 0 else "-inf"))
    return x


def check(env, seed: int = 0, n_pairs: int = 20000, n_support: int = 3000, max_lipschitz: float = 20.0,
          tol_margin: float = 0.01, tol_cooccurrence: float = 1e-6) -> AssumptionReport:
    """Measure A1–A4 on ``env`` with samples drawn from ``seed`` (see module docstring)."""
    rng = np.random.default_rng(seed)
    fam = env.family
    report = AssumptionReport(env.spec["env_id"])
    c = report.checks
    c["A1"] = _continuity(env, rng, n_pairs, max_lipschitz)
    c["A2"] = _injectivity(env, rng, tol_margin)
    c["A3"] = _connectivity(env, rng, n_support)
    c["A4"] = _cooccurrence(env, rng, n_support, tol_cooccurrence)
    c["scope"] = _scope(env, rng)
    if fam.discrete_states:
        note = ("discrete state space: the theorem needs a continuous, connected support; every state "
                "is its own component, so a code may change meaning from state to state")
        for k in ("A1", "A3"):
            c[k]["in_scope"], c[k]["note"] = False, note
    if fam.action_space == "continuous":
        note = "continuous actions: outside the theorem (a finite codebook cannot be injective)"
        for k in ("A2", "A3", "A4"):
            c[k]["in_scope"], c[k]["note"] = False, note
    return report


def _actions_for(env, rng, n):
    fam = env.family
    if fam.action_space == "discrete":
        return rng.integers(0, fam.n_actions, n)
    return (rng.standard_normal((n, fam.action_dim)) * env.params["temperature"]).astype(np.float32)


def _continuity(env, rng, n_pairs, max_lipschitz):
    fam = env.family
    if fam.discrete_states:
        s = fam.dense_states()
        worst = 0.0
        for move in np.array([[1, 0], [0, 1]], np.float32):
            t = s + move
            keep = (t < fam.size).all(1)
            for a in range(fam.n_actions):
                aa = np.full(keep.sum(), a)
                num = fam.distance(fam.transition(s[keep], aa), fam.transition(t[keep], aa))
                worst = max(worst, float((num / fam.distance(s[keep], t[keep])).max()))
        return {"holds": worst <= max_lipschitz, "lipschitz_lattice": worst, "max_lipschitz": max_lipschitz}
    out = {}
    for eta in (1e-2, 1e-3):
        x = fam.sample_support(rng, n_pairs)
        u = rng.standard_normal(x.shape)
        u /= np.linalg.norm(u, axis=1, keepdims=True)
        y = x.astype(np.float64) + eta * u
        y = wrap_unit(y) if fam.periodic else y.astype(np.float32)
        keep = fam.contains(y)
        x, y = x[keep], y[keep]
        a = _actions_for(env, rng, len(x))
        d_in = fam.distance(x, y)
        ok = d_in > eta / 2  # pairs torn apart by float32 rounding are meaningless
        ratio = fam.distance(fam.transition(x, a), fam.transition(y, a))[ok] / d_in[ok]
        out[eta] = float(ratio.max())
    small, large = out[1e-3], out[1e-2]
    holds = small <= max_lipschitz and small <= 2.0 * max(large, 1.0)
    return {"holds": holds, "lipschitz": small, "lipschitz_at_1e-2": large, "lipschitz_at_1e-3": small,
            "max_lipschitz": max_lipschitz}


def _injectivity(env, rng, tol_margin):
    fam = env.family
    tol = tol_margin * fam.state_step
    s = fam.dense_states()
    if fam.action_space == "continuous":
        m, h = fam.action_dim, 1e-2
        base = fam.transition(s, np.zeros((len(s), m), np.float32)).astype(np.float64)
        jac = np.stack([(fam.transition(s, np.tile(np.eye(m, dtype=np.float32)[j] * h, (len(s), 1))) - base) / h
                        for j in range(m)], axis=2)  # (n, S, m)
        sv = np.linalg.svd(jac, compute_uv=False)  # (n, min(S, m))
        smallest = sv[:, -1] if m <= fam.state_dim else np.zeros(len(s))
        return {"holds": float(smallest.min()) > tol, "margin": float(smallest.min()), "tolerance": tol,
                "measure": "min_s smallest singular value of dT(s,u)/du"}
    K = fam.n_actions
    nxt = np.stack([fam.transition(s, np.full(len(s), a)) for a in range(K)], axis=1)  # (n, K, S)
    support = env.policy.probs(s) > 0
    pair_min = np.full((K, K), np.inf)
    margin, where = np.inf, None
    for a in range(K):
        for b in range(a + 1, K):
            both = support[:, a] & support[:, b]
            if not both.any():
                continue
            d = fam.distance(nxt[both, a], nxt[both, b])
            i = int(np.argmin(d))
            pair_min[a, b] = pair_min[b, a] = d[i]
            if d[i] < margin:
                margin, where = float(d[i]), (s[both][i].tolist(), a, b)
    out = {"holds": margin > tol, "margin": margin, "tolerance": tol, "pair_margin": pair_min,
           "n_states": len(s)}
    if where is not None:
        out["argmin_state"], out["argmin_actions"] = where[0], [where[1], where[2]]
    return out


def _components(points: np.ndarray, fam, radius: float | None) -> tuple[int, list[int], float]:
    """Component sizes of the r-neighbourhood graph (largest first) and the radius used."""
    box = 1.0 if fam.periodic else None
    tree = cKDTree(points, boxsize=box)
    if radius is None:
        nn, _ = tree.query(points, k=2)
        radius = 5.0 * float(np.median(nn[:, 1]))
    graph = tree.sparse_distance_matrix(tree, radius, output_type="coo_matrix")
    n, labels = connected_components(graph, directed=False)
    sizes = sorted(np.bincount(labels).tolist(), reverse=True)
    return n, sizes, radius


def _connectivity(env, rng, n_support):
    fam = env.family
    if fam.discrete_states:
        s, radius = fam.dense_states().astype(np.float64), 0.5  # below the lattice spacing
    else:
        s, radius = fam.sample_support(rng, n_support).astype(np.float64), None
    if fam.periodic:
        s = np.mod(s, 1.0)
    if fam.action_space == "continuous":
        n, sizes, r = _components(s, fam, radius)
        big = sum(z >= max(5, 0.01 * len(s)) for z in sizes)
        return {"holds": big == 1, "components": [big], "raw_components": [n], "radius": r}
    probs = env.policy.probs(s.astype(np.float32))
    comps, raw, sizes_all, radii = [], [], [], []
    for a in range(fam.n_actions):
        pts = s[probs[:, a] > 0]
        if len(pts) < 2:
            comps.append(len(pts)), raw.append(len(pts)), sizes_all.append([len(pts)]), radii.append(0.0)
            continue
        n, sizes, r = _components(pts, fam, radius)
        threshold = 1 if fam.discrete_states else max(5, 0.01 * len(pts))
        comps.append(sum(z >= threshold for z in sizes))
        raw.append(n)
        sizes_all.append(sizes[:10])
        radii.append(r)
    return {"holds": all(k == 1 for k in comps), "components": comps, "raw_components": raw,
            "largest_component_sizes": sizes_all, "radius": radii}


def _cooccurrence(env, rng, n_support, tol):
    fam = env.family
    s = fam.sample_support(rng, n_support)
    if fam.action_space == "continuous":
        u = _actions_for(env, rng, len(s))
        logp = env.policy.log_density(s, u)
        return {"holds": bool(np.isfinite(logp).all()), "min_log_density": float(logp.min()),
                "measure": "Gaussian policy density at sampled (s, u)"}
    p = env.policy.probs(s)
    C = p.T @ p / len(s)
    off = C + np.diag(np.full(len(C), np.inf))
    i, j = np.unravel_index(np.argmin(off), off.shape)
    return {"holds": float(off[i, j]) > tol, "min_offdiagonal": float(off[i, j]), "argmin_actions": [int(i), int(j)],
            "tolerance": tol, "cooccurrence": C}


def _scope(env, rng):
    """Is the environment inside the theorem's DGP? Determinism is measured, not read."""
    fam = env.family
    n = 256
    s = fam.sample_support(rng, n)
    a = _actions_for(env, rng, n)
    twice = [fam.step(s, a, fam.draw_noise(np.random.default_rng(i), n) or None) for i in (1, 2)]
    state_det = bool(np.array_equal(twice[0], twice[1]))
    exo_det = True
    if env.exo_dim:
        e = np.stack([env._initial_exo(rng) for _ in range(n)])
        outs = []
        for i in (1, 2):
            r = np.random.default_rng(i)
            draws = [proc.draw(r, n) for _, proc in env.processes]
            outs.append(env._step_exo(e, a, draws))
        exo_det = bool(np.array_equal(outs[0], outs[1]))
    notes = []
    if not state_det:
        notes.append("stochastic state transitions: outside the DGP (codes get spent on the noise)")
    if not exo_det:
        notes.append(("stochastic exogenous variables enter the observation: outside the DGP "
                     "(codes get spent on the distractor)"))
    if fam.discrete_states:
        notes.append("discrete states: no identifiability guarantee")
    if fam.action_space == "continuous":
        notes.append("continuous actions: no identifiability guarantee")
    inside = state_det and exo_det and not fam.discrete_states and fam.action_space == "discrete"
    return {"holds": inside, "state_transition_deterministic": state_det, "exo_deterministic": exo_det,
            "action_space": fam.action_space, "state_space": "discrete" if fam.discrete_states else "continuous",
            "notes": notes}
