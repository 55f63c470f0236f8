"""Controlled synthetic MDPs with known actions, states and exogenous distractors.

Stand-alone (numpy and scipy only). Families: ``pointmass`` (PointMass-K on the torus, with
warp/twist/islands/walls/duplicate/split/jump/noise switches), ``random`` (environments drawn
from a seed, inside the identifiability theorem; preset ``random-family``), ``linear``
(s' = As + Bu) and ``grid`` (N×N lattice). Distractors, observation maps (identity, linear, mlp, image) and
behaviour policies attach to every family. ``ENVIRONMENTS`` lists the named presets::

    import synthetic
    env = synthetic.make("pointmass", K=4, obs="image", distractor="correlated", rho=0.5)
    env.spec, env.config                      # description; full JSON-able parameters
    env = synthetic.make_from_config(env.config)
    for traj in synthetic.generate("pointmass-islands", episodes=10, steps=100, seed=0): ...
    env.assumptions(seed=0).to_dict()         # measured A1-A4 (see docs/synthetic.md)
    synthetic.make("random-family", family_seed=3)   # a family named by its seed
"""

from synthetic.env import Env
from synthetic.errors import SyntheticError
from synthetic.trajectories import Trajectory, generate
from synthetic.registry import ENVIRONMENTS, make, make_from_config

__all__ = ["ENVIRONMENTS", "Env", "SyntheticError", "Trajectory", "generate", "make", "make_from_config"]
