"""Identifiability metrics (DESIGN §6): plain arrays in, :class:`MetricResult` out.

Shapes are ``(N, d)`` (1-D accepted for one variable); mutual information is in nats. One module
per metric family; names are imported lazily so ``import identlam.metrics`` stays cheap.
"""

from __future__ import annotations

import importlib
import sys
import types

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


class _PublicNamesModule(types.ModuleType):
    """Keeps each public name bound to its function once its submodule is imported.

    Several metrics live in a module of the same name (``mig.py`` holds ``mig``); importing such a
    submodule makes the import system set ``identlam.metrics.mig`` to the module, which would
    shadow the function. This intercepts exactly that assignment.
    """

    def __setattr__(self, name: str, value) -> None:
        if (name in _LOCATIONS and isinstance(value, types.ModuleType)
                and value.__name__ == f"{__name__}.{_LOCATIONS[name]}"):
            value = getattr(value, name)
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _PublicNamesModule


def __getattr__(name: str):
    if name in _LOCATIONS:
        module = importlib.import_module(f"identlam.metrics.{_LOCATIONS[name]}")
        return getattr(module, name)
    raise AttributeError(f"module 'identlam.metrics' has no attribute '{name}'")


def __dir__():
    return sorted(__all__)
