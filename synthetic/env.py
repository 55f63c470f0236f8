"""The environment: a dynamics family + behaviour policy + exogenous processes + observation map.

``Env`` is built from a resolved parameter dictionary (``env.config``) and exposes the
single-episode API (``reset``/``step``/``state``/``exo``/``behaviour_action``) and the
vectorized pieces ``generate`` uses (``policy``, ``family``, ``processes``, ``observe``).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from synthetic.distractors import exo_processes
from synthetic.errors import SyntheticError
from synthetic.observations import SmoothMap, VectorMap
from synthetic.params import COMMON, DISCRETE_POLICY, resolve
from synthetic.policy import DiscretePolicy, GaussianPolicy
from synthetic.render import Renderer


def _families() -> dict[str, tuple[type, dict]]:
    from synthetic import grid, linear, linear_gaussian, pointmass, random_family

    return {
        "pointmass": (pointmass.PointMass, pointmass.SCHEMA),
        "random": (random_family.RandomFamily, random_family.SCHEMA),
        "grid": (grid.Grid, grid.SCHEMA),
        "linear": (linear.Linear, linear.SCHEMA),
        "linear-gaussian": (linear_gaussian.LinearGaussian, linear_gaussian.SCHEMA),
    }


def schema_of(family: str) -> dict:
    """Every parameter a family accepts (name → Param)."""
    fams = _families()
    if family not in fams:
        raise SyntheticError(f"parameter 'family': unknown family {family!r} (known: {', '.join(fams)})")
    cls, own = fams[family]
    policy = DISCRETE_POLICY if cls.action_space == "discrete" else {}
    return {**COMMON, **policy, **own}


class Env:
    """A synthetic MDP with recorded ground truth (see the package docstring for the API)."""

    def __init__(self, name: str, family: str, params: dict[str, Any]):
        schema = schema_of(family)
        p = resolve(family, schema, params)
        cls = _families()[family][0]
        _check_combinations(p, cls)
        seeds = np.random.SeedSequence(cls.structure_seed(p)).spawn(4)
        self.family = cls(p, np.random.default_rng(seeds[0]))
        if p["obs"] == "image" and not self.family.can_render:
            raise SyntheticError(f"parameter 'obs': this '{cls.name}' environment has no 2-D picture; "
                                 "use identity|linear|mlp|smooth")
        pol = DiscretePolicy if cls.action_space == "discrete" else GaussianPolicy
        self.policy = pol(self.family, p, np.random.default_rng(seeds[1]))
        self.processes = exo_processes(p, self.family)
        self.exo_layout: dict[str, list[int]] = {}
        col = 0
        for label, proc in self.processes:
            self.exo_layout[label] = [col, col + proc.dim]
            col += proc.dim
        self.exo_dim = col
        if p["obs"] == "image":
            n_sprites = p["distractor_dim"] // 2 if p["distractor"] != "none" else 0
            bg_col = self.exo_layout.get("background", [None])[0]
            self.obs_map = Renderer(self.family, p["image_size"], n_sprites, p["background"], bg_col,
                                    np.random.default_rng(seeds[3]))
        elif p["obs"] == "smooth":
            self.obs_map = SmoothMap(self.family.periodic, self.family.state_dim, self.exo_dim, p["embed_periodic"],
                                     p["mlp_layers"], p["obs_dim"] or None, self.family.default_obs_dim,
                                     np.random.default_rng(seeds[2]))
        else:
            self.obs_map = VectorMap(p["obs"], self.family.periodic, self.family.state_dim, self.exo_dim,
                                     p["embed_periodic"], p["mlp_layers"], np.random.default_rng(seeds[2]))
        self.name = name
        self.params = p
        self._state: np.ndarray | None = None
        self._exo: np.ndarray | None = None
        self._rng: np.random.Generator | None = None
        self._exo_rng: np.random.Generator | None = None

    # --- description --------------------------------------------------------------------------
    @property
    def config(self) -> dict[str, Any]:
        """The full JSON-able parameter dictionary; ``make_from_config`` rebuilds this env from it."""
        return {"family": self.family.name, "name": self.name, **self.params}

    @property
    def spec(self) -> dict[str, Any]:
        fam = self.family
        image = self.params["obs"] == "image"
        out = {
            "env_id": f"synthetic/{self.name}",
            "action_space": fam.action_space,
            "obs_kind": "image" if image else "vector",
            "obs_shape": list(self.obs_map.shape),
            "obs_dtype": "uint8" if image else "float32",
            "state_dim": fam.state_dim,
            "exo_dim": self.exo_dim,
            "exo_layout": dict(self.exo_layout),
        }
        if fam.action_space == "discrete":
            out["n_actions"] = fam.n_actions
        else:
            out["action_dim"] = fam.action_dim
        return out

    # --- single-episode API ------------------------------------------------------------------
    def reset(self, seed: int | None = None) -> np.ndarray:
        """Start an episode from a state and distractor drawn with ``seed``; returns the observation."""
        agent_seed, exo_seed = np.random.SeedSequence(seed).spawn(2)
        self._rng, self._exo_rng = np.random.default_rng(agent_seed), np.random.default_rng(exo_seed)
        self._state = self.family.initial_state(self._rng)
        self._exo = self._initial_exo(self._exo_rng)
        return self.observe(self._state, self._exo)

    def step(self, action) -> tuple[np.ndarray, float, bool, dict[str, np.ndarray]]:
        """Apply ``action``; returns (obs, reward, terminated=False, {"state", "exo"}) after the step."""
        if self._state is None:
            raise SyntheticError("parameter 'action': call reset() before step()")
        a = self._check_action(action)
        s = self._state[None]
        draws = _row(self.family.draw_noise(self._rng, 1), 0)
        s_next = self.family.step(s, a, draws)
        e_next = self._step_exo(self._exo[None], a, [_row(proc.draw(self._exo_rng, 1), 0) for _, proc in self.processes])
        self._state, self._exo = s_next[0], e_next[0]
        reward = float(self.family.reward(s_next)[0])
        return self.observe(self._state, self._exo), reward, False, {"state": self.state, "exo": self.exo}

    @property
    def state(self) -> np.ndarray:
        """Current true state, (S,) float32 copy."""
        return None if self._state is None else self._state.copy()

    @property
    def exo(self) -> np.ndarray:
        """Current exogenous variables, (E,) float32 copy (E may be 0)."""
        return None if self._exo is None else self._exo.copy()

    def behaviour_action(self, rng: np.random.Generator):
        """A draw of the behaviour policy at the current state: int, or (m,) float32."""
        if self._state is None:
            raise SyntheticError("parameter 'state': call reset() before behaviour_action()")
        a = self.policy.sample_rng(self._state[None], rng)[0]
        return int(a) if self.family.action_space == "discrete" else a

    def transition(self, s, a) -> np.ndarray:
        """Deterministic part ``T(s, a)``: (S,) for one state or (n, S) for a batch, float32."""
        s = np.asarray(s, np.float32)
        single = s.ndim == 1
        s2 = s[None] if single else s
        a2 = np.asarray(a)
        if single:
            a2 = a2[None]
        out = self.family.transition(s2, a2)
        return out[0] if single else out

    def observe(self, s, exo=None) -> np.ndarray:
        """The observation map on one (S,)/(E,) pair or a batch (n, S)/(n, E)."""
        s = np.asarray(s, np.float32)
        single = s.ndim == 1
        s2 = s[None] if single else s
        e = np.zeros((len(s2), 0), np.float32) if exo is None else np.asarray(exo, np.float32)
        e2 = e[None] if e.ndim == 1 else e
        if e2.shape[1] != self.exo_dim:
            raise SyntheticError(f"parameter 'exo': expected {self.exo_dim} columns, got {e2.shape[1]}")
        out = self.obs_map(s2, e2)
        return out[0] if single else out

    def assumptions(self, seed: int = 0, **options):
        """Measure the identifiability assumptions A1–A4 (continuity, injectivity in the action,
        connected supports, co-occurrence; see docs/synthetic.md) on this environment."""
        from synthetic.assumptions import check

        return check(self, seed=seed, **options)

    # --- pieces shared with generate -----------------------------------------------------------
    def _initial_exo(self, rng: np.random.Generator) -> np.ndarray:
        parts = [proc.initial(rng) for _, proc in self.processes]
        return np.concatenate(parts).astype(np.float32) if parts else np.zeros(0, np.float32)

    def _step_exo(self, e: np.ndarray, a: np.ndarray, draws: list[dict]) -> np.ndarray:
        if not self.processes:
            return e
        parts = []
        for (label, proc), d in zip(self.processes, draws):
            lo, hi = self.exo_layout[label]
            parts.append(proc.step(e[:, lo:hi], a, d))
        return np.concatenate(parts, axis=1)

    def _check_action(self, action) -> np.ndarray:
        fam = self.family
        if fam.action_space == "discrete":
            a = np.asarray(action)
            if a.ndim != 0 or not np.issubdtype(a.dtype, np.integer) or not 0 <= int(a) < fam.n_actions:
                raise SyntheticError(f"parameter 'action': expected an integer in [0, {fam.n_actions}), got {action!r}")
            return a.astype(np.int64)[None]
        a = np.asarray(action, np.float64)
        if a.shape != (fam.action_dim,) or not np.all(np.isfinite(a)):
            raise SyntheticError(f"parameter 'action': expected {fam.action_dim} finite floats, got shape {a.shape}")
        return a.astype(np.float32)[None]


def _row(draws: dict[str, np.ndarray], t: int) -> dict[str, np.ndarray]:
    """Step ``t`` of one episode's draws, shaped as a batch of one."""
    return {k: v[t:t + 1] for k, v in draws.items()}


def _check_combinations(p: dict, cls: type) -> None:
    if p["background"] != "none" and p["obs"] != "image":
        raise SyntheticError("parameter 'background': needs obs=image")
    if p["obs"] == "image" and not cls.can_render:
        raise SyntheticError(f"parameter 'obs': family '{cls.name}' has no 2-D picture; use identity|linear|mlp|smooth")
    if p["obs"] == "image" and p["distractor"] != "none" and p["distractor_dim"] % 2:
        raise SyntheticError("parameter 'distractor_dim': image observations draw one sprite per 2 coordinates; "
                             f"use an even number, got {p['distractor_dim']}")
