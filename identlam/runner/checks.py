"""Checks of an experiment config's parts, each bad field one line naming the file and the key."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from identlam import config as config_mod
from identlam.argtypes import SEED_MAX
from identlam.errors import ConfigError

TOP_KEYS = {"name", "description", "seeds", "stages", "metrics", "scale", "threads", "gpus", "set", "data",
            "methods", "grid", "evaluate", "paper"}
SOURCES = ("synthetic", "collect", "file")
DATA_KEYS = {"source", "env", "episodes", "steps", "seed", "params", "path", "regions", "policy"}
SOURCE_KEYS = {"file": {"source", "path", "regions"}, "synthetic": DATA_KEYS - {"path", "policy"},
               "collect": DATA_KEYS - {"path"}}  # the keys each kind of source uses


def flatten(table: dict, prefix: str = "") -> dict[str, Any]:
    """``{"model": {"entropy": {"weight": [..]}}}`` -> ``{"model.entropy.weight": [..]}``."""
    out: dict[str, Any] = {}
    for key, value in table.items():
        dotted = f"{prefix}{key}"
        if isinstance(value, dict) and key != "zip":
            out.update(flatten(value, dotted + "."))
        else:
            out[dotted] = value
    return out


def name_problem(name: Any) -> str | None:
    """Why ``name`` cannot name an experiment, or None. The name is a path component: of its store
    (``results/NAME``) and of the report's ``figures/NAME.png``, ``tables/NAME.md`` and ``data/NAME/``."""
    if not isinstance(name, str):
        return f"expected a string, got {name!r}"
    if not name.strip() or name in (".", "..") or any(c in name for c in "/\\\0"):
        return f"expected a name that can be a file name (not empty, no / or \\, not . or ..), got {name!r}"
    return None


class Errors:
    def __init__(self, path: Path):
        self.path, self.lines = path, []

    def add(self, key: str, message: str) -> None:
        self.lines.append(f"{self.path}: {key}: {message}")

    def raise_if_any(self) -> None:
        if self.lines:
            raise ConfigError("\n".join(dict.fromkeys(self.lines)))


def check_data(where: str, source: Any, path: Path, errors: Errors) -> None:
    if not isinstance(source, dict):
        errors.add(where, "expected a table")
        return
    state_dim = check_source(where, source, path, errors)
    if "regions" in source:  # a DIM outside the states failed each run at its evaluation, after training
        check_regions(f"{where}.regions", source["regions"], errors, state_dim)


def check_source(where: str, source: dict, path: Path, errors: Errors) -> int | None:
    """Check a data source's keys; its states' dimension when known without building anything."""
    for key in source:
        if key not in DATA_KEYS:
            errors.add(f"{where}.{key}", f"unknown key (known: {', '.join(sorted(DATA_KEYS))})")
    kind = source.get("source")
    if kind not in SOURCES:
        errors.add(f"{where}.source", f"expected one of {', '.join(SOURCES)}, got {kind!r}")
        return None
    for key in source:  # e.g. a policy of a synthetic source made `identlam generate` refuse every dataset
        if key in DATA_KEYS and key not in SOURCE_KEYS[kind]:
            errors.add(f"{where}.{key}", f"not a key of a {kind} source (its keys: {', '.join(sorted(SOURCE_KEYS[kind]))})")
    if kind == "file":
        given = source.get("path")
        if not isinstance(given, str) or not given:
            errors.add(f"{where}.path", f"expected the path of a dataset file, got {given!r}")
            return None
        file = Path(given)
        file = file if file.is_absolute() else path.parent / file
        if file.is_dir():
            errors.add(f"{where}.path", f"'{given}' is a directory, not a dataset file")
        elif not file.is_file():
            errors.add(f"{where}.path", f"dataset file '{given}' does not exist")
        else:
            from identlam.data import open_dataset
            from identlam.errors import IdentlamError
            from identlam.train.rundir import fingerprint

            try:  # a file that is not a dataset would fail every run that trains on it
                with open_dataset(file, in_memory=False) as dataset:
                    state_dim = dataset.state_dim
            except IdentlamError as err:
                errors.add(f"{where}.path", str(err))
                return None
            source["path"], source["sha256"] = str(file.resolve()), fingerprint(file)["sha256"]
            return state_dim
        return None
    for key in ("episodes", "steps"):
        value = source.get(key, 100)
        if not isinstance(value, int) or isinstance(value, bool) or value < 2:
            errors.add(f"{where}.{key}", f"expected an integer >= 2, got {value!r}")
    seed = source.get("seed", 0)
    if seed != "run" and (not isinstance(seed, int) or isinstance(seed, bool) or not 0 <= seed <= SEED_MAX):
        errors.add(f"{where}.seed", f"expected an integer in [0, {SEED_MAX}] or \"run\" (the run's seed), got {seed!r}")
    params = source.get("params", {})
    if not isinstance(params, dict):
        errors.add(f"{where}.params", "expected a table of generator parameters")
        return None
    if not isinstance(source.get("env"), str):
        errors.add(f"{where}.env", f"expected an environment id, got {source.get('env')!r}")
    elif kind == "synthetic":
        import synthetic
        from synthetic.errors import SyntheticError

        try:
            return synthetic.make(source["env"], **params).spec["state_dim"]
        except SyntheticError as err:
            errors.add(f"{where}.{'env' if 'env' in str(err).split(':')[0] else 'params'}", str(err))
    elif kind == "collect":
        import identlam.envs as envs
        from identlam.errors import IdentlamError

        try:
            envs.check_env_id(source["env"])
        except IdentlamError as err:
            errors.add(f"{where}.env", str(err))
            return None
        try:
            envs.check_params(source["env"], params)
        except IdentlamError as err:
            errors.add(f"{where}.params", str(err))
        policy = source.get("policy", "behaviour")
        known = envs.policies(source["env"])
        if known and policy not in known:
            errors.add(f"{where}.policy", f"unknown policy {policy!r} for {source['env']} (known: {', '.join(known)})")
    return None


