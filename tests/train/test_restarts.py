"""Restarts chosen by the label-free objective, and the per-step hook of the model."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from train_fixtures import TINY

from identlam.data import open_dataset
from identlam.errors import ConfigError
from identlam.train import stage_train
from identlam.train.artifacts import build_lam, load_artifact
from identlam.train.pipeline import make_config
from identlam.train.rundir import RunDir
from identlam.train.stage_train import label_free_objective, run_train

SHORT = [*TINY, "train.steps=16"]


def _run(tmp_path, data, name, *extra):
    cfg = make_config(data, "lapo-entropy", overrides=[*SHORT, *extra])
    return RunDir.create(tmp_path / name, cfg, data)


def _weights(run):
    return load_artifact(run.output("train"))["modules"]["lam"]


def _equal(a, b):
    return all(torch.equal(a[k], b[k]) for k in a)


def test_restarts_continue_the_candidate_with_the_lowest_objective(tmp_path, vector_data, monkeypatch):
    single = _run(tmp_path, vector_data, "single")
    run_train(single)

    scores = iter([3.0, 1.0, 2.0])  # candidate 1 wins
    monkeypatch.setattr(stage_train, "label_free_objective", lambda *a, **k: next(scores))
    picked = _run(tmp_path, vector_data, "picked", "train.restarts=3", "train.restart_steps=6")
    run_train(picked)
    record = json.loads((picked.path / "restarts.json").read_text())
    assert record["chosen"] == 1 and record["objective"] == [3.0, 1.0, 2.0]
    assert load_artifact(picked.output("train"))["meta"]["restart"] == 1
    assert not _equal(_weights(single), _weights(picked))
    assert {r["stage"] for r in picked.log.records()} >= {"train/restart0", "train/restart1", "train/restart2", "train"}

    scores0 = iter([1.0, 3.0])  # candidate 0 wins: exactly the single-start run
    monkeypatch.setattr(stage_train, "label_free_objective", lambda *a, **k: next(scores0))
    first = _run(tmp_path, vector_data, "first", "train.restarts=2", "train.restart_steps=6")
    run_train(first)
    assert _equal(_weights(single), _weights(first))


def test_label_free_objective_is_deterministic_and_leaves_the_model_alone(vector_data):
    cfg = make_config(vector_data, "lapo-entropy", overrides=SHORT)
    with open_dataset(vector_data) as ds:
        lam = build_lam(cfg, ds, seed=0)
        windows = ds.observations().sample(100, np.random.default_rng(0))
    before = {k: v.clone() for k, v in lam.state_dict().items()}
    # at the end of training every entropy weight is a penalty, so the objective is positive
    a = label_free_objective(lam, windows, 16, 16, 32, torch.device("cpu"))
    b = label_free_objective(lam, windows, 16, 16, 32, torch.device("cpu"))
    assert a == b and np.isfinite(a) and a > 0
    assert _equal(before, lam.state_dict()) and lam.training


def test_restart_steps_must_be_shorter_than_training(tmp_path, vector_data):
    with pytest.raises(ConfigError, match="train.restart_steps"):  # refused when the config is made
        run_train(_run(tmp_path, vector_data, "bad", "train.restarts=2", "train.restart_steps=16"))
