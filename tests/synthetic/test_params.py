"""Parameters: string coercion, config round trip, and one-line errors naming the parameter."""

import json

import numpy as np
import pytest

import synthetic
from synthetic import SyntheticError


def test_config_is_json_and_rebuilds_the_identical_environment():
    env = synthetic.make("pointmass-islands", obs="mlp", distractor="correlated", rho=0.3, noise=0.01, map_seed=4)
    cfg = json.loads(json.dumps(env.config))
    env2 = synthetic.make_from_config(cfg)
    assert env2.config == env.config and env2.spec == env.spec
    a = next(synthetic.generate(env, episodes=1, steps=30, seed=2))
    b = next(synthetic.generate(env2, episodes=1, steps=30, seed=2))
    for k in a.keys():
        np.testing.assert_array_equal(a[k], b[k])


def test_preset_switches_are_in_the_config_and_can_be_overridden():
    env = synthetic.make("pointmass-twist", warp="0.25")
    assert env.config["twist"] is True and env.config["warp"] == 0.25
    assert env.spec["env_id"] == "synthetic/pointmass-twist"


def test_string_values_from_the_cli_are_coerced():
    env = synthetic.make("pointmass", K="8", rho="0.25", noise="0", obs="linear", distractor="correlated",
                         walls="true", duplicate_action="no", image_size="32", temperature="2e-1")
    c = env.config
    assert (c["K"], c["rho"], c["noise"], c["walls"], c["duplicate_action"]) == (8, 0.25, 0.0, True, False)
    assert isinstance(c["K"], int) and isinstance(c["rho"], float) and c["temperature"] == 0.2
    assert synthetic.make("grid", K="5").spec["n_actions"] == 5
    assert synthetic.make("linear", K="3").spec["action_dim"] == 3


def test_spec_names_every_field():
    spec = synthetic.make("pointmass", K=6, obs="image", image_size=32, distractor="iid", distractor_dim=4,
                          background="moving").spec
    assert spec == {
        "env_id": "synthetic/pointmass", "action_space": "discrete", "n_actions": 6, "obs_kind": "image",
        "obs_shape": [32, 32, 3], "obs_dtype": "uint8", "state_dim": 2, "exo_dim": 6,
        "exo_layout": {"distractor": [0, 4], "background": [4, 6]},
    }


BAD = [
    (lambda: synthetic.make("pointmass", speed=3), "speed"),
    (lambda: synthetic.make("pointmass", K="four"), "K"),
    (lambda: synthetic.make("pointmass", K=4.5), "K"),
    (lambda: synthetic.make("pointmass", K=1), "K"),
    (lambda: synthetic.make("pointmass", rho=1.5), "rho"),
    (lambda: synthetic.make("pointmass", rho="nan"), "rho"),
    (lambda: synthetic.make("pointmass", obs="pixels"), "obs"),
    (lambda: synthetic.make("pointmass", distractor="random"), "distractor"),
    (lambda: synthetic.make("pointmass", noise=-0.1), "noise"),
    (lambda: synthetic.make("pointmass", warp=1.0), "warp"),
    (lambda: synthetic.make("pointmass", twist="maybe"), "twist"),
    (lambda: synthetic.make("pointmass", temperature=0), "temperature"),
    (lambda: synthetic.make("pointmass", islands=True, walls=True), "islands"),
    (lambda: synthetic.make("pointmass", background="moving"), "background"),
    (lambda: synthetic.make("pointmass", obs="image", distractor="iid", distractor_dim=3), "distractor_dim"),
    (lambda: synthetic.make("linear", obs="image"), "obs"),
    (lambda: synthetic.make("linear", epsilon=0.1), "epsilon"),
    (lambda: synthetic.make("grid", K=6), "K"),
    (lambda: synthetic.make("grid", noise=2), "noise"),
    (lambda: synthetic.make("mountaincar"), "env"),
    (lambda: synthetic.make_from_config({"K": 4}), "config"),
    (lambda: synthetic.make_from_config({"family": "cube"}), "family"),
    (lambda: list(synthetic.generate("pointmass", episodes=0, steps=5)), "episodes"),
    (lambda: list(synthetic.generate("pointmass", episodes=1, steps=1)), "steps"),
    (lambda: list(synthetic.generate("pointmass", episodes=1, steps=5, seed=-1)), "seed"),
    (lambda: list(synthetic.generate(synthetic.make("grid"), 1, 5, K=5)), "K"),
    (lambda: synthetic.make("pointmass").step(0), "action"),
    (lambda: synthetic.make("pointmass").observe(np.zeros(2), np.zeros(3)), "exo"),
]


@pytest.mark.parametrize("call,name", BAD, ids=[n for _, n in BAD])
def test_bad_input_gives_one_line_error_naming_the_parameter(call, name):
    with pytest.raises(SyntheticError) as info:
        call()
    msg = str(info.value)
    assert "\n" not in msg and f"'{name}'" in msg
    assert isinstance(info.value, ValueError)


@pytest.mark.parametrize("action", [4, -1, 1.5, "0", np.array([0, 1])])
def test_step_rejects_bad_discrete_actions(action):
    env = synthetic.make("pointmass")
    env.reset(seed=0)
    with pytest.raises(SyntheticError, match="'action'"):
        env.step(action)


def test_step_rejects_bad_continuous_actions():
    env = synthetic.make("linear")
    env.reset(seed=0)
    for bad in ([1.0], [np.nan, 0.0], [[1.0, 2.0]]):
        with pytest.raises(SyntheticError, match="'action'"):
            env.step(bad)
    obs, r, _, info = env.step(np.array([0.1, -0.2]))
    assert info["state"].dtype == np.float32 and np.isfinite(r)
