"""Linear system ``s' = A s + B u + σ ε`` with continuous actions u ∈ R^m (Zhang et al.'s setting).

``A = decay · Q`` with Q a random orthogonal matrix (spectral radius ``decay`` < 1: stable) and
``B = step · V`` with V having orthonormal columns (m ≤ n: B has full column rank, so the action
is readable from the transition; m > n makes A2 fail, and the checker measures it). ``K`` is the
action dimension m. Behaviour policy: Gaussian, ``u = feedback · B⁺(−A s) + temperature · z``.
Reward: ``−‖s‖`` (the goal is the origin). Continuous actions lie outside the identifiability
theorem (finite action sets); the assumption report says so.
"""

from __future__ import annotations

import numpy as np
from scipy.linalg import solve_discrete_lyapunov

from synthetic.family import Family
from synthetic.params import Param

SCHEMA: dict[str, Param] = {
    "K": Param("int", 2, "action dimension m", 1, 64),
    "state_dim": Param("int", 4, "state dimension n", 1, 256),
    "decay": Param("float", 0.9, "spectral radius of A", 0.0, 1.0, high_open=True),
    "step": Param("float", 0.1, "scale of B (columns of norm step)", 0.0, None, low_open=True),
    "feedback": Param("float", 0.5, "behaviour policy: gain of the state feedback towards the origin", 0.0, 1.0),
    "noise": Param("float", 0.0, "transition noise σ", 0.0, None),
}


class Linear(Family):
    name = "linear"
    action_space = "continuous"
    can_render = False

    def __init__(self, p, rng):
        super().__init__(p, rng)
        n, m = p["state_dim"], p["K"]
        self.state_dim, self.action_dim = n, m
        q, _ = np.linalg.qr(rng.standard_normal((n, n)))
        self.A = p["decay"] * q
        v, _ = np.linalg.qr(rng.standard_normal((max(n, m), max(n, m))))
        self.B = p["step"] * v[:n, :m] * (np.sqrt(max(n, m) / n) if m > n else 1.0)
        self.state_step = self.unit_step = p["step"]
        proj, _ = np.linalg.qr(rng.standard_normal((max(m, 2), max(m, 2))))
        self.signature = proj[:2, :m]  # (2, m): the fixed function of u copied by distractors

    def _step(self, s, a, draws):
        s64 = np.asarray(s, np.float64)
        u = np.asarray(a, np.float32).astype(np.float64)
        # explicit sums keep the result independent of batch shape (BLAS may reorder sums)
        x = np.zeros_like(s64)
        for j in range(self.state_dim):
            x += s64[:, j:j + 1] * self.A[:, j]
        for j in range(self.action_dim):
            x += u[:, j:j + 1] * self.B[:, j]
        if draws is not None:
            x += self.p["noise"] * draws["state_noise"]
        return x.astype(np.float32)

    def goal(self, s):
        return np.zeros((len(s), self.state_dim))

    def stationary_cov(self) -> np.ndarray:
        """Covariance of s under open-loop Gaussian actions (std = temperature)."""
        q = self.p["temperature"] ** 2 * self.B @ self.B.T + (self.p["noise"] ** 2 + 1e-6) * np.eye(self.state_dim)
        return solve_discrete_lyapunov(self.A, q)

    def sample_support(self, rng, n):
        chol = np.linalg.cholesky(self.stationary_cov())
        return (rng.standard_normal((n, self.state_dim)) @ chol.T).astype(np.float32)

    def initial_state(self, rng):
        return (0.5 * rng.standard_normal(self.state_dim)).astype(np.float32)

    def dense_states(self):
        return self.sample_support(np.random.default_rng(0), 4096)

    def action_signature(self, a):
        return np.asarray(a, np.float64) @ self.signature.T
