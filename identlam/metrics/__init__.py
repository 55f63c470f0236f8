"""Identifiability metrics: plain arrays in, :class:`MetricResult` out.

The contract every public metric keeps (checked for each registered metric by
:func:`check_metric`):

- arguments: the ground truth first, the representation second, as scikit-learn's
  ``adjusted_mutual_info_score(labels_true, labels_pred)``: ``mig(factors, latents)``,
  ``ami(actions, codes)``, ``desiderata(actions, states, latents, codes=...)``;
- shapes ``(N, d)`` (1-D accepted for one variable); mutual information in nats;
- the result says which direction is better (``MetricResult.greater_is_better``);
- bad input (NaN, a length mismatch, a wrong shape) raises :class:`identlam.errors.IdentlamError`
  with one line naming the argument.

Modules are private (``identlam.metrics._mig``); the names below are the public API, imported
lazily so ``import identlam.metrics`` stays cheap.
"""

from __future__ import annotations

import importlib

from identlam.metrics._result import MetricResult

_LOCATIONS = {
    "entropy": "_information",
    "mutual_info": "_information",
    "conditional_mutual_info": "_information",
    "probe_mutual_info": "_probe_info",
    "ami": "_clustering",
    "nmi": "_clustering",
    "homogeneity_completeness_v": "_clustering",
    "hungarian_accuracy": "_clustering",
    "linear_probe": "_probes",
    "mlp_probe": "_probes",
    "label_budget_curve": "_probes",
    "mig": "_mig",
    "dci": "_dci",
    "sap": "_sap",
    "modularity": "_modularity",
    "explicitness": "_modularity",
    "mcc": "_mcc",
    "determinism": "_desiderata",
    "state_invariance": "_desiderata",
    "injectivity": "_desiderata",
    "used_codes": "_desiderata",
    "distractor_leakage": "_leakage",
    "label_agreement": "_report",
    "action_probe": "_report",
    "desiderata": "_report",
    "state_regions": "_regions",
    "parse_regions": "_regions",
    "RegionSpec": "_regions",
    "DEFAULT_REGIONS": "_regions",
    "REGIONS_HELP": "_regions",
    "check_state_dim": "_regions",
    "check_region_count": "_regions",
    "METRICS": "_registry",
    "MetricSpec": "_registry",
    "register_metric": "_registry",
    "check_metric": "_checks",
}

__all__ = ["MetricResult", *_LOCATIONS]


def __getattr__(name: str):
    if name in _LOCATIONS:
        value = getattr(importlib.import_module(f"identlam.metrics.{_LOCATIONS[name]}"), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'identlam.metrics' has no attribute '{name}'")


def __dir__():
    return sorted(__all__)
