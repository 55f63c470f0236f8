"""Behaviour policies: goal-directed, state-dependent, with controllable entropy.

Discrete families (pointmass, grid, random) use

    logits_a(s) = b_a + goal_weight · progress_a(s) + state_dependence · f_a(s)
    π(·|s)      = (1 - ε) · softmax(logits / temperature) + ε · uniform,     restricted to the
                  actions the family allows in s (``split_policy``) and renormalized,

where ``b_a`` is the family's fixed preference for action a (zero except in the random family,
where unequal preferences make some actions rare), ``progress_a(s) = (d(s, goal) −
d(T(s, a), goal)) / step`` is how far action a brings the agent towards the goal and ``f_a(s) = sin(2π k_a·s + φ_a)`` are smooth periodic features with
seeded integer frequencies ``k_a`` (so π varies smoothly with the state). ε > 0 keeps the support
full. The continuous (linear) family uses a Gaussian ``u = feedback · B⁺(goal − A s) + τ z``.
"""

from __future__ import annotations

import numpy as np

from synthetic.family import Family


class DiscretePolicy:
    """Softmax behaviour policy over a discrete family's actions."""

    def __init__(self, family: Family, p: dict, rng: np.random.Generator):
        self.family = family
        self.temperature = p["temperature"]
        self.epsilon = p["epsilon"]
        self.goal_weight = p["goal_weight"]
        self.state_dependence = p["state_dependence"]
        K = family.n_actions
        freq = rng.integers(-2, 3, size=(K, family.state_dim))
        freq[np.all(freq == 0, axis=1), 0] = 1  # a constant feature would not depend on s
        self.freq = freq.astype(np.float64)
        self.phase = rng.uniform(0, 2 * np.pi, K)
        self.feature_scale = 1.0 / getattr(family, "size", 1.0)
        self.preference = np.asarray(family.action_preference(), np.float64)

    def logits(self, s: np.ndarray) -> np.ndarray:
        """Unnormalized preferences (n, K) float64 (before temperature)."""
        fam = self.family
        s = np.asarray(s)
        n, K = len(s), fam.n_actions
        out = np.zeros((n, K)) + self.preference
        if self.goal_weight:
            goal = fam.goal(s)
            d0 = fam.distance(s, goal)
            s_rep = np.repeat(s, K, axis=0)
            nxt = fam.transition(s_rep, np.tile(np.arange(K), n))
            d1 = fam.distance(nxt, np.repeat(goal, K, axis=0)).reshape(n, K)
            out += self.goal_weight * (d0[:, None] - d1) / fam.state_step
        if self.state_dependence:
            phase = 2 * np.pi * (np.asarray(s, np.float64) * self.feature_scale) @ self.freq.T
            out += self.state_dependence * np.sin(phase + self.phase)
        return out

    def probs(self, s: np.ndarray) -> np.ndarray:
        """π(a|s), (n, K) float64; rows sum to one; zero exactly where the family forbids a."""
        z = self.logits(s) / self.temperature
        z -= z.max(axis=1, keepdims=True)
        mask = self.family.support_mask(s)
        e = np.exp(z) * mask
        soft = e / e.sum(1, keepdims=True)
        uni = mask / mask.sum(1, keepdims=True)
        return (1 - self.epsilon) * soft + self.epsilon * uni

    def draw(self, rng: np.random.Generator, steps: int) -> dict[str, np.ndarray]:
        """One uniform per step (inverse-CDF sampling), for one episode."""
        return {"policy_u": rng.random(steps)}

    def sample(self, s: np.ndarray, draws: dict[str, np.ndarray]) -> np.ndarray:
        """Actions (n,) int64 from pre-drawn uniforms ``draws['policy_u']`` (n,)."""
        return inverse_cdf(self.probs(s), draws["policy_u"])

    def sample_rng(self, s: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        return self.sample(s, {"policy_u": rng.random(len(s))})


def inverse_cdf(probs: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Index of the first cumulative probability above ``u``: (n,) int64; zero-probability actions never win."""
    cdf = np.cumsum(probs, axis=1)
    return (cdf[:, :-1] <= u[:, None] * cdf[:, -1:]).sum(1).astype(np.int64)


class GaussianPolicy:
    """Linear family: ``u = feedback · B⁺(−A s) + temperature · z`` (the goal is the origin)."""

    def __init__(self, family: Family, p: dict, rng: np.random.Generator):
        self.family = family
        self.std = p["temperature"]
        self.feedback = p["feedback"]
        self.gain = -np.linalg.pinv(family.B) @ family.A  # (m, n): one-step return to the goal

    def mean(self, s: np.ndarray) -> np.ndarray:
        return self.feedback * np.asarray(s, np.float64) @ self.gain.T

    def draw(self, rng: np.random.Generator, steps: int) -> dict[str, np.ndarray]:
        return {"policy_z": rng.standard_normal((steps, self.family.action_dim))}

    def sample(self, s: np.ndarray, draws: dict[str, np.ndarray]) -> np.ndarray:
        """Actions (n, m) float32."""
        return (self.mean(s) + self.std * draws["policy_z"]).astype(np.float32)

    def sample_rng(self, s: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        return self.sample(s, {"policy_z": rng.standard_normal((len(s), self.family.action_dim))})

    def log_density(self, s: np.ndarray, u: np.ndarray) -> np.ndarray:
        """log π(u|s), (n,) float64."""
        z = (np.asarray(u, np.float64) - self.mean(s)) / self.std
        m = self.family.action_dim
        return -0.5 * (z * z).sum(1) - m * np.log(self.std) - 0.5 * m * np.log(2 * np.pi)
