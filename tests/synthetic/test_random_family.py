"""Random families: seeded, inside A1–A4, rare actions, invertible observations, identifiable actions."""

import warnings

import numpy as np
import pytest

import synthetic
from synthetic.observations import embed

SEEDS = range(10)


def _transitions(env, episodes=30, steps=101, seed=0):
    trajs = list(synthetic.generate(env, episodes=episodes, steps=steps, seed=seed))
    obs = np.concatenate([np.hstack([t.obs[:-1], t.obs[1:] - t.obs[:-1]]) for t in trajs])
    return obs, np.concatenate([t.actions[:-1] for t in trajs])


@pytest.mark.parametrize("family_seed", SEEDS)
def test_every_family_satisfies_a1_to_a4_with_a_positive_margin(family_seed):
    env = synthetic.make("random-family", family_seed=family_seed)
    fam = env.family
    assert 4 <= fam.n_actions <= 8 and fam.state_dim in (2, 3)
    assert 8 <= env.spec["obs_shape"][0] <= 32
    report = env.assumptions(seed=0, n_pairs=5000, n_support=2000)
    assert report.holds == {"A1": True, "A2": True, "A3": True, "A4": True, "scope": True}
    d = report.to_dict()
    assert d["A2"]["margin"] > 0.1 * fam.state_step
    assert d["A3"]["components"] == [1] * fam.n_actions


def test_the_seed_names_the_family():
    a = synthetic.make("random-family", family_seed=3)
    b = synthetic.make("random-family", family_seed="3")  # as --set family_seed=3 passes it
    c = synthetic.make_from_config(a.config)
    s = a.family.sample_support(np.random.default_rng(0), 200)
    acts = np.arange(200) % a.family.n_actions
    for other in (b, c):
        assert other.config == a.config
        np.testing.assert_array_equal(other.transition(s, acts), a.transition(s, acts))
        np.testing.assert_array_equal(other.observe(s), a.observe(s))
        np.testing.assert_array_equal(other.policy.probs(s), a.policy.probs(s))
    first = next(synthetic.generate(a, episodes=2, steps=20, seed=5))
    again = next(synthetic.generate(c, episodes=2, steps=20, seed=5))
    np.testing.assert_array_equal(first.obs, again.obs)
    np.testing.assert_array_equal(first.actions, again.actions)
    # other seeds draw other environments
    drawn = {(e.family.n_actions, e.family.state_dim, e.spec["obs_shape"][0], e.family.directions[0, 0])
             for e in (synthetic.make("random-family", family_seed=k) for k in SEEDS)}
    assert len(drawn) == len(SEEDS)
    assert {k for k, *_ in drawn} >= {4, 6, 8} and {d for _, d, *_ in drawn} == {2, 3}


def test_map_seed_redraws_the_observation_map_not_the_dynamics():
    a = synthetic.make("random-family", family_seed=2)
    b = synthetic.make("random-family", family_seed=2, map_seed=1)
    s = a.family.sample_support(np.random.default_rng(1), 50)
    acts = np.zeros(50, np.int64)
    np.testing.assert_array_equal(a.transition(s, acts), b.transition(s, acts))
    assert not np.allclose(a.observe(s), b.observe(s))


@pytest.mark.parametrize("family_seed", [1, 4, 6])
def test_action_frequencies_are_unequal_with_a_rare_action(family_seed):
    env = synthetic.make("random-family", family_seed=family_seed)
    _, actions = _transitions(env, episodes=20, steps=200)
    freq = np.bincount(actions, minlength=env.family.n_actions) / len(actions)
    assert freq.min() >= 0.04
    assert freq.max() / freq.min() >= 3.0
    assert freq.min() <= 0.08  # some action really is rare


@pytest.mark.parametrize("family_seed", [0, 4])
def test_observation_map_is_invertible(family_seed):
    env = synthetic.make("random-family", family_seed=family_seed)
    fam, omap = env.family, env.obs_map
    s = fam.sample_support(np.random.default_rng(0), 400)
    o = env.observe(s)
    # the inverse recovers the torus embedding of the state
    np.testing.assert_allclose(omap.invert(o), embed(s, True), atol=1e-4)
    # distinct states, distinct observations: bi-Lipschitz on the sample
    ds = np.linalg.norm(embed(s, True)[:, None] - embed(s, True)[None], axis=2)
    do = np.linalg.norm(o[:, None].astype(np.float64) - o[None], axis=2)
    off = ~np.eye(len(s), dtype=bool)
    assert (do[off] / ds[off]).min() > 0.05
    # the Jacobian of s ↦ o has full column rank at every sampled state (finite differences)
    h = 1e-4
    jac = np.stack([(omap.forward(embed(s + h * e, True)) - omap.forward(embed(s - h * e, True))) / (2 * h)
                    for e in np.eye(fam.state_dim)], axis=2)
    assert np.linalg.svd(jac, compute_uv=False)[:, -1].min() > 0.05
    # and its closed form agrees with the finite differences
    x = embed(s[:5], True)
    dx = np.random.default_rng(1).standard_normal(x.shape) * 1e-5
    lin = np.einsum("nij,nj->ni", omap.jacobian(x), dx)
    np.testing.assert_allclose(omap.forward(x + dx) - omap.forward(x), lin, atol=1e-8)


