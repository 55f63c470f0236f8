"""The training pipeline: ``train``, ``relabel``, ``bc``, ``decode``, ``evaluate``.

Each stage is a function ``run_<stage>(run)`` of a :class:`~identlam.train.rundir.RunDir` (or
its path), built on the stage skeleton of :mod:`identlam.train.stage`;
``run_pipeline`` runs them all. Stages skip when their output exists and resume from their
checkpoint when interrupted. Names are imported lazily so ``import identlam.train`` stays cheap.
"""

from __future__ import annotations

import importlib

_LOCATIONS = {
    "RunDir": "rundir",
    "make_config": "pipeline",
    "run_pipeline": "pipeline",
    "run_train": "stage_train",
    "run_relabel": "stage_relabel",
    "run_bc": "stage_bc",
    "run_decode": "stage_decode",
    "run_evaluate": "evaluate",
    "run_stage": "stage",
    "StageContext": "stage",
    "Agent": "agent",
}

__all__ = list(_LOCATIONS)


def __getattr__(name: str):
    if name in _LOCATIONS:
        return getattr(importlib.import_module(f"identlam.train.{_LOCATIONS[name]}"), name)
    raise AttributeError(f"module 'identlam.train' has no attribute '{name}'")
