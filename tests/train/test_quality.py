"""Label-free quality of a trained LAM on held-out trajectories."""

from __future__ import annotations

import json

import numpy as np
import pytest
from train_fixtures import TINY

from identlam.data import open_dataset
from identlam.errors import IdentlamError
from identlam.train.batches import split_trajectories
from identlam.train.pipeline import make_config
from identlam.train.quality import QUALITY_KEYS, held_out_quality
from identlam.train.rundir import RunDir
from identlam.train.stage_train import run_train


def test_held_out_quality_reads_the_held_out_trajectories_and_the_run_weights(tmp_path, vector_data):
    over = [*TINY, "train.steps=12", "model.entropy.units=target_variance", "model.entropy.weight=0.1"]
    run = RunDir.create(tmp_path / "run", make_config(vector_data, "lapo-entropy", overrides=over), vector_data)
    run_train(run)
    q = held_out_quality(run)
    with open_dataset(vector_data) as ds:
        _, held = split_trajectories(ds.n_trajectories, run.cfg.eval.holdout_fraction)
        assert q["held_out_transitions"] == int(sum(ds.lengths[i] - 1 for i in held))
    assert q["rec_normalized"] == pytest.approx(q["rec"] / q["target_variance"])
    weight = json.loads((run.path / "config.json").read_text())["derived"]["entropy"]["model.entropy.weight"]
    assert q["objective"] == pytest.approx(q["rec"] + weight * q["h_conditional"])
    assert 1 <= q["codes_used"] <= run.cfg.model.n_codes
    assert 0 <= q["h_marginal"] <= np.log(run.cfg.model.n_codes) + 1e-9


def test_held_out_quality_refuses_a_run_without_held_out_trajectories(tmp_path, vector_data):
    over = [*TINY, "train.steps=6", "eval.holdout_fraction=0"]
    run = RunDir.create(tmp_path / "run", make_config(vector_data, "lapo-entropy", overrides=over), vector_data)
    run_train(run)
    with pytest.raises(IdentlamError, match="holdout_fraction"):
        held_out_quality(run)


def test_evaluate_writes_the_label_free_quality_and_the_runner_tabulates_it(tmp_path, vector_data):
    from identlam.runner.cell import flatten_metrics
    from identlam.train.evaluate import run_evaluate
    from identlam.train.stage_relabel import run_relabel

    run = RunDir.create(tmp_path / "run", make_config(vector_data, "lapo-entropy", overrides=[*TINY, "train.steps=12"]),
                        vector_data)
    run_train(run)
    run_relabel(run)
    report = run_evaluate(run)
    assert report["label_free"] == pytest.approx(held_out_quality(run))
    assert set(report["label_free"]) == set(QUALITY_KEYS)
    flat = flatten_metrics(run.output("evaluate"))
    assert flat["label_free.rec_normalized"] == pytest.approx(report["label_free"]["rec_normalized"])
    curves = report["offline"]["details"]["parts"]["decoder_curves"]
    assert curves["budgets"] and {"global_lookup", "bc_scratch"} <= set(curves)
    for name in ("global_lookup", "bc_scratch"):
        assert [flat[f"decoder.{name}@{b}"] for b in curves["budgets"]] == pytest.approx(curves[name])
    assert "Label-free quality" in (run.path / "report.md").read_text()


def test_a_continuous_latent_has_no_label_free_part(tmp_path, vector_data):
    from identlam.train.evaluate import run_evaluate
    from identlam.train.stage_relabel import run_relabel

    run = RunDir.create(tmp_path / "run", make_config(vector_data, "lapo-continuous", overrides=[*TINY, "train.steps=6"]),
                        vector_data)
    run_train(run)
    run_relabel(run)
    assert run_evaluate(run)["label_free"] is None