def check_method(where: str, method: Any, scale: str, errors: Errors) -> None:
    from identlam.presets import PRESET_NAMES

    if not isinstance(method, dict):
        errors.add(where, "expected a table with preset = \"...\"")
        return
    for key in method:
        if key not in ("preset", "set"):
            errors.add(f"{where}.{key}", "unknown key (known: preset, set)")
    if method.get("preset") not in PRESET_NAMES:
        errors.add(f"{where}.preset", f"unknown preset {method.get('preset')!r} (known: {', '.join(PRESET_NAMES)})")
        method["preset"] = "lapo-entropy"
    if not isinstance(method.get("set", {}), dict):
        errors.add(f"{where}.set", "expected a table of run-config fields")
        method["set"] = {}
    check_overrides(f"{where}.set", flatten(method.get("set", {})), method["preset"], scale, errors)


def check_overrides(where: str, overrides: dict, preset: str, scale: str, errors: Errors) -> None:
    """Each dotted path on its own (so every bad one is named), with the run config's own checks."""
    from identlam.presets import get_preset

    base = get_preset(preset, scale)
    for key, value in overrides.items():
        try:
            resolved = config_mod.resolve_key(type(base), key)
        except ConfigError as err:
            unknown = "unknown" in str(err)
            errors.add(f"{where}.{key}", f"not a run-config field (see `identlam presets {preset} --fields`)"
                       if unknown else str(err).replace("--set key", "key"))
            continue
        if resolved == "seed":  # it would replace the run's seed: every "seed" of the grid one same run
            errors.add(f"{where}.{key}", "the run seed is not a run-config override here: list the seeds in "
                       "seeds = [...] (or a grid's seeds), one run each")
            continue
        try:
            config_mod.apply_overrides(base, {key: value})
        except ConfigError as err:
            # a rule between fields (naming another key) may be met by the rest of the cell's
            # settings: the whole cell is checked once every field passed on its own
            if f"'{config_mod.resolve_key(type(base), key)}'" in str(err):
                errors.add(f"{where}.{key}", str(err))


def check_cell(where: str, overrides: dict, preset: str, scale: str, errors: Errors) -> None:
    from identlam.presets import get_preset

    try:
        config_mod.apply_overrides(get_preset(preset, scale), overrides)
    except ConfigError as err:
        errors.add(where, str(err))


def check_regions(where: str, spec: Any, errors: Errors, state_dim: int | None = None) -> None:
    from identlam.errors import IdentlamError
    from identlam.metrics import parse_regions

    try:
        parse_regions(str(spec), state_dim)
    except IdentlamError as err:
        errors.add(where, str(err))


PAPER_SCALE_NOTE = "Paper scale"  # the comment line that ends a config's description: how to run it on a GPU


def opening_comment(text: str) -> list[str]:
    """A config's opening comment lines as written, up to the one that opens with "Paper scale"
    (how to run it on a GPU, which concerns the config file, not its results)."""
    lines: list[str] = []
    for line in text.splitlines():
        if not line.strip() and not lines:
            continue
        if not line.startswith("#") or line.lstrip("#").strip().startswith(PAPER_SCALE_NOTE):
            break
        lines.append(line)
    return lines


def config_description(text: str) -> str:
    """What an experiment config tests and predicts, in its author's words: its opening comment
    (:func:`opening_comment`) as one paragraph, runs of spaces made one, commands in backticks."""
    lines: list[str] = []
    for line in opening_comment(text):
        line = " ".join(line.lstrip("#").split())
        if "identlam " in line:  # a command runs to the end of its line: code, not prose
            at = line.index("identlam ")
            line = f"{line[:at]}`{line[at:]}`"
        if lines and re.search(r"[A-Za-z]-$", lines[-1]):  # a word hyphenated across two lines
            lines[-1] += line
        elif line:
            lines.append(line)
    return " ".join(lines)
