"""Collection through the interface: same data as `synthetic.generate`, the same file for any worker count."""

from __future__ import annotations

import io

import numpy as np
import pytest

import identlam.envs as envs
import synthetic
from identlam.data import open_dataset
from identlam.data.privileged import privileged
from identlam.envs.progress import Progress


def _arrays(path) -> list[dict[str, np.ndarray]]:
    with open_dataset(path) as ds:
        view = privileged(ds)
        out = []
        for i in range(ds.n_trajectories):
            T = int(ds.lengths[i])
            w = ds.observations().read(np.full(T - 1, i), np.arange(T - 1), None)
            exo = view.exo(i)
            out.append({"obs": np.concatenate([w.obs_t, w.obs_next[-1:]]), "actions": view.actions(i),
                        "states": view.states(i), "exo": np.zeros((T, 0), np.float32) if exo is None else exo,
                        "rewards": view.rewards(i)})
    return out


@pytest.mark.parametrize("name, params", [
    ("pointmass", {"K": 3, "obs": "image", "image_size": 32, "distractor": "correlated", "rho": 0.7}),
    ("pointmass-image", {"image_size": 16, "background": "moving"}),
    ("linear", {"distractor": "markov", "noise": 0.01}),
    ("grid-wrap", {}),
])
def test_the_behaviour_policy_gives_the_data_synthetic_generates(tmp_path, name, params):
    out = tmp_path / "d.h5"
    envs.collect(f"synthetic/{name}", params, "behaviour", episodes=3, steps=9, seed=4, out=out, progress=False)
    expected = list(synthetic.generate(name, episodes=3, steps=9, seed=4, **params))
    for got, want in zip(_arrays(out), expected, strict=True):
        for field in ("obs", "actions", "states", "exo", "rewards"):
            assert got[field].tobytes() == getattr(want, field).tobytes(), field


def test_synthetic_generate_from_a_later_episode_continues_the_same_sequence():
    whole = list(synthetic.generate("pointmass", episodes=5, steps=6, seed=2))
    tail = list(synthetic.generate("pointmass", episodes=2, steps=6, seed=2, start=3))
    for a, b in zip(whole[3:], tail, strict=True):
        assert a.obs.tobytes() == b.obs.tobytes() and a.actions.tobytes() == b.actions.tobytes()


@pytest.fixture
def mirror():
    """A family registered at run time (not at import): worker processes must receive it."""
    envs.register_family("mirror", ("pointmass",), "identlam.envs.synthetic_env:SyntheticEnv",
                         kwargs={"pointmass": {"preset": "pointmass"}})
    yield "mirror/pointmass"
    envs.unregister_family("mirror")


@pytest.mark.parametrize("family, policy", [("synthetic", "behaviour"), ("mirror", "random")])
def test_the_file_is_the_same_whatever_the_number_of_workers(tmp_path, mirror, family, policy):
    files = []
    for workers in (1, 2):
        out = tmp_path / f"w{workers}.h5"
        envs.collect(f"{family}/pointmass", {"obs": "image", "image_size": 16, "distractor": "markov"}, policy,
                     episodes=7, steps=5, seed=9, out=out, workers=workers, progress=False)
        files.append(out.read_bytes())
    assert files[0] == files[1]


def test_the_generic_loop_records_the_ground_truth_of_each_step(tmp_path):
    out = tmp_path / "r.h5"
    s = envs.collect("synthetic/pointmass", {"K": 5, "distractor": "iid", "noise": 0.01}, "random", episodes=4,
                     steps=12, seed=1, out=out, progress=False)
    assert s["transitions"] == 4 * 11 and s["policy"] == "random"
    core = synthetic.make("pointmass", K=5, distractor="iid", noise=0.01)
    data = _arrays(out)
    for i, tr in enumerate(data):
        obs, info = envs.make("synthetic/pointmass", K=5, distractor="iid", noise=0.01).reset(
            seed=envs.episode_seed(1, i))
        assert np.array_equal(tr["obs"][0], obs) and np.array_equal(tr["states"][0], info["state"])
        assert np.array_equal(tr["obs"], core.observe(tr["states"], tr["exo"]))
        assert np.array_equal(tr["rewards"][:-1], core.family.reward(tr["states"][1:]))  # reward t: arriving at s_{t+1}
    counts = np.bincount(np.concatenate([tr["actions"] for tr in data]), minlength=5)
    assert (counts > 0).all()
    assert not np.array_equal(data[0]["actions"], data[1]["actions"])  # episodes draw different actions
    with open_dataset(out) as ds:
        assert ds.attrs["seed"] == 1 and ds.attrs["policy"] == "random"


