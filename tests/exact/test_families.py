"""Random families on tiny grids: the exact objective puts the truth at the global minimum."""

import math

import numpy as np
import pytest

import synthetic
from identlam.errors import IdentlamError
from identlam.exact import desiderata, minimizers, one_hot, oracle_labels, relabels_truth
from identlam.exact.families import canonical, check_family, coarse_cells, score, tiny_family


def test_tiny_family_keeps_the_exact_transitions_of_the_environment():
    env = synthetic.make("random-family", family_seed=1)
    mdp = tiny_family(1, actions=3, cells=(2, 2))
    centres = np.array([[0.25, 0.25], [0.25, 0.75], [0.75, 0.25], [0.75, 0.75]])
    support = mdp.p_state > 0
    np.testing.assert_allclose(mdp.coords[support], centres)
    assert mdp.n_transitions == 12 and np.isclose(mdp.trans_weight.sum(), 1.0)
    for t in range(mdp.n_transitions):
        s = mdp.coords[mdp.trans_src[t]]
        a = int(np.flatnonzero(mdp.trans_of_sa[mdp.trans_src[t]] == t)[0])
        nxt = env.transition(s.astype(np.float32), a)
        np.testing.assert_allclose(mdp.coords[mdp.trans_dst[t]], nxt)
        np.testing.assert_allclose(mdp.trans_disp[t], nxt - s, atol=1e-6)  # steps are small: no wrap here
    pi = env.policy.probs(centres.astype(np.float32))[:, :3]
    np.testing.assert_allclose(mdp.policy[support], pi / pi.sum(1, keepdims=True))


def test_canonical_names_each_orbit_once():
    assert canonical([2, 2, 0, 1, 0]).tolist() == [0, 0, 1, 2, 1]
    assert canonical([5, 3, 5]).tolist() == canonical([0, 1, 0]).tolist()


@pytest.mark.parametrize("family_seed", [0, 4])  # a 3-D and a 2-D torus
def test_the_truth_is_the_unique_minimizer_up_to_relabelling(family_seed):
    result = check_family(family_seed, actions=3)
    for name in ("shared", "continuous"):
        r = result[name]
        assert r.truth_is_minimizer and r.identified and r.n_minimizers == 1, name
        assert r.margin > 0 and r.relative_margin > 1e-3, name
    # without continuity the flexible FDM ties the truth with every per-state permutation:
    # (3!)^4 / 3! orbits on 4 centres
    tab = result["tabular"]
    assert tab.truth_is_minimizer and not tab.identified
    assert tab.n_minimizers == math.factorial(3) ** 4 // math.factorial(3)
    assert abs(tab.margin) < 1e-15


def test_a_spare_code_with_a_shared_fdm_splits_an_action_by_state():
    mdp = tiny_family(1, actions=3, cells=coarse_cells(2, 3))
    r = score(mdp, "shared-spare", 4)
    assert not r.truth_is_minimizer and r.margin < 0
    best = minimizers(mdp, 4, lam=0.1, entropy="conditional", fdm="shared")
    d = desiderata(mdp, one_hot(best.codes[0], 4))
    assert d.used_codes == 4 and d.d3_injectivity < 1e-12 and d.d2_state_invariance > 0


def test_four_actions_are_identified_too():
    result = check_family(1, actions=4, settings=("shared", "continuous"))
    assert all(result[k].identified and result[k].margin > 0 for k in ("shared", "continuous"))


def test_the_truth_labelling_is_a_relabelling_of_itself():
    mdp = tiny_family(4, actions=3)
    assert relabels_truth(mdp, oracle_labels(mdp))


@pytest.mark.parametrize("kw,field", [({"actions": 9}, "actions"), ({"cells": (2,)}, "cells"),
                                      ({"family_seed": -1}, "family_seed")])
def test_bad_input_names_the_field(kw, field):
    with pytest.raises(IdentlamError, match=f"'{field}'"):
        tiny_family(**{"family_seed": 1, **kw})
