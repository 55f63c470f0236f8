"""Config files of the earlier flat layout load by translation; old ``--set`` names say their new name.

The earlier layout kept the VQ, FSQ and entropy fields flat in ``model`` (``vq_codebook_size``,
``fsq_levels``, ``entropy_weight``; ``entropy`` was the kind), the optimizer fields flat in each
stage (``train.lr``), and two fields named ``target`` (``model.target``, ``bc.target``).
"""

from __future__ import annotations

import copy
from typing import Any

from identlam.errors import ConfigError

_OPTIM = ("lr", "weight_decay", "warmup_steps", "schedule", "grad_clip")

#: old dotted path -> new dotted path
RENAMED: dict[str, str] = {
    "model.entropy": "model.entropy.kind",
    "model.entropy_weight": "model.entropy.weight",
    "model.entropy_warmup_steps": "model.entropy.warmup_steps",
    "model.entropy_bonus": "model.entropy.bonus",
    "model.entropy_anneal_end": "model.entropy.anneal_end",
    "model.entropy_units": "model.entropy.units",
    **{f"model.vq_{name}": f"model.vq.{name}" for name in (
        "codebook_size", "num_codebooks", "num_latents", "code_dim", "shared_codebook", "decay", "commitment")},
    "model.fsq_levels": "model.fsq.levels",
    "model.target": "model.fdm_target",
    "bc.target": "bc.policy_target",
    **{f"train.{name}": f"train.optim.{name}" for name in _OPTIM},
    "bc.lr": "bc.optim.lr",
    "decoder.lr": "decoder.optim.lr",
}


def is_legacy(data: Any) -> bool:
    """Whether a config dict uses the earlier layout (any old key present)."""
    return isinstance(data, dict) and any(_old_value(data, old) is not _MISSING for old in RENAMED)


def translate(data: dict) -> dict:
    """A copy of an earlier-layout config dict in today's layout (values unchanged)."""
    out = copy.deepcopy(data)
    for old, new in RENAMED.items():
        value = _old_value(out, old)
        if value is _MISSING:
            continue
        section, leaf = old.split(".")
        del out[section][leaf]
        node = out
        *parents, last = new.split(".")
        for part in parents:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise ConfigError(f"config key '{new}': the file mixes the old key '{old}' with the new layout")
        if last in node:
            raise ConfigError(f"config key '{new}': the file sets both it and its old name '{old}'")
        node[last] = value
    return out


def renamed_key(key: str) -> str | None:
    """A one-line explanation when ``key`` (dotted path or leaf) is a name of the earlier layout."""
    if key in RENAMED:
        return f"--set key '{key}' was renamed to '{RENAMED[key]}'"
    leaves = sorted(new for old, new in RENAMED.items() if old.rsplit(".", 1)[-1] == key)
    if leaves:
        return f"--set key '{key}' was renamed; use {' or '.join(leaves)}"
    return None


_MISSING = object()


def _old_value(data: dict, old: str) -> Any:
    section, leaf = old.split(".")
    node = data.get(section)
    if not isinstance(node, dict) or leaf not in node:
        return _MISSING
    value = node[leaf]
    # "model.entropy" is a table in today's layout and was the kind (a string) before
    if old == "model.entropy" and isinstance(value, dict):
        return _MISSING
    return value
