"""The synthetic family behind gymnasium's API: every preset, its spaces, its ground truth, its attributes."""

from __future__ import annotations

import json
import warnings

import gymnasium
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import identlam.envs as envs
import synthetic


def test_every_synthetic_preset_is_registered_and_passes_gymnasiums_checker():
    assert {f"synthetic/{n}" for n in synthetic.ENVIRONMENTS} <= set(envs.available())
    for name in synthetic.ENVIRONMENTS:
        env = gymnasium.make(f"synthetic/{name}")  # gymnasium itself builds it once identlam.envs is imported
        with warnings.catch_warnings():  # unbounded vector spaces are honest here: say so, don't warn
            warnings.filterwarnings("ignore", message=".*(infinity|symmetric and normalized).*")
            check_env(env.unwrapped, skip_render_check=True)


@pytest.mark.parametrize("env_id, params", [
    ("synthetic/pointmass", {"K": 3, "obs": "image", "distractor": "correlated", "background": "moving",
                             "image_size": 32}),
    ("synthetic/linear", {"distractor": "markov"}),
    ("synthetic/grid-stay", {"obs": "mlp"}),
])
def test_reset_and_step_match_the_synthetic_environment(env_id, params):
    env = envs.make(env_id, **params)
    core = synthetic.make(env_id.split("/")[1], **params)
    obs, info = env.reset(seed=11)
    assert np.array_equal(obs, core.reset(seed=11)) and env.observation_space.contains(obs)
    assert info["state"].dtype == np.float32 and info["state"].shape == (core.family.state_dim,)
    assert info["exo"].dtype == np.float32 and info["exo"].shape == (core.exo_dim,)
    for _ in range(5):
        action = env.action_space.sample()
        obs, reward, terminated, truncated, info = env.step(action)
        obs2, reward2, _, info2 = core.step(action)
        assert np.array_equal(obs, obs2) and reward == reward2 and not terminated and not truncated
        assert np.array_equal(info["state"], info2["state"]) and np.array_equal(info["exo"], info2["exo"])
        assert np.array_equal(obs, core.observe(info["state"], info["exo"]))  # the ground truth explains the obs


def test_dataset_attrs_rebuild_the_identical_environment():
    env = envs.make("synthetic/pointmass-islands", K=6, obs="linear", distractor="iid", rho=0.2)
    attrs = json.loads(json.dumps(env.unwrapped.dataset_attrs(seed=0)))  # what a file stores and gives back
    assert attrs["env_id"] == "synthetic/pointmass-islands" and attrs["n_actions"] == 6
    assert attrs["action_space"] == "discrete" and attrs["obs_kind"] == "vector"
    assert attrs["assumptions"]["A3"]["holds"] is False  # the family's extra: the measured assumptions
    again = envs.make(attrs["env_id"], **attrs["generator"])
    assert again.unwrapped.core.config == env.unwrapped.core.config
    a, b = env.reset(seed=5)[0], again.reset(seed=5)[0]
    assert np.array_equal(a, b)


def test_files_written_before_the_interface_still_rebuild_their_environment():
    core = synthetic.make("pointmass-warp", K=5, noise=0.01)
    nested = {"env": "pointmass-warp", "episodes": 3, "steps": 9, "seed": 0, "overrides": {"K": 5},
              "config": core.config, "spec": core.spec}
    assert envs.make("synthetic/pointmass-warp", **nested).unwrapped.core.config == core.config
    assert envs.make("synthetic/pointmass-warp", **core.config).unwrapped.core.config == core.config
    with pytest.raises(envs.EnvError, match="parameter 'name'"):
        envs.make("synthetic/pointmass", **core.config)


def test_reset_without_a_seed_continues_the_seeded_stream():
    env = envs.make("synthetic/pointmass")
    env.reset(seed=3)
    first = env.reset()[1]["state"]
    env.reset(seed=3)
    assert np.array_equal(env.reset()[1]["state"], first)


def test_policies_act_in_the_action_space():
    rng = np.random.default_rng(0)
    for env_id in ("synthetic/pointmass", "synthetic/linear"):
        env = envs.make(env_id)
        obs, info = env.reset(seed=0)
        assert set(envs.policies(env_id)) >= {"behaviour", "random"}
        for name in ("behaviour", "random"):
            act = envs.make_policy(name, env)
            for _ in range(20):
                a = act(obs, info, rng)
                assert env.action_space.contains(a if np.ndim(a) == 0 else np.asarray(a, np.float32))
                obs, _, _, _, info = env.step(a)
    # the behaviour policy is the environment's own: its action frequencies follow probs(s)
    env = envs.make("synthetic/pointmass", K=4)
    _, info = env.reset(seed=1)
    act = envs.make_policy("behaviour", env)
    draws = np.bincount([act(None, info, rng) for _ in range(4000)], minlength=4) / 4000
    probs = env.unwrapped.core.policy.probs(info["state"][None])[0]
    assert np.abs(draws - probs).max() < 0.03


@pytest.mark.parametrize("call, needle", [
    (lambda: envs.make("synthetic/nope"), "parameter 'env': unknown environment 'synthetic/nope'"),
    (lambda: envs.make("nope"), "parameter 'env'"),
    (lambda: envs.make("synthetic/pointmass", bogus=1), "parameter 'bogus'"),
    (lambda: envs.make("synthetic/pointmass", K=0), "parameter 'K'"),
    (lambda: envs.make("synthetic/pointmass", preset="grid"), "parameter 'preset': fixed by the environment id"),
    (lambda: envs.make_policy("expert", envs.make("synthetic/pointmass")), "parameter 'policy'"),
    (lambda: envs.make("synthetic/pointmass").unwrapped.step(0), "reset()"),
])
def test_bad_input_is_one_line_naming_the_field(call, needle):
    with pytest.raises(envs.EnvError) as err:
        call()
    assert needle in str(err.value) and "\n" not in str(err.value)


def test_a_family_with_a_missing_dependency_names_its_extra():
    registered = envs.register_family("needs", ("thing",), "nowhere:Env", requires=("no_such_module_xyz",),
                                      extra="needs")
    assert not registered and "needs/thing" not in envs.available()
    with pytest.raises(envs.EnvError, match=r"needs the 'needs' extra \(no_such_module_xyz is not importable\)"):
        envs.make("needs/thing")


def test_synthetic_stays_numpy_and_scipy_only():
    import subprocess
    import sys
    from pathlib import Path

    code = ("import sys, synthetic; list(synthetic.generate('pointmass-image', episodes=1, steps=3)); "
            "synthetic.make('linear').assumptions(seed=0); "
            "print(sorted({m.split('.')[0] for m in sys.modules} & {'gymnasium', 'identlam', 'torch', 'h5py'}))")
    root = Path(synthetic.__file__).resolve().parents[1]
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=root, check=True)
    assert out.stdout.strip() == "[]"
