"""Exogenous processes: distractors that enter the observation but never the agent's state.

Every process lives on the unit torus [0, 1)^E (so it stays bounded and renders as sprites) and
moves by steps of size ``scale`` (the agent's step times ``distractor_scale``):

- ``iid``: a fresh uniform position every step (its change ignores the action).
- ``markov``: a Gaussian random walk ``e' = wrap(e + scale · z)``.
- ``correlated``: each step, with probability ρ the change is ``scale · f(a_t)``, a fixed
  function of the action (the action's direction on R², repeated over the E coordinates);
  otherwise it is ``scale · f(ã)`` with ``ã`` drawn independently of everything (uniform over
  the actions, or a Gaussian draw for continuous actions). ρ = 0 makes the change independent of
  the action; ρ = 1 makes it a deterministic function of the action.

The moving image background is a ``lattice`` process: a random walk of the texture offset by
-1, 0 or +1 pixel per axis and step (so the offset, recorded in ``exo`` after the distractor
coordinates as pixels / image size, is exact and renders without interpolation).
"""

from __future__ import annotations

import numpy as np

from synthetic.family import Family, wrap_unit

EXO_PERIOD = 1.0  # every exogenous coordinate lives on the unit torus


class ExoProcess:
    """One exogenous process of dimension ``dim`` on the unit torus."""

    def __init__(self, kind: str, dim: int, scale: float, rho: float = 0.0, family: Family | None = None):
        self.kind, self.dim, self.scale, self.rho, self.family = kind, dim, scale, rho, family

    def initial(self, rng: np.random.Generator) -> np.ndarray:
        """Initial position (dim,) float32, uniform on the torus (on its lattice for ``lattice``)."""
        if self.kind == "lattice":
            return wrap_unit(rng.integers(0, round(1 / self.scale), self.dim) * self.scale)
        return wrap_unit(rng.random(self.dim))

    def draw(self, rng: np.random.Generator, steps: int) -> dict[str, np.ndarray]:
        """All random numbers one episode needs, drawn up front (so batching never changes them)."""
        if self.kind == "iid":
            return {"uniform": rng.random((steps, self.dim))}
        if self.kind == "markov":
            return {"normal": rng.standard_normal((steps, self.dim))}
        if self.kind == "lattice":
            return {"move": rng.integers(-1, 2, (steps, self.dim))}
        gate = rng.random(steps)
        fam = self.family
        if fam.action_space == "discrete":
            alt = rng.integers(0, fam.n_actions, steps)
        else:
            alt = rng.standard_normal((steps, fam.action_dim)) * self.alt_std
        return {"gate": gate, "alt": alt}

    @property
    def alt_std(self) -> float:
        return self.family.p["temperature"]

    def change_of(self, a: np.ndarray) -> np.ndarray:
        """``scale · f(a)``: (n, dim) float64, the action-copying change."""
        sig = self.family.action_signature(a)
        reps = -(-self.dim // 2)
        return self.scale * np.tile(sig, (1, reps))[:, : self.dim]

    def step(self, e: np.ndarray, a: np.ndarray, draws: dict[str, np.ndarray]) -> np.ndarray:
        """Next positions (n, dim) float32 given current ``e`` (n, dim), actions and one step of draws."""
        if self.kind == "iid":
            return wrap_unit(draws["uniform"])
        e64 = np.asarray(e, np.float64)
        if self.kind == "markov":
            return wrap_unit(e64 + self.scale * draws["normal"])
        if self.kind == "lattice":
            return wrap_unit(e64 + self.scale * draws["move"])
        copy = draws["gate"] < self.rho
        a = np.asarray(a)
        mask = copy if a.ndim == 1 else copy[:, None]
        chosen = np.where(mask, a, draws["alt"])
        return wrap_unit(e64 + self.change_of(chosen))


def exo_processes(p: dict, family: Family) -> list[tuple[str, ExoProcess]]:
    """The processes of an environment, in the order of their columns in ``exo``."""
    out = []
    if p["distractor"] != "none":
        out.append(("distractor", ExoProcess(p["distractor"], p["distractor_dim"],
                                             p["distractor_scale"] * family.unit_step, p["rho"], family)))
    if p["obs"] == "image" and p["background"] == "moving":
        out.append(("background", ExoProcess("lattice", 2, 1.0 / p["image_size"])))
    return out
