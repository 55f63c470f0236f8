"""A new family plugs in by registering: data generation and online evaluation work with no other edit."""

from __future__ import annotations

import json

import gymnasium
import numpy as np
import pytest
import torch
from gymnasium import spaces

import identlam.envs as envs
from identlam.data import open_dataset
from identlam.train.evaluate_online import EPISODE_SEED_BASE
from identlam.train.pipeline import make_config, run_pipeline
from identlam.train.rundir import RunDir

from train_fixtures import TINY


class Chain(gymnasium.Env):
    """A walker on cells 0..n-1: action 0 steps left, 1 steps right; reward -|cell - goal|."""

    resets: list[int | None] = []  # every reset seed, to check how evaluation seeds episodes

    def __init__(self, n: int = 7, goal: int = 3):
        self.n, self.goal, self.cell = int(n), int(goal), 0
        self.observation_space = spaces.Box(0.0, 1.0, (self.n,), np.float32)
        self.action_space = spaces.Discrete(2)

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        Chain.resets.append(seed)
        self.cell = int(self.np_random.integers(self.n))
        return self._obs(), self._info()

    def step(self, action):
        self.cell = int(np.clip(self.cell + (1 if int(action) == 1 else -1), 0, self.n - 1))
        return self._obs(), -float(abs(self.cell - self.goal)), False, False, self._info()

    def _obs(self):
        return np.eye(self.n, dtype=np.float32)[self.cell]

    def _info(self):
        return {"state": np.array([self.cell], np.float32), "exo": np.zeros(0, np.float32)}

    def dataset_attrs(self):
        return {"env_id": self.spec.id, "action_space": "discrete", "n_actions": 2, "obs_kind": "vector",
                "generator": {"n": self.n, "goal": self.goal}}


def towards_goal(env):
    goal = env.unwrapped.goal
    return lambda obs, info, rng: int(info["state"][0] < goal) if rng.random() < 0.8 else int(rng.integers(2))


@pytest.fixture
def toy():
    envs.register_family("toy", ("chain",), Chain, docs={"chain": "a walker on a line"})
    envs.register_policy("behaviour", towards_goal, family="toy")
    yield "toy/chain"
    envs.unregister_family("toy")
    assert "toy/chain" not in envs.available() and "toy/chain" not in gymnasium.registry


def test_a_registered_family_collects_and_evaluates_online(toy, tmp_path, cli_main, capsys, monkeypatch):
    monkeypatch.setenv("IDENTLAM_CACHE", str(tmp_path / "cache"))  # the normalizer is measured here, not read
    data = tmp_path / "chain.h5"
    assert cli_main(["collect", toy, "--out", str(data), "--episodes", "8", "--steps", "20", "--set", "n=9",
                     "--quiet"]) == 0
    assert "of toy/chain, obs (9,) float32, discrete actions" in capsys.readouterr().out
    with open_dataset(data) as ds:
        assert ds.env_id == toy and ds.attrs["generator"] == {"n": 9, "goal": 3}
        assert ds.attrs["policy"] == "behaviour" and ds.lengths.tolist() == [20] * 8
    assert cli_main(["generate", toy, "--out", str(tmp_path / "same.h5"), "--episodes", "8", "--steps", "20",
                     "--set", "n=9", "--quiet"]) == 0  # `generate` is the same door
    assert (tmp_path / "same.h5").read_bytes() == data.read_bytes()

    cfg = make_config(data, "bc", labels=4, overrides=[*TINY, "eval.episodes=3", "eval.max_steps=12"])
    run = RunDir.create(tmp_path / "run", cfg, data)
    Chain.resets.clear()
    online = run_pipeline(run)["online"]
    assert online["env_id"] == toy and online["env_overrides"] == {} and len(online["returns"]) == 3
    seeds = [EPISODE_SEED_BASE + i for i in range(3)]
    assert Chain.resets == seeds * 3  # the policy, the random policy, the normalizer: the same episodes
    assert all(-12 * 8 <= r <= 0 for r in online["returns"] + online["random_returns"])

    capsys.readouterr()
    assert cli_main(["evaluate", str(run.path), "--env-set", "goal=0"]) == 0
    assert "return:" in capsys.readouterr().out
    moved = json.loads(run.output("evaluate").read_text())["online"]
    assert moved["env_overrides"] == {"goal": 0} and moved["episodes"] == 3
    assert moved["random_returns"] != online["random_returns"]  # measured against the moved goal
    assert cli_main(["evaluate", str(run.path), "--env-set", "nope=1"]) == 2
    assert "parameter 'nope'" in capsys.readouterr().err


def test_evaluation_skips_an_environment_that_is_not_registered(toy, tmp_path, monkeypatch):
    monkeypatch.setenv("IDENTLAM_CACHE", str(tmp_path / "cache"))
    data = tmp_path / "chain.h5"
    envs.collect(toy, {}, "random", episodes=4, steps=10, seed=0, out=data, progress=False)
    envs.unregister_family("toy")
    # 18 training transitions: batches no larger than the data (larger ones are refused)
    cfg = make_config(data, "bc", labels=2, overrides=[*TINY, "train.batch_size=16", "bc.batch_size=16",
                                                        "decoder.batch_size=16"])
    report = run_pipeline(RunDir.create(tmp_path / "run", cfg, data))
    assert report["online"] is None and "'toy/chain' is not registered" in report["online_skipped"]


def test_online_frames_are_stacked_as_training_stacks_them(tmp_path):
    """The agent's input at step t equals the training window of the same episode at t."""
    from identlam.train.agent import Agent

    env_id, params = "synthetic/pointmass", {"obs": "image", "image_size": 16, "distractor": "markov"}
    data = tmp_path / "img.h5"
    envs.collect(env_id, params, "random", episodes=1, steps=7, seed=5, out=data, progress=False)

    seen: list[np.ndarray] = []

    class Recorder(torch.nn.Module):
        def forward(self, x):
            seen.append(x[0].numpy().copy())
            return torch.zeros(1, 4)

    agent = Agent(Recorder(), discrete=True, frame_stack=3, device=torch.device("cpu"))
    env = envs.make(env_id, **params)
    with open_dataset(data) as ds:
        from identlam.data.privileged import privileged

        actions = privileged(ds).actions(0)
        T = int(ds.lengths[0])
        windows = ds.observations(frame_stack=3).read(np.zeros(T - 1, int), np.arange(T - 1), None).obs_t
    obs, _ = env.reset(seed=envs.episode_seed(5, 0))
    agent.reset(obs)
    for t in range(T - 1):
        agent.act(obs)
        obs, *_ = env.step(int(actions[t]))
    assert np.array_equal(np.stack(seen), windows)


def test_installed_packages_register_families_through_entry_points(monkeypatch):
    from identlam.envs import plugins

    class EntryPoint:
        def __init__(self, name, target):
            self.name, self.value, self.target = name, f"pkg:{name}", target

        def load(self):
            if isinstance(self.target, Exception):
                raise self.target
            return self.target

    def register():
        envs.register_family("toy", ("chain",), Chain)

    found = [EntryPoint("chain", register), EntryPoint("broken", ModuleNotFoundError("No module named 'pkg'"))]
    monkeypatch.setattr(plugins, "entry_points", lambda group: found if group == "identlam.envs" else [])
    try:
        with pytest.warns(RuntimeWarning, match="plugin 'broken' .* did not register: ModuleNotFoundError"):
            assert envs.load_plugins() == ["chain"]
        assert "toy/chain" in envs.available() and envs.make("toy/chain", n=4).observation_space.shape == (4,)
    finally:
        envs.unregister_family("toy")
