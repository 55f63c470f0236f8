"""Which code made a result: identlam's version, a hash of its source, and torch's version.

A results store keeps finished runs across reruns of a sweep, and a run is keyed by its config
alone; a run made before identlam's training or metrics changed keeps its old numbers. Each run
records :func:`code_version` in ``result.json`` so that the runner can say when a store mixes
runs of different code. The source hash reads every ``.py`` file of the installed package
(about 100 files, a few milliseconds), so it also tells apart two checkouts with the same version
number, with or without git.
"""

from __future__ import annotations

import functools
import hashlib
from pathlib import Path
from typing import Any

PACKAGE_ROOT = Path(__file__).resolve().parent


def source_hash(root: str | Path = PACKAGE_ROOT) -> str:
    """12 hex digits of a SHA-256 over every ``.py`` file under ``root``: path and bytes."""
    return _source_hash(Path(root).resolve())


@functools.lru_cache(maxsize=4)
def _source_hash(root: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(p for p in root.rglob("*.py") if "__pycache__" not in p.parts):
        digest.update(path.relative_to(root).as_posix().encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()[:12]


def code_version() -> dict[str, Any]:
    """``{"identlam", "source", "torch"}``: what a run records about the code that made it."""
    import torch

    from identlam import __version__

    return {"identlam": __version__, "source": source_hash(), "torch": torch.__version__}


def recorded_source(result: Any) -> str | None:
    """The source hash a run's ``result.json`` records (:func:`code_version`); None for a run made
    before runs recorded their code, or a result that is not a mapping."""
    code = result.get("code") if isinstance(result, dict) else None
    source = code.get("source") if isinstance(code, dict) else None
    return source if isinstance(source, str) and source else None
