"""Entropy weights in units of the FDM target's variance (``model.entropy.units = "target_variance"``)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from train_fixtures import TINY, poisoned_copy

from identlam.config import RunConfig
from identlam.config import from_dict as config_from_dict
from identlam.config import to_dict as config_to_dict
from identlam.config import validate
from identlam.errors import ConfigError
from identlam.train.autoscale import resolve_entropy_units, target_variance
from identlam.train.pipeline import make_config
from identlam.train.rundir import RunDir
from identlam.train.stage_train import run_train

RELATIVE = ["model.entropy.units=target_variance", "model.entropy.weight=0.1", "model.entropy.bonus=0.3",
            "train.steps=12"]


def _walk(rng, n: int, d: int, step: float) -> np.ndarray:
    return np.cumsum(rng.normal(scale=step, size=(n, d)), axis=0).astype(np.float32)


def test_target_variance_is_the_variance_of_the_observation_change():
    rng = np.random.default_rng(0)
    obs = _walk(rng, 20_001, 3, step=0.2)
    var = target_variance(obs[:-1], obs[1:], predict_delta=True)
    assert var == pytest.approx(0.04, rel=0.05)
    # scale: doubling the observations quadruples the variance (weights follow the squared error)
    assert target_variance(2 * obs[:-1], 2 * obs[1:], True) == pytest.approx(4 * var, rel=1e-9)
    # a constant offset changes neither the change nor the level's variance
    assert target_variance(obs[:-1] + 7, obs[1:] + 7, True) == pytest.approx(var, rel=1e-5)
    assert target_variance(obs[:-1] + 7, obs[1:] + 7, False) == pytest.approx(
        target_variance(obs[:-1], obs[1:], False), rel=1e-6)
    # images are measured in the model's units: uint8 x -> x * 2/255 - 1
    img = rng.integers(0, 256, size=(500, 4, 4, 3)).astype(np.uint8)
    expected = ((img[1:].astype(float) - img[:-1]) * 2 / 255).reshape(499, -1).var(0).mean()
    assert target_variance(img[:-1], img[1:], True) == pytest.approx(expected, rel=1e-9)
    with pytest.raises(ConfigError, match="model.entropy.units"):
        target_variance(obs[:-1] * 0, obs[1:] * 0, True)


def _train(tmp_path: Path, data: Path, name: str, extra=()) -> RunDir:
    cfg = make_config(data, "lapo-entropy", overrides=[*TINY, *RELATIVE, *extra])
    run = RunDir.create(tmp_path / name, cfg, data)
    run_train(run)
    return run


def test_the_run_records_the_measured_variance_and_trains_with_the_scaled_weights(tmp_path, vector_data):
    run = _train(tmp_path, vector_data, "run")
    saved = json.loads((run.path / "config.json").read_text())
    derived = saved["derived"]["entropy"]
    var = derived["target_variance"]
    assert 0 < var < 1
    assert derived["model.entropy.weight"] == pytest.approx(0.1 * var)
    assert derived["model.entropy.bonus"] == pytest.approx(0.3 * var)
    assert saved["config"]["model"]["entropy"]["units"] == "target_variance"  # the config entry stays as created
    # the objective used the scaled weights: the last step's penalty is the scaled lambda
    last = [r for r in run.log.records("train") if "w_conditional" in r][-1]
    assert last["w_conditional"] == pytest.approx(0.1 * var, rel=1e-6)
    # rerunning (a resume) keeps the same config entry and the same measurement
    run_train(RunDir.create(tmp_path / "run", run.cfg, vector_data))
    assert json.loads((run.path / "config.json").read_text())["derived"]["entropy"]["target_variance"] == var


def test_the_scaling_reads_observations_only(tmp_path, vector_data):
    # every action, state and distractor value replaced by random numbers: same variance, same weights
    dirty = poisoned_copy(vector_data, tmp_path / "poisoned.h5", keep=np.array([], dtype=int), seed=5)
    clean_run = _train(tmp_path, vector_data, "clean")
    dirty_run = _train(tmp_path, dirty, "dirty")
    read = lambda run: json.loads((run.path / "config.json").read_text())["derived"]  # noqa: E731
    assert read(clean_run) == read(dirty_run)


def test_scaling_the_observations_scales_the_weights_by_the_square():
    class Windows:  # the two fields and the sampler that the measurement reads
        def __init__(self, obs):
            self.obs, self.n_windows = obs, len(obs) - 1

        def sample(self, n, rng):
            idx = rng.integers(0, self.n_windows, n)
            return type("W", (), {"obs_t": self.obs[idx], "obs_next": self.obs[idx + 1]})

    obs = _walk(np.random.default_rng(1), 3000, 5, step=0.1)
    cfg = config_from_dict(RunConfig, {"model": {"predict_delta": True, "entropy": {
        "units": "target_variance", "weight": 0.1, "bonus": 0.3}}})
    a, rec_a = resolve_entropy_units(cfg, Windows(obs), seed=3)
    b, rec_b = resolve_entropy_units(cfg, Windows(2 * obs), seed=3)
    assert b.model.entropy.weight == pytest.approx(4 * a.model.entropy.weight)
    assert b.model.entropy.bonus == pytest.approx(4 * a.model.entropy.bonus)
    assert a.model.entropy.units == "absolute" and rec_a["from"]["model.entropy.weight"] == 0.1
    absolute = config_from_dict(RunConfig, {"model": {"entropy": {"weight": 0.1}}})
    assert resolve_entropy_units(absolute, Windows(obs), seed=3) == (absolute, None)


def test_target_variance_units_need_an_observation_target():
    bad = config_to_dict(RunConfig())
    bad["model"]["fdm_target"] = "latent"
    bad["model"]["entropy"]["units"] = "target_variance"
    with pytest.raises(ConfigError, match="model.entropy.units"):
        validate(config_from_dict(RunConfig, bad))
