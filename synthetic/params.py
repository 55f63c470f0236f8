"""Parameter schema: names, defaults, validation and coercion of every environment switch.

Values may arrive as strings (``identlam generate --set K=8``), so each parameter coerces its
value to its declared kind and validates its range; a bad name or value raises
:class:`~synthetic.errors.SyntheticError` naming the parameter. The resolved dictionary is what
``env.config`` stores, so ``make_from_config(env.config)`` rebuilds the identical environment.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from synthetic.errors import SyntheticError

_TRUE = {"true", "1", "yes", "on"}
_FALSE = {"false", "0", "no", "off"}


@dataclass(frozen=True)
class Param:
    """One switch: its kind (bool | int | float | choice), default, admissible range and doc."""

    kind: str
    default: Any
    doc: str
    low: float | None = None  # inclusive lower bound
    high: float | None = None  # inclusive upper bound
    high_open: bool = False  # the upper bound is exclusive
    low_open: bool = False  # the lower bound is exclusive
    choices: tuple | None = None

    def coerce(self, name: str, value: Any) -> Any:
        """Return ``value`` converted to this parameter's kind, or raise SyntheticError."""
        if self.kind == "bool":
            out = _to_bool(name, value)
        elif self.kind == "int":
            out = _to_int(name, value)
        elif self.kind == "float":
            out = _to_float(name, value)
        elif self.kind == "choice":
            out = _to_choice(name, value, self.choices)
        else:  # a schema bug, not a user error
            raise AssertionError(f"unknown parameter kind {self.kind!r}")
        if self.kind in ("int", "float"):
            self._check_range(name, out)
        return out

    def _check_range(self, name: str, x: float) -> None:
        if self.low is not None and (x < self.low or (self.low_open and x == self.low)):
            op = ">" if self.low_open else ">="
            raise SyntheticError(f"parameter '{name}': must be {op} {self.low}, got {x}")
        if self.high is not None and (x > self.high or (self.high_open and x == self.high)):
            op = "<" if self.high_open else "<="
            raise SyntheticError(f"parameter '{name}': must be {op} {self.high}, got {x}")


def _to_bool(name: str, value: Any) -> bool:
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
        return value.strip().lower() in _TRUE
    raise SyntheticError(f"parameter '{name}': expected true/false, got {value!r}")


def _to_int(name: str, value: Any) -> int:
    if isinstance(value, (bool, np.bool_)):
        raise SyntheticError(f"parameter '{name}': expected an integer, got {value!r}")
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, str):
        try:
            value = float(value.strip())
        except ValueError:
            raise SyntheticError(f"parameter '{name}': expected an integer, got {value!r}") from None
    if isinstance(value, (float, np.floating)):
        if not math.isfinite(value) or value != int(value):
            raise SyntheticError(f"parameter '{name}': expected an integer, got {value!r}")
        value = int(value)
    if not isinstance(value, int):
        raise SyntheticError(f"parameter '{name}': expected an integer, got {value!r}")
    return value


def _to_float(name: str, value: Any) -> float:
    if isinstance(value, bool):
        raise SyntheticError(f"parameter '{name}': expected a number, got {value!r}")
    try:
        out = float(value.strip() if isinstance(value, str) else value)
    except (TypeError, ValueError):
        raise SyntheticError(f"parameter '{name}': expected a number, got {value!r}") from None
    if not math.isfinite(out):
        raise SyntheticError(f"parameter '{name}': must be finite, got {value!r}")
    return out


def _to_choice(name: str, value: Any, choices: tuple) -> Any:
    for c in choices:
        if value == c or (isinstance(value, str) and value.strip() == str(c)):
            return c
    allowed = "|".join(str(c) for c in choices)
    raise SyntheticError(f"parameter '{name}': must be one of {allowed}, got {value!r}")


# Parameters every family accepts (the fixed CLI keys K, obs, distractor, rho, noise live here
# or in each family's schema with a family-specific meaning).
COMMON: dict[str, Param] = {
    "obs": Param("choice", "identity", "observation map", choices=("identity", "linear", "mlp", "smooth", "image")),
    "distractor": Param("choice", "none", "exogenous distractor process",
                        choices=("none", "iid", "markov", "correlated")),
    "rho": Param("float", 0.5, "correlated distractor: probability that its change copies the action", 0.0, 1.0),
    "distractor_dim": Param("int", 2, "number of distractor coordinates E (2 per rendered sprite)", 1, 64),
    "distractor_scale": Param("float", 1.0, "distractor step size relative to the agent's step", 0.0, None, low_open=True),
    "image_size": Param("int", 64, "side of rendered images in pixels", 16, 256),
    "background": Param("choice", "none", "image background: none | static texture | moving texture",
                        choices=("none", "static", "moving")),
    "temperature": Param("float", 1.0, "behaviour policy temperature (linear: action std)", 0.0, None, low_open=True),
    "map_seed": Param("int", 0, "seed of the fixed random structure (observation map, policy features, texture)", 0, None),
    "embed_periodic": Param("bool", True, "vector observations embed periodic coordinates x as (cos 2πx, sin 2πx)"),
    "mlp_layers": Param("int", 2, "obs='mlp': number of invertible leaky-ReLU layers; obs='smooth': residual blocks", 1, 8),
    "obs_dim": Param("int", 0, "obs='smooth': observation dimension (0: the family's choice, else 16, at least the embedded state and distractor)", 0, 4096),
}

# Discrete behaviour policies (pointmass, grid).
DISCRETE_POLICY: dict[str, Param] = {
    "epsilon": Param("float", 0.05, "behaviour policy: weight of the uniform mixture (full support)", 0.0, 1.0),
    "goal_weight": Param("float", 2.0, "behaviour policy: weight of the approach-the-goal logits", 0.0, None),
    "state_dependence": Param("float", 1.0, "behaviour policy: weight of smooth state-dependent logits", 0.0, None),
}


def resolve(family: str, schema: dict[str, Param], params: dict[str, Any]) -> dict[str, Any]:
    """Defaults overridden by ``params``, each coerced and validated; unknown names raise."""
    out = {name: p.default for name, p in schema.items()}
    for name, value in params.items():
        if name not in schema:
            known = ", ".join(sorted(schema))
            raise SyntheticError(f"parameter '{name}': unknown for family '{family}' (known: {known})")
        out[name] = schema[name].coerce(name, value)
    return out
