"""The one result type every metric returns, and its JSON form."""

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
    ``greater_is_better`` says which direction is better: a bool for a float score, a dict with
    one entry per key for a dict score. ``None`` (whole or per key) marks an estimate of a
    quantity with no better direction in itself (an entropy, a count, a baseline).

    >>> r = MetricResult("toy", {"a": 0.5, "b": 2.0}, greater_is_better={"a": True, "b": False})
    >>> r.better("b")
    False
    >>> MetricResult.from_dict(r.to_dict()) == r
    True
    """

    name: str
    score: float | dict[str, float]
    details: dict[str, Any] = field(default_factory=dict)
    params: dict[str, Any] = field(default_factory=dict)
    greater_is_better: bool | None | dict[str, bool | None] = None

    def __float__(self) -> float:
        if isinstance(self.score, dict):
            raise TypeError(f"{self.name} has several scores: {sorted(self.score)}")
        return float(self.score)

    def better(self, key: str | None = None) -> bool | None:
        """Direction of the score (``key`` selects one part of a dict score)."""
        if isinstance(self.greater_is_better, dict):
            if key is None:
                raise TypeError(f"{self.name} has a direction per score key: {sorted(self.greater_is_better)}")
            return self.greater_is_better.get(key)
        return self.greater_is_better

    def to_dict(self) -> dict[str, Any]:
        """JSON-able view (arrays become nested lists)."""
        return {
            "name": self.name,
            "score": _jsonable(self.score),
            "greater_is_better": _jsonable(self.greater_is_better),
            "details": _jsonable(self.details),
            "params": _jsonable(self.params),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> MetricResult:
        """Inverse of :meth:`to_dict` (arrays come back as lists, so ``to_dict`` round-trips)."""
        return cls(name=data["name"], score=data["score"], details=dict(data.get("details") or {}),
                   params=dict(data.get("params") or {}), greater_is_better=data.get("greater_is_better"))


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
