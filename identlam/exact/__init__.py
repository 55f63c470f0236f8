"""The exact population objective of entropy-regularized LAPO on tiny enumerable MDPs.

Checks the identifiability claims for entropy-regularized LAPO (Lachapelle, 2025) with
no SGD noise: every quantity below is a closed-form function of a finite joint distribution.
numpy only; no randomness is drawn.

Data-generating process, :mod:`identlam.exact.mdp`
    ``TabularMDP(p_state (n,), policy (n, K), next_state (n, K), displacement (n, K, d),
    coords (n, d), adjacency (n, n), region (n,))``; the observed data are the distinct
    transitions (s, s') on the support, ``mdp.trans_src / trans_dst / trans_weight /
    trans_disp`` of length T = ``mdp.n_transitions``. Constructors: ``torus_mdp(shape, moves)``,
    ``ring_mdp(n)`` (A1-A4 hold), ``islands_mdp`` (A3 off), ``with_duplicate_action`` (shared
    effect, A2 off), ``with_split_policy`` (A4 off), ``two_region_mdp`` (the two-region example),
    ``with_policy``. ``GRID_MOVES`` are the four unit moves in 2-D.

Labellings
    deterministic ``codes`` (T,) int64 or stochastic ``q`` (T, M) with rows summing to 1;
    ``oracle_labels`` (code = action), ``labels_from_actions(mdp, table)`` (code per (s, a)),
    ``region_permuted_labels`` (a permutation per region: state-dependent relabelling),
    ``one_hot(codes, M)``, ``mix_codes(q, source, target, alpha)``.

Objective, :mod:`identlam.exact.objective`
    ``objective(mdp, q, lam, entropy, fdm)`` = L_rec + lam * H with ``entropy`` in
    ``"none" | "conditional"`` H(Â|S,S') ``| "policy"`` H(Â|S) ``| "marginal"`` H(Â), in nats.
    The FDM predicts the displacement s' - s; its class is always explicit:

    * ``fdm="tabular"``: f(s, â) free per (state, code), optimum = q-weighted mean of the
      displacement given (s, â). Flexible: L_rec of a labelling is exact and can be 0 for any
      labelling that separates the actions used at each state.
    * ``fdm="shared"``: f(s, â) = s + d_â, one displacement per code for every state (the
      restricted "continuous" class), optimum d_â = q-weighted mean displacement of code â.

    ``fit_fdm`` returns the optimal table, ``reconstruction_loss(mdp, q, fdm)`` accepts a class
    name or a given FDM array ((n, M, d) tabular, (M, d) shared), ``entropy_terms`` gives all
    three entropies.

Desiderata and assumptions
    ``desiderata(mdp, q)`` -> D1 H(Â|S,S'), D2 I(Â;S|A), D3 H(A|Â), H(Â|A), used codes;
    ``.broken()`` names the violated ones. ``assumption_report(mdp)`` -> A1 (adjacent states move
    alike), A2 margin, A3 components per action, A4 co-occurrence matrix.

Enumeration, :mod:`identlam.exact.enumeration`
    ``minimizers(mdp, n_codes, lam, entropy, fdm, continuous)`` scores every deterministic
    labelling up to code permutation (``enumerate_labellings``, ``batch_objective``) and
    returns the global minimizers. ``continuous=True`` keeps only labellings constant on the
    components of the continuity graph (``linked_components``): the discrete analogue of a
    continuous IDM. ``relabels_truth(mdp, codes)``: is the labelling h(a) with h injective?
    Stochastic labellings are not searched; items 12 and 15 show they never beat their
    deterministic counterparts at equal reconstruction.

Scenario table, :mod:`identlam.exact.scenarios`
    ``scenario_table(lam)`` runs ``minimizers`` on one tiny DGP per switched-off assumption and
    reports, per entropy variant, how many minimizers there are and which desiderata break in
    every / some of them; ``python -m identlam.exact.scenarios`` prints it.

Random families, :mod:`identlam.exact.families`
    ``tiny_family(family_seed, actions, cells)`` turns a ``random-family`` environment into a
    TabularMDP (states on grid centres, successors exact); ``check_family`` enumerates its
    labellings under a shared FDM, a shared FDM with a spare code, a continuous labeller with
    the tabular FDM, and the tabular FDM alone, and reports whether the truth is the unique
    minimizer and by what margin; ``python -m identlam.exact.families`` prints the table.

Theorem correspondences (each one a test in tests/exact/)
    9  symmetry: joint code permutation of q and f leaves L_rec and all entropies unchanged.
    10 oracle: L_rec = 0, H(Â|S,S') = 0, and L_lambda(oracle) <= every perturbation.
    11 tabular FDM: a per-state permutation ties with the oracle in L_rec, (C) and (P);
       the shared FDM breaks the tie.
    12 mixing codes with equal FDM outputs: L_rec unchanged, H(Â|S,S') strictly up.
    13 merging co-occurring actions: L_rec up by sum_s p(s) pi_a pi_b/(pi_a + pi_b) ||T_a - T_b||^2;
       merging never-co-occurring actions: L_rec unchanged, H(Â) strictly down.
    14 two-region example: H(Â) = 0.325 (swapped) vs 0.693 (consistent) nats, equal L_rec.
    15 (P): H(Â|S) = H(A|S) for a perfect deterministic labeller, larger for stochastic ones.
    Main theorem: with A1-A4 the minimizers are exactly the injective relabellings of the
    truth (shared FDM with M = K, or a continuous labeller with M >= K); switching off A2
    breaks D3, A3 (with a rotated island) or a discontinuous labeller breaks D2, A4 (with the
    marginal term) breaks D3.
"""

from identlam.exact.enumeration import (
    Minimizers,
    batch_objective,
    canonical_labellings,
    count_canonical,
    enumerate_labellings,
    linked_components,
    minimizers,
    relabels_truth,
)
from identlam.exact.families import check_family, tiny_family
from identlam.exact.mdp import (
    GRID_MOVES,
    TabularMDP,
    islands_mdp,
    labels_from_actions,
    mix_codes,
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
from identlam.exact.objective import (
    ENTROPY_TERMS,
    FDM_CLASSES,
    Desiderata,
    ObjectiveValue,
    assumption_report,
    desiderata,
    entropy_terms,
    fit_fdm,
    objective,
    reconstruction_loss,
)

__all__ = [
    "ENTROPY_TERMS", "FDM_CLASSES", "GRID_MOVES", "Desiderata", "Minimizers", "ObjectiveValue",
    "TabularMDP", "assumption_report", "batch_objective", "canonical_labellings", "check_family",
    "count_canonical", "desiderata", "entropy_terms", "enumerate_labellings", "fit_fdm",
    "islands_mdp", "labels_from_actions", "linked_components", "minimizers", "mix_codes",
    "objective", "one_hot", "oracle_labels", "reconstruction_loss", "region_permuted_labels",
    "relabels_truth", "ring_mdp", "torus_mdp", "tiny_family", "two_region_mdp", "with_duplicate_action",
    "with_policy", "with_split_policy",
]
