"""PointMass-K: a point on the unit torus moved by K displacement actions (see docs/synthetic.md).

``Δ_a = δ (cos 2πa/K, sin 2πa/K)``; the next state is ``wrap(s + Δ_a(s))`` where ``Δ_a(s)`` may
be warped (``1 + w sin 2πs_1``), twisted (rotated by ``θ(s) = (π/2) sin²(πs_0)``) or made
discontinuous (``jump``: an extra shift of ``(jump, 0)`` where ``s_1 ≥ 0.5``). Switches that
break one of the assumptions A1–A4 (continuity, injectivity in the action, connected supports,
co-occurrence; see docs/synthetic.md) each:

- ``walls``: no wrap; positions are clipped to [0, 1]², so pushing into a corner is a no-op for
  two actions at once (A2 off near the walls).
- ``islands``: two discs of radius 0.2 centred at (0.25, 0.5) and (0.75, 0.5) with no
  transitions between them (A3 off). Inside a disc the displaced point is pulled back by a smooth
  injective radial squash (identity up to half the radius), so A1 and A2 still hold; on the
  right island every action's effect is rotated by 90°.
- ``duplicate_action``: action K has the same effect as action 0 (A2 off).
- ``split_policy`` (in the policy): action 0 only where s_0 < 0.5, action 1 only where
  s_0 ≥ 0.5 (A4 off).
- ``jump`` > 0: T(·, a) is discontinuous across s_1 = 0.5 and s_1 = 0 (A1 off).

Reward: minus the (torus) distance to the goal (0.5, 0.5), or to the centre of the agent's island.
"""

from __future__ import annotations

import numpy as np

from synthetic.family import Family, wrap_unit
from synthetic.params import Param

SCHEMA: dict[str, Param] = {
    "K": Param("int", 4, "number of displacement actions", 2, 64),
    "delta": Param("float", 0.05, "step length δ", 0.0, 0.25, low_open=True),
    "noise": Param("float", 0.0, "transition noise σ (std of a Gaussian added to the displacement)", 0.0, None),
    "warp": Param("float", 0.0, "nonlinear warp w: Δ_a(1 + w sin 2πs_1)", 0.0, 1.0, high_open=True),
    "twist": Param("bool", False, "rotate action effects by θ(s) = (π/2) sin²(πs_0)"),
    "islands": Param("bool", False, "two disconnected discs (A3 off); right island rotates effects 90°"),
    "walls": Param("bool", False, "no wrap: clip at the walls (A2 off near the corners)"),
    "duplicate_action": Param("bool", False, "add action K with the effect of action 0 (A2 off)"),
    "split_policy": Param("bool", False, "action 0 only where s_0<0.5, action 1 only where s_0>=0.5 (A4 off)"),
    "jump": Param("float", 0.0, "discontinuous extra shift (jump, 0) where s_1 >= 0.5 (A1 off)", 0.0, 0.5),
}

ISLAND_CENTRES = np.array([[0.25, 0.5], [0.75, 0.5]])
ISLAND_RADIUS = 0.2


def _rotate(v: np.ndarray, theta: np.ndarray | float) -> np.ndarray:
    c, s = np.cos(theta), np.sin(theta)
    return np.stack([c * v[:, 0] - s * v[:, 1], s * v[:, 0] + c * v[:, 1]], axis=1)


def _squash(local: np.ndarray) -> np.ndarray:
    """Radial map R² → open disc of radius R: identity up to R/2, then tanh saturation (C¹, injective)."""
    half = ISLAND_RADIUS / 2
    r = np.sqrt((local * local).sum(1))
    out_r = np.where(r <= half, r, half + half * np.tanh((r - half) / half))
    scale = np.where(r > 0, out_r / np.maximum(r, 1e-300), 1.0)
    return local * scale[:, None]


