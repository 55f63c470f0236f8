"""Experiment configs (TOML): parse, validate every field, expand the grid into cells.

An experiment names data sources, methods (a preset plus overrides by dotted path of the run
config), a grid of parameters (product axes, zipped axes), seeds, the pipeline stages to run and
the metrics that go into the table. See ``docs/experiments.md`` for the reference.

Validation collects every bad field and raises one :class:`~identlam.errors.ConfigError` whose
message has one line per field, each naming the file and the key (``x.toml: grid.model.foo: ...``).
Run-config paths are checked with the run config's own machinery (:func:`identlam.config.apply_overrides`).
"""

from __future__ import annotations

import copy
import hashlib
import itertools
import json
import math
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from identlam import config as config_mod
from identlam.argtypes import SEED_MAX
from identlam.errors import ConfigError
from identlam.runner.checks import (TOP_KEYS, Errors, check_cell, check_data, check_method, check_overrides,
                                    check_regions, flatten, name_problem)
from identlam.runner.paper_scale import at_paper_scale, check_paper_table

STAGES = ("train", "relabel", "bc", "decode", "evaluate")
RESERVED_AXES = ("data", "method", "zip")
ENV_PREFIX = "env."  # grid axes over the data source's generator parameters


@dataclass
class Cell:
    """One run of the sweep: every grid value, the seed, and what is needed to run it."""

    params: dict[str, Any]  # grid column -> value (data, method, env.*, run-config paths)
    seed: int
    data: dict[str, Any]  # resolved data source (env params and seed filled in)
    preset: str
    overrides: dict[str, Any]  # run-config dotted path -> value, in the order they apply
    stages: tuple[str, ...]
    regions: str | None
    episodes: int | None
    run_id: str = ""
    data_key: str = ""
    train_key: str = ""


@dataclass
class Experiment:
    path: Path
    name: str
    description: str
    seeds: list[int]
    stages: tuple[str, ...]
    metrics: list[str]
    scale: str
    threads: int
    gpus: float | str
    columns: list[str]
    cells: list[Cell] = field(default_factory=list)
    text: str = ""  # the config as run, written into the results store as experiment.toml


def select_cells(exp: Experiment, only: list[str]) -> list[Cell]:
    """The cells of ``exp`` that match every ``COLUMN=VALUE`` of ``only`` (``identlam run --only``).

    Several values of one column select any of them; ``seed=N`` selects seeds. Numbers match by
    value (``env.rho=0.9``, ``labels=2.0``). A malformed filter, an unknown column or a value no
    run has is a ConfigError naming it.
    """
    wanted: dict[str, list[str]] = {}
    for item in only:
        column, sep, value = item.partition("=")
        if not sep or not column.strip() or not value.strip():
            raise ConfigError(f"--only: expected COLUMN=VALUE, got {item!r}")
        wanted.setdefault(column.strip(), []).append(value.strip())
    known = [*exp.columns, "seed"]
    for column, values in wanted.items():
        if column not in known:
            raise ConfigError(f"--only: unknown column {column!r} (columns: {', '.join(known)})")
        present = list(dict.fromkeys(_cell_value(c, column) for c in exp.cells))
        for value in values:
            if not any(_matches(v, value) for v in present):
                raise ConfigError(f"--only: no run has {column}={value} "
                                  f"(values: {', '.join(str(v) for v in present)})")
    return [c for c in exp.cells
            if all(any(_matches(_cell_value(c, col), v) for v in values) for col, values in wanted.items())]


def _cell_value(cell: Cell, column: str) -> Any:
    return cell.seed if column == "seed" else cell.params.get(column)


def _matches(value: Any, text: str) -> bool:
    if str(value) == text or (isinstance(value, bool) and text.lower() == str(value).lower()):
        return True
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        try:
            return float(text) == float(value)
        except ValueError:
            return False
    return False


def digest(obj: Any, n: int = 12) -> str:
    """A short content hash of a JSON-able value (key order does not matter)."""
    return hashlib.sha256(json.dumps(obj, sort_keys=True, default=str).encode()).hexdigest()[:n]


