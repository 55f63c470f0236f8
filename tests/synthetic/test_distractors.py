"""The distractor dial ρ: independent of the action at 0, a deterministic function of it at 1."""

import numpy as np
import pytest
from sklearn.metrics import mutual_info_score

import synthetic
from synthetic.family import torus_delta


def _changes(rho=None, kind="correlated", K=4, episodes=40, steps=500, **params):
    extra = {} if rho is None else {"rho": rho}
    trajs = list(synthetic.generate("pointmass", episodes=episodes, steps=steps, seed=0, K=K,
                                    distractor=kind, **extra, **params))
    a = np.concatenate([t.actions[:-1] for t in trajs])
    d = np.concatenate([torus_delta(t.exo[:-1], t.exo[1:]) for t in trajs])
    return a, d


def _labels(d, scale):
    """Discretize changes: round to a 20th of the step and give each distinct change one label."""
    q = np.round(d / scale * 20).astype(np.int64)
    return np.unique(q, axis=0, return_inverse=True)[1].ravel()


def _entropy(x):
    p = np.bincount(x) / len(x)
    p = p[p > 0]
    return float(-(p * np.log(p)).sum())


def test_rho_zero_change_is_independent_of_the_action():
    a, d = _changes(rho=0.0)
    c = _labels(d, 0.05)
    mi = mutual_info_score(a, c)
    # plug-in bias is about (|A|-1)(|C|-1) / (2N) = 9 / 40000 nats
    assert mi < 5 * 9 / (2 * len(a))
    assert len(np.unique(c)) == 4  # the change still takes the K values of f(ã)


def test_rho_one_change_is_a_deterministic_injective_function_of_the_action():
    a, d = _changes(rho=1.0)
    c = _labels(d, 0.05)
    assert mutual_info_score(a, c) == pytest.approx(_entropy(a), abs=1e-9)
    for k in range(4):  # H(change | action) = 0
        assert len(np.unique(c[a == k])) == 1
    np.testing.assert_allclose(d, 0.05 * np.stack([np.cos(np.pi * a / 2), np.sin(np.pi * a / 2)], 1), atol=1e-6)


def test_mutual_information_grows_with_rho():
    mis = []
    for rho in (0.0, 0.25, 0.5, 0.75, 1.0):
        a, d = _changes(rho=rho, episodes=10)
        mis.append(mutual_info_score(a, _labels(d, 0.05)))
    assert all(x < y for x, y in zip(mis, mis[1:]))


@pytest.mark.parametrize("kind", ["iid", "markov"])
def test_uncorrelated_distractors_carry_no_action_information(kind):
    a, d = _changes(kind=kind)
    c = _labels(d, 0.5)  # coarse bins: continuous changes
    n_c = len(np.unique(c))
    assert mutual_info_score(a, c) < 5 * 3 * (n_c - 1) / (2 * len(a))


def test_distractor_scale_and_dimension():
    a, d = _changes(rho=1.0, distractor_scale=3.0, distractor_dim=5, episodes=2, steps=50)
    assert d.shape[1] == 5
    step = 3.0 * 0.05 * np.stack([np.cos(np.pi * a / 2), np.sin(np.pi * a / 2)], 1)
    np.testing.assert_allclose(d, np.concatenate([step, step, step[:, :1]], 1), atol=1e-6)


def test_markov_steps_have_the_requested_size_and_never_touch_the_state():
    a, d = _changes(kind="markov", distractor_scale=0.5, episodes=5)
    assert np.std(d) == pytest.approx(0.5 * 0.05, rel=0.05)
    env = synthetic.make("pointmass", distractor="markov")
    plain = next(synthetic.generate("pointmass", episodes=1, steps=50, seed=9))
    with_d = next(synthetic.generate(env, episodes=1, steps=50, seed=9))
    # the distractor's draws come after the agent's: the agent's trajectory is identical
    np.testing.assert_array_equal(plain.states, with_d.states)
    np.testing.assert_array_equal(plain.actions, with_d.actions)


def test_correlated_distractor_with_continuous_actions_copies_a_linear_function():
    env = synthetic.make("linear", distractor="correlated", rho=1.0)
    tr = next(synthetic.generate(env, episodes=1, steps=50, seed=0))
    d = torus_delta(tr.exo[:-1], tr.exo[1:])
    expected = env.processes[0][1].change_of(tr.actions[:-1])
    expected = expected - np.round(expected)  # minimal image, as torus_delta
    np.testing.assert_allclose(d, expected, atol=1e-6)
