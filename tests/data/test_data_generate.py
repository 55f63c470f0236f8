"""`identlam generate` and `identlam demo` on the synthetic environments, through identlam.cli.main."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

import identlam.envs as envs
import synthetic
from identlam.data import open_dataset
from identlam.data.privileged import privileged


def test_generate_writes_exactly_what_synthetic_generates(cli_main, tmp_path, capsys):
    out = tmp_path / "pm.h5"
    argv = ["generate", "pointmass", "--out", str(out), "--episodes", "6", "--steps", "30", "--seed", "3",
            "--set", "K=6", "--set", "distractor=correlated", "--set", "rho=0.5", "--set", "noise=0.01"]
    assert cli_main(argv) == 0
    printed = capsys.readouterr().out
    assert printed.startswith(f"wrote {out}: 6 trajectories x 30 steps (174 transitions) of synthetic/pointmass")
    expected = list(synthetic.generate("pointmass", episodes=6, steps=30, seed=3, K=6, distractor="correlated", rho=0.5, noise=0.01))
    with open_dataset(out) as ds:
        assert ds.env_id == "synthetic/pointmass" and ds.n_actions == 6 and ds.lengths.tolist() == [30] * 6
        attrs = ds.attrs
        assert attrs["seed"] == 3
        gen = attrs["generator"]  # every parameter of the environment, the overrides among them
        assert {k: gen[k] for k in ("K", "distractor", "rho", "noise")} == {"K": 6, "distractor": "correlated", "rho": 0.5, "noise": 0.01}
        assert attrs["policy"] == "behaviour"
        wanted = synthetic.make("pointmass", K=6, distractor="correlated", rho=0.5, noise=0.01).config
        assert envs.make(ds.env_id, **gen).unwrapped.core.config == wanted  # the env is rebuilt from the file
        assert {"A1", "A2", "A3", "A4"} <= set(attrs["assumptions"])
        view = privileged(ds)
        for i, tr in enumerate(expected):
            assert view.actions(i).tobytes() == tr.actions.tobytes()
            assert view.states(i).tobytes() == tr.states.tobytes()
            assert view.exo(i).tobytes() == tr.exo.tobytes()
            assert view.rewards(i).tobytes() == tr.rewards.tobytes()
        obs = np.concatenate([w.obs_t for w in ds.observations().transitions(64)])
        assert obs.tobytes() == np.concatenate([tr.obs[:-1] for tr in expected]).tobytes()


@pytest.mark.parametrize("env, space", [("linear", "continuous"), ("grid", "discrete"), ("pointmass-islands", "discrete")])
def test_generate_each_family(cli_main, tmp_path, capsys, env, space):
    out = tmp_path / f"{env}.h5"
    assert cli_main(["generate", env, "--out", str(out), "--episodes", "3", "--steps", "12"]) == 0
    with open_dataset(out) as ds:
        assert ds.action_space == space and ds.env_id == synthetic.make(env).spec["env_id"]
        assert ds.attrs["assumptions"] == json.loads(json.dumps(synthetic.make(env).assumptions(seed=0).to_dict()))
    assert "assumptions: A1" in capsys.readouterr().out


def test_generate_images_and_the_distractor_dial(cli_main, tmp_path, capsys):
    """rho = 0: the distractor change carries no information about the action; rho = 1: most of it."""
    mi = {}
    for rho in (0, 1):
        out = tmp_path / f"rho{rho}.h5"
        assert cli_main(["generate", "pointmass", "--out", str(out), "--episodes", "20", "--steps", "100", "--quiet",
                         "--set", "distractor=correlated", "--set", f"rho={rho}"]) == 0
        capsys.readouterr()
        assert cli_main(["inspect", str(out), "--json"]) == 0
        s = json.loads(capsys.readouterr().out)
        mi[rho] = (max(s["distractor"]["mi_action_change_nats"]), max(s["distractor"]["mi_shuffled_nats"]), s["actions"]["entropy_nats"])
    assert mi[0][0] < 3 * mi[0][1] + 0.01
    assert mi[1][0] > 0.5 * mi[1][2]
    out = tmp_path / "img.h5"
    assert cli_main(["generate", "pointmass", "--out", str(out), "--episodes", "2", "--steps", "5", "--set", "obs=image"]) == 0
    with open_dataset(out) as ds:
        assert ds.obs_kind == "image" and ds.obs_shape == (64, 64, 3)
        assert ds.observations(frame_stack=3).sample(2, np.random.default_rng(0)).obs_t.shape == (2, 64, 64, 9)


@pytest.mark.parametrize(
    "argv, needle",
    [
        (["generate", "nope", "--out", "x.h5"], "parameter 'env'"),
        (["generate", "pointmass", "--out", "x.h5", "--set", "bogus=1"], "parameter 'bogus'"),
        (["generate", "pointmass", "--out", "x.h5", "--set", "rho=2", "--set", "distractor=correlated"], "'rho'"),
    ],
)
def test_generate_bad_parameters(cli_main, tmp_path, monkeypatch, capsys, argv, needle):
    monkeypatch.chdir(tmp_path)
    assert cli_main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and needle in err and "Traceback" not in err
    assert list(tmp_path.iterdir()) == []