def load_experiment(path: str | Path, *, paper_scale: bool = False) -> Experiment:
    """Read, validate and expand ``path``; every bad field is one line of the raised ConfigError.

    ``paper_scale``: the config's ``[paper]`` table merged over the rest, as experiment ``NAME-paper``
    (:mod:`identlam.runner.paper_scale`).
    """
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"experiment config '{path}' does not exist")
    try:
        text = path.read_text()
        raw = tomllib.loads(text)
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as err:
        raise ConfigError(f"{path}: not valid TOML ({err})") from None
    errors = Errors(path)
    for key in raw:
        if key not in TOP_KEYS:
            errors.add(key, f"unknown key (known: {', '.join(sorted(TOP_KEYS))})")
    paper = check_paper_table(raw, errors)
    if paper_scale:
        errors.raise_if_any()
        raw, text = at_paper_scale(raw, paper, path, text)
        errors = Errors(f"{path} (at paper scale)")
    name = _typed(raw, "name", str, path.stem, errors)
    if name_problem(name):  # the name is a folder of the store and of the report
        errors.add("name", name_problem(name))
        name = path.stem
    seeds = _typed(raw, "seeds", list, [0], errors)
    if not _seed_list(seeds):
        errors.add("seeds", f"expected a non-empty list of integers in [0, {SEED_MAX}], got {seeds!r}")
        seeds = [0]
    stages = _typed(raw, "stages", list, list(STAGES), errors)
    bad = [s for s in stages if s not in STAGES]
    if bad or not stages or stages[0] != "train" or sorted(set(stages), key=STAGES.index) != stages:
        errors.add("stages", f"expected stages in order, starting with train, from {', '.join(STAGES)}; got {stages!r}")
        stages = list(STAGES)
    metrics = _typed(raw, "metrics", list, [], errors)
    if not all(isinstance(m, str) and m.strip() for m in metrics):
        errors.add("metrics", f"expected a list of metric names, got {metrics!r}")
        metrics = []
    for metric in dict.fromkeys(m for m in metrics if metrics.count(m) > 1):  # a second row of it in every run
        errors.add("metrics", f"'{metric}' is listed twice")
    scale = _typed(raw, "scale", str, "cpu", errors)
    if scale not in ("cpu", "paper"):
        errors.add("scale", f"expected cpu or paper, got {scale!r}")
        scale = "cpu"  # the other fields are checked against the presets at this scale
    threads = _typed(raw, "threads", int, 1, errors)
    if threads < 1:
        errors.add("threads", f"expected an integer >= 1, got {threads}")
    gpus = raw.get("gpus", "auto")
    if gpus != "auto" and (isinstance(gpus, bool) or not isinstance(gpus, (int, float)) or not 0 <= gpus < math.inf):
        errors.add("gpus", f"expected a number >= 0 or \"auto\", got {gpus!r}")
    evaluate = _typed(raw, "evaluate", dict, {}, errors)
    for key in evaluate:
        if key not in ("episodes", "regions"):
            errors.add(f"evaluate.{key}", "unknown key (known: episodes, regions)")
    episodes = evaluate.get("episodes")
    if episodes is not None and (not isinstance(episodes, int) or isinstance(episodes, bool) or episodes < 1):
        errors.add("evaluate.episodes", f"expected an integer >= 1, got {episodes!r}")
    common = flatten(_typed(raw, "set", dict, {}, errors))
    data = _typed(raw, "data", dict, {}, errors)
    methods = _typed(raw, "methods", dict, {}, errors)
    if not data:
        errors.add("data", "no data source: add a [data.NAME] table")
    if not methods:
        errors.add("methods", "no method: add a [methods.NAME] table with preset = \"...\"")
    for dname, source in data.items():
        check_data(f"data.{dname}", source, path, errors)
    for mname, method in methods.items():
        check_method(f"methods.{mname}", method, scale, errors)
    check_overrides("set", common, "lapo-entropy", scale, errors)
    if "regions" in evaluate:
        check_regions("evaluate.regions", evaluate["regions"], errors)

    grids = raw.get("grid", {})
    grids = grids if isinstance(grids, list) else [grids]
    combos: list[dict[str, Any]] = []
    columns: list[str] = []
    for i, grid in enumerate(grids):
        where = "grid" if len(grids) == 1 else f"grid[{i}]"
        if not isinstance(grid, dict):
            errors.add(where, "expected a table of axes")
            continue
        grid = dict(grid)
        grid_seeds = grid.pop("seeds", seeds)
        if not _seed_list(grid_seeds):
            errors.add(f"{where}.seeds", f"expected a non-empty list of integers in [0, {SEED_MAX}], got {grid_seeds!r}")
        for combo in _expand(grid, where, errors):
            combos.append((combo, grid_seeds))
            columns.extend(k for k in combo if k not in columns)

    description = _typed(raw, "description", str, "", errors)
    exp = Experiment(path=path, name=name, description=description, seeds=seeds,
                     stages=tuple(stages), metrics=metrics, scale=scale, threads=threads, gpus=gpus,
                     columns=columns, text=text)
    seen: set[str] = set()
    ready: list[tuple] = []
    for combo, combo_seeds in combos:
        dname = combo["data"] if "data" in combo else _only(data, "data", errors)
        mname = combo["method"] if "method" in combo else _only(methods, "method", errors)
        if dname is None or mname is None:
            continue
        known_data, known_method = isinstance(dname, str) and dname in data, isinstance(mname, str) and mname in methods
        if not known_data:
            errors.add("grid.data", f"{dname!r} is not a data source (known: {', '.join(data)})")
        if not known_method:
            errors.add("grid.method", f"{mname!r} is not a method (known: {', '.join(methods)})")
        if not known_data or not known_method or not isinstance(data[dname], dict) \
                or not isinstance(methods[mname], dict):  # a table that is not one: reported by its check
            continue
        env_params = {k[len(ENV_PREFIX):]: v for k, v in combo.items() if k.startswith(ENV_PREFIX)}
        run_values = {k: v for k, v in combo.items() if k not in RESERVED_AXES and not k.startswith(ENV_PREFIX)}
        method = methods[mname]
        overrides = {**common, **flatten(method.get("set", {})), **run_values}
        check_overrides("grid", run_values, method.get("preset", "lapo-entropy"), scale, errors)
        source = copy.deepcopy(data[dname])
        if env_params:
            if source.get("source") == "file":
                errors.add("grid", f"env.* axes need a generated source; data.{dname} is a file")
                continue
            source["params"] = {**source.get("params", {}), **env_params}
            check_data(f"grid (data.{dname} with {env_params})", source, path, errors)
        ready.append(({"data": dname, "method": mname, **combo}, source, method, overrides, combo_seeds))
        if not errors.lines:
            check_cell("grid" if run_values else f"methods.{mname}", overrides, method["preset"], scale, errors)
    errors.raise_if_any()
    for params, source, method, overrides, combo_seeds in ready:
        for seed in combo_seeds:
            cell = _make_cell(exp, params, seed, source, method, overrides, evaluate)
            if cell.run_id not in seen:
                seen.add(cell.run_id)
                exp.cells.append(cell)
    for col in ("data", "method"):
        if col not in exp.columns:
            exp.columns.insert(0, col)
    return exp


