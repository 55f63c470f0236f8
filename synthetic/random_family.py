"""Random families: a seeded draw of an environment inside the identifiability theorem.

``synthetic.make("random-family", family_seed=3)`` always builds the same environment; the seed
names it. From ``family_seed`` alone the generator draws

- the number of actions K ∈ {4, …, 8} and the torus dimension d ∈ {2, 3} (unless ``K`` / ``dim``
  are given);
- one unit direction ``u_a`` per action, at random on the sphere but no two closer than
  ``spread`` × (2π/K) in angle, so that different actions move the state differently;
- a smooth state-dependent gain per action, ``g_a(s) = 1 + γ_a Σ_j c_aj sin(2π k_aj·s + φ_aj) /
  Σ_j |c_aj|`` with integer frequencies ``k_aj`` (periodic on the torus) and ``γ_a`` ∈ [γ/2, γ];
- a fixed preference per action: logits ``log(r^{i/(K−1)})`` for a random order i of the actions,
  with ``r = imbalance`` (default 8), so that the most preferred action is r times as likely as
  the least one (in generated data the rarest action takes 4.5–10% of the steps);
- the observation dimension D ∈ {8, …, 32} of the default observation map ``obs='smooth'``, a
  random C∞ embedding of the torus (see :class:`synthetic.observations.SmoothMap`).

The transition is ``T(s, a) = wrap(s + δ g_a(s) u_a)``. The behaviour policy is the shared
softmax policy (see :mod:`synthetic.policy`) with these preferences, smooth state-dependent
features and a uniform share ε, so every action has full support.

Why A1–A4 hold (``env.assumptions(seed)`` measures each): T is smooth (A1); two actions differ
in direction and gains stay positive, so ``δ g_a u_a ≠ δ g_b u_b`` everywhere (A2, margin at
least about ``δ (1 − γ) · 2 sin(spread·π/K)``); the torus is connected and every action has full
support (A3, A4). ``map_seed`` redraws the policy features and the observation map of the same
dynamics. Images (``obs='image'``) are available when d = 2.
"""

from __future__ import annotations

import numpy as np

from synthetic.errors import SyntheticError
from synthetic.family import Family, torus_delta, wrap_unit
from synthetic.params import COMMON, Param

SCHEMA: dict[str, Param] = {
    "family_seed": Param("int", 0, "seed that draws (names) the family", 0, None),
    "K": Param("int", 0, "number of actions (0: drawn in 4..8 from family_seed)", 0, 16),
    "dim": Param("choice", 0, "torus dimension (0: drawn in 2..3 from family_seed)", choices=(0, 2, 3)),
    "delta": Param("float", 0.05, "mean step length δ", 0.0, 0.2, low_open=True),
    "gain": Param("float", 0.4, "largest amplitude γ of the state-dependent gains", 0.0, 0.9),
    "spread": Param("float", 0.5, "smallest angle between two directions, as a fraction of 2π/K", 0.0, 0.9),
    "imbalance": Param("float", 8.0, "ratio of the largest to the smallest action preference", 1.0, 100.0),
    "noise": Param("float", 0.0, "transition noise σ (std of a Gaussian added to the step)", 0.0, None),
    "obs": Param("choice", "smooth", "observation map", choices=COMMON["obs"].choices),
    "goal_weight": Param("float", 0.0, "behaviour policy: weight of the approach-the-goal logits", 0.0, None),
}

MODES = 2  # Fourier modes per gain


def draw_directions(rng: np.random.Generator, K: int, dim: int, min_angle: float) -> np.ndarray:
    """K random unit vectors in R^dim with pairwise angles ≥ min_angle (rejection sampling)."""
    for _ in range(100_000):
        u = rng.standard_normal((K, dim))
        u /= np.linalg.norm(u, axis=1, keepdims=True)
        cos = np.clip(u @ u.T, -1.0, 1.0)
        np.fill_diagonal(cos, -1.0)
        if np.arccos(cos.max()) >= min_angle:
            return u
    raise SyntheticError(f"parameter 'spread': could not place {K} directions {np.degrees(min_angle):.1f}° apart")


