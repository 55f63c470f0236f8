"""Privileged information never reaches a training objective.

(1) No module of identlam.train (except the evaluate stage) or identlam.models imports the
privileged view. (2) Replacing the actions outside the label split, every state and every
distractor value of a file by random numbers leaves training bit-identical.
"""

from __future__ import annotations

import ast
from pathlib import Path

import numpy as np
import torch
from train_fixtures import TINY, poisoned_copy

import identlam
from identlam.data import open_dataset
from identlam.train.artifacts import load_artifact
from identlam.train.batches import label_split
from identlam.train.pipeline import make_config
from identlam.train.rundir import RunDir
from identlam.train.stage_bc import run_bc
from identlam.train.stage_decode import run_decode
from identlam.train.stage_relabel import run_relabel
from identlam.train.stage_train import run_train

PACKAGE = Path(identlam.__file__).parent
FORBIDDEN = "identlam.data.privileged"


def _imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def training_modules() -> list[Path]:
    files = sorted((PACKAGE / "train").glob("*.py")) + sorted((PACKAGE / "models").glob("*.py"))
    return [f for f in files if not (f.parent.name == "train" and f.name.startswith("evaluate"))]


def test_training_code_never_imports_the_privileged_view():
    modules = training_modules()
    assert {"stage_train.py", "stage_bc.py", "stage_decode.py", "baselines.py", "lam.py"} <= {f.name for f in modules}
    offenders = [str(f.relative_to(PACKAGE)) for f in modules if any(n.startswith(FORBIDDEN) for n in _imports(f))]
    assert offenders == []


def test_the_import_check_sees_an_import():
    evaluate = PACKAGE / "train" / "evaluate.py"
    assert any(n.startswith(FORBIDDEN) for n in _imports(evaluate))  # the check can fail


def _train_all(tmp_path: Path, data: Path, name: str, method: str, extra=()) -> RunDir:
    cfg = make_config(data, method, labels=2, overrides=[*TINY, "train.steps=12", "bc.steps=6", "decoder.steps=6",
                                                         *extra])
    run = RunDir.create(tmp_path / name, cfg, data)
    for stage in (run_train, run_relabel, run_bc, run_decode):
        stage(run)
    return run


def _assert_identical_runs(a: RunDir, b: RunDir) -> None:
    for stage in ("train", "bc", "decode"):
        sa, sb = load_artifact(a.output(stage))["modules"], load_artifact(b.output(stage))["modules"]
        for name in sa:
            assert sa[name].keys() == sb[name].keys()
            for key in sa[name]:
                assert torch.equal(sa[name][key], sb[name][key]), (stage, name, key)
    with np.load(a.output("relabel")) as la, np.load(b.output("relabel")) as lb:
        assert la.files == lb.files
        for key in la.files:
            if key != "data_fingerprint":  # it tells the two datasets apart, by design
                np.testing.assert_array_equal(la[key], lb[key])


def _poison(tmp_path: Path, data: Path) -> Path:
    with open_dataset(data) as ds:  # the runs' label split (labels=2, seed=0, among training trajectories)
        keep = label_split(ds, make_config(data, "laom-sup", labels=2, overrides=TINY)).trajectories
    poisoned = poisoned_copy(data, tmp_path / "poisoned.h5", keep, seed=123)
    from identlam.data.privileged import privileged  # the test may look: the copy really differs

    with open_dataset(data) as a, open_dataset(poisoned) as b:
        ta, tb = privileged(a).transition_table(), privileged(b).transition_table()
        assert not np.array_equal(ta.states, tb.states) and not np.array_equal(ta.exo, tb.exo)
        assert not np.array_equal(ta.actions, tb.actions)
    return poisoned


def test_poisoned_privileged_fields_leave_training_bit_identical(tmp_path, vector_data):
    # laom-sup: the one LAM preset whose objective reads labels (its supervision head).
    poisoned = _poison(tmp_path, vector_data)
    extra = ["model.augment=false", "model.frame_stack=1", "model.future_k=2"]
    clean = _train_all(tmp_path, vector_data, "clean", "laom-sup", extra)
    dirty = _train_all(tmp_path, poisoned, "dirty", "laom-sup", extra)
    _assert_identical_runs(clean, dirty)


def test_poisoned_privileged_fields_leave_the_identification_tricks_bit_identical(tmp_path, vector_data):
    # lapo-entropy with restarts (label-free selection) and the state-space curriculum (anchor and
    # distances from observations only)
    poisoned = _poison(tmp_path, vector_data)
    extra = ["train.curriculum=0.5", "train.curriculum_hold=0.2", "train.restarts=2", "train.restart_steps=6"]
    _assert_identical_runs(_train_all(tmp_path, vector_data, "clean", "lapo-entropy", extra),
                           _train_all(tmp_path, poisoned, "dirty", "lapo-entropy", extra))


def test_poisoned_privileged_fields_leave_the_idm_baseline_bit_identical(tmp_path, vector_data):
    poisoned = _poison(tmp_path, vector_data)
    extra = ["model.frame_stack=1"]
    _assert_identical_runs(_train_all(tmp_path, vector_data, "clean", "idm", extra),
                           _train_all(tmp_path, poisoned, "dirty", "idm", extra))


def test_importing_every_training_module_loads_no_privileged_code():
    """Transitively too: importing the training stages and models never loads the view. (The
    orchestrator ``pipeline`` imports ``evaluate`` on purpose, so it is left out here.)"""
    import subprocess
    import sys

    names = [f"identlam.{f.parent.name}.{f.stem}" for f in training_modules() if f.stem not in ("__init__", "pipeline")]
    assert "identlam.train.stage_decode" in names and "identlam.models.lam" in names
    code = ("import importlib, sys\n"
            f"for name in {names!r}:\n    importlib.import_module(name)\n"
            f"loaded = sorted(m for m in sys.modules if m.startswith({FORBIDDEN!r}))\n"
            "print(len(sys.modules), loaded)\nsys.exit(1 if loaded else 0)\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_label_split_is_drawn_among_training_trajectories_only(vector_data):
    from identlam.errors import ConfigError
    from identlam.train.batches import split_trajectories

    with open_dataset(vector_data) as ds:
        train, held_out = split_trajectories(ds.n_trajectories, 0.34)
        assert len(held_out) > 0
        for seed in range(5):
            cfg = make_config(vector_data, "laom-sup", labels=len(train), overrides=[*TINY, f"seed={seed}"])
            assert set(label_split(ds, cfg).trajectories) == set(train)
        too_many = make_config(vector_data, "laom-sup", labels=len(train) + 1, overrides=TINY)
        try:
            label_split(ds, too_many)
        except ConfigError as err:
            assert "labels" in str(err) and "\n" not in str(err)
        else:
            raise AssertionError("a budget above the training trajectories must be refused")
