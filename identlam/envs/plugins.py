"""Families from other installed packages: the ``identlam.envs`` entry-point group.

A package declares ``[project.entry-points."identlam.envs"] NAME = "pkg.module:register"``;
importing :mod:`identlam.envs` calls each ``register()``, so its ids work everywhere
(``identlam collect``, ``generate``, online evaluation) with no edit to identlam.
"""

from __future__ import annotations

import warnings
from importlib.metadata import entry_points


def load_plugins(group: str = "identlam.envs") -> list[str]:
    """Call every ``register`` of ``group``; return the names that registered. A plugin that fails
    is reported in a one-line warning and skipped, so one broken package cannot break identlam."""
    loaded = []
    for ep in entry_points(group=group):
        try:
            ep.load()()
        except Exception as err:  # noqa: BLE001 (any failure of third-party code)
            warnings.warn(f"environment plugin {ep.name!r} ({ep.value}) did not register: "
                          f"{type(err).__name__}: {err}", RuntimeWarning, stacklevel=2)
            continue
        loaded.append(ep.name)
    return loaded
