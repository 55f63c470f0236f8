"""What every dynamics family provides to the environment, the policy and the checkers.

Conventions: states are ``(n, S)`` float32 arrays, discrete actions ``(n,)`` int64, continuous
actions ``(n, A)`` float32. Dynamics are computed in float64 from the float32 state and rounded
back to float32, so replaying a stored action from a stored state reproduces the stored next
state bit for bit. Every random draw comes from a ``np.random.Generator`` passed in.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

import numpy as np


def wrap_unit(x: np.ndarray) -> np.ndarray:
    """Coordinates modulo 1 as float32 in [0, 1) (float32 rounding may produce 1.0: map it to 0)."""
    out = np.mod(x, 1.0).astype(np.float32)
    out[out >= 1.0] = 0.0
    return out


def torus_delta(x: np.ndarray, y: np.ndarray, period: float = 1.0) -> np.ndarray:
    """Minimal-image difference ``y - x`` on a torus of the given period, elementwise."""
    d = np.asarray(y, np.float64) - np.asarray(x, np.float64)
    return d - period * np.round(d / period)


class Family(ABC):
    """Base class: the deterministic transition, its noise, reward, metric and samplers.

    Subclasses set ``name``, ``action_space`` ("discrete" | "continuous"), ``n_actions`` or
    ``action_dim``, ``state_dim``, ``periodic`` (coordinates live on the unit torus),
    ``discrete_states``, ``state_step`` (the agent's step in state units), ``unit_step`` (the
    agent's step measured on the unit square, which scales the distractors) and ``period`` (torus period of the metric, or None).
    """

    name = "family"
    action_space = "discrete"
    n_actions = 0
    action_dim = 0
    state_dim = 2
    periodic = False
    discrete_states = False
    unit_step = 0.05
    state_step = 0.05
    period: float | None = None
    can_render = True
    default_obs_dim = 16  # obs='smooth' with obs_dim=0

    @staticmethod
    def structure_seed(p: dict[str, Any]):
        """Seed material of the fixed random structure (family, policy features, observation map)."""
        return p["map_seed"]

    def __init__(self, p: dict[str, Any], rng: np.random.Generator):
        self.p = p

    # --- dynamics ---------------------------------------------------------------------------
    def transition(self, s: np.ndarray, a: np.ndarray) -> np.ndarray:
        """Deterministic next states ``T(s, a)``: (n, S) float32."""
        return self._step(s, a, None)

    def step(self, s: np.ndarray, a: np.ndarray, draws: dict[str, np.ndarray] | None) -> np.ndarray:
        """Next states with the transition noise given by pre-drawn ``draws`` (rows of draw_noise)."""
        return self._step(s, a, draws if self.p["noise"] > 0 else None)

    def draw_noise(self, rng: np.random.Generator, steps: int) -> dict[str, np.ndarray]:
        """Per-step random numbers of the transition noise for one episode (empty if noise=0)."""
        if self.p["noise"] <= 0:
            return {}
        return {"state_noise": rng.standard_normal((steps, self.state_dim))}

    @abstractmethod
    def _step(self, s: np.ndarray, a: np.ndarray, draws: dict | None) -> np.ndarray:
        """Next states (n, S) float32; ``draws`` is None for the deterministic part."""

    # --- geometry ---------------------------------------------------------------------------
    def distance(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Metric of the state space, (n,) float64 (minimal image on a torus)."""
        if self.period is not None:
            d = torus_delta(x, y, self.period)
        else:
            d = np.asarray(y, np.float64) - np.asarray(x, np.float64)
        return np.sqrt((d * d).sum(-1))

    def reward(self, s: np.ndarray) -> np.ndarray:
        """Reward of arriving in ``s``: minus the distance to the goal, (n,) float32."""
        return (-self.distance(s, self.goal(s))).astype(np.float32)

    @abstractmethod
    def goal(self, s: np.ndarray) -> np.ndarray:
        """Goal position that the reward measures against, for each state: (n, S) float64."""

    @abstractmethod
    def sample_support(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """States drawn from (a superset of) the data support, (n, S) float32."""

    @abstractmethod
    def dense_states(self) -> np.ndarray:
        """A dense deterministic sample of the state space for the A2 margin, (n, S) float32."""

    @abstractmethod
    def action_signature(self, a: np.ndarray) -> np.ndarray:
        """A fixed function of the action on R², (n, 2) float64, copied by correlated distractors."""

    def initial_state(self, rng: np.random.Generator) -> np.ndarray:
        """One initial state (S,) float32, drawn from ``rng``."""
        return self.sample_support(rng, 1)[0]

    def contains(self, s: np.ndarray) -> np.ndarray:
        """Which states lie in the state space, (n,) bool (everything by default)."""
        return np.ones(len(s), bool)

    def action_preference(self) -> np.ndarray:
        """State-independent logits the behaviour policy adds per action, (K,) (none by default)."""
        return np.zeros(self.n_actions)

    def support_mask(self, s: np.ndarray) -> np.ndarray:
        """Actions the behaviour policy may take in each state, (n, K) bool (all by default)."""
        return np.ones((len(s), self.n_actions), bool)