@pytest.mark.parametrize("family_seed", [0, 1])
def test_a_supervised_classifier_reads_the_action_off_the_transition(family_seed):
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    env = synthetic.make("random-family", family_seed=family_seed)
    x, y = _transitions(env)
    clf = make_pipeline(StandardScaler(), MLPClassifier((64,), max_iter=300, random_state=0))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(x[:2000], y[:2000])
    assert clf.score(x[2000:], y[2000:]) >= 0.95


def test_images_for_two_dimensional_families_and_an_error_for_three():
    flat = next(k for k in SEEDS if synthetic.make("random-family", family_seed=k).family.state_dim == 2)
    env = synthetic.make("random-family", family_seed=flat, obs="image", image_size=32)
    traj = next(synthetic.generate(env, episodes=1, steps=5, seed=0))
    assert traj.obs.shape == (5, 32, 32, 3) and traj.obs.dtype == np.uint8
    assert len({frame.tobytes() for frame in traj.obs}) == 5
    with pytest.raises(synthetic.SyntheticError, match="parameter 'obs'"):
        synthetic.make("random-family", family_seed=flat, dim=3, obs="image")


def test_distractors_widen_the_default_observation_but_not_an_explicit_one():
    plain = synthetic.make("random-family", family_seed=6)  # a 3-D torus drawn into 12 dimensions
    wide = synthetic.make("random-family", family_seed=6, distractor="markov", distractor_dim=8)
    assert plain.spec["obs_shape"] == [12] and wide.spec["obs_shape"] == [6 + 16]
    traj = next(synthetic.generate(wide, episodes=1, steps=4, seed=0))
    np.testing.assert_allclose(wide.obs_map.invert(traj.obs)[:, :6], embed(traj.states, True), atol=1e-4)
    with pytest.raises(synthetic.SyntheticError, match="parameter 'obs_dim'"):
        synthetic.make("random-family", family_seed=6, distractor="markov", distractor_dim=8, obs_dim=12)


@pytest.mark.parametrize("params,field", [({"K": 1}, "K"), ({"dim": 4}, "dim"), ({"family_seed": -1}, "family_seed"),
                                          ({"obs_dim": 3}, "obs_dim"), ({"imbalance": 0.5}, "imbalance")])
def test_bad_parameters_name_the_field(params, field):
    with pytest.raises(synthetic.SyntheticError, match=f"parameter '{field}'"):
        synthetic.make("random-family", **params)


def test_tiny_tables_of_pointmass_match_the_closed_form():
    from synthetic.tabular import continuity_resolution, tiny_tabular

    table = tiny_tabular(synthetic.make("pointmass", K=4), actions=4, cells=(3, 3))
    n = 9
    assert table["p_state"][:n].sum() == pytest.approx(1.0) and not table["p_state"][n:].any()
    assert table["adjacency"][:n, :n].sum(1).tolist() == [4] * n  # a 3×3 torus: four neighbours each
    np.testing.assert_allclose(table["displacement"][:n], np.broadcast_to(
        0.05 * np.array([[1, 0], [0, 1], [-1, 0], [0, -1]]), (n, 4, 2)), atol=1e-6)
    within, between = continuity_resolution(table)
    assert within < 1e-6  # translation invariant: every action moves alike everywhere
    assert between == pytest.approx(0.05 * np.sqrt(2), rel=1e-5)


@pytest.mark.parametrize("name,kw,field", [("grid", {}, "env"), ("pointmass-walls", {}, "env"),
                                           ("random-family", {"actions": 1}, "actions"),
                                           ("random-family", {"cells": (2, 0)}, "cells")])
def test_tiny_tables_refuse_what_they_cannot_represent(name, kw, field):
    from synthetic.tabular import tiny_tabular

    with pytest.raises(synthetic.SyntheticError, match=f"parameter '{field}'"):
        tiny_tabular(synthetic.make(name), **kw)
