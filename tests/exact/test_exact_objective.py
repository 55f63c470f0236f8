"""The theorem correspondences 9-15 listed in the identlam.exact docstring, on the exact
population objective (closed form, no SGD)."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from identlam.exact import (
    desiderata,
    entropy_terms,
    fit_fdm,
    labels_from_actions,
    mix_codes,
    objective,
    one_hot,
    oracle_labels,
    reconstruction_loss,
    region_permuted_labels,
    ring_mdp,
    torus_mdp,
    two_region_mdp,
    with_policy,
    with_split_policy,
    GRID_MOVES,
)

VARIANTS = ("conditional", "policy", "marginal")


def random_policy(rng, n, k, low=0.05):
    p = rng.dirichlet(np.ones(k), size=n) + low
    return p / p.sum(axis=1, keepdims=True)


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 10_000), fdm=st.sampled_from(["tabular", "shared"]))
def test_item9_joint_code_permutation_leaves_every_term_unchanged(seed, fdm):
    rng = np.random.default_rng(seed)
    mdp = ring_mdp(5, moves=(1, -1, 2), policy=random_policy(rng, 5, 3))
    n_codes = 4
    q = rng.dirichlet(np.ones(n_codes), size=mdp.n_transitions)
    shape = (mdp.n_states, n_codes, 1) if fdm == "tabular" else (n_codes, 1)
    f = rng.normal(size=shape)
    sigma = rng.permutation(n_codes)
    while (sigma == np.arange(n_codes)).all():
        sigma = rng.permutation(n_codes)
    q_perm = np.empty_like(q)
    q_perm[:, sigma] = q
    f_perm = np.empty_like(f)
    f_perm[..., sigma, :] = f
    base = reconstruction_loss(mdp, q, f)
    assert reconstruction_loss(mdp, q_perm, f_perm) == pytest.approx(base, rel=1e-12)
    # permuting only the IDM does change the loss: the invariance is not vacuous
    assert abs(reconstruction_loss(mdp, q_perm, f) - base) > 1e-6
    assert reconstruction_loss(mdp, q_perm, fdm) == pytest.approx(reconstruction_loss(mdp, q, fdm), abs=1e-12)
    for key, value in entropy_terms(mdp, q).items():
        assert entropy_terms(mdp, q_perm)[key] == pytest.approx(value, abs=1e-12)
    # the optimal FDM is equivariant: fitted on permuted codes it is the permuted table
    best, best_perm = fit_fdm(mdp, q, fdm), fit_fdm(mdp, q_perm, fdm)
    np.testing.assert_allclose(best_perm[..., sigma, :], best, atol=1e-12)


def test_fit_fdm_is_the_least_squares_optimum():
    rng = np.random.default_rng(0)
    mdp = ring_mdp(5, moves=(1, -1, 2), policy=random_policy(rng, 5, 3))
    q = rng.dirichlet(np.ones(3), size=mdp.n_transitions)
    for fdm in ("tabular", "shared"):
        best = fit_fdm(mdp, q, fdm)
        loss = reconstruction_loss(mdp, q, best)
        assert reconstruction_loss(mdp, q, fdm) == pytest.approx(loss, abs=1e-12)
        for _ in range(5):  # any other FDM of the class is worse
            assert reconstruction_loss(mdp, q, best + 0.05 * rng.normal(size=best.shape)) > loss
    # the tabular class contains the shared one, so it reconstructs at least as well
    assert reconstruction_loss(mdp, q, "tabular") < reconstruction_loss(mdp, q, "shared")


def test_item10_oracle_is_perfect_and_no_perturbation_beats_it():
    rng = np.random.default_rng(1)
    mdp = torus_mdp((3, 3), GRID_MOVES, policy=random_policy(rng, 9, 4))
    n_codes = 5
    oracle = oracle_labels(mdp)
    q_oracle = one_hot(oracle, n_codes)
    assert reconstruction_loss(mdp, q_oracle, "tabular") == 0.0
    assert reconstruction_loss(mdp, q_oracle, "shared") == 0.0
    assert entropy_terms(mdp, q_oracle)["conditional"] == 0.0
    for entropy in VARIANTS:
        for fdm in ("tabular", "shared"):
            best = objective(mdp, q_oracle, lam=0.01, entropy=entropy, fdm=fdm).total
            for t in range(mdp.n_transitions):  # every single relabelled transition
                for code in range(n_codes):
                    codes = oracle.copy()
                    codes[t] = code
                    assert objective(mdp, one_hot(codes, n_codes), 0.01, entropy, fdm).total >= best - 1e-12
            for _ in range(10):  # stochastic perturbations
                q = 0.8 * q_oracle + 0.2 * rng.dirichlet(np.ones(n_codes), size=mdp.n_transitions)
                assert objective(mdp, q, 0.01, entropy, fdm).total > best


def test_item11_per_state_permutation_ties_with_tabular_fdm_and_loses_with_shared():
    mdp = ring_mdp(6)
    oracle = one_hot(oracle_labels(mdp), 2)
    table = np.tile([0, 1], (6, 1))
    table[0] = [1, 0]  # swap the two codes at state 0 only
    swapped = one_hot(labels_from_actions(mdp, table), 2)
    assert reconstruction_loss(mdp, swapped, "tabular") == reconstruction_loss(mdp, oracle, "tabular") == 0.0
    for key in ("conditional", "policy"):
        assert entropy_terms(mdp, swapped)[key] == pytest.approx(entropy_terms(mdp, oracle)[key], abs=1e-15)
    # shared displacements: code 0 pools five +1 moves and one -1 move (and code 1 mirrors
    # it): 2 * (5/12 (1/3)^2 + 1/12 (5/3)^2) = 5/9
    assert reconstruction_loss(mdp, swapped, "shared") == pytest.approx(5 / 9, abs=1e-12)
    assert reconstruction_loss(mdp, oracle, "shared") == 0.0
    assert desiderata(mdp, swapped).broken() == ("D2", "D3")


@pytest.mark.parametrize("fdm", ["tabular", "shared"])
def test_item12_mixing_codes_with_equal_fdm_outputs(fdm):
    rng = np.random.default_rng(2)
    mdp = ring_mdp(6, moves=(1, -1, 2), policy=random_policy(rng, 6, 3))
    q = one_hot(oracle_labels(mdp), 4)  # code 3 unused
    f = fit_fdm(mdp, q, fdm)
    f[..., 3, :] = f[..., 0, :]  # codes 0 and 3 predict the same
    alpha = 0.3
    mixed = mix_codes(q, 0, 3, alpha)
    assert reconstruction_loss(mdp, mixed, f) == pytest.approx(reconstruction_loss(mdp, q, f), abs=1e-15)
    assert reconstruction_loss(mdp, mixed, fdm) == pytest.approx(0.0, abs=1e-15)
    gain = mdp.joint_sa()[:, 0].sum() * -(alpha * np.log(alpha) + (1 - alpha) * np.log(1 - alpha))
    assert entropy_terms(mdp, mixed)["conditional"] == pytest.approx(gain, rel=1e-12)
    assert gain > 0.1
    # mixing towards a code whose output differs costs reconstruction
    assert reconstruction_loss(mdp, mix_codes(q, 0, 1, alpha), f) > 0.1


@settings(max_examples=10, deadline=None)
@given(seed=st.integers(0, 10_000))
def test_item13_merging_cooccurring_actions_costs_exactly_the_within_state_variance(seed):
    rng = np.random.default_rng(seed)
    mdp = ring_mdp(7, moves=(1, -1, 2), policy=random_policy(rng, 7, 3))
    merged = one_hot(labels_from_actions(mdp, [0, 0, 2]), 3)  # actions 0 and 1 share code 0
    pa, pb = mdp.policy[:, 0], mdp.policy[:, 1]
    gap = (mdp.displacement[:, 0] - mdp.displacement[:, 1]) ** 2  # (+1 - -1)^2 = 4
    expected = (mdp.p_state * pa * pb / (pa + pb) * gap.sum(axis=1)).sum()
    assert reconstruction_loss(mdp, merged, "tabular") == pytest.approx(expected, rel=1e-12)
    assert expected > 0


def test_item13_merging_never_cooccurring_actions_is_free_and_lowers_marginal_entropy():
    mdp = with_split_policy(ring_mdp(8, moves=(1, -1, 2)), 0, 2, np.arange(8) < 4)
    truth = one_hot(oracle_labels(mdp), 3)
    merged = one_hot(labels_from_actions(mdp, [0, 1, 0]), 3)
    assert reconstruction_loss(mdp, merged, "tabular") == reconstruction_loss(mdp, truth, "tabular") == 0.0
    # P(a=0) = P(a=2) = 1/4 merge into 1/2: H drops by (1/2) ln 2
    drop = entropy_terms(mdp, truth)["marginal"] - entropy_terms(mdp, merged)["marginal"]
    assert drop == pytest.approx(0.5 * np.log(2), rel=1e-12)
    assert desiderata(mdp, merged).broken() == ("D3",)
    # the shared FDM cannot merge +1 and +2 for free
    assert reconstruction_loss(mdp, merged, "shared") > 0.1


def test_item14_marginal_entropy_counterexample():
    mdp = two_region_mdp(8, 0.9)
    consistent = one_hot(oracle_labels(mdp), 2)
    swapped = one_hot(region_permuted_labels(mdp, [[0, 1], [1, 0]]), 2)
    h_consistent = entropy_terms(mdp, consistent)["marginal"]
    h_swapped = entropy_terms(mdp, swapped)["marginal"]
    assert h_consistent == pytest.approx(np.log(2), abs=1e-12)
    assert h_swapped == pytest.approx(-(0.9 * np.log(0.9) + 0.1 * np.log(0.1)), abs=1e-12)
    assert round(h_swapped, 3) == 0.325 and round(h_consistent, 3) == 0.693
    assert reconstruction_loss(mdp, swapped, "tabular") == reconstruction_loss(mdp, consistent, "tabular") == 0.0
    assert desiderata(mdp, swapped).d2_state_invariance > 0.3
    # the (C) and (P) terms do not prefer the swap
    for key in ("conditional", "policy"):
        assert entropy_terms(mdp, swapped)[key] == pytest.approx(entropy_terms(mdp, consistent)[key], abs=1e-15)


@settings(max_examples=10, deadline=None)
@given(seed=st.integers(0, 10_000), alpha=st.floats(0.01, 0.99))
def test_item15_policy_entropy_identity(seed, alpha):
    rng = np.random.default_rng(seed)
    mdp = ring_mdp(6, moves=(1, -1, 2), policy=random_policy(rng, 6, 3))
    pi, p = mdp.policy, mdp.p_state
    h_a_given_s = -(p[:, None] * pi * np.log(pi)).sum()
    perms = [rng.permutation(3) for _ in range(6)]  # any deterministic perfect labeller
    q_det = one_hot(labels_from_actions(mdp, np.array(perms)), 4)
    assert reconstruction_loss(mdp, q_det, "tabular") == pytest.approx(0.0, abs=1e-15)
    assert entropy_terms(mdp, q_det)["policy"] == pytest.approx(h_a_given_s, rel=1e-12)
    states = np.flatnonzero(rng.random(6) < 0.5)
    states = states if len(states) else np.array([0])
    where = np.isin(mdp.trans_src, states)
    q_sto = mix_codes(q_det, 0, 3, alpha, where)  # split code 0 over a spare code 3
    assert reconstruction_loss(mdp, q_sto, "tabular") == pytest.approx(0.0, abs=1e-15)
    assert entropy_terms(mdp, q_sto)["policy"] > h_a_given_s + 1e-6


def test_objective_combines_terms_and_rejects_bad_arguments():
    mdp = two_region_mdp()
    q = one_hot(region_permuted_labels(mdp, [[0, 1], [1, 0]]), 2)
    value = objective(mdp, q, lam=0.5, entropy="marginal", fdm="shared")
    assert value.total == pytest.approx(value.reconstruction + 0.5 * value.entropy, abs=1e-15)
    assert value.reconstruction > 0 and value.entropy == pytest.approx(0.325083, abs=1e-6)
    assert objective(mdp, q, lam=0.5, entropy="none").total == 0.0
    from identlam.errors import IdentlamError

    with pytest.raises(IdentlamError, match="'entropy'"):
        objective(mdp, q, entropy="joint")
    with pytest.raises(IdentlamError, match="'fdm'"):
        objective(mdp, q, fdm="mlp")
    with pytest.raises(IdentlamError, match="'lam'"):
        objective(mdp, q, lam=float("nan"))
    with pytest.raises(IdentlamError, match="'q'"):
        objective(mdp, q[:-1])
    with pytest.raises(IdentlamError, match="'q'"):
        objective(mdp, q * 0.5)
    with pytest.raises(IdentlamError, match="'fdm'"):
        reconstruction_loss(mdp, q, np.zeros((3, 3)))


def test_desiderata_of_known_labellings():
    mdp = with_policy(ring_mdp(6), np.full((6, 2), 0.5))
    truth = desiderata(mdp, one_hot(oracle_labels(mdp), 3))
    assert truth.broken() == () and truth.used_codes == 2
    constant = desiderata(mdp, one_hot(np.zeros(mdp.n_transitions, dtype=np.int64), 3))
    assert constant.broken() == ("D3",) and constant.d3_injectivity == pytest.approx(np.log(2))
    half = desiderata(mdp, mix_codes(one_hot(oracle_labels(mdp), 3), 0, 2, 0.5))
    assert half.broken() == ("D1",)
    assert half.d1_determinism == pytest.approx(0.5 * np.log(2)) and half.used_codes == 3
    assert half.code_given_action == pytest.approx(half.d1_determinism)
