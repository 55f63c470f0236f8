"""Exhaustive minimizers of the exact objective: the main identifiability theorem (A1-A4 hold)
and what breaks when each assumption is switched off."""

import itertools
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from identlam.errors import IdentlamError
from identlam.exact import (
    GRID_MOVES,
    batch_objective,
    canonical_labellings,
    count_canonical,
    desiderata,
    enumerate_labellings,
    islands_mdp,
    linked_components,
    minimizers,
    objective,
    one_hot,
    oracle_labels,
    relabels_truth,
    ring_mdp,
    torus_mdp,
    two_region_mdp,
    with_duplicate_action,
    with_split_policy,
)

VARIANTS = ("conditional", "policy", "marginal")


def canonical(codes):
    """First-occurrence relabelling: equal for two labellings iff they differ by a permutation."""
    order = {}
    return tuple(order.setdefault(c, len(order)) for c in codes)


@pytest.mark.parametrize("n_items,n_codes", [(1, 3), (4, 2), (5, 3), (6, 6)])
def test_canonical_labellings_are_one_per_permutation_orbit(n_items, n_codes):
    strings = canonical_labellings(n_items, n_codes)
    everything = {canonical(c) for c in itertools.product(range(n_codes), repeat=n_items)}
    assert {tuple(s) for s in strings} == everything
    assert len(strings) == len(everything) == count_canonical(n_items, n_codes)


def test_enumeration_size_is_guarded():
    assert count_canonical(12, 3) == 88574  # S(12,1) + S(12,2) + S(12,3)
    with pytest.raises(IdentlamError, match="'n_codes'"):
        canonical_labellings(30, 4)


def test_batch_objective_matches_the_single_labelling_objective():
    rng = np.random.default_rng(0)
    mdp = ring_mdp(5, moves=(1, -1, 2), policy=rng.dirichlet(np.ones(3), size=5))
    codes = rng.integers(0, 4, size=(40, mdp.n_transitions))
    for entropy in VARIANTS:
        for fdm in ("tabular", "shared"):
            batch = batch_objective(mdp, codes, 4, lam=0.3, entropy=entropy, fdm=fdm)
            single = [objective(mdp, one_hot(c, 4), 0.3, entropy, fdm) for c in codes]
            np.testing.assert_allclose(batch["total"], [v.total for v in single], atol=1e-12)
            np.testing.assert_allclose(batch["entropy"], [v.entropy for v in single], atol=1e-12)
    with pytest.raises(IdentlamError, match="'codes'"):
        batch_objective(mdp, codes, 3)


@pytest.mark.parametrize("entropy", VARIANTS)
def test_theorem_shared_fdm_with_k_codes_identifies_the_actions(entropy):
    mdp = ring_mdp(6)
    best = minimizers(mdp, n_codes=2, lam=0.05, entropy=entropy, fdm="shared")
    assert best.n_enumerated == 2**11
    assert [canonical(c) for c in best.codes] == [canonical(oracle_labels(mdp))]


@pytest.mark.parametrize("entropy", VARIANTS)
@pytest.mark.parametrize("n_codes", [4, 6])
def test_theorem_continuous_labeller_identifies_the_actions_with_spare_codes(entropy, n_codes):
    mdp = torus_mdp((3, 3), GRID_MOVES, policy=np.random.default_rng(3).dirichlet(np.ones(4), size=9))
    assert len(np.unique(linked_components(mdp))) == 4  # A3: one component per action
    best = minimizers(mdp, n_codes, lam=0.05, entropy=entropy, fdm="tabular", continuous=True)
    assert len(best.codes) == 1 and relabels_truth(mdp, best.codes[0])


def test_spare_codes_without_continuity_allow_state_dependent_splits_under_c_and_p():
    """The shared FDM stops permutations but not splits of one action over two codes by state
    when M > K; only the marginal term or a continuous labeller removes them."""
    mdp = ring_mdp(6)
    for entropy in ("conditional", "policy"):
        best = minimizers(mdp, 3, lam=0.05, entropy=entropy, fdm="shared")
        # perfect blocks hold one action's six transitions; with at most 3 blocks either no
        # action is split (1) or one of the two is split in two, S(6, 2) = 31 ways: 63 orbits
        assert len(best.codes) == 63
        assert sum(relabels_truth(mdp, c) for c in best.codes) == 1
        assert all(desiderata(mdp, one_hot(c, 3)).d3_injectivity < 1e-12 for c in best.codes)
    best = minimizers(mdp, 3, lam=0.05, entropy="marginal", fdm="shared")
    assert len(best.codes) == 1 and relabels_truth(mdp, best.codes[0])


