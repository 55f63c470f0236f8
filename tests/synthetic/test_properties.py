"""Property tests over random combinations of PointMass switches."""

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import synthetic

switches = st.fixed_dictionaries({
    "K": st.sampled_from([4, 8]),
    "delta": st.floats(0.02, 0.08),
    "warp": st.floats(0.0, 0.6),
    "twist": st.booleans(),
    "domain": st.sampled_from(["torus", "islands", "walls"]),
    "duplicate_action": st.booleans(),
    "split_policy": st.booleans(),
})


def _make(sw):
    sw = dict(sw)
    domain = sw.pop("domain")
    return synthetic.make("pointmass", islands=domain == "islands", walls=domain == "walls", **sw)


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(sw=switches, seed=st.integers(0, 2**31 - 1))
def test_generated_states_stay_in_the_state_space_and_replay(sw, seed):
    env = _make(sw)
    tr = next(synthetic.generate(env, episodes=1, steps=80, seed=seed))
    assert np.all(env.family.contains(tr.states))
    assert np.all((tr.states >= 0) & (tr.states <= 1))
    np.testing.assert_array_equal(env.transition(tr.states[:-1], tr.actions[:-1]), tr.states[1:])


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(sw=switches)
def test_report_flags_follow_the_switches(sw):
    holds = _make(sw).assumptions(seed=0, n_pairs=4000, n_support=2000).holds
    assert holds["A1"]
    assert holds["A2"] == (sw["domain"] != "walls" and not sw["duplicate_action"])
    assert holds["A3"] == (sw["domain"] != "islands")
    assert holds["A4"] == (not sw["split_policy"])
