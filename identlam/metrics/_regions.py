"""State regions: one label per transition computed from its true state ``s_t``.

The identifiability report uses regions for the per-region Hungarian matching, ``H(Â|R,A)`` and
(on continuous states) D2 as ``I(Â;R|A)``. ``identlam metrics --regions SPEC`` and
``identlam evaluate --regions SPEC`` take the same spec (``str(spec)`` is the canonical form
recorded in the report's ``params["regions"]``):

- ``kmeans:K``: K k-means clusters of the standardised states, seeded (the default,
  ``kmeans:16``; :func:`state_regions`).
- ``threshold:DIM:VALUE``: two regions, ``states[:, DIM] >= VALUE`` or not (e.g. two islands
  split at x = 0.5: ``threshold:0:0.5``).
- ``grid:N``: N equal-width cells per state dimension over the box ``[min, max]`` of the
  evaluated states (N**state_dim cells at most, so for low-dimensional states only).

>>> spec = parse_regions("threshold:0:0.5")
>>> str(spec), spec.labels(np.array([[0.2], [0.7]])).tolist()
('threshold:0:0.5', [0, 1])
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from identlam.errors import ConfigError
from identlam.metrics._validation import as_labels, count_distinct_rows

DEFAULT_REGIONS = "kmeans:16"
KMEANS_FIT_SAMPLES = 200_000  # beyond this k-means fits its centres on a seeded subsample
MAX_GRID_CELLS = 4096  # beyond this most cells hold one transition and per-region matching is trivially perfect
FORMS = "kmeans:K, threshold:DIM:VALUE or grid:N"
REGIONS_HELP = ("state regions of the report: kmeans:K (default kmeans:16), threshold:DIM:VALUE "
                "(state[:, DIM] >= VALUE or not) or grid:N (N cells per state dimension)")
_FIELDS = {"kmeans": ("K",), "threshold": ("DIM", "VALUE"), "grid": ("N",)}


@dataclass(frozen=True)
class RegionSpec:
    """A parsed ``--regions`` value; ``count`` is K (kmeans) or N (grid), ``dim``/``value`` the threshold."""

    kind: str
    count: int | None = None
    dim: int | None = None
    value: float | None = None

    def __str__(self) -> str:
        if self.kind == "threshold":
            return f"threshold:{self.dim}:{self.value!r}"
        return f"{self.kind}:{self.count}"

    def desiderata_arguments(self, states: np.ndarray) -> dict[str, Any]:
        """Keyword arguments for :func:`identlam.metrics.desiderata`: ``n_regions`` for k-means
        (desiderata clusters the states itself, seeded with its ``seed``), else ``regions``.

        ``states``: (N, S) float true states ``s_t`` of the evaluated transitions.
        """
        states = np.asarray(states, dtype=np.float64)
        if self.kind == "kmeans":
            return {"n_regions": self.count}
        check_state_dim(self, states.shape[1])
        if self.kind == "threshold":
            return {"regions": (states[:, self.dim] >= self.value).astype(np.int64)}
        low, high = states.min(axis=0), states.max(axis=0)
        width = np.where(high > low, high - low, 1.0)
        cells = np.floor((states - low) / width * self.count).astype(np.int64)
        return {"regions": np.clip(cells, 0, self.count - 1)}  # (N, S): desiderata encodes rows jointly

    def labels(self, states: np.ndarray, seed: int = 0) -> np.ndarray:
        """One region label per row of ``states`` (N, S)."""
        args = self.desiderata_arguments(states)
        if "n_regions" in args:
            return state_regions(np.asarray(states, dtype=np.float64), args["n_regions"], seed)
        return as_labels(args["regions"], "regions")


def state_regions(states: np.ndarray, n_regions: int, seed: int) -> np.ndarray:
    """k-means bins of standardised states (at most one bin per distinct state), seeded.

    Beyond ``KMEANS_FIT_SAMPLES`` rows the centres are fit on a seeded subsample and every state
    is then assigned to its nearest centre (k-means' cost per iteration grows with N, and the
    centres of 10^5 states already pin down K <= a few hundred regions).
    """
    from sklearn.cluster import KMeans

    std = states.std(axis=0)
    x = (states - states.mean(axis=0)) / np.where(std > 0, std, 1.0)
    k = min(n_regions, count_distinct_rows(x))
    if k == 1:
        return np.zeros(len(x), dtype=np.int64)
    model = KMeans(n_clusters=k, n_init=1, random_state=seed)
    if len(x) <= KMEANS_FIT_SAMPLES:
        return model.fit_predict(x).astype(np.int64)
    pick = np.sort(np.random.default_rng(seed).choice(len(x), KMEANS_FIT_SAMPLES, replace=False))
    return model.fit(x[pick]).predict(x).astype(np.int64)


def parse_regions(text: str, state_dim: int | None = None) -> RegionSpec:
    """Parse ``kmeans:K``, ``threshold:DIM:VALUE`` or ``grid:N``; with ``state_dim`` also check
    DIM and the grid size against the states. Bad specs raise a one-line ConfigError."""
    head = f"--regions {text!r}"
    kind, *fields = str(text).strip().split(":")
    if kind not in _FIELDS:
        raise ConfigError(f"{head}: unknown kind {kind!r}; expected {FORMS}")
    names = _FIELDS[kind]
    if len(fields) != len(names):
        raise ConfigError(f"{head}: {kind} takes {kind}:{':'.join(names)}")
    if kind == "threshold":
        spec = RegionSpec(kind, dim=_integer(head, "DIM", fields[0], 0), value=_number(head, "VALUE", fields[1]))
    else:
        spec = RegionSpec(kind, count=_integer(head, names[0], fields[0], 1))
    if state_dim is not None:
        check_state_dim(spec, state_dim)
    return spec


def check_region_count(spec: RegionSpec, n_transitions: int) -> None:
    """Refuse more k-means regions than transitions scored: each transition would be its own
    region and every per-region score trivially perfect. The default spec is exempt: it adapts
    to small data (at most one region per distinct state, :func:`state_regions`)."""
    if spec.kind == "kmeans" and spec.count > n_transitions and str(spec) != DEFAULT_REGIONS:
        raise ConfigError(f"--regions '{spec}': K {spec.count} is more than the {n_transitions} transitions scored")


def check_state_dim(spec: RegionSpec, state_dim: int) -> None:
    """Raise a one-line ConfigError when ``spec`` does not fit states of ``state_dim`` dimensions."""
    if spec.kind == "threshold" and spec.dim >= state_dim:
        raise ConfigError(f"--regions '{spec}': DIM {spec.dim} is outside the state's dimensions 0..{state_dim - 1}")
    if spec.kind == "grid" and spec.count**state_dim > MAX_GRID_CELLS:
        raise ConfigError(f"--regions '{spec}': {spec.count}**{state_dim} cells for {state_dim}-dimensional states "
                          f"exceeds {MAX_GRID_CELLS}; use a smaller N or kmeans:K")


def _integer(head: str, name: str, field: str, minimum: int) -> int:
    try:
        value = int(field)
    except ValueError:
        raise ConfigError(f"{head}: {name} must be an integer, got {field!r}") from None
    if value < minimum:
        raise ConfigError(f"{head}: {name} must be >= {minimum}, got {value}")
    return value


def _number(head: str, name: str, field: str) -> float:
    try:
        value = float(field)
    except ValueError:
        raise ConfigError(f"{head}: {name} must be a number, got {field!r}") from None
    if not math.isfinite(value):
        raise ConfigError(f"{head}: {name} must be finite, got {field!r}")
    return value
