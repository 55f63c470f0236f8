"""The one result type every metric returns."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass
class MetricResult:
    """A metric's value with what it was computed from.

    ``score`` is a float, or a dict of floats for metrics with several parts (e.g. DCI).
    ``details`` holds the underlying matrices and assignments (numpy arrays allowed).
    ``params`` names the estimator and every parameter that affects the value.
    """

    name: str
    score: float | dict[str, float]
    details: dict[str, Any] = field(default_factory=dict)
    params: dict[str, Any] = field(default_factory=dict)

    def __float__(self) -> float:
        if isinstance(self.score, dict):
            raise TypeError(f"{self.name} has several scores: {sorted(self.score)}")
        return float(self.score)

    def to_dict(self) -> dict[str, Any]:
        """JSON-able view (arrays become nested lists)."""
        return {
            "name": self.name,
            "score": _jsonable(self.score),
            "details": _jsonable(self.details),
            "params": _jsonable(self.params),
        }


def _jsonable(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return _jsonable(obj.tolist())
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, MetricResult):
        return obj.to_dict()
    return obj
