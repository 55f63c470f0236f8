"""Trajectories: shapes and dtypes, recorded ground truth (replay), seeds, batching, progress."""

import numpy as np
import pytest

import synthetic

DETERMINISTIC = [
    ("pointmass", {}),
    ("pointmass-warp", {}),
    ("pointmass-twist", {}),
    ("pointmass-islands", {}),
    ("pointmass-walls", {}),
    ("pointmass-duplicate", {}),
    ("pointmass-split", {}),
    ("pointmass-jump", {}),
    ("grid", {}),
    ("grid-wrap", {}),
    ("grid-stay", {}),
    ("linear", {}),
    ("linear", {"K": 3, "state_dim": 2}),
]


@pytest.mark.parametrize("name,params", DETERMINISTIC)
def test_replaying_stored_action_from_stored_state_gives_stored_next_state(name, params):
    env = synthetic.make(name, distractor="correlated", **params)
    for traj in synthetic.generate(env, episodes=3, steps=60, seed=1):
        replay = env.transition(traj.states[:-1], traj.actions[:-1])
        np.testing.assert_array_equal(replay, traj.states[1:])
        # the state moves: a replay of a constant trajectory would be vacuous
        assert np.any(traj.states[1:] != traj.states[:-1])


@pytest.mark.parametrize("name,params", [("pointmass", {}), ("pointmass", {"obs": "image", "image_size": 32}),
                                         ("grid", {"obs": "mlp"}), ("linear", {"obs": "linear"})])
def test_trajectory_shapes_and_dtypes_follow_the_spec(name, params):
    env = synthetic.make(name, distractor="markov", **params)
    spec = env.spec
    trajs = list(synthetic.generate(env, episodes=2, steps=7, seed=0))
    assert len(trajs) == 2
    for tr in trajs:
        T = 7
        assert tr.obs.shape == (T, *spec["obs_shape"]) and str(tr.obs.dtype) == spec["obs_dtype"]
        if spec["action_space"] == "discrete":
            assert tr.actions.shape == (T,) and tr.actions.dtype == np.int64
            assert tr.actions.min() >= 0 and tr.actions.max() < spec["n_actions"]
        else:
            assert tr.actions.shape == (T, spec["action_dim"]) and tr.actions.dtype == np.float32
        assert tr.states.shape == (T, spec["state_dim"]) and tr.states.dtype == np.float32
        assert tr.exo.shape == (T, spec["exo_dim"]) and tr.exo.dtype == np.float32
        assert tr.rewards.shape == (T,) and tr.rewards.dtype == np.float32
        assert tr.n_transitions == T - 1
        # observations are the observation map of the recorded state and distractor
        np.testing.assert_array_equal(env.observe(tr.states, tr.exo), tr.obs)


def test_no_distractor_gives_empty_exo():
    tr = next(synthetic.generate("pointmass", episodes=1, steps=5))
    assert tr.exo.shape == (5, 0)


def test_rewards_are_minus_distance_to_goal_after_the_move():
    env = synthetic.make("pointmass")
    tr = next(synthetic.generate(env, episodes=1, steps=30, seed=3))
    nxt = env.transition(tr.states, tr.actions)
    d = np.abs(nxt - 0.5)
    np.testing.assert_allclose(tr.rewards, -np.sqrt((np.minimum(d, 1 - d) ** 2).sum(1)), rtol=1e-6)


@pytest.mark.parametrize("params", [{}, {"obs": "image", "image_size": 32, "distractor": "correlated", "background": "moving"},
                                    {"noise": 0.01, "distractor": "iid", "obs": "mlp"}])
def test_same_seed_reproduces_bit_exactly_and_other_seed_differs(params):
    a = list(synthetic.generate("pointmass", episodes=3, steps=20, seed=5, **params))
    b = list(synthetic.generate("pointmass", episodes=3, steps=20, seed=5, **params))
    c = list(synthetic.generate("pointmass", episodes=3, steps=20, seed=6, **params))
    for x, y in zip(a, b):
        for k in x.keys():
            np.testing.assert_array_equal(x[k], y[k])
    assert not np.array_equal(a[0].states, c[0].states)


def test_episode_does_not_depend_on_batching(monkeypatch):
    import synthetic.trajectories as gen

    full = list(synthetic.generate("pointmass", episodes=5, steps=15, seed=2, distractor="markov"))
    monkeypatch.setattr(gen, "BATCH_BYTES", 1)  # one episode per batch
    single = list(synthetic.generate("pointmass", episodes=3, steps=15, seed=2, distractor="markov"))
    for x, y in zip(full, single):
        np.testing.assert_array_equal(x.states, y.states)
        np.testing.assert_array_equal(x.actions, y.actions)
        np.testing.assert_array_equal(x.exo, y.exo)


def test_progress_reports_every_step_once(monkeypatch):
    import synthetic.trajectories as gen

    monkeypatch.setattr(gen, "BATCH_BYTES", 1)
    calls = []
    list(synthetic.generate("pointmass", episodes=4, steps=9, seed=0, progress=calls.append))
    assert calls == [9, 9, 9, 9]


def test_single_episode_api_matches_transition_and_reward():
    env = synthetic.make("pointmass", distractor="markov", warp=0.3)
    obs = env.reset(seed=4)
    np.testing.assert_array_equal(obs, env.observe(env.state, env.exo))
    rng = np.random.default_rng(0)
    for _ in range(10):
        s, a = env.state, env.behaviour_action(rng)
        obs, r, term, info = env.step(a)
        np.testing.assert_array_equal(info["state"], env.transition(s, a))
        np.testing.assert_array_equal(obs, env.observe(info["state"], info["exo"]))
        assert r == pytest.approx(float(env.family.reward(info["state"][None])[0]))
        assert term is False
