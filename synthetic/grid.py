"""Grid world: an N×N lattice of cells with 4 moves (right, up, left, down) or 5 (plus stay).

States are integer cell coordinates (i, j) stored as float32. Borders either block (a move into
the border leaves the agent where it is, so at a corner two moves coincide and with ``stay`` every
border cell merges a move with staying: A2 off at the borders) or wrap around. ``noise`` is the
probability that the executed move is replaced by a uniformly random one (a slip). States are
discrete, so the identifiability theorem does not apply: every cell is its own connected
component, so connectivity (A3) cannot tie a code's meaning across cells. Reward: minus the (wrapped, if borders wrap) distance to the centre cell
(N//2, N//2), divided by N.
"""

from __future__ import annotations

import numpy as np

from synthetic.family import Family
from synthetic.params import Param

SCHEMA: dict[str, Param] = {
    "K": Param("choice", 4, "4 moves, or 5 with 'stay'", choices=(4, 5)),
    "size": Param("int", 8, "side N of the grid", 2, 256),
    "borders": Param("choice", "block", "block (moves into a border are no-ops) | wrap", choices=("block", "wrap")),
    "noise": Param("float", 0.0, "slip probability: the move is replaced by a uniform random one", 0.0, 1.0),
}

MOVES = np.array([[1, 0], [0, 1], [-1, 0], [0, -1], [0, 0]], np.float64)


class Grid(Family):
    name = "grid"
    discrete_states = True
    state_dim = 2
    state_step = 1.0

    def __init__(self, p, rng):
        super().__init__(p, rng)
        self.size = p["size"]
        self.n_actions = p["K"]
        self.wrap = p["borders"] == "wrap"
        self.period = float(self.size) if self.wrap else None
        self.unit_step = 1.0 / self.size

    def draw_noise(self, rng, steps):
        if self.p["noise"] <= 0:
            return {}
        return {"slip": rng.random(steps), "slip_action": rng.integers(0, self.n_actions, steps)}

    def _step(self, s, a, draws):
        a = np.asarray(a)
        if draws is not None:
            a = np.where(draws["slip"] < self.p["noise"], draws["slip_action"], a)
        x = np.asarray(s, np.float64) + MOVES[a]
        if self.wrap:
            x = np.mod(x, self.size)
        else:
            x = np.clip(x, 0, self.size - 1)
        return x.astype(np.float32)

    def goal(self, s):
        return np.full((len(s), 2), float(self.size // 2))

    def reward(self, s):
        return (-self.distance(s, self.goal(s)) / self.size).astype(np.float32)

    def sample_support(self, rng, n):
        return rng.integers(0, self.size, (n, 2)).astype(np.float32)

    def dense_states(self):
        g = np.arange(self.size)
        return np.stack(np.meshgrid(g, g, indexing="ij"), -1).reshape(-1, 2).astype(np.float32)

    def render_positions(self, s):
        """Cell centres on the unit square; never wrapped (a wrapping move jumps across the image)."""
        return (np.asarray(s, np.float64) + 0.5) / self.size, False

    def action_signature(self, a):
        return MOVES[np.asarray(a)]
