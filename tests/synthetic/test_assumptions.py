"""Each assumption checker flags exactly the assumption its switch turns off, by measuring."""

import json

import numpy as np
import pytest

import synthetic

ALL = {"A1", "A2", "A3", "A4"}

SWITCHES = [
    ({}, set()),
    ({"warp": 0.5}, set()),
    ({"twist": True, "warp": 0.5}, set()),
    ({"K": 8}, set()),
    ({"jump": 0.1}, {"A1"}),
    ({"jump": 0.01}, {"A1"}),  # a small jump is caught by the growth of the constant at small scale
    ({"walls": True}, {"A2"}),
    ({"walls": True, "K": 8}, {"A2"}),
    ({"duplicate_action": True}, {"A2"}),
    ({"islands": True}, {"A3"}),
    ({"islands": True, "twist": True}, {"A3"}),
    ({"split_policy": True}, {"A4"}),
    ({"split_policy": True, "K": 6}, {"A4"}),
]


@pytest.mark.parametrize("params,off", SWITCHES, ids=[str(p) for p, _ in SWITCHES])
def test_checker_flags_exactly_the_switched_assumption(params, off):
    report = synthetic.make("pointmass", **params).assumptions(seed=0)
    holds = report.holds
    assert {k for k in ALL if not holds[k]} == off
    assert holds["scope"] is True


@pytest.mark.parametrize("params", [{"noise": 0.02}, {"distractor": "markov"}, {"distractor": "correlated", "rho": 0.5}])
def test_noise_and_stochastic_distractors_leave_a1_a4_but_leave_the_dgp(params):
    report = synthetic.make("pointmass", **params).assumptions(seed=0)
    assert all(report.holds[k] for k in ALL)
    assert report.holds["scope"] is False
    assert report.to_dict()["scope"]["notes"]


def test_fully_correlated_distractor_stays_inside_the_dgp():
    report = synthetic.make("pointmass", distractor="correlated", rho=1.0).assumptions(seed=0)
    assert report.holds["scope"] is True


def test_margin_and_lipschitz_match_closed_form():
    d = synthetic.make("pointmass", K=4, delta=0.05, warp=0.5).assumptions(seed=0).to_dict()
    # adjacent actions are δ√2 apart, scaled by the smallest warp factor 1 - w
    assert d["A2"]["margin"] == pytest.approx(0.05 * np.sqrt(2) * 0.5, rel=1e-3)
    # the Jacobian of T(·, up) is diag(1, 1 + δ w 2π cos 2πs_1): the largest stretch is 1 + δ w 2π
    bound = 1 + 0.05 * 0.5 * 2 * np.pi
    assert bound - 0.01 < d["A1"]["lipschitz"] <= bound + 1e-3
    walls = synthetic.make("pointmass", walls=True).assumptions(seed=0).to_dict()
    corner = np.array(walls["A2"]["argmin_state"])
    assert np.all(np.minimum(corner, 1 - corner) < 0.05)  # the collision is at a corner


def test_checks_measure_the_dynamics_not_the_switches():
    env = synthetic.make("pointmass")
    env.family.directions[1] = env.family.directions[0]  # action 1 now duplicates action 0, no switch set
    report = env.assumptions(seed=0)
    assert not report.holds["A2"] and report.holds["A1"] and report.holds["A4"]
    assert report.to_dict()["A2"]["argmin_actions"] == [0, 1]


def test_cooccurrence_is_the_mean_outer_product_of_the_policy():
    from synthetic.assumptions import _cooccurrence

    env = synthetic.make("pointmass", K=3)
    d = _cooccurrence(env, np.random.default_rng(3), 500, 1e-6)
    s = env.family.sample_support(np.random.default_rng(3), 500)
    p = env.policy.probs(s)
    np.testing.assert_allclose(d["cooccurrence"], p.T @ p / 500, rtol=1e-12)
    assert d["cooccurrence"].sum() == pytest.approx(1.0, abs=1e-9)  # Σ_{a,a'} E[π(a)π(a')] = 1


def test_grid_and_linear_report_what_is_outside_the_theorem():
    grid = synthetic.make("grid").assumptions(seed=0).to_dict()
    assert grid["A3"]["in_scope"] is False and grid["A3"]["holds"] is False
    assert grid["A3"]["components"] == [64, 64, 64, 64]  # every cell is its own component
    assert grid["A2"]["holds"] is False  # blocking borders merge two moves at the corners
    assert synthetic.make("grid-wrap").assumptions(seed=0).to_dict()["A2"]["holds"] is True
    assert synthetic.make("grid-stay", borders="wrap").assumptions(seed=0).to_dict()["A2"]["holds"] is True
    assert grid["scope"]["holds"] is False
    lin = synthetic.make("linear").assumptions(seed=0).to_dict()
    assert lin["A2"]["in_scope"] is False and lin["scope"]["holds"] is False
    assert lin["A1"]["lipschitz"] == pytest.approx(0.9, rel=1e-3)  # ‖A‖ = decay
    assert lin["A2"]["margin"] == pytest.approx(0.1, rel=1e-3)  # smallest singular value of B
    # more action dimensions than state dimensions: u is not readable from s'
    over = synthetic.make("linear", K=3, state_dim=2).assumptions(seed=0).to_dict()
    assert over["A2"]["holds"] is False


def test_report_is_json_and_reproducible():
    a = synthetic.make("pointmass-islands").assumptions(seed=1).to_dict()
    b = synthetic.make("pointmass-islands").assumptions(seed=1).to_dict()
    assert json.dumps(a) == json.dumps(b)
    assert set(a) == ALL | {"scope"} and all(isinstance(v["holds"], bool) for v in a.values())