class PointMass(Family):
    name = "pointmass"
    state_dim = 2

    def __init__(self, p, rng):
        super().__init__(p, rng)
        if p["islands"] and p["walls"]:
            raise_combo("islands", "walls")
        self.K = p["K"]
        self.n_actions = self.K + int(p["duplicate_action"])
        angles = 2 * np.pi * (np.arange(self.n_actions) % self.K) / self.K
        angles[self.K:] = 0.0  # the duplicate copies action 0
        self.directions = np.stack([np.cos(angles), np.sin(angles)], axis=1)
        self.unit_step = self.state_step = p["delta"]
        self.periodic = not p["walls"]
        self.period = None if p["walls"] else 1.0

    def island(self, s: np.ndarray) -> np.ndarray:
        """Island index (0 left, 1 right) of each state, (n,) int64."""
        return (np.asarray(s)[:, 0] >= 0.5).astype(np.int64)

    def displacement(self, s: np.ndarray, a: np.ndarray) -> np.ndarray:
        """``Δ_a(s)`` in float64, (n, 2), before boundary handling."""
        p = self.p
        s = np.asarray(s, np.float64)
        d = p["delta"] * self.directions[np.asarray(a)]
        if p["warp"]:
            d = d * (1.0 + p["warp"] * np.sin(2 * np.pi * s[:, 1]))[:, None]
        if p["twist"]:
            d = _rotate(d, (np.pi / 2) * np.sin(np.pi * s[:, 0]) ** 2)
        if p["islands"]:
            d = _rotate(d, (np.pi / 2) * self.island(s))
        if p["jump"]:
            d = d + np.stack([p["jump"] * (s[:, 1] >= 0.5), np.zeros(len(s))], axis=1)
        return d

    def _step(self, s, a, draws):
        s64 = np.asarray(s, np.float64)
        x = s64 + self.displacement(s64, a)
        if draws is not None:
            x = x + self.p["noise"] * draws["state_noise"]
        if self.p["walls"]:
            return np.clip(x, 0.0, 1.0).astype(np.float32)
        if self.p["islands"]:
            centre = ISLAND_CENTRES[self.island(s64)]
            return (centre + _squash(x - centre)).astype(np.float32)
        return wrap_unit(x)

    def goal(self, s):
        if self.p["islands"]:
            return ISLAND_CENTRES[self.island(s)]
        return np.full((len(s), 2), 0.5)

    def contains(self, s):
        s = np.asarray(s, np.float64)
        if self.p["islands"]:
            d = s[:, None, :] - ISLAND_CENTRES[None]
            return ((d * d).sum(-1) < ISLAND_RADIUS**2).any(1)
        if self.p["walls"]:
            return ((s >= 0) & (s <= 1)).all(1)
        return np.ones(len(s), bool)

    def support_mask(self, s):
        mask = np.ones((len(s), self.n_actions), bool)
        if self.p["split_policy"]:
            left = np.asarray(s)[:, 0] < 0.5
            mask[:, 0] = left
            mask[:, 1] = ~left
        return mask

    def sample_support(self, rng, n):
        """States drawn uniformly from the state space (the discs for islands), (n, 2) float32."""
        if self.p["islands"]:
            which = rng.integers(0, 2, n)
            r = ISLAND_RADIUS * np.sqrt(rng.random(n)) * (1 - 1e-6)
            phi = 2 * np.pi * rng.random(n)
            pts = ISLAND_CENTRES[which] + r[:, None] * np.stack([np.cos(phi), np.sin(phi)], 1)
            return pts.astype(np.float32)
        return wrap_unit(rng.random((n, 2))) if self.periodic else rng.random((n, 2)).astype(np.float32)

    def dense_states(self, m: int = 160) -> np.ndarray:
        """A regular grid over the state space (walls: boundary and corners included)."""
        if self.p["walls"]:
            g = np.linspace(0.0, 1.0, m)
        else:
            g = np.arange(m) / m
        pts = np.stack(np.meshgrid(g, g, indexing="ij"), -1).reshape(-1, 2)
        if self.p["islands"]:
            d = pts[:, None, :] - ISLAND_CENTRES[None]
            inside = ((d * d).sum(-1) <= ISLAND_RADIUS**2).any(1)
            pts = pts[inside]
        return pts.astype(np.float32)

    def render_positions(self, s):
        """Positions on the unit square for the renderer, and whether they wrap."""
        return np.asarray(s, np.float64), self.periodic

    def action_signature(self, a):
        """A fixed function of the action on R² (its unit direction) for correlated distractors."""
        return self.directions[np.asarray(a)]


def raise_combo(a: str, b: str):
    from synthetic.errors import SyntheticError

    raise SyntheticError(f"parameter '{a}': cannot be combined with '{b}'")
