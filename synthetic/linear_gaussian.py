"""The linear-Gaussian setting of linear latent action models: ``o' = o + Q a + σ ε``.

Observations live in R^D (``obs_dim``; the state *is* the observation with the default
``obs='identity'``), actions in R^A (``K``, the fixed key for the action dimension) with
``a ~ N(0, temperature² I_A)`` drawn independently of ``o``. ``Q`` (D x A, ``Q^T Q = I``) is a seeded
orthonormal action embedding and ``ε ~ N(0, I_D)`` optional noise on the next observation.

Episodes start at ``o_0 ~ N(0, I_D)``, so with ``--steps 2`` every transition is an independent
draw of exactly the analysed setting (o ~ N(0, I), a ~ N(0, I), independent). Longer episodes
are a random walk: ``o_t`` still is independent of ``a_t``, but its covariance grows along Q
(``I + t (QQ^T + σ² I)``), which the analysis does not assume; the linear-LAM experiment uses
``--steps 2``. Reward: ``-‖o‖`` (no task; it only fills the dataset's reward field).
"""

from __future__ import annotations

import numpy as np

from synthetic.errors import SyntheticError
from synthetic.family import Family
from synthetic.params import Param

SCHEMA: dict[str, Param] = {
    "K": Param("int", 2, "action dimension A", 1, 64),
    "obs_dim": Param("int", 8, "observation dimension D (at least K: Q has orthonormal columns)", 1, 4096),
    "noise": Param("float", 0.0, "standard deviation σ of the Gaussian noise on o'", 0.0, None),
    "feedback": Param("float", 0.0, "behaviour policy: gain pulling Q^T o towards 0 (0 = actions independent of o)",
                      0.0, 1.0),
}


class LinearGaussian(Family):
    name = "linear-gaussian"
    action_space = "continuous"
    can_render = False

    def __init__(self, p, rng):
        super().__init__(p, rng)
        d, a = p["obs_dim"], p["K"]
        if a > d:
            raise SyntheticError(f"parameter 'K': the action dimension must be <= obs_dim ({d}) for an orthonormal "
                                 f"embedding Q, got {a}")
        self.state_dim, self.action_dim = d, a
        q, _ = np.linalg.qr(rng.standard_normal((d, a)))  # (D, A), Q^T Q = I
        self.Q = q
        # what the Gaussian behaviour policy reads: u = feedback * B^+ (-A s) + temperature * z
        self.A, self.B = np.eye(d), q
        self.state_step = self.unit_step = 1.0
        proj, _ = np.linalg.qr(rng.standard_normal((max(a, 2), max(a, 2))))
        self.signature = proj[:2, :a]  # (2, A): the fixed function of a copied by distractors

    def _step(self, s, a, draws):
        x = np.asarray(s, np.float64).copy()
        u = np.asarray(a, np.float32).astype(np.float64)
        # explicit sums keep the result independent of batch shape (BLAS may reorder sums)
        for j in range(self.action_dim):
            x += u[:, j:j + 1] * self.Q[:, j]
        if draws is not None:
            x += self.p["noise"] * draws["state_noise"]
        return x.astype(np.float32)

    def goal(self, s):
        return np.zeros((len(s), self.state_dim))

    def sample_support(self, rng, n):
        return rng.standard_normal((n, self.state_dim)).astype(np.float32)

    def dense_states(self):
        return self.sample_support(np.random.default_rng(0), 4096)

    def action_signature(self, a):
        return np.asarray(a, np.float64) @ self.signature.T
