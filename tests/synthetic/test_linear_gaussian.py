"""The linear-Gaussian environment: o' = o + Q a (+ σ ε) with orthonormal Q, o and a standard normal."""

import numpy as np
import pytest

import synthetic
from synthetic.errors import SyntheticError


def test_q_is_orthonormal_and_seeded():
    env = synthetic.make("linear-gaussian", K=3, obs_dim=10)
    q = env.family.Q
    assert q.shape == (10, 3)
    np.testing.assert_allclose(q.T @ q, np.eye(3), atol=1e-12)
    np.testing.assert_array_equal(synthetic.make("linear-gaussian", K=3, obs_dim=10).family.Q, q)
    assert not np.allclose(synthetic.make("linear-gaussian", K=3, obs_dim=10, map_seed=1).family.Q, q)


def test_noiseless_change_is_exactly_q_a():
    env = synthetic.make("linear-gaussian", K=2, obs_dim=8)
    q = env.family.Q
    for traj in synthetic.generate(env, episodes=20, steps=2, seed=3):
        assert traj.obs.shape == (2, 8) and traj.actions.shape == (2, 2)
        np.testing.assert_array_equal(traj.obs, traj.states)  # obs='identity': the observation is the state
        expected = (traj.states[0].astype(np.float64) + q @ traj.actions[0].astype(np.float64)).astype(np.float32)
        np.testing.assert_array_equal(traj.states[1], expected)


def test_observations_and_actions_are_standard_normal_and_independent():
    env = synthetic.make("linear-gaussian", K=2, obs_dim=6)
    trajs = list(synthetic.generate(env, episodes=4000, steps=2, seed=0))
    o = np.stack([t.obs[0] for t in trajs]).astype(np.float64)
    a = np.stack([t.actions[0] for t in trajs]).astype(np.float64)
    np.testing.assert_allclose(np.cov(o.T), np.eye(6), atol=0.08)
    np.testing.assert_allclose(np.cov(a.T), np.eye(2), atol=0.08)
    assert np.abs(o.T @ a / len(o)).max() < 0.06  # a is drawn independently of o


def test_noise_adds_sigma_epsilon():
    env = synthetic.make("linear-gaussian", K=2, obs_dim=8, noise=0.5)
    q = env.family.Q
    trajs = list(synthetic.generate(env, episodes=3000, steps=2, seed=0))
    resid = np.stack([t.obs[1] - t.obs[0] - q @ t.actions[0] for t in trajs])
    assert abs(resid.std() - 0.5) < 0.02 and abs(resid.mean()) < 0.02


def test_action_dimension_above_observation_dimension_is_rejected():
    with pytest.raises(SyntheticError, match="'K'"):
        synthetic.make("linear-gaussian", K=9, obs_dim=8)


def test_identlam_envs_registers_it():
    import gymnasium as gym

    import identlam.envs as envs

    assert "synthetic/linear-gaussian" in envs.available()
    env = gym.make("synthetic/linear-gaussian", K=2, obs_dim=8, noise=0.1)
    obs, _ = env.reset(seed=0)
    assert obs.shape == (8,) and env.action_space.shape == (2,)
