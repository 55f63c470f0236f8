"""The tiny enumerable DGPs: constructors, transition indexing, assumption checks, bad input."""

import numpy as np
import pytest

from identlam.errors import IdentlamError
from identlam.exact import (
    GRID_MOVES,
    TabularMDP,
    assumption_report,
    islands_mdp,
    labels_from_actions,
    one_hot,
    oracle_labels,
    region_permuted_labels,
    ring_mdp,
    torus_mdp,
    two_region_mdp,
    with_duplicate_action,
    with_policy,
    with_split_policy,
)


def test_torus_dynamics_and_adjacency():
    mdp = torus_mdp((3, 4), GRID_MOVES)
    assert mdp.n_states == 12 and mdp.n_actions == 4 and mdp.n_transitions == 48
    coords = mdp.coords.astype(int)
    for s in range(12):
        for a, move in enumerate(GRID_MOVES):
            assert tuple(coords[mdp.next_state[s, a]]) == ((coords[s][0] + move[0]) % 3, (coords[s][1] + move[1]) % 4)
    assert (mdp.adjacency.sum(axis=1) == 4).all()  # 4-neighbourhood on a wrapped grid
    assert mdp.trans_weight.sum() == pytest.approx(1.0, abs=1e-15)
    np.testing.assert_array_equal(mdp.trans_dst, mdp.next_state.ravel())


def test_assumption_reports_of_the_constructors():
    ok = assumption_report(torus_mdp((3, 3), GRID_MOVES))
    assert all(ok[name]["holds"] for name in ("A1", "A2", "A3", "A4"))
    assert ok["A2"]["margin"] == pytest.approx(np.sqrt(2)) and ok["A3"]["components"] == [1, 1, 1, 1]

    islands = assumption_report(islands_mdp((3,), [[1], [-1]], second_moves=[[-1], [1]]))
    assert islands["A3"]["components"] == [2, 2] and not islands["A3"]["holds"]
    assert islands["A1"]["holds"] and islands["A2"]["holds"] and islands["A4"]["holds"]

    duplicate = assumption_report(with_duplicate_action(ring_mdp(5), 1))
    assert duplicate["A2"]["margin"] == 0.0 and not duplicate["A2"]["holds"]

    split = assumption_report(with_split_policy(ring_mdp(6, moves=(1, -1, 2)), 0, 2, np.arange(6) < 3))
    assert not split["A4"]["holds"] and split["A4"]["cooccurrence"][0, 2] == 0.0
    assert split["A3"]["holds"]  # each half is one connected arc of the ring

    scattered = with_split_policy(ring_mdp(6, moves=(1, -1, 2)), 0, 2, np.arange(6) % 2 == 0)
    assert assumption_report(scattered)["A3"]["components"] == [3, 1, 3]


def test_a1_detects_an_action_whose_effect_jumps_between_neighbours():
    mdp = ring_mdp(6)
    displacement = mdp.displacement.copy()
    next_state = mdp.next_state.copy()
    displacement[3, 0], next_state[3, 0] = 2.0, 5  # action +1 jumps by 2 at state 3
    jumpy = TabularMDP(mdp.p_state, mdp.policy, next_state, displacement, mdp.coords, mdp.adjacency, mdp.region)
    report = assumption_report(jumpy)
    assert report["A1"]["max_jump"] == pytest.approx(1.0) and not report["A1"]["holds"]


def test_shared_transitions_are_merged_when_a2_fails():
    mdp = with_duplicate_action(ring_mdp(4), 0, share=0.25)
    assert mdp.n_transitions == 8  # the copy adds no observable transition
    np.testing.assert_array_equal(mdp.trans_of_sa[:, 2], mdp.trans_of_sa[:, 0])
    assert mdp.trans_weight.sum() == pytest.approx(1.0)
    with pytest.raises(IdentlamError, match="'table'"):
        oracle_labels(mdp)  # actions 0 and 2 share transitions but would get codes 0 and 2
    np.testing.assert_array_equal(labels_from_actions(mdp, [0, 1, 0]), np.tile([0, 1], 4))


