"""Named environments (presets) and the constructors ``make`` / ``make_from_config``.

``ENVIRONMENTS`` maps a name to its family, the switches its preset sets, and a one-line
description; any parameter can still be overridden by keyword (or ``--set key=value``).
"""

from __future__ import annotations

from typing import Any

from synthetic.env import Env
from synthetic.errors import SyntheticError

ENVIRONMENTS: dict[str, dict[str, Any]] = {
    "pointmass": dict(family="pointmass", params={}, doc="K displacement actions on the torus; A1-A4 hold"),
    "pointmass-warp": dict(family="pointmass", params={"warp": 0.5}, doc="warped step length (s'-s depends on s); A1-A4 hold"),
    "pointmass-twist": dict(family="pointmass", params={"twist": True, "warp": 0.5},
                            doc="action effects rotate with the state by up to 90°; A1-A4 hold"),
    "pointmass-islands": dict(family="pointmass", params={"islands": True},
                              doc="two disconnected discs, effects rotated 90° on the right one; A3 off"),
    "pointmass-walls": dict(family="pointmass", params={"walls": True}, doc="clipped at walls, no wrap; A2 off near corners"),
    "pointmass-duplicate": dict(family="pointmass", params={"duplicate_action": True},
                                doc="action K duplicates action 0; A2 off"),
    "pointmass-split": dict(family="pointmass", params={"split_policy": True},
                            doc="actions 0 and 1 never available in the same state; A4 off"),
    "pointmass-jump": dict(family="pointmass", params={"jump": 0.1}, doc="discontinuous dynamics across s_1=0.5; A1 off"),
    "pointmass-noisy": dict(family="pointmass", params={"noise": 0.025}, doc="transition noise σ = δ/2 (outside the DGP)"),
    "pointmass-distractor": dict(family="pointmass", params={"distractor": "correlated", "rho": 0.5},
                                 doc="one action-correlated distractor point (ρ = 0.5)"),
    "pointmass-image": dict(family="pointmass", params={"obs": "image", "distractor": "markov"},
                            doc="64 px images with a random-walk distractor sprite"),
    "random-family": dict(family="random", params={},
                          doc="drawn from family_seed: 4-8 actions on a 2-3-D torus, smooth gains, rare actions; A1-A4 hold"),
    "linear": dict(family="linear", params={}, doc="s' = A s + B u with Gaussian continuous actions (outside the theorem)"),
    "linear-gaussian": dict(family="linear-gaussian", params={},
                            doc="o' = o + Q a (+ noise) with o, a ~ N(0, I): the linear latent action model's setting"),
    "grid": dict(family="grid", params={}, doc="8x8 grid, 4 moves, blocking borders (discrete states: outside the theorem)"),
    "grid-wrap": dict(family="grid", params={"borders": "wrap"}, doc="8x8 grid on a torus, 4 moves"),
    "grid-stay": dict(family="grid", params={"K": 5}, doc="8x8 grid, 4 moves + stay (Zhang et al.'s task)"),
}


def make(name: str, **params) -> Env:
    """Build the environment ``name`` (a key of ENVIRONMENTS) with ``params`` overriding its preset."""
    if name not in ENVIRONMENTS:
        raise SyntheticError(f"parameter 'env': unknown environment {name!r} (known: {', '.join(ENVIRONMENTS)})")
    entry = ENVIRONMENTS[name]
    return Env(name, entry["family"], {**entry["params"], **params})


def make_from_config(config: dict[str, Any]) -> Env:
    """Rebuild the environment whose ``env.config`` is ``config`` (e.g. read back from a dataset)."""
    if not isinstance(config, dict) or "family" not in config:
        raise SyntheticError("parameter 'config': expected a dict with a 'family' key (an env.config)")
    params = dict(config)
    family = params.pop("family")
    name = params.pop("name", family)
    if not isinstance(name, str) or not name:
        raise SyntheticError(f"parameter 'name': expected a non-empty string, got {name!r}")
    return Env(name, family, params)
