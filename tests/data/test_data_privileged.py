"""The privileged view is aligned with transitions(), and training code never imports it."""

from __future__ import annotations

import ast
from pathlib import Path

import numpy as np
import pytest

from identlam.data import open_dataset
from identlam.data.privileged import privileged

ROOT = Path(__file__).resolve().parents[2] / "identlam"


def test_transition_table_is_aligned_with_transitions(small_dataset):
    path, trajs = small_dataset
    with open_dataset(path, in_memory=False) as ds:
        table = privileged(ds).transition_table()
        chunks = list(ds.observations().transitions(batch_size=5))
    assert len(table) == ds.n_transitions == sum(len(c) for c in chunks)
    assert np.array_equal(table.traj, np.concatenate([c.traj for c in chunks]))
    assert np.array_equal(table.t, np.concatenate([c.t for c in chunks]))
    for row in range(len(table)):
        tr, t = trajs[table.traj[row]], table.t[row]
        assert table.actions[row] == tr["actions"][t]
        assert np.array_equal(table.states[row], tr["states"][t]) and np.array_equal(table.next_states[row], tr["states"][t + 1])
        assert np.array_equal(table.exo[row], tr["exo"][t]) and np.array_equal(table.next_exo[row], tr["exo"][t + 1])
        assert table.rewards[row] == tr["rewards"][t]
    sub = privileged(open_dataset(path)).transition_table(trajectories=[4, 1])
    assert sub.traj.tolist() == [4] * 10 + [1]


def privileged_imports(source: str) -> list[str]:
    """The statements in ``source`` that reach identlam.data.privileged or a dataset's raw store."""
    hits = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            hits += [a.name for a in node.names if a.name.startswith("identlam.data.privileged")]
        elif isinstance(node, ast.ImportFrom) and node.module:
            if node.module.startswith("identlam.data.privileged"):
                hits.append(node.module)
            elif node.module in ("identlam.data", "identlam") or (node.level and node.module.endswith("data")):
                hits += [f"{node.module}.{a.name}" for a in node.names if a.name == "privileged"]
        elif isinstance(node, ast.Call) and getattr(node.func, "attr", getattr(node.func, "id", "")) in ("import_module", "__import__"):
            hits += [a.value for a in node.args if isinstance(a, ast.Constant) and "privileged" in str(a.value)]
        elif isinstance(node, ast.Attribute) and node.attr == "_store":
            hits.append("._store (the dataset's raw arrays, actions included)")
    return hits


def training_files() -> list[Path]:
    files = sorted((ROOT / "models").rglob("*.py")) + sorted((ROOT / "train").rglob("*.py"))
    return [p for p in files if not (p.parent == ROOT / "train" and p.name.startswith("evaluate"))]


def test_training_code_never_imports_the_privileged_view():
    offenders = {str(p.relative_to(ROOT)): privileged_imports(p.read_text()) for p in training_files()}
    assert {k: v for k, v in offenders.items() if v} == {}


def test_the_import_check_catches_every_spelling():
    for line in (
        "import identlam.data.privileged",
        "import identlam.data.privileged as p",
        "from identlam.data.privileged import privileged",
        "from identlam.data import privileged",
        "from ..data import privileged",
        "import importlib; importlib.import_module('identlam.data.privileged')",
        "actions = ds._store.trajectory('actions', 0)",
    ):
        assert privileged_imports(line), line
    assert privileged_imports("from identlam.data import open_dataset, LabelSplit") == []


@pytest.mark.parametrize("in_memory", [True, False])
def test_streamed_whole_table_equals_the_per_trajectory_one(small_dataset, monkeypatch, in_memory):
    """The whole-file table is streamed in blocks; blocks of one or two trajectories give the
    same table as reading trajectory by trajectory."""
    import identlam.data.store as store

    monkeypatch.setattr(store, "BLOCK_BYTES", 200)
    path, trajs = small_dataset
    with open_dataset(path, in_memory=in_memory) as ds:
        whole = privileged(ds).transition_table()
        each = privileged(ds).transition_table(trajectories=range(len(trajs)))
    for name in ("actions", "states", "next_states", "exo", "next_exo", "rewards", "traj", "t"):
        assert np.array_equal(getattr(whole, name), getattr(each, name)), name
