"""The evaluate stage's second action probe, fitted on the training trajectories' transitions and
scored on the held-out ones (``action_probe_*_fit_on_train``), on a tiny PointMass run with a
hand-made ``latents.npz``."""

from __future__ import annotations

import numpy as np
import pytest
from train_fixtures import TINY, make_pointmass

from identlam.data import open_dataset
from identlam.data.privileged import privileged
from identlam.train.batches import split_trajectories
from identlam.train.evaluate import run_evaluate
from identlam.train.pipeline import make_config
from identlam.train.rundir import RunDir


def _run_with_latents(root, holdout: float, train_shift: int):
    """A run whose latent is the one-hot action on held-out trajectories and the one-hot of
    ``(action + train_shift) % 4`` on the training ones."""
    data = make_pointmass(root / "pm.h5", episodes=8, steps=30)
    cfg = make_config(data, "lapo-entropy", overrides=[*TINY, f"eval.holdout_fraction={holdout}"])
    run = RunDir.create(root / "run", cfg, data)
    with open_dataset(data) as ds:
        table = privileged(ds).transition_table()
        training, _ = split_trajectories(ds.n_trajectories, holdout)
    codes = np.where(np.isin(table.traj, training), (table.actions + train_shift) % 4, table.actions).astype(np.int64)
    with open(run.output("relabel"), "wb") as fh:
        np.savez(fh, z=np.eye(4, dtype=np.float32)[codes], codes=codes, traj=table.traj, t=table.t, n_codes=np.int64(4))
    return run


def test_the_second_probe_is_fitted_on_the_training_trajectories(tmp_path):
    offline = run_evaluate(_run_with_latents(tmp_path, 0.5, 1))["offline"]
    score = offline["score"]
    assert score["action_probe_accuracy"] == 1.0  # fitted and scored on held-out rows
    assert score["action_probe_accuracy_fit_on_train"] == 0.0  # learnt the training side's shifted read-out
    part = offline["details"]["parts"]["action_probe_fit_on_train"]
    assert part["n_test"] == offline["transitions"] and part["n_train"] == 4 * 29


def test_a_consistent_latent_scores_alike_both_ways(tmp_path):
    score = run_evaluate(_run_with_latents(tmp_path, 0.5, 0))["offline"]["score"]
    assert score["action_probe_accuracy_fit_on_train"] == score["action_probe_accuracy"] == 1.0


def test_without_held_out_trajectories_the_second_probe_is_not_applicable(tmp_path):
    offline = run_evaluate(_run_with_latents(tmp_path, 0.0, 0))["offline"]
    assert "action_probe_accuracy_fit_on_train" not in offline["score"]
    assert "holdout_fraction = 0" in offline["details"]["not_applicable"]["action_probe_fit_on_train"]
