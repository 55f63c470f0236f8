"""Experts: the shipped-file format, training with checkpoints and resume, and the CLI's errors."""

import json
import zipfile

import numpy as np
import pytest
from dcs_helpers import needs_dm_control

from identlam.envs.dcs.expert_file import Expert, load_expert, save_expert, shipped_experts
from identlam.errors import ConfigError


def _toy_expert(squash="clip", normalize=True):
    rng = np.random.default_rng(0)
    return Expert(weights=[rng.normal(size=(8, 5)).astype(np.float32), rng.normal(size=(2, 8)).astype(np.float32)],
                  biases=[rng.normal(size=8).astype(np.float32), rng.normal(size=2).astype(np.float32)],
                  activation="tanh", squash=squash, low=-np.ones(2, np.float32), high=np.ones(2, np.float32),
                  obs_mean=rng.normal(size=5) if normalize else None, obs_var=rng.uniform(0.5, 2, 5) if normalize else None,
                  meta={"task": "toy-task"})


@pytest.mark.parametrize("squash, normalize", [("clip", True), ("tanh", False)])
def test_expert_file_round_trip(tmp_path, squash, normalize):
    expert = _toy_expert(squash, normalize)
    save_expert(expert, tmp_path / "e.zip")
    back = load_expert(tmp_path / "e.zip")
    states = np.random.default_rng(1).normal(size=(20, 5)) * 3
    a, b = expert.act(states), back.act(states)
    assert np.all(np.abs(a) <= 1) and np.abs(a - b).max() < 5e-3  # float16 weights
    assert back.meta["task"] == "toy-task" and back.squash == squash
    with pytest.raises(ConfigError, match="state has 4 values"):
        back.act(np.zeros(4))


def test_unreadable_expert_is_one_line_error(tmp_path):
    (tmp_path / "bad.zip").write_bytes(b"not a zip")
    with pytest.raises(ConfigError, match="expert: cannot read"):
        load_expert(tmp_path / "bad.zip")


def test_shipped_experts_are_small_and_say_how_they_were_made():
    shipped = shipped_experts()
    assert {"cheetah-run", "walker-run"} <= set(shipped)
    for task, path in shipped.items():
        assert path.stat().st_size < 400_000
        meta = json.loads(zipfile.ZipFile(path).read("meta.json"))
        assert meta["task"] == task and meta["command"].startswith(f"identlam expert train {task}")
        assert len(meta["eval_returns"]) >= 5


@needs_dm_control
def test_shipped_experts_beat_random_actions():
    from identlam.envs.dcs.expert_train import evaluate_expert

    expert = load_expert(shipped_experts()["cheetah-run"])
    returns = evaluate_expert(expert, "cheetah-run", episodes=1, seed=3)
    assert returns[0] > 150  # uniform random actions score 2-6 on cheetah-run


@needs_dm_control
def test_training_checkpoints_resumes_and_exports(tmp_path):
    from identlam.envs.dcs.expert_train import ExpertConfig, train_expert

    cfg = ExpertConfig(task="cartpole-balance", steps=256, n_envs=2, checkpoint_every=128, eval_episodes=1,
                       device="cpu", hidden=16, n_steps=64)
    first = train_expert(cfg, tmp_path / "run", command="identlam expert train cartpole-balance")
    assert first["steps"] == 256 and (tmp_path / "run" / "checkpoint" / "model.zip").exists()
    cfg.steps = 512
    second = train_expert(cfg, tmp_path / "run", command="identlam expert train cartpole-balance")
    assert second["steps"] == 512
    expert = load_expert(tmp_path / "run" / "expert.zip")
    assert expert.meta["steps"] == 512 and expert.state_dim == 5 and expert.obs_mean is not None
    cfg.seed = 1
    with pytest.raises(ConfigError, match="seed"):
        train_expert(cfg, tmp_path / "run")


@needs_dm_control
def test_expert_cli_rejects_unknown_task(capsys):
    from identlam.cli import main

    assert main(["expert", "train", "cheetah-fly", "--out", "unused"]) == 2
    assert "identlam expert: error: task: 'cheetah-fly'" in capsys.readouterr().err