class RandomFamily(Family):
    name = "random"
    periodic = True
    period = 1.0

    @staticmethod
    def structure_seed(p):
        return [p["family_seed"], p["map_seed"]]

    def __init__(self, p, rng):
        super().__init__(p, rng)
        # the dynamics depend on family_seed only; map_seed (in ``rng``) is left to the policy
        # features and the observation map
        draw = np.random.default_rng(np.random.SeedSequence([p["family_seed"], 0x5EED]))
        K, dim = int(draw.integers(4, 9)), int(draw.integers(2, 4))
        obs_dim = int(draw.integers(8, 33))
        self.n_actions = self.K = p["K"] or K
        if self.K < 2:
            raise SyntheticError(f"parameter 'K': needs at least 2 actions, got {self.K}")
        self.state_dim = p["dim"] or dim
        self.default_obs_dim = obs_dim
        self.can_render = self.state_dim == 2
        self.unit_step = self.state_step = p["delta"]
        self.directions = draw_directions(draw, self.K, self.state_dim, p["spread"] * 2 * np.pi / self.K)
        self.gain_amplitude = draw.uniform(p["gain"] / 2, p["gain"], self.K) if p["gain"] else np.zeros(self.K)
        freq = draw.integers(-2, 3, size=(self.K, MODES, self.state_dim))
        dead = ~freq.any(axis=2)
        freq[dead, 0] = 1  # a zero frequency would make that mode a constant
        self.gain_freq = freq.astype(np.float64)
        self.gain_phase = draw.uniform(0, 2 * np.pi, (self.K, MODES))
        coef = draw.uniform(0.5, 1.0, (self.K, MODES)) * draw.choice([-1.0, 1.0], (self.K, MODES))
        self.gain_coef = coef / np.abs(coef).sum(1, keepdims=True)
        order = draw.permutation(self.K)
        self.preference = np.log(p["imbalance"]) * order / max(self.K - 1, 1)

    def gains(self, s: np.ndarray, a: np.ndarray) -> np.ndarray:
        """``g_a(s)`` (n,) float64 in [1 − γ_a, 1 + γ_a]."""
        s = np.asarray(s, np.float64)
        a = np.asarray(a)
        phase = 2 * np.pi * np.einsum("nd,nmd->nm", s, self.gain_freq[a]) + self.gain_phase[a]
        return 1.0 + self.gain_amplitude[a] * (self.gain_coef[a] * np.sin(phase)).sum(1)

    def displacement(self, s: np.ndarray, a: np.ndarray) -> np.ndarray:
        """``δ g_a(s) u_a`` (n, d) float64."""
        a = np.asarray(a)
        return self.p["delta"] * self.gains(s, a)[:, None] * self.directions[a]

    def _step(self, s, a, draws):
        x = np.asarray(s, np.float64) + self.displacement(s, a)
        if draws is not None:
            x = x + self.p["noise"] * draws["state_noise"]
        return wrap_unit(x)

    def goal(self, s):
        return np.full((len(s), self.state_dim), 0.5)

    def sample_support(self, rng, n):
        return wrap_unit(rng.random((n, self.state_dim)))

    def dense_states(self) -> np.ndarray:
        m = 160 if self.state_dim == 2 else 30
        g = np.arange(m) / m
        grids = np.meshgrid(*([g] * self.state_dim), indexing="ij")
        return np.stack(grids, -1).reshape(-1, self.state_dim).astype(np.float32)

    def action_preference(self):
        return self.preference

    def render_positions(self, s):
        return np.asarray(s, np.float64), True

    def action_signature(self, a):
        """The direction's first two coordinates, normalized, for correlated distractors."""
        d = self.directions[np.asarray(a), :2]
        return d / np.maximum(np.linalg.norm(d, axis=1, keepdims=True), 1e-12)

    def step_between(self, s: np.ndarray, s_next: np.ndarray) -> np.ndarray:
        """The observed displacement ``s' − s`` on the torus (minimal image), (n, d) float64."""
        return torus_delta(s, s_next)


def summary(family_seed: int, seed: int = 0, episodes: int = 20, steps: int = 200) -> dict:
    """Drawn sizes, measured A1–A4 and action frequencies in generated data, for one family."""
    from synthetic.registry import make
    from synthetic.trajectories import generate

    env = make("random-family", family_seed=family_seed)
    report = env.assumptions(seed=seed).to_dict()
    actions = np.concatenate([t.actions[:-1] for t in generate(env, episodes=episodes, steps=steps, seed=seed)])
    freq = np.bincount(actions, minlength=env.family.n_actions) / len(actions)
    return {"family_seed": family_seed, "K": env.family.n_actions, "dim": env.family.state_dim,
            "obs_dim": env.spec["obs_shape"][0], "holds": all(report[k]["holds"] for k in ("A1", "A2", "A3", "A4")),
            "lipschitz": report["A1"]["lipschitz"], "margin": report["A2"]["margin"],
            "components": max(report["A3"]["components"]), "cooccurrence": report["A4"]["min_offdiagonal"],
            "rarest": float(freq.min()), "commonest": float(freq.max())}


def main(argv=None) -> None:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m synthetic.random_family",
                                     description="draw random families and measure A1-A4 on each")
    parser.add_argument("--seeds", type=int, default=10, help="family seeds 0..N-1 (default 10)")
    args = parser.parse_args(argv)
    print("seed  K dim obs  A1-A4  lipschitz  A2 margin  A3 comps  A4 min C  rarest  commonest")
    for k in range(args.seeds):
        r = summary(k)
        print(f"{k:>4} {r['K']:>2} {r['dim']:>3} {r['obs_dim']:>3}  {'hold' if r['holds'] else 'FAIL':>5} "
              f"{r['lipschitz']:>10.2f} {r['margin']:>10.4f} {r['components']:>9} {r['cooccurrence']:>9.4f} "
              f"{r['rarest']:>7.3f} {r['commonest']:>10.3f}")


if __name__ == "__main__":
    main()
