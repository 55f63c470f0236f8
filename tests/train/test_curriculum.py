"""The state-space curriculum (train.curriculum): weights, sampling, validation, resume."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from identlam.data import open_dataset
from identlam.errors import ConfigError, DatasetError
from identlam.models import LatentActionModel
from identlam.train.artifacts import load_artifact
from identlam.train.curriculum import ObservationCurriculum
from identlam.train.pipeline import make_config
from identlam.train.rundir import RunDir
from identlam.train.stage_train import run_train
from train_fixtures import TINY


@pytest.fixture()
def windows(vector_data):
    with open_dataset(vector_data) as ds:
        yield ds.observations()


def _obs_at_starts(windows) -> np.ndarray:
    traj, t = windows.window_starts()
    return windows.read(traj, t, None).obs_t


def test_window_starts_follow_the_flat_sampling_order(windows):
    traj, t = windows.window_starts()
    assert len(traj) == windows.n_windows
    # weight on one window only: every draw is that window
    for flat in (0, windows.n_windows // 2, windows.n_windows - 1):
        w = np.zeros(windows.n_windows)
        w[flat] = 1.0
        drawn = windows.sample(16, np.random.default_rng(0), w)
        assert (drawn.traj == traj[flat]).all() and (drawn.t == t[flat]).all()


def test_weights_center_on_the_anchor_and_widen_until_uniform(windows):
    cur = ObservationCurriculum(windows, fraction=0.5, start_radius=0.1, seed=3)
    obs = _obs_at_starts(windows).reshape(windows.n_windows, -1)
    np.testing.assert_allclose(cur.distance, np.linalg.norm(obs - obs[cur.anchor], axis=1), rtol=1e-5, atol=1e-6)
    w0 = cur.weights(0, 100)
    assert w0[cur.anchor] == 1.0 == w0.max() and w0.min() < 0.01
    radii = [cur.radius(s, 100) for s in range(0, 50, 5)]
    assert radii[0] == pytest.approx(0.1 * cur.max_distance)
    assert all(a < b for a, b in zip(radii, radii[1:]))
    assert cur.radius(50, 100) is None and cur.weights(99, 100) is None  # uniform afterwards
    # early draws stay near the anchor, late ones cover the data
    rng = np.random.default_rng(0)
    near = windows.sample(512, rng, w0)
    far = windows.sample(512, rng, None)
    d = lambda w: np.linalg.norm(w.obs_t.reshape(len(w.obs_t), -1) - obs[cur.anchor], axis=1).mean()
    assert d(near) < 0.5 * d(far)


def test_the_radius_holds_its_start_then_grows_to_the_largest_distance(windows):
    cur = ObservationCurriculum(windows, fraction=0.6, start_radius=0.1, seed=3, hold=0.2)
    start = 0.1 * cur.max_distance
    assert [cur.radius(s, 100) for s in (0, 10, 20)] == pytest.approx([start] * 3)
    growing = [cur.radius(s, 100) for s in range(20, 60, 5)]
    assert all(a < b for a, b in zip(growing, growing[1:]))
    assert cur.radius(59, 100) == pytest.approx(cur.max_distance * 0.1 ** (1 - 39 / 40))
    assert cur.radius(60, 100) is None


@pytest.mark.parametrize("hold", [0.5, 0.7, -0.1])
def test_a_hold_outside_the_curriculum_names_the_key(windows, hold):
    with pytest.raises(ConfigError, match="train.curriculum_hold"):
        ObservationCurriculum(windows, 0.5, 0.1, seed=0, hold=hold)


def test_the_anchor_is_seeded(windows):
    a = ObservationCurriculum(windows, 0.5, 0.1, seed=1, anchor="random")
    b = ObservationCurriculum(windows, 0.5, 0.1, seed=1, anchor="random")
    c = ObservationCurriculum(windows, 0.5, 0.1, seed=2, anchor="random")
    assert a.anchor == b.anchor and np.array_equal(a.distance, b.distance)
    assert a.anchor != c.anchor


def test_the_dense_anchor_lies_where_the_observations_crowd(windows):
    obs = _obs_at_starts(windows).reshape(windows.n_windows, -1)
    dense = ObservationCurriculum(windows, 0.5, 0.1, seed=0).anchor
    assert dense == ObservationCurriculum(windows, 0.5, 0.1, seed=0).anchor
    radius = 0.05 * np.linalg.norm(obs.max(0) - obs.min(0))
    neighbours = lambda i: int((np.linalg.norm(obs - obs[i], axis=1) < radius).sum())
    counts = np.array([neighbours(i) for i in range(0, windows.n_windows, 7)])
    assert neighbours(dense) >= np.quantile(counts, 0.9)
    with pytest.raises(ConfigError, match="train.curriculum_anchor"):
        ObservationCurriculum(windows, 0.5, 0.1, seed=0, anchor="middle")


@pytest.mark.parametrize("fraction,radius,needle", [
    (1.5, 0.1, "train.curriculum"), (-0.1, 0.1, "train.curriculum"), (0.5, 0.0, "train.curriculum_radius"),
    (0.5, 2.0, "train.curriculum_radius"),
])
def test_bad_curriculum_values_name_the_key(windows, fraction, radius, needle):
    with pytest.raises(ConfigError) as e:
        ObservationCurriculum(windows, fraction, radius, seed=0)
    assert needle in str(e.value) and "\n" not in str(e.value)


def test_a_split_without_windows_is_refused(vector_data):
    with open_dataset(vector_data) as ds:
        empty = ds.observations(trajectories=np.zeros(0, np.int64))
        with pytest.raises(DatasetError, match="train.curriculum"):
            ObservationCurriculum(empty, 0.5, 0.1, seed=0)


@pytest.mark.parametrize("weights", [np.ones(3), -np.ones(1), np.zeros(1), np.full(1, np.nan)])
def test_bad_sampling_weights_name_the_argument(windows, weights):
    if weights.shape == (1,):
        weights = np.resize(weights, windows.n_windows)
    with pytest.raises(DatasetError) as e:
        windows.sample(4, np.random.default_rng(0), weights)
    assert "'weights'" in str(e.value)


def test_negative_curriculum_in_a_run_is_refused(tmp_path, vector_data):
    with pytest.raises(ConfigError, match="train.curriculum"):  # refused when the config is made
        cfg = make_config(vector_data, "lapo-entropy", overrides=[*TINY, "train.curriculum=-0.5"])
        run_train(RunDir.create(tmp_path / "run", cfg, vector_data))


def test_a_hold_without_a_longer_curriculum_is_refused_in_a_run(vector_data):
    with pytest.raises(ConfigError, match="train.curriculum_hold"):
        make_config(vector_data, "lapo-entropy", overrides=[*TINY, "train.curriculum=0.2", "train.curriculum_hold=0.3"])


def test_resume_with_the_curriculum_equals_an_uninterrupted_run(tmp_path, vector_data, monkeypatch):
    def run(name):
        cfg = make_config(vector_data, "lapo-entropy", overrides=[*TINY, "train.curriculum=0.6"])
        return RunDir.create(tmp_path / name, cfg, vector_data)

    whole = run("whole")
    run_train(whole)
    cut = run("cut")
    real_loss = LatentActionModel.loss

    def interrupted(self, batch, step, total_steps=1):
        if step == 13:  # inside the curriculum, after the checkpoint at step 10
            raise KeyboardInterrupt
        return real_loss(self, batch, step, total_steps)

    monkeypatch.setattr(LatentActionModel, "loss", interrupted)
    with pytest.raises(KeyboardInterrupt):
        run_train(cut)
    monkeypatch.setattr(LatentActionModel, "loss", real_loss)
    run_train(cut)
    a = load_artifact(whole.output("train"))["modules"]["lam"]
    b = load_artifact(cut.output("train"))["modules"]["lam"]
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
