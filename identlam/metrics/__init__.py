"""Identifiability metrics (DESIGN §6): plain arrays in, :class:`MetricResult` out.

Shapes are ``(N, d)`` (1-D accepted for one variable); mutual information is in nats. One module
per metric family; names are imported lazily so ``import identlam.metrics`` stays cheap.
"""

from __future__ import annotations

import importlib

from identlam.metrics.result import MetricResult

_LOCATIONS = {
    "entropy": "information",
    "mutual_info": "information",
    "conditional_mutual_info": "information",
    "ami": "clustering",
    "nmi": "clustering",
    "homogeneity_completeness_v": "clustering",
    "hungarian_accuracy": "clustering",
    "linear_probe": "probes",
    "mlp_probe": "probes",
    "mig": "mig",
    "dci": "dci",
    "sap": "sap",
    "modularity": "modularity",
    "mcc": "mcc",
    "desiderata": "desiderata",
}

__all__ = ["MetricResult", *_LOCATIONS]


def __getattr__(name: str):
    if name in _LOCATIONS:
        module = importlib.import_module(f"identlam.metrics.{_LOCATIONS[name]}")
        return getattr(module, name)
    raise AttributeError(f"module 'identlam.metrics' has no attribute '{name}'")


def __dir__():
    return sorted(__all__)