def _make_cell(exp: Experiment, params: dict, seed: int, source: dict, method: dict, overrides: dict,
               evaluate: dict) -> Cell:
    src = {k: v for k, v in source.items() if k != "regions"}
    if src["source"] != "file":
        src.setdefault("seed", 0)
        src.setdefault("params", {})
        src.setdefault("episodes", 100)
        src.setdefault("steps", 100)
        if src["seed"] == "run":
            src["seed"] = seed
    regions = source.get("regions", evaluate.get("regions"))
    cell = Cell(params=params, seed=seed, data=src, preset=method["preset"], overrides=overrides,
                stages=exp.stages, regions=regions, episodes=evaluate.get("episodes"))
    cell.data_key = digest(src if src["source"] != "file" else {"file": src["sha256"]})
    cell.train_key = digest({"data": cell.data_key, "scale": exp.scale, "config": train_relevant(cell, exp.scale)})
    slug = "_".join(str(v) for k, v in params.items() if k in ("method", "data"))
    cell.run_id = f"{slug}_s{seed}_" + digest({"data": cell.data_key, "preset": cell.preset, "scale": exp.scale,
                                              "overrides": overrides, "seed": seed, "stages": cell.stages,
                                              "regions": regions, "episodes": cell.episodes, "params": params}, 10)
    return cell


