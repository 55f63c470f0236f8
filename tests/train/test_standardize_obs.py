"""``model.standardize_obs``: the networks read vector observations standardized by statistics of
unlabeled training windows, fixed before training and saved with the model."""

from __future__ import annotations

import numpy as np
import torch
from train_fixtures import TINY, poisoned_copy

from identlam.data import open_dataset
from identlam.train.artifacts import load_stage1
from identlam.train.autoscale import observation_statistics
from identlam.train.batches import split_trajectories
from identlam.train.device import derive_seed
from identlam.train.pipeline import make_config
from identlam.train.rundir import RunDir
from identlam.train.stage_train import run_train

ON = [*TINY, "model.standardize_obs=true", "train.steps=8"]


def _trained(tmp_path, data, name="run", extra=()):
    run = RunDir.create(tmp_path / name, make_config(data, "lapo-entropy", overrides=[*ON, *extra]), data)
    run_train(run)
    return run


def test_the_saved_model_standardizes_by_the_training_windows_statistics(tmp_path, vector_data):
    run = _trained(tmp_path, vector_data)
    with open_dataset(vector_data) as ds:
        train, _ = split_trajectories(ds.n_trajectories, run.cfg.eval.holdout_fraction)
        windows = ds.observations(trajectories=train)
        mean, std = observation_statistics(windows, derive_seed(run.cfg.seed, "standardize"))
        lam = load_stage1(run, ds, torch.device("cpu"))[1]
        sample = windows.sample(2048, np.random.default_rng(1))
    np.testing.assert_allclose(lam.obs_standardizer.mean.numpy(), mean, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(lam.obs_standardizer.std.numpy(), std, rtol=1e-5, atol=1e-6)
    seen = lam._standardized(torch.as_tensor(sample.obs_t).float()).numpy()
    # the networks' input is centred and scaled (another sample of the same windows: loose bounds)
    np.testing.assert_allclose(seen.mean(0), 0.0, atol=0.3)
    np.testing.assert_allclose(seen.std(0), 1.0, atol=0.3)
    raw = sample.obs_t.reshape(len(sample.obs_t), -1)
    assert np.abs(raw.mean(0)).max() > 1.0 or np.abs(raw.std(0) - 1.0).max() > 0.5  # so the bounds above bite


def test_the_statistics_read_observations_only(tmp_path, vector_data):
    poisoned = poisoned_copy(vector_data, tmp_path / "poisoned.h5", keep=np.array([], dtype=int), seed=0)
    a, b = _trained(tmp_path, vector_data, "a"), _trained(tmp_path, poisoned, "b")
    with open_dataset(vector_data) as da, open_dataset(poisoned) as db:
        la, lb = load_stage1(a, da, torch.device("cpu"))[1], load_stage1(b, db, torch.device("cpu"))[1]
    assert torch.equal(la.obs_standardizer.mean, lb.obs_standardizer.mean)
    assert torch.equal(la.obs_standardizer.std, lb.obs_standardizer.std)


def test_images_are_left_as_they_are(tmp_path, image_data):
    run = _trained(tmp_path, image_data, extra=["train.merge_tolerance=0"])  # the merge test's fine-tuning: minutes
    with open_dataset(image_data) as ds:
        lam = load_stage1(run, ds, torch.device("cpu"))[1]
    assert lam.obs_standardizer is None and not any("obs_standardizer" in k for k in lam.state_dict())


def test_images_get_a_batch_standardized_idm_input_without_which_every_window_takes_one_code(tmp_path, image_data):
    """Images keep their [-1, 1] scale, so lapo-entropy's image recipe standardizes the IDM input
    over the batch instead: without it the IMPALA embeddings' common mode saturates the first
    logits and the conditional entropy is 0 during the bonus phase (one code for everything)."""
    import json

    from identlam.presets import IMAGE_RECIPE, get_preset

    assert get_preset("lapo-entropy", obs_kind="image").model.idm_input_norm is True
    assert get_preset("lapo-entropy", obs_kind="vector").model.idm_input_norm is False
    assert get_preset("lapo-entropy", "paper", obs_kind="image").model.idm_input_norm is False
    assert get_preset("lapo-entropy", obs_kind="image").train.optim.lr == IMAGE_RECIPE["train.optim.lr"]
    entropy = {}
    for norm in ("true", "false"):
        over = ["train.steps=20", "train.batch_size=32", "train.log_every=5", "train.merge_tolerance=0",
                "bc.batch_size=32", "decoder.batch_size=32", "eval.holdout_fraction=0.25", f"model.idm_input_norm={norm}"]
        run = RunDir.create(tmp_path / norm, make_config(image_data, "lapo-entropy", overrides=over), image_data)
        run_train(run)
        logged = [json.loads(line) for line in (run.path / "log.jsonl").read_text().splitlines()]
        entropy[norm] = [d["h_conditional"] for d in logged if d.get("stage") == "train" and "h_conditional" in d]
    assert min(entropy["true"]) > 1.0, entropy
    assert max(entropy["false"]) < 0.01, entropy
