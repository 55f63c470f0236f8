"""A config as readable lines: every dotted path with its value, its admissible values and its doc."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from identlam.config.validate import walk


def describe_fields(cfg: Any) -> str:
    """One line per leaf: ``path = value  # doc (admissible values)``, grouped by section."""
    docs = _docs(type(cfg))
    rows = [(dotted, json.dumps(list(value) if isinstance(value, tuple) else value), rule, docs[dotted])
            for dotted, value, rule in walk(cfg)]
    width = max(len(f"{d} = {v}") for d, v, _, _ in rows)
    lines, section = [], None
    for dotted, value, rule, doc in rows:
        head = dotted.rsplit(".", 1)[0] if "." in dotted else ""
        if head != section:
            section = head
            if head:
                lines.append(f"\n[{head}]  # {docs[head]}")
        lines.append(f"{dotted + ' = ' + value:<{width}}  # {doc} ({rule.describe()})")
    return "\n".join(lines).lstrip("\n")


def _docs(cls: type, prefix: str = "") -> dict[str, str]:
    out: dict[str, str] = {}
    for f in dataclasses.fields(cls):
        dotted = f"{prefix}.{f.name}" if prefix else f.name
        out[dotted] = f.metadata.get("doc", "")
        if "rule" not in f.metadata:
            out.update(_docs(type(f.default_factory()), dotted))
    return out