def test_episodes_that_end_early_are_stored_up_to_their_end(tmp_path):
    class Ending:  # ends episodes after 3 steps
        def __init__(self, env):
            self.env, self.t = env, 0

        def __getattr__(self, name):
            return getattr(self.env, name)

        def reset(self, **kw):
            self.t = 0
            return self.env.reset(**kw)

        def step(self, a):
            self.t += 1
            obs, r, term, trunc, info = self.env.step(a)
            return obs, r, term or self.t == 3, trunc, info

    env = Ending(envs.make("synthetic/grid"))
    from identlam.envs.collect import run_episode

    tr = run_episode(env, envs.make_policy("random", env.env), 10, 0, np.random.default_rng(0))
    assert len(tr["obs"]) == len(tr["actions"]) == len(tr["rewards"]) == 3


@pytest.mark.parametrize("argv, needle", [
    (["collect", "synthetic/nope", "--out", "x.h5"], "parameter 'env': unknown environment 'synthetic/nope'"),
    (["collect", "synthetic/grid", "--out", "x.h5", "--set", "bogus=2"], "parameter 'bogus'"),
    (["collect", "synthetic/grid", "--out", "x.h5", "--policy", "expert"], "parameter 'policy'"),
    (["collect", "synthetic/grid", "--out", "x.h5", "--difficulty", "easy"], "parameter 'difficulty'"),
    (["collect", "synthetic/grid", "--out", "x.h5", "--workers", "0"], "'--workers'"),
    (["collect", "synthetic/grid", "--out", "x.h5", "--steps", "1"], "'--steps'"),
    (["collect", "synthetic/grid"], "--out"),
    (["generate", "grid", "--out", "x.h5", "--episodes", "0"], "'--episodes'"),
])
def test_collect_errors_are_one_line_with_status_2(cli_main, tmp_path, monkeypatch, capsys, argv, needle):
    monkeypatch.chdir(tmp_path)
    assert cli_main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and needle in err and "Traceback" not in err
    assert list(tmp_path.iterdir()) == []


def test_collect_command_and_list(cli_main, tmp_path, capsys):
    out = tmp_path / "g.h5"
    assert cli_main(["collect", "synthetic/grid-stay", "--out", str(out), "--episodes", "3", "--steps", "6",
                     "--policy", "random", "--seed", "2"]) == 0
    printed = capsys.readouterr().out
    assert printed.startswith(f"wrote {out}: 3 trajectories x 6 steps (15 transitions) of synthetic/grid-stay")
    with open_dataset(out) as ds:
        assert ds.n_actions == 5 and ds.attrs["policy"] == "random"
    assert cli_main(["collect", "--list"]) == 0
    listed = capsys.readouterr().out.splitlines()
    assert any(line.startswith("synthetic/pointmass-islands ") and "A3 off" in line for line in listed)


def test_progress_is_plain_lines_when_stderr_is_not_a_terminal():
    stream = io.StringIO()
    with Progress(10, "collect x", "episodes", stream=stream, every_s=0.0) as bar:
        for _ in range(10):
            bar.update(1)
    lines = stream.getvalue().splitlines()
    assert len(lines) == 11 and "\r" not in stream.getvalue()
    assert lines[-1].startswith("collect x: 10/10 episodes (100%)")
    quiet = io.StringIO()
    with Progress(10, "x", "episodes", stream=quiet, enabled=False) as bar:
        bar.update(10)
    assert quiet.getvalue() == ""
