"""Every stage end to end on tiny data; latents layout and order; skipping; resume; NaN."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from identlam.data import open_dataset
from identlam.errors import TrainingDiverged
from identlam.models import LatentActionModel
from identlam.train.artifacts import load_artifact, load_stage1
from identlam.train.batches import to_batch
from identlam.train.pipeline import STAGES, make_config, run_pipeline
from identlam.train.rundir import RunDir
from identlam.train.stage_relabel import run_relabel
from identlam.train.stage_train import run_train

from train_fixtures import TINY, TINY_IMAGE


def _run(tmp_path, data, method="lapo-entropy", name="run", labels=2, extra=()):
    cfg = make_config(data, method, labels=labels, overrides=[*TINY, *extra])
    return RunDir.create(tmp_path / name, cfg, data)


def _weights(run) -> dict[str, torch.Tensor]:
    saved = load_artifact(run.output("train"))
    return next(iter(saved["modules"].values()))


def _same_weights(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory, vector_data):
    run = _run(tmp_path_factory.mktemp("runs"), vector_data)
    run_pipeline(run)
    return run


def test_every_stage_writes_its_output(finished_run):
    for stage in STAGES:
        assert finished_run.output(stage).is_file(), stage
    assert not (finished_run.path / "checkpoints").exists()  # in-progress checkpoints are cleaned up
    metrics = json.loads(finished_run.output("evaluate").read_text())
    score = metrics["offline"]["score"]
    assert 0.0 <= score["ami"] <= 1.0 and score["used_codes"] >= 1
    assert metrics["offline"]["trajectories"] == [3, 4, 5]  # the last ceil(0.34 * 6) trajectories
    online = metrics["online"]
    assert online["episodes"] == 2 and len(online["returns"]) == 2 and len(online["random_returns"]) == 2
    assert online["return_mean"] == pytest.approx(np.mean(online["returns"]))
    ref, rnd = online["bc_all_return_mean"], online["random_return_mean"]
    assert np.isfinite(ref) and np.isfinite(rnd)
    assert online["normalized_return_random"] == pytest.approx((online["return_mean"] - rnd) / (ref - rnd))
    assert online["normalized_return"] == (pytest.approx(online["return_mean"] / ref) if ref > 0 else None)


def test_the_normalizer_is_trained_once_per_dataset_and_seed(finished_run, tmp_path, vector_data, monkeypatch):
    first = json.loads(finished_run.output("evaluate").read_text())["online"]

    def no_training(*args, **kwargs):
        raise AssertionError("the BC-on-all-actions normalizer was trained again")

    monkeypatch.setattr("identlam.train.evaluate_online._train_bc_all", no_training)
    other = _run(tmp_path, vector_data, name="other", extra=["model.entropy.weight=0.3", "bc.steps=19"])
    report = run_pipeline(other)["online"]
    assert report["bc_all_return_mean"] == first["bc_all_return_mean"]
    assert report["bc_all_cache"] == first["bc_all_cache"]
    assert report["random_returns"] == first["random_returns"]  # the same seeded episodes


def test_latents_layout_and_order(finished_run, vector_data):
    cfg = finished_run.cfg
    with np.load(finished_run.output("relabel")) as f:
        lat = {k: f[k] for k in f.files}
    with open_dataset(vector_data) as ds:
        n = ds.n_transitions
        expected_traj = np.repeat(np.arange(ds.n_trajectories), ds.lengths - 1)
        expected_t = np.concatenate([np.arange(T - 1) for T in ds.lengths])
        _, lam = load_stage1(finished_run, ds, torch.device("cpu"))
        w = ds.observations(frame_stack=cfg.model.frame_stack).read(np.array([4, 0, 2]), np.array([7, 0, 38]), None)
        z, codes, probs = lam.label(*(to_batch(w, torch.device("cpu"))[k] for k in ("obs_t", "obs_next")))
    assert lat["z"].dtype == np.float32 and lat["z"].shape == (n, cfg.model.latent_dim)
    assert lat["codes"].dtype == np.int64 and lat["codes"].shape == (n,)
    assert lat["probs"].shape == (n, cfg.model.n_codes)
    np.testing.assert_allclose(lat["probs"].sum(1), 1.0, rtol=1e-5)
    np.testing.assert_array_equal(lat["codes"], lat["probs"].argmax(1))
    np.testing.assert_array_equal(lat["traj"], expected_traj)
    np.testing.assert_array_equal(lat["t"], expected_t)
    assert int(lat["n_codes"]) == cfg.model.n_codes
    rows = np.array([4 * 39 + 7, 0, 2 * 39 + 38])  # 40-step trajectories: 39 transitions each
    np.testing.assert_allclose(lat["z"][rows], z.numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(lat["codes"][rows], codes.numpy())


def test_log_has_losses_lr_and_collapse_diagnostics(finished_run):
    rows = finished_run.log.records("train")
    assert [r["step"] for r in rows] == [5, 10, 15, 20, 25, 30]
    for key in ("loss", "lr", "grad_norm", "rec_loss", "codes_used", "perplexity", "dead_codes"):
        assert key in rows[-1], key
    # train/autoscale: lapo-entropy's entropy weights are in units of the measured target variance
    # and its label-free merge test fine-tunes once for the reference (train/merge0), then once per try
    stages = {r["stage"] for r in finished_run.log.records()}
    assert "train/merge0" in stages
    assert {s for s in stages if not s.startswith("train/merge")} == {"train", "train/autoscale", "bc", "decode"}


def test_rerun_skips_finished_stages(finished_run, monkeypatch):
    before = {s: finished_run.output(s).stat().st_mtime_ns for s in STAGES}

    def no_training(*args, **kwargs):
        raise AssertionError("a finished stage trained again")

    for mod in ("stage_train", "stage_bc", "stage_decode"):
        monkeypatch.setattr(f"identlam.train.{mod}.fit", no_training)
    run_pipeline(RunDir(finished_run.path))
    assert {s: finished_run.output(s).stat().st_mtime_ns for s in STAGES} == before


def test_resume_after_interruption_equals_uninterrupted(tmp_path, vector_data, monkeypatch):
    whole = _run(tmp_path, vector_data, name="whole")
    run_train(whole)
    run_relabel(whole)

    cut = _run(tmp_path, vector_data, name="cut")
    real_loss = LatentActionModel.loss

    def interrupted(self, batch, step, total_steps=1):
        if step == 17:  # after the checkpoint at 10: steps 10..16 are lost and redone
            raise KeyboardInterrupt
        return real_loss(self, batch, step, total_steps)

    monkeypatch.setattr(LatentActionModel, "loss", interrupted)
    with pytest.raises(KeyboardInterrupt):
        run_train(cut)
    assert torch.load(cut.checkpoint("train"), weights_only=False)["step"] == 10
    monkeypatch.setattr(LatentActionModel, "loss", real_loss)
    run_train(cut)
    run_relabel(cut)
    assert _same_weights(_weights(whole), _weights(cut))
    with np.load(whole.output("relabel")) as a, np.load(cut.output("relabel")) as b:
        assert all(np.array_equal(a[k], b[k]) for k in a.files)
    assert [r["step"] for r in cut.log.records("train")] == [5, 10, 15, 20, 25, 30]


def test_nan_stops_with_one_line_and_keeps_the_last_good_checkpoint(tmp_path, vector_data, monkeypatch):
    run = _run(tmp_path, vector_data)
    real_loss = LatentActionModel.loss

    def poisoned(self, batch, step, total_steps=1):
        out = real_loss(self, batch, step, total_steps)
        if step == 13:
            out.loss = out.loss * float("nan")
            out.logs["rec_loss"] = float("nan")
        return out

    monkeypatch.setattr(LatentActionModel, "loss", poisoned)
    with pytest.raises(TrainingDiverged) as info:
        run_train(run)
    msg = str(info.value)
    assert "\n" not in msg and "step 13" in msg and "'rec_loss'" in msg and "step 10" in msg
    kept = torch.load(run.checkpoint("train"), weights_only=False)
    assert kept["step"] == 10
    assert all(torch.isfinite(v).all() for v in kept["modules"]["lam"].values() if v.is_floating_point())
    assert not run.finished("train")


def test_image_preset_end_to_end(tmp_path, image_data):
    cfg = make_config(image_data, "laom", labels=1,
                      overrides=[*TINY_IMAGE, "model.future_k=3", "train.steps=6", "bc.steps=4", "decoder.steps=4",
                                 "eval.holdout_fraction=0.25"])
    run = RunDir.create(tmp_path / "img", cfg, image_data)
    report = run_pipeline(run)
    with np.load(run.output("relabel")) as lat:
        assert lat["z"].shape == (4 * 29, cfg.model.latent_dim) and "codes" not in lat.files
    assert load_artifact(run.output("bc"))["meta"]["target"] == "latent"
    assert report["offline"]["trajectories"] == [3]
    assert np.isfinite(report["offline"]["score"]["action_probe_accuracy"])


@pytest.mark.parametrize("method", ["bc", "idm"])
def test_baselines_end_to_end(tmp_path, vector_data, method):
    run = _run(tmp_path, vector_data, method=method, extra=["model.frame_stack=1"])
    report = run_pipeline(run)
    assert run.finished("train") and run.finished("evaluate")
    if method == "bc":
        assert not run.finished("relabel") and report["offline"] is None
    else:
        with np.load(run.output("relabel")) as lat:
            np.testing.assert_array_equal(lat["codes"], lat["z"].argmax(1))  # predicted actions
            assert int(lat["n_codes"]) == 4
        assert load_artifact(run.output("decode"))["kind"] == "identity"
        assert report["offline"]["score"]["n_actions"] == 4


@pytest.mark.parametrize("method", ["lapo", "lapo-fsq", "lapo-continuous", "laom", "laom-sup"])
def test_every_lam_preset_runs_every_stage(tmp_path, vector_data, method):
    cfg = make_config(vector_data, method, labels=2,
                      overrides=[*TINY, "train.steps=4", "bc.steps=3", "decoder.steps=3", "model.future_k=2",
                                 "eval.episodes=1", "eval.normalizer_steps=3", "model.frame_stack=2"])
    run = RunDir.create(tmp_path / method, cfg, vector_data)
    report = run_pipeline(run)
    target = load_artifact(run.output("bc"))["meta"]["target"]
    assert target == ("codes" if method == "lapo-fsq" else "latent")  # VQ's 64**8 joint codes: regress z
    with np.load(run.output("relabel")) as lat:
        assert ("codes" in lat.files) == (method in ("lapo", "lapo-fsq"))
        # VQ's joint ids (up to 64**8) are stored as indices into the distinct ids that occur.
        assert ("code_values" in lat.files) == (method == "lapo")
        if method == "lapo":
            assert lat["codes"].min() == 0 and lat["codes"].max() == len(lat["code_values"]) - 1
            assert len(np.unique(lat["code_values"])) == len(lat["code_values"])
    assert np.isfinite(report["online"]["return_mean"])