def test_two_region_and_region_permutations():
    mdp = two_region_mdp(6, 0.8)
    np.testing.assert_allclose(mdp.policy[0], [0.8, 0.2])
    np.testing.assert_allclose(mdp.policy[5], [0.2, 0.8])
    codes = region_permuted_labels(mdp, [[0, 1], [1, 0]])
    truth = oracle_labels(mdp)
    flipped = mdp.region[mdp.trans_src] == 1
    assert (codes[~flipped] == truth[~flipped]).all() and (codes[flipped] == 1 - truth[flipped]).all()


@pytest.mark.parametrize(
    "field,change",
    [
        ("p_state", lambda f: f.update(p_state=f["p_state"] * 2)),
        ("p_state", lambda f: f.update(p_state=np.full(6, np.nan))),
        ("policy", lambda f: f.update(policy=-f["policy"])),
        ("policy", lambda f: f.update(policy=f["policy"][:, :1])),
        ("next_state", lambda f: f.update(next_state=f["next_state"] + 10)),
        ("next_state", lambda f: f.update(next_state=f["next_state"].astype(float))),
        ("displacement", lambda f: f.update(displacement=f["displacement"][:, :, 0])),
        ("coords", lambda f: f.update(coords=np.zeros((6, 3)))),
        ("adjacency", lambda f: f.update(adjacency=np.eye(6, dtype=bool))),
        ("region", lambda f: f.update(region=np.zeros(5, dtype=np.int64))),
    ],
)
def test_bad_fields_raise_one_line_errors_naming_the_field(field, change):
    mdp = ring_mdp(6)
    fields = {name: getattr(mdp, name) for name in
              ("p_state", "policy", "next_state", "displacement", "coords", "adjacency", "region")}
    change(fields)
    with pytest.raises(IdentlamError, match=f"'{field}'") as info:
        TabularMDP(**fields)
    assert "\n" not in str(info.value)


def test_inconsistent_displacement_for_one_transition_is_rejected():
    mdp = ring_mdp(4, moves=(1, 1))  # two actions with the same effect
    displacement = mdp.displacement.copy()
    displacement[0, 1] = 5.0
    with pytest.raises(IdentlamError, match="'displacement'"):
        TabularMDP(mdp.p_state, mdp.policy, mdp.next_state, displacement, mdp.coords, mdp.adjacency, mdp.region)


def test_constructor_and_labelling_arguments_are_checked():
    with pytest.raises(IdentlamError, match="'moves'"):
        torus_mdp((3, 3), [[1], [-1]])
    with pytest.raises(IdentlamError, match="'mask'"):
        with_split_policy(ring_mdp(4), 0, 1, np.ones(3, dtype=bool))
    only_first = with_policy(ring_mdp(4), [[1.0, 0.0], [0.5, 0.5], [0.5, 0.5], [0.5, 0.5]])
    with pytest.raises(IdentlamError, match="'mask'"):  # state 0 would have no action left
        with_split_policy(only_first, 0, 1, np.zeros(4, dtype=bool))
    with pytest.raises(IdentlamError, match="'n'"):
        two_region_mdp(5)
    with pytest.raises(IdentlamError, match="'codes'"):
        one_hot([0, 3], 3)
    with pytest.raises(IdentlamError, match="'perms'"):
        region_permuted_labels(two_region_mdp(), [[0, 1]])


def test_the_exact_objective_imports_without_torch():
    import subprocess
    import sys

    code = "import sys, identlam.exact; assert 'torch' not in sys.modules, 'torch was imported'"
    subprocess.run([sys.executable, "-c", code], check=True)
    # With torch made unimportable, the whole package (every module, the scenario table) works.
    blocked = (
        "import sys; sys.modules['torch'] = None\n"
        "import identlam.exact, identlam.exact.scenarios as s\n"
        "rows = s.scenario_table(); assert rows and 'minimizers' in s.format_table(rows)"
    )
    subprocess.run([sys.executable, "-c", blocked], check=True)