def test_discontinuous_labeller_with_tabular_fdm_allows_every_per_state_permutation():
    """A1 off on the model side: each state may swap the codes independently."""
    mdp = ring_mdp(6)
    best = minimizers(mdp, 2, lam=0.05, entropy="conditional", fdm="tabular")
    assert len(best.codes) == 2**6 // 2
    broken = {desiderata(mdp, one_hot(c, 2)).broken() for c in best.codes}
    assert broken == {(), ("D2", "D3")}
    assert len(minimizers(mdp, 2, 0.05, "conditional", "tabular", continuous=True).codes) == 1


@pytest.mark.parametrize("n_codes", [2, 3])
def test_a2_off_duplicate_action_breaks_d3_in_every_minimizer(n_codes):
    mdp = with_duplicate_action(ring_mdp(6), 0)
    for fdm, continuous in (("shared", False), ("tabular", True)):
        best = minimizers(mdp, n_codes, lam=0.05, entropy="marginal", fdm=fdm, continuous=continuous)
        assert len(best.codes) >= 1
        for codes in best.codes:
            report = desiderata(mdp, one_hot(codes, n_codes))
            assert "D3" in report.broken() and report.d1_determinism == 0.0


def test_a3_off_islands_breaks_d2():
    rotated = islands_mdp((3,), [[1], [-1]], second_moves=[[-1], [1]])
    # shared FDM: the unique minimizer labels by displacement, permuting the codes across islands
    best = minimizers(rotated, 2, lam=0.05, entropy="conditional", fdm="shared")
    assert len(best.codes) == 1 and desiderata(rotated, one_hot(best.codes[0], 2)).broken() == ("D2", "D3")
    # continuous labeller + tabular FDM: each island picks its own permutation, a tie
    best = minimizers(rotated, 2, lam=0.05, entropy="conditional", fdm="tabular", continuous=True)
    assert len(best.codes) == 2
    assert {desiderata(rotated, one_hot(c, 2)).broken() for c in best.codes} == {(), ("D2", "D3")}
    # identical islands: the shared FDM alone still forces one global code per action
    same = islands_mdp((3,), [[1], [-1]])
    best = minimizers(same, 2, lam=0.05, entropy="conditional", fdm="shared")
    assert len(best.codes) == 1 and relabels_truth(same, best.codes[0])


def test_a4_off_split_policy_breaks_d3():
    mdp = with_split_policy(ring_mdp(6, moves=(1, -1, 2)), 0, 2, np.arange(6) < 3)
    for entropy in ("conditional", "policy"):  # merging is allowed, not forced: a tie
        best = minimizers(mdp, 3, lam=0.05, entropy=entropy, fdm="tabular", continuous=True)
        assert {desiderata(mdp, one_hot(c, 3)).broken() for c in best.codes} == {(), ("D3",)}
    best = minimizers(mdp, 3, lam=0.05, entropy="marginal", fdm="tabular", continuous=True)
    assert len(best.codes) == 1  # the marginal term prefers the merge
    report = desiderata(mdp, one_hot(best.codes[0], 3))
    assert report.broken() == ("D3",) and report.used_codes == 2
    assert report.d3_injectivity == pytest.approx(np.log(2) / 2, abs=1e-12)


def test_two_region_marginal_minimizer_is_the_swap_unless_the_labeller_is_continuous():
    mdp = two_region_mdp(8, 0.9)
    best = minimizers(mdp, 2, lam=0.01, entropy="marginal", fdm="tabular")
    assert len(best.codes) == 1
    assert best.value == pytest.approx(0.01 * -(0.9 * math.log(0.9) + 0.1 * math.log(0.1)), abs=1e-12)
    assert desiderata(mdp, one_hot(best.codes[0], 2)).broken() == ("D2", "D3")
    best = minimizers(mdp, 2, lam=0.01, entropy="marginal", fdm="tabular", continuous=True)
    assert len(best.codes) == 1 and relabels_truth(mdp, best.codes[0])


@settings(max_examples=10, deadline=None)
@given(seed=st.integers(0, 10_000), entropy=st.sampled_from(["conditional", "policy"]))
def test_stochastic_labellings_never_beat_the_enumerated_minimum(seed, entropy):
    rng = np.random.default_rng(seed)
    mdp = ring_mdp(6)
    value = minimizers(mdp, 3, lam=0.05, entropy=entropy, fdm="shared").value
    truth = one_hot(oracle_labels(mdp), 3)
    for scale in (0.02, 0.3, 1.0):
        q = (1 - scale) * truth + scale * rng.dirichlet(np.ones(3), size=mdp.n_transitions)
        assert objective(mdp, q, 0.05, entropy, "shared").total > value


def test_continuous_enumeration_is_constant_on_components():
    mdp = islands_mdp((3, 3), GRID_MOVES)
    component = linked_components(mdp)
    assert len(np.unique(component)) == 8  # 4 actions x 2 islands
    codes = enumerate_labellings(mdp, 3, continuous=True)
    assert len(codes) == count_canonical(8, 3)
    for c in range(8):
        assert (codes[:, component == c] == codes[:, [np.argmax(component == c)]]).all()
