"""The package's import graph has no cycle, and every module imports on its own.

Two graphs are checked. The module-level imports of the whole package must form no cycle.
Within one package directory (``identlam.train``, ``identlam.metrics``, ...) the imports inside
functions count too, since a lazy import there only hides a cycle between two parts of one
layer until the function runs (as ``train.baselines`` and ``train.stage_train`` once were).
Across packages a lazy import may close a loop on purpose: a registry that names its plugins
without importing them (``config.schema`` reads the bottleneck names of ``models.factory``).
"""

from __future__ import annotations

import ast
import functools
import graphlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "identlam"


@functools.cache
def module_names() -> dict[str, Path]:
    out = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = path
    return out


def _nodes(tree: ast.Module, lazy: bool) -> list[ast.AST]:
    """Every node, or (``lazy=False``) every node outside function bodies."""
    if lazy:
        return list(ast.walk(tree))
    out, stack = [], [tree]
    while stack:
        node = stack.pop()
        out.append(node)
        stack.extend(c for c in ast.iter_child_nodes(node) if not isinstance(c, (ast.FunctionDef, ast.AsyncFunctionDef)))
    return out


def imports_of(name: str, path: Path, known: set[str], lazy: bool = True) -> set[str]:
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in _nodes(ast.parse(path.read_text()), lazy):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            targets = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base for alias in node.names]
        else:
            continue
        for target in targets:
            while target and target not in known:  # `import identlam.x.y` of a name inside a module
                target = target.rpartition(".")[0]
            if target and target != name:
                found.add(target)
    return found


def import_graph(lazy: bool = False) -> dict[str, set[str]]:
    modules = module_names()
    known = set(modules)
    return {name: imports_of(name, path, known, lazy) for name, path in modules.items()}


def package_of(name: str) -> str:
    return name if module_names()[name].name == "__init__.py" else name.rpartition(".")[0]


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """One cycle per package graph that has one (empty when none)."""
    found = []
    try:
        list(graphlib.TopologicalSorter(graph).static_order())
    except graphlib.CycleError as err:
        found.append(err.args[1])
    return found


def per_package(graph: dict[str, set[str]]) -> dict[str, dict[str, set[str]]]:
    out: dict[str, dict[str, set[str]]] = {}
    for name, deps in graph.items():
        pkg = package_of(name)
        out.setdefault(pkg, {})[name] = {d for d in deps if package_of(d) == pkg and d != pkg}
    return out


def test_module_level_imports_have_no_cycle():
    assert cycles(import_graph()) == []


def test_no_cycle_within_a_package_even_through_lazy_imports():
    found = [c for graph in per_package(import_graph(lazy=True)).values() for c in cycles(graph)]
    assert found == [], " ; ".join(" -> ".join(c) for c in found)


def test_the_cycle_checks_can_fail():
    graph = import_graph()
    graph["identlam.train.loop"] = graph["identlam.train.loop"] | {"identlam.train.stage"}
    assert cycles(graph)
    lazy = import_graph(lazy=True)  # the former cycle: baselines imported stage_train, which imported it back
    lazy["identlam.train.stage_train"] |= {"identlam.train.baselines"}
    lazy["identlam.train.baselines"] |= {"identlam.train.stage_train"}
    assert any(cycles(g) for g in per_package(lazy).values())


def test_every_module_imports_in_a_fresh_process():
    """Every module imports in a fresh interpreter, leaves of the graph last (each then loads first
    the modules it names itself, in the order its own imports ask for)."""
    order = list(graphlib.TopologicalSorter(import_graph()).static_order())[::-1]  # module-level graph
    names = [n for n in order if not n.endswith("__main__")]
    code = "import importlib, sys\nfor name in sys.argv[1:]:\n    importlib.import_module(name)\n"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-c", code, *names], env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
