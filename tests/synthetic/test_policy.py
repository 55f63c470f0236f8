"""Behaviour policies: goal-directed (returns beat random), entropy by temperature, support."""

import numpy as np
import pytest

import synthetic


def _online_return(env, choose, episodes=8, steps=60):
    """Mean return of ``choose(env, rng)`` run online through reset/step."""
    rng = np.random.default_rng(0)
    total = 0.0
    for ep in range(episodes):
        env.reset(seed=ep)
        for _ in range(steps):
            total += env.step(choose(env, rng))[1]
    return total / episodes


def _random_discrete(env, rng):
    return int(rng.integers(env.spec["n_actions"]))


@pytest.mark.parametrize("name", ["pointmass", "pointmass-twist", "pointmass-islands", "grid"])
def test_behaviour_policy_earns_clearly_more_than_random(name):
    env = synthetic.make(name)
    behaviour = _online_return(env, lambda e, rng: e.behaviour_action(rng))
    random = _online_return(env, _random_discrete)
    # returns are negative distances summed over 60 steps; demand a gap of a quarter of random's
    assert behaviour > random + 0.25 * abs(random)


def test_linear_feedback_policy_beats_open_loop_actions():
    env = synthetic.make("linear")
    behaviour = _online_return(env, lambda e, rng: e.behaviour_action(rng))
    random = _online_return(env, lambda e, rng: (rng.standard_normal(2)).astype(np.float32))
    assert behaviour > random + 0.1 * abs(random)


def test_temperature_controls_entropy():
    s = synthetic.make("pointmass").family.sample_support(np.random.default_rng(0), 2000)

    def mean_entropy(t):
        p = synthetic.make("pointmass", temperature=t, epsilon=0.0).policy.probs(s)
        return float(-(p * np.log(np.maximum(p, 1e-300))).sum(1).mean())

    h = [mean_entropy(t) for t in (0.1, 0.5, 1.0, 5.0, 100.0)]
    assert all(x < y for x, y in zip(h, h[1:]))
    assert h[-1] == pytest.approx(np.log(4), abs=1e-3) and h[0] < 0.2


def test_policy_depends_smoothly_on_the_state_and_has_full_support():
    env = synthetic.make("pointmass", goal_weight=0.0)
    x = np.linspace(0, 1, 400, endpoint=False)
    s = np.stack([x, np.full_like(x, 0.3)], 1).astype(np.float32)
    p = env.policy.probs(s)
    assert p.min() > 0.05 / 4 - 1e-12  # the ε-mixture keeps every action possible
    assert np.ptp(p[:, 0]) > 0.1  # the policy changes with the state
    assert np.abs(np.diff(p, axis=0)).max() < 0.05  # and changes smoothly


def test_split_policy_forbids_exactly_the_split_actions():
    env = synthetic.make("pointmass-split")
    s = env.family.sample_support(np.random.default_rng(0), 2000)
    p = env.policy.probs(s)
    left = s[:, 0] < 0.5
    assert np.all(p[left, 1] == 0) and np.all(p[~left, 0] == 0)
    assert np.all(p[left, 0] > 0) and np.all(p[~left, 1] > 0) and np.all(p[:, 2:] > 0)
    trajs = list(synthetic.generate(env, episodes=10, steps=100, seed=0))
    a = np.concatenate([t.actions for t in trajs])
    s0 = np.concatenate([t.states[:, 0] for t in trajs])
    assert not np.any((a == 1) & (s0 < 0.5)) and not np.any((a == 0) & (s0 >= 0.5))


def test_generated_actions_follow_the_policy_frequencies():
    env = synthetic.make("pointmass", K=3, goal_weight=0.0, state_dependence=0.0)
    a = np.concatenate([t.actions for t in synthetic.generate(env, episodes=20, steps=500, seed=0)])
    np.testing.assert_allclose(np.bincount(a, minlength=3) / len(a), 1 / 3, atol=0.01)
