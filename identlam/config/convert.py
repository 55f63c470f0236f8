"""Configs to and from JSON-able dicts and files, and ``--set key=value`` overrides.

Every way in (:func:`from_dict`, :func:`load`, :func:`apply_overrides`) ends in
:func:`identlam.config.validate`, so a config that exists is a valid one.
"""

from __future__ import annotations

import dataclasses
import json
import typing
from pathlib import Path
from typing import Any

from identlam.config import legacy
from identlam.config.schema import RunConfig
from identlam.config.validate import validate
from identlam.errors import ConfigError


def to_dict(cfg: Any) -> dict:
    """A JSON-able nested dict (tuples become lists)."""
    return json.loads(json.dumps(dataclasses.asdict(cfg)))


def from_dict(cls: type, data: dict, *, path: str = "") -> Any:
    """Build and validate ``cls`` from a nested dict; unknown keys are refused with their dotted path.

    A RunConfig dict of the earlier flat layout is translated first (:mod:`identlam.config.legacy`).
    """
    if cls is RunConfig and not path and legacy.is_legacy(data):
        data = legacy.translate(data)
    return validate(_build(cls, data, path), path)


def _build(cls: type, data: Any, path: str) -> Any:
    if not isinstance(data, dict):
        raise ConfigError(f"config key '{path or 'root'}': expected a table, got {type(data).__name__}")
    hints = typing.get_type_hints(cls)
    names = {f.name for f in dataclasses.fields(cls)}
    kwargs = {}
    for key, value in data.items():
        dotted = f"{path}.{key}" if path else key
        if key not in names:
            hint = legacy.RENAMED.get(dotted)
            raise ConfigError(f"config key '{dotted}' is unknown" + (f" (renamed to '{hint}')" if hint else ""))
        if dataclasses.is_dataclass(hints[key]):
            kwargs[key] = _build(hints[key], value, dotted)
        else:
            kwargs[key] = _coerce(value, hints[key], dotted)
    return cls(**kwargs)


def save(cfg: Any, path: str | Path) -> None:
    """Write the config as JSON, atomically."""
    from identlam.io import atomic_write_text

    atomic_write_text(path, json.dumps(to_dict(cfg), indent=2, sort_keys=False) + "\n")


def load(path: str | Path, cls: type = RunConfig) -> Any:
    """Read, translate (earlier layout) and validate a config file."""
    from identlam.io import read_json

    return from_dict(cls, read_json(path, what="config file", error=ConfigError))


def leaf_paths(cls: type, prefix: str = "") -> dict[str, str]:
    """Every dotted leaf path of a config class, mapped to itself."""
    out: dict[str, str] = {}
    hints = typing.get_type_hints(cls)
    for f in dataclasses.fields(cls):
        dotted = f"{prefix}.{f.name}" if prefix else f.name
        if dataclasses.is_dataclass(hints[f.name]):
            out.update(leaf_paths(hints[f.name], dotted))
        else:
            out[dotted] = dotted
    return out


def resolve_key(cls: type, key: str) -> str:
    """The dotted path ``key`` names: a dotted path, or a leaf name unique across the config."""
    full = leaf_paths(cls)
    if key in full:
        return key
    by_leaf = [dotted for dotted in full if dotted.rsplit(".", 1)[-1] == key]
    if len(by_leaf) == 1:
        return by_leaf[0]
    if by_leaf:
        raise ConfigError(f"--set key '{key}' is ambiguous: use one of {', '.join(by_leaf)}")
    renamed = legacy.renamed_key(key)
    if renamed is not None:
        raise ConfigError(renamed)
    if any(dotted.startswith(key + ".") for dotted in full):
        raise ConfigError(f"--set key '{key}' is a table; set one of its fields ({key}.NAME)")
    raise ConfigError(f"--set key '{key}' is unknown (see `identlam presets NAME --fields` for the keys)")


def apply_overrides(cfg: Any, assignments: list[str] | dict[str, Any]) -> Any:
    """Return a validated copy of ``cfg`` with ``key=value`` assignments applied in order.

    ``key`` is a dotted path or a leaf name that is unique across the whole config; string
    values are parsed by :func:`parse_value`.
    """
    items = assignments.items() if isinstance(assignments, dict) else map(_split_assignment, assignments)
    data = to_dict(cfg)
    for key, raw in items:
        dotted = resolve_key(type(cfg), key)
        node = data
        parts = dotted.split(".")
        for part in parts[:-1]:
            node = node[part]
        node[parts[-1]] = parse_value(raw) if isinstance(raw, str) else raw
    return from_dict(type(cfg), data)


def parse_value(raw: str) -> Any:
    """JSON when it parses (numbers, booleans, lists), else the string itself."""
    try:
        return json.loads(raw)
    except json.JSONDecodeError:
        low = raw.strip().lower()
        if low in ("true", "false"):
            return low == "true"
        return raw


def _split_assignment(text: str) -> tuple[str, str]:
    if "=" not in text:
        raise ConfigError(f"--set '{text}': expected key=value")
    key, value = text.split("=", 1)
    return key.strip(), value.strip()


def _coerce(value: Any, hint: Any, dotted: str) -> Any:
    """JSON values to the field's Python type (lists to tuples, 3.0 to 3); ranges are validate's job."""
    if typing.get_origin(hint) is tuple:
        if isinstance(value, (int, float, str)) and not isinstance(value, bool):
            value = [value]
        if not isinstance(value, (list, tuple)):
            raise ConfigError(f"config key '{dotted}': expected a list, got {value!r}")
        (inner, *_rest) = typing.get_args(hint) or (Any,)
        return tuple(_coerce(v, inner, f"{dotted}[{i}]") for i, v in enumerate(value))
    if hint is int and isinstance(value, float) and value.is_integer():
        return int(value)
    if hint is float and isinstance(value, int) and not isinstance(value, bool) and abs(value) < 1e300:
        return float(value)
    return value