def train_relevant(cell: Cell, scale: str) -> dict:
    """The part of the cell's run config that stage 1 reads: cells equal here share one LAM stage.

    The later stages' blocks (bc, decoder, eval but its hold-out split) never reach stage 1, nor
    does the label budget unless the method trains on labels (baselines, a supervision head).
    """
    from identlam.presets import get_preset

    cfg = config_mod.to_dict(config_mod.apply_overrides(get_preset(cell.preset, scale),
                                                        {**cell.overrides, "seed": cell.seed}))
    holdout = cfg.get("eval", {}).get("holdout_fraction")
    for later in ("bc", "decoder", "eval"):
        cfg.pop(later, None)
    cfg["holdout_fraction"] = holdout
    uses_labels = cfg.get("kind") != "lam" or _find(cfg.get("model", {}), "label_coef", 0) > 0
    if not uses_labels:
        cfg.pop("labels", None)
    return cfg


def _find(tree: dict, leaf: str, default: Any) -> Any:
    for key, value in tree.items():
        if key == leaf:
            return value
        if isinstance(value, dict):
            found = _find(value, leaf, None)
            if found is not None:
                return found
    return default


def _expand(grid: dict, where: str, errors: Errors) -> list[dict[str, Any]]:
    """Product of the axes, with the ``zip`` table's equal-length lists varied together as one axis."""
    before = len(errors.lines)
    axes = flatten({k: v for k, v in grid.items() if k != "zip"})
    zipped = grid.get("zip", {})
    if not isinstance(zipped, dict):
        errors.add(f"{where}.zip", "expected a table of equal-length lists")
        zipped = {}
    zipped = flatten(zipped)
    for key, values in [*axes.items(), *((f"zip.{k}", v) for k, v in zipped.items())]:
        if not isinstance(values, list) or not values:
            errors.add(f"{where}.{key}", f"expected a non-empty list of values, got {values!r}")
    lengths = {len(v) for v in zipped.values() if isinstance(v, list)}
    if len(lengths) > 1:
        errors.add(f"{where}.zip", f"lists must have equal lengths, got {sorted(lengths)}")
    for key in axes.keys() & zipped.keys():
        errors.add(f"{where}.{key}", "appears both as a product axis and in zip")
    if len(errors.lines) > before:
        return []
    names = list(axes)
    rows = [dict(zip(names, values)) for values in itertools.product(*axes.values())]
    if zipped:
        zrows = [dict(zip(zipped, values)) for values in zip(*zipped.values())]
        rows = [{**r, **z} for r in rows for z in zrows]
    return rows


def column_orders(raw: dict[str, Any]) -> dict[str, list]:
    """Each grid column's values in the order a config (its parsed TOML) lists them, grid table by
    grid table: the order its figures and tables follow."""
    grids = raw.get("grid", {})
    orders: dict[str, list] = {}
    for grid in grids if isinstance(grids, list) else [grids]:
        if not isinstance(grid, dict):
            continue
        zipped = grid.get("zip", {})
        axes = {**flatten({k: v for k, v in grid.items() if k not in ("zip", "seeds")}),
                **(flatten(zipped) if isinstance(zipped, dict) else {})}
        for key, values in axes.items():
            for value in values if isinstance(values, list) else [values]:
                if value not in orders.setdefault(key, []):
                    orders[key].append(value)
    return orders


def _seed_list(seeds: Any) -> bool:
    return isinstance(seeds, list) and bool(seeds) and all(
        isinstance(s, int) and not isinstance(s, bool) and 0 <= s <= SEED_MAX for s in seeds)


def _only(table: dict, what: str, errors: Errors) -> str | None:
    if len(table) <= 1:
        return next(iter(table), None)
    errors.add(f"grid.{what}", f"several {what} entries are defined ({', '.join(table)}): list the ones to run")
    return None


def _typed(raw: dict, key: str, kind: type, default: Any, errors: Errors) -> Any:
    value = raw.get(key, default)
    if kind is int and isinstance(value, bool) or not isinstance(value, kind):
        errors.add(key, f"expected {kind.__name__}, got {value!r}")
        return default
    return value
