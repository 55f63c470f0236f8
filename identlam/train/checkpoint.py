"""Checkpoints: everything a stage needs to continue bit-exactly, written atomically.

A checkpoint is one ``torch.save`` file holding a dict:
``stage`` (str), ``step`` (updates done), ``modules`` (name -> state_dict), ``optimizer``,
``scheduler``, ``numpy_rng`` (the batch sampler's ``bit_generator.state``), ``torch_rng``
(CPU generator state) and ``cuda_rng`` (on CUDA, else None).
An interrupted write leaves the previous checkpoint in place (identlam.io.atomic_path).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from identlam.errors import IdentlamError
from identlam.io import atomic_path


def save_checkpoint(path: str | Path, payload: dict[str, Any]) -> None:
    with atomic_path(path) as tmp:
        torch.save(payload, tmp)


def load_checkpoint(path: str | Path) -> dict[str, Any] | None:
    """The checkpoint at ``path``, or None when there is none; unreadable files raise one line."""
    p = Path(path)
    if not p.is_file():
        return None
    try:
        return torch.load(p, map_location="cpu", weights_only=False)
    except Exception as err:  # a truncated or foreign file: say which, not a pickle traceback
        raise IdentlamError(f"checkpoint '{p}' cannot be read ({type(err).__name__}); delete it to restart the stage") from None


def module_states(modules: dict[str, torch.nn.Module]) -> dict[str, dict]:
    return {name: m.state_dict() for name, m in modules.items()}


def load_module_states(modules: dict[str, torch.nn.Module], states: dict[str, dict], *, source: str) -> None:
    missing = set(modules) - set(states)
    if missing:
        raise IdentlamError(f"checkpoint '{source}' lacks module(s) {', '.join(sorted(missing))}")
    for name, module in modules.items():
        module.load_state_dict(states[name])
