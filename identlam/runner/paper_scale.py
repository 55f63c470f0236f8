"""An experiment config at paper scale: its ``[paper]`` table merged over the CPU-scale values.

``identlam run CONFIG --scale paper`` runs the values a config keeps for a CUDA machine (data
sizes, updates, the presets' paper scale). The table has the config's own layout and is merged
table by table: a key it names replaces the CPU-scale value, the others stay; a list (``seeds``, a
``[[grid]]`` array) is replaced whole; ``unset`` takes run-config paths out of ``[set]`` and every
method's ``set``, so that the preset's paper-scale value applies. The experiment is named
``NAME-paper``: its store and its report section stand apart from the CPU-scale ones.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

from identlam.errors import ConfigError
from identlam.runner.checks import PAPER_SCALE_NOTE, TOP_KEYS, Errors, flatten, opening_comment

PAPER_SUFFIX = "-paper"  # the experiment name (and default store) of a config run at paper scale
PAPER_KEYS = (TOP_KEYS - {"paper"}) | {"unset"}


def check_paper_table(raw: dict[str, Any], errors: Errors) -> dict[str, Any]:
    """The config's ``[paper]`` table ({} when it has none), each unknown key one error line."""
    paper = raw.get("paper", {})
    if not isinstance(paper, dict):
        errors.add("paper", f"expected a table, got {paper!r}")
        return {}
    for key in paper:
        if key not in PAPER_KEYS:
            errors.add(f"paper.{key}", f"unknown key (known: {', '.join(sorted(PAPER_KEYS))})")
    return paper


def at_paper_scale(raw: dict[str, Any], paper: dict[str, Any], path: Path, text: str) -> tuple[dict[str, Any], str]:
    """The config ``raw`` read from ``path`` (``text``) with ``paper`` applied, and its TOML text
    as run, which opens with the config's description."""
    import tomli_w

    if not paper:
        raise ConfigError(f"{path}: paper: no [paper] table of paper-scale values; add one "
                          "(e.g. [paper] scale = \"paper\") or run it at CPU scale")
    errors = Errors(path)
    name = raw.get("name") if isinstance(raw.get("name"), str) else path.stem
    base = _flat_sets({k: v for k, v in raw.items() if k != "paper"})
    over = _flat_sets({k: v for k, v in paper.items() if k != "unset"})
    unset = paper.get("unset", [])
    if not isinstance(unset, list) or not all(isinstance(p, str) for p in unset):
        errors.add("paper.unset", f"expected a list of run-config paths, got {unset!r}")
        unset = []
    tables = _set_tables(base)
    for dotted in unset:
        if not any(dotted in table for table in tables):
            errors.add("paper.unset", f"'{dotted}' is in no [set] and no method's set")
        for table in tables:
            table.pop(dotted, None)
    errors.raise_if_any()
    merged = _merged(base, over)
    merged["name"] = paper.get("name", f"{name}{PAPER_SUFFIX}")
    description = "".join(f"{line}\n" for line in opening_comment(text))
    as_run = (f"{description}# {PAPER_SCALE_NOTE}: {path.name} with its [paper] table merged over the rest "
              "(identlam run --scale paper)\n" + tomli_w.dumps(merged))
    return merged, as_run


def _flat_sets(raw: dict) -> dict:
    """A copy of ``raw`` whose ``set`` tables (top level, each method's) use dotted paths, so that
    ``"train.steps"`` and ``[set.train] steps`` name one key."""
    raw = copy.deepcopy(raw)
    for table in _set_tables(raw):
        flat = flatten(table)
        table.clear()
        table.update(flat)
    return raw


def _set_tables(raw: dict) -> list[dict]:
    """The ``[set]`` table and each method's ``set``, those that are tables (a malformed config is
    reported by its validation, after the merge)."""
    methods = raw.get("methods")
    method_sets = [m.get("set") for m in methods.values() if isinstance(m, dict)] if isinstance(methods, dict) else []
    return [table for table in (raw.get("set"), *method_sets) if isinstance(table, dict)]


def _merged(base: dict, over: dict) -> dict:
    """``base`` with ``over`` merged in: tables merge key by key, any other value replaces."""
    merged = dict(base)
    for key, value in over.items():
        both_tables = isinstance(value, dict) and isinstance(merged.get(key), dict)
        merged[key] = _merged(merged[key], value) if both_tables else copy.deepcopy(value)
    return merged
