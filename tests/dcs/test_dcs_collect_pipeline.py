"""DCS data through the generic machinery: `identlam collect`, the reader, and collect -> train -> evaluate."""

import json

import numpy as np
import pytest
from dcs_helpers import needs_dm_control

pytestmark = needs_dm_control
PARAMS = {"img_hw": 32, "difficulty": "easy", "background_size": 16, "background_frames": 8}


@pytest.fixture(scope="module")
def collected(tmp_path_factory):
    import identlam.envs as envs

    root = tmp_path_factory.mktemp("dcs")
    files = {}
    for workers in (1, 2):
        files[workers] = root / f"w{workers}.h5"
        envs.collect("dcs/cheetah-run", PARAMS, "expert", episodes=3, steps=40, seed=7, out=files[workers],
                     workers=workers, progress=False)
    return files


def test_collection_is_the_same_whatever_the_worker_count(collected):
    assert collected[1].read_bytes() == collected[2].read_bytes()


def test_collection_round_trips_through_the_reader_with_laom_attributes(collected):
    import identlam.envs as envs
    from identlam.data.privileged import privileged
    from identlam.data.reader import open_dataset

    with open_dataset(collected[1]) as ds:
        attrs = ds.attrs
        assert (attrs["domain_name"], attrs["task_name"], attrs["difficulty"]) == ("cheetah", "run", "easy")
        assert bool(attrs["dynamic"]) and int(attrs["img_hw"]) == 32 and bool(attrs["fast_render"])
        assert ds.env_id == "dcs/cheetah-run" and ds.n_trajectories == 3
        view = privileged(ds)
        first = next(iter(ds.observations(1).transitions(64)))
        states, exo = view.states(0), view.exo(0)
        assert states.shape == (40, 17) and exo.shape == (40, 45)
        generator = attrs["generator"]
    # the file's own parameters rebuild the environment, and episode 0 replays frame for frame
    env = envs.make("dcs/cheetah-run", **generator)
    obs, info = env.reset(seed=envs.episode_seed(7, 0))
    assert np.array_equal(info["exo"], exo[0]) and np.array_equal(info["state"], states[0])
    assert np.array_equal(first.obs_t[0], obs)
    env.close()


def test_tiny_pipeline_on_dcs_data_evaluates_online(collected, tmp_path, capsys):
    from train_fixtures import TINY_IMAGE

    from identlam.cli import main

    sets = [arg for item in TINY_IMAGE for arg in ("--set", item)]
    out = tmp_path / "run"
    assert main(["pipeline", "--data", str(collected[1]), "--method", "laom", "--out", str(out), "--labels", "1",
                 "--device", "cpu", *sets, "--set", "eval.max_steps=8", "--set", "eval.episodes=1"]) == 0
    online = json.loads((out / "metrics.json").read_text())["online"]
    assert online["env_id"] == "dcs/cheetah-run" and online["episodes"] == 1
    assert np.isfinite(online["return_mean"]) and "bc_all_return_mean" in online
    # held-out backgrounds: the same run evaluated on the eval split's videos
    assert main(["evaluate", str(out), "--episodes", "2", "--env-set", "background_split=eval"]) == 0
    online = json.loads((out / "metrics.json").read_text())["online"]
    assert online["env_overrides"] == {"background_split": "eval"} and online["episodes"] == 2
