"""The desiderata report (docs/metrics.md, "The identifiability report and its parts"): each of its
scores on worlds where the answer is known, and every degenerate input."""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from threadpoolctl import threadpool_limits

from identlam.errors import IdentlamError
from identlam.metrics import desiderata, distractor_leakage

MOVES = np.array([[1, 0], [0, 1], [-1, 0], [0, -1]])


@pytest.fixture(autouse=True)
def one_blas_thread():
    """Tiny fits on a shared 2-core machine: BLAS threads only add contention."""
    with threadpool_limits(1):
        yield


@pytest.fixture(scope="module")
def grid():
    """A 10x10 torus gridworld: whole-number float states (auto-detected as discrete), 4 moves."""
    rng = np.random.default_rng(0)
    n = 3000
    s = rng.integers(0, 10, size=(n, 2)).astype(np.float32)
    a = rng.integers(0, 4, n)
    s1 = (s + MOVES[a]) % 10
    region = (s[:, 0] >= 5).astype(int)
    return s, a, s1, region


def report(s, a, codes, **kw):
    kw.setdefault("budgets", [4, 40])
    return desiderata(a, s, None, codes=codes, **kw)


def test_identity_codes_satisfy_every_desideratum(grid):
    s, a, s1, region = grid
    r = report(s, a, 7 * a + 3, next_states=s1, regions=region, probs=np.eye(4)[a])
    sc = r.score
    for key in ("d1_code_entropy_given_transition", "d1_idm_conditional_entropy", "d2_code_state_info_given_action",
                "d3_action_entropy_given_code", "code_entropy_given_action", "hungarian_gap"):
        assert sc[key] == pytest.approx(0.0, abs=1e-12), key
    for key in ("hungarian_global", "ami", "nmi", "homogeneity", "completeness", "v_measure"):
        assert sc[key] == pytest.approx(1.0), key
    assert sc["used_codes"] == sc["n_actions"] == 4
    assert r.params["discrete_states"] is True and r.details["parts"]["d2_state_variable"] == "S"
    curves = r.details["parts"]["decoder_curves"]
    assert curves["global_lookup"][-1] == 1.0 and curves["budgets"] == [4, 40]


def test_region_dependent_codes_violate_d2_only(grid):
    """Codes that name the action per region, â = σ_region(a), with disjoint code sets per region."""
    s, a, s1, region = grid
    codes = np.where(region == 0, a, 4 + (a + 1) % 4)
    sc = report(s, a, codes, next_states=s1, regions=region).score
    assert sc["hungarian_per_region"] == 1.0
    assert sc["hungarian_global"] < 0.6
    assert sc["hungarian_gap"] > 0.4
    assert sc["d2_code_state_info_given_action"] > 0.6  # about log 2: the region is one bit
    assert sc["code_entropy_given_action"] > 0.6
    assert sc["d3_action_entropy_given_code"] == pytest.approx(0.0, abs=1e-12)
    assert sc["d1_code_entropy_given_transition"] == pytest.approx(0.0, abs=1e-12)
    assert sc["used_codes"] == 8


def test_chain_rule_is_exact_on_discrete_states(grid):
    """The chain rule H(Â|A) = H(Â|S,A) + I(Â;S|A) for plug-in estimates."""
    s, a, s1, _ = grid
    rng = np.random.default_rng(1)
    noisy = np.where(rng.random(len(a)) < 0.2, rng.integers(0, 6, len(a)), a)
    parts = report(s, a, noisy, next_states=s1).details["parts"]
    chain = parts["chain_rule"]
    assert chain["H(Â|A)"] > 0.3 and chain["I(Â;S|A)"] > 0.01
    assert abs(chain["residual"]) < 1e-12
    assert parts["d2_miller_madow"] < chain["I(Â;S|A)"]  # the bias correction removes spurious information


def test_merged_and_split_codes(grid):
    s, a, s1, _ = grid
    merged = report(s, a, np.minimum(a, 2), next_states=s1).score
    assert merged["d3_action_entropy_given_code"] > 0.3 and merged["homogeneity"] < 1
    assert merged["completeness"] == pytest.approx(1.0) and merged["used_codes"] == 3
    rng = np.random.default_rng(2)
    split = report(s, a, np.where(a == 0, 10 + rng.integers(0, 2, len(a)), a), next_states=s1).score
    assert split["d1_code_entropy_given_transition"] > 0.1  # the extra code is noise given (s, s')
    assert split["completeness"] < 1 and split["homogeneity"] == pytest.approx(1.0)
    assert split["d3_action_entropy_given_code"] == pytest.approx(0.0, abs=1e-12) and split["used_codes"] == 5


@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 2**32 - 1))
def test_relabelling_codes_actions_and_samples_leaves_label_parts_unchanged(grid, seed):
    s, a, s1, region = grid
    rng = np.random.default_rng(seed)
    codes = np.where(rng.random(len(a)) < 0.3, rng.integers(0, 6, len(a)), a)
    probs = rng.dirichlet(np.ones(6), len(a))
    keys = ["d1_code_entropy_given_transition", "d1_idm_conditional_entropy", "d2_code_state_info_given_action",
            "d3_action_entropy_given_code", "code_entropy_given_action", "hungarian_global", "hungarian_per_region",
            "ami", "nmi", "homogeneity", "completeness", "used_codes"]
    base = report(s, a, codes, next_states=s1, regions=region, probs=probs).score
    code_map = rng.permutation(50)[:6] * 3 + 100  # injective into a larger code set
    order = rng.permutation(len(a))
    action_perm = rng.permutation(4)
    variants = [
        report(s, a, code_map[codes], next_states=s1, regions=region, probs=probs[:, rng.permutation(6)]).score,
        report(s[order], a[order], codes[order], next_states=s1[order], regions=region[order], probs=probs[order]).score,
        report(s, action_perm[a], codes, next_states=s1, regions=region, probs=probs).score,
    ]
    for v in variants:
        for key in keys:
            assert v[key] == pytest.approx(base[key], abs=1e-12), key


def test_idm_conditional_entropy_from_probs(grid):
    s, a, _, _ = grid
    uniform = np.full((len(a), 8), 1 / 8)
    assert report(s, a, a, probs=uniform).score["d1_idm_conditional_entropy"] == pytest.approx(np.log(8))


def test_continuous_states_use_regions_and_say_why_d1_does_not_apply():
    rng = np.random.default_rng(3)
    s = rng.random((2000, 2))
    a = rng.integers(0, 4, 2000)
    r = report(s, a, a, next_states=s + 0.05 * MOVES[a], seed=0)
    assert r.params["discrete_states"] is False and r.params["n_regions"] == 16
    assert "continuous states" in r.details["not_applicable"]["d1_code_entropy_given_transition"]
    assert r.score["code_entropy_given_region_action"] == pytest.approx(0.0, abs=1e-12)
    assert r.details["parts"]["d2_state_variable"] == "R (state regions)"
    assert report(s, a, a, seed=0).details["parts"]["hungarian"]["n_regions"] == 16
    assert desiderata(a, s, None, codes=a, seed=0, budgets=[4]).score == \
        desiderata(a, s, None, codes=a, seed=0, budgets=[4]).score


def test_continuous_latents_without_codes():
    rng = np.random.default_rng(4)
    n = 1500
    s = rng.random((n, 2))
    a = rng.integers(0, 4, n)
    exo = rng.normal(size=(n, 2))
    z = np.column_stack([np.eye(4)[a] + 0.05 * rng.normal(size=(n, 4)), exo[:, 0]])  # leaks one distractor
    r = desiderata(a, s, z, exo=exo, budgets=[8, 80])
    sc, na = r.score, r.details["not_applicable"]
    assert all(np.isfinite(v) for v in sc.values())
    assert "no discrete codes" in na["ami"] and "no code probabilities" in na["d1_idm_conditional_entropy"]
    assert sc["action_probe_accuracy"] == 1.0
    assert sc["d3_action_entropy_given_latent"] < 0.1
    assert sc["d2_latent_state_info_given_action"] < 0.05
    assert sc["leakage_latent_exo_given_action"] > 0.5
    clean = desiderata(a, s, z[:, :4], exo=exo, budgets=[8]).score
    assert clean["leakage_latent_exo_given_action"] < 0.05
    assert r.details["parts"]["decoder_curves"]["latent_probe"][-1] > 0.95


def _torus_distractor(rng, n, rho):
    """Actions and a distractor point on the unit torus whose step copies the action with
    probability rho and is one of the 4 moves at random otherwise (positions float32, as stored)."""
    a = rng.integers(0, 4, n)
    step = np.where(rng.random(n) < rho, a, rng.integers(0, 4, n))
    e = rng.random((n, 2)).astype(np.float32)
    e1 = ((e + 0.05 * MOVES[step]) % 1.0).astype(np.float32)
    return a, step, e, e1


def test_step_leakage_sees_what_the_position_hides():
    """A code that follows a random distractor's step knows nothing of its position: only the
    step leakage sees it, and it is ln 4 when the step is independent of the action."""
    rng = np.random.default_rng(11)
    a, step, e, e1 = _torus_distractor(rng, 4000, rho=0.0)
    s = rng.random((4000, 2))
    follows = desiderata(a, s, codes=4 * a + step, exo=e, next_exo=e1, exo_period=1.0, budgets=[8])
    sc = follows.score
    assert sc["leakage_code_exo_given_action"] < 0.05
    assert sc["leakage_code_exo_step_given_action"] == pytest.approx(np.log(4), abs=0.02)
    assert follows.details["parts"]["exo_step_discrete"] is True  # 4 steps: plug-in, not kNN on ties
    assert follows.details["parts"]["exo_step_values"] == 4  # float32 positions do not split a step in two
    assert not follows.better("leakage_code_exo_step_given_action")
    action_only = desiderata(a, s, codes=a, exo=e, next_exo=e1, exo_period=1.0, budgets=[8]).score
    assert action_only["leakage_code_exo_step_given_action"] < 0.01
    # a continuous latent carrying the step leaks it as well
    z = np.column_stack([np.eye(4)[a], MOVES[step] + 0.05 * rng.normal(size=(4000, 2))])
    latent = distractor_leakage(a, e, z, next_exo=e1, exo_period=1.0).score
    assert latent["leakage_latent_exo_step_given_action"] > 1.0


def test_a_jumping_distractor_leaks_its_new_place_not_its_step():
    """A distractor that jumps to a fresh uniform place each step: codes that follow where it
    lands carry ln 4 nats of E' and nothing of E or of E' - E (uniform on the torus, independent
    of E')."""
    rng = np.random.default_rng(16)
    n = 4000
    a, e, e1 = rng.integers(0, 4, n), rng.random((n, 2)), rng.random((n, 2))
    quadrant = 2 * (e1[:, 0] > 0.5) + (e1[:, 1] > 0.5)
    sc = desiderata(a, rng.random((n, 2)), codes=4 * a + quadrant, exo=e, next_exo=e1, exo_period=1.0,
                    budgets=[8]).score
    assert sc["leakage_code_exo_next_given_action"] > 1.1
    assert sc["leakage_code_exo_given_action"] < 0.05 and sc["leakage_code_exo_step_given_action"] < 0.05


def test_step_leakage_falls_as_the_step_copies_the_action():
    """Given A, a step that copies the action with probability rho has less left to leak."""
    rng = np.random.default_rng(12)
    leaks = []
    for rho in (0.0, 0.5, 1.0):
        a, step, e, e1 = _torus_distractor(rng, 4000, rho)
        leaks.append(desiderata(a, rng.random((4000, 2)), codes=4 * a + step, exo=e, next_exo=e1, exo_period=1.0,
                                budgets=[8]).score["leakage_code_exo_step_given_action"])
    # H(step | A): ln 4 at rho = 0; at 0.5 the action's own move has probability 5/8, the others 1/8
    expected = (np.log(4), -(5 / 8 * np.log(5 / 8) + 3 / 8 * np.log(1 / 8)), 0.0)
    assert leaks == pytest.approx(expected, abs=0.03)


def test_step_wraps_the_short_way_round_the_torus():
    """A distractor drifting continuously: a latent that reads its step leaks it. Without the
    period, the steps across the border look like jumps of almost -1 that the latent does not
    follow, and the leakage is underestimated."""
    rng = np.random.default_rng(13)
    n = 3000
    a = rng.integers(0, 4, n)
    step = rng.normal(0.0, 0.02, (n, 1))
    e = rng.random((n, 1))
    e[: n // 3] = 1.0 - rng.random((n // 3, 1)) * np.abs(step[: n // 3])  # a third cross the border
    step[: n // 3] = np.abs(step[: n // 3])
    e1 = (e + step) % 1.0
    z = step + 0.001 * rng.normal(size=(n, 1))
    s = rng.random((n, 2))
    wrapped = distractor_leakage(a, e, z, next_exo=e1, exo_period=1.0)
    plain = distractor_leakage(a, e, z, next_exo=e1)
    assert wrapped.details["parts"]["exo_step_discrete"] is False
    assert wrapped.score["leakage_latent_exo_step_given_action"] > 1.2  # of ln 4: the step in 4 quantile bins
    assert plain.score["leakage_latent_exo_step_given_action"] < wrapped.score["leakage_latent_exo_step_given_action"] - 0.3


def test_code_leakage_is_not_estimated_from_nearly_unique_codes():
    """One code per transition (LAPO's VQ with several tokens) would 'carry' every distractor:
    the code leakage is n/a with the reason, the latent's is still measured."""
    rng = np.random.default_rng(15)
    a, step, e, e1 = _torus_distractor(rng, 2000, rho=0.0)
    s = rng.random((2000, 2))
    unique = rng.permutation(2000)
    r = desiderata(a, s, np.eye(4)[a] + 0.01 * rng.normal(size=(2000, 4)), codes=unique, exo=e, next_exo=e1,
                   exo_period=1.0, budgets=[8])
    na = r.details["not_applicable"]
    for key in ("leakage_code_exo_given_action", "leakage_code_exo_step_given_action"):
        assert key not in r.score and "2000 distinct codes in 2000 transitions" in na[key]
    assert r.score["leakage_latent_exo_step_given_action"] < 0.05
    few = desiderata(a, s, codes=a * 100 + rng.integers(0, 100, 2000) // 25, exo=e, next_exo=e1, exo_period=1.0,
                     budgets=[8]).score  # 16 codes: estimated
    assert few["leakage_code_exo_step_given_action"] < 0.05


def test_plugin_code_metrics_are_not_estimated_from_nearly_unique_codes():
    """With every code seen once, H(A|code) reads 0 and I(code;S|A) reads H(S|A) whatever the
    codes mean: those parts are n/a with the reason; AMI (chance-corrected) and the Hungarian
    matching still say the codes do not name the actions, and the latent's D2 and D3 are measured."""
    rng = np.random.default_rng(16)
    n = 1000
    a = rng.integers(0, 4, n)
    s = rng.integers(0, 5, (n, 1))
    unique = rng.permutation(n)
    z = np.eye(4)[a] + 0.01 * rng.normal(size=(n, 4))
    r = desiderata(a, s, z, codes=unique, next_states=s, budgets=[8])
    na = r.details["not_applicable"]
    for key in ("d1_code_entropy_given_transition", "d2_code_state_info_given_action", "code_entropy_given_action",
                "d3_action_entropy_given_code", "nmi", "homogeneity", "completeness", "v_measure"):
        assert key not in r.score and "1000 distinct codes in 1000 transitions" in na[key], key
    assert abs(r.score["ami"]) < 0.01 and r.score["hungarian_global"] < 0.01
    assert r.score["distinct_codes"] == 1000 and r.score["used_codes"] == 0
    assert r.score["d3_action_entropy_given_latent"] < 0.1 and "d2_latent_state_info_given_action" in r.score
    at_limit = desiderata(a, s, codes=a * 50 + rng.integers(0, 50, n), next_states=s, budgets=[8]).score
    assert at_limit["distinct_codes"] == 200 and at_limit["d3_action_entropy_given_code"] == 0.0
    assert at_limit["code_entropy_given_action"] > 3.5  # 50 codes per action, measured


def test_step_leakage_arguments_are_checked():
    rng = np.random.default_rng(14)
    a, step, e, e1 = _torus_distractor(rng, 100, rho=0.0)
    s = rng.random((100, 2))
    with pytest.raises(IdentlamError, match="next_exo: length"):
        desiderata(a, s, codes=a, exo=e, next_exo=e1[:50], budgets=[8])
    with pytest.raises(IdentlamError, match="next_exo: 1 columns"):
        desiderata(a, s, codes=a, exo=e, next_exo=e1[:, :1], budgets=[8])
    with pytest.raises(IdentlamError, match="exo_period"):
        desiderata(a, s, codes=a, exo=e, next_exo=e1, exo_period=-1.0, budgets=[8])
    na = desiderata(a, s, codes=a, exo=e, budgets=[8]).details["not_applicable"]
    assert "next_exo" in na["leakage_latent_exo_step_given_action"]


def test_continuous_actions_use_r2_parts():
    rng = np.random.default_rng(5)
    n = 1500
    s = rng.random((n, 2))
    levels = rng.integers(0, 4, n)
    actions = np.column_stack([levels, -levels]).astype(float) + 0.01 * rng.normal(size=(n, 2))
    r = desiderata(actions, s, np.eye(4)[levels], codes=levels, budgets=[8, 80])
    sc = r.score
    assert sc["code_lookup_r2"] > 0.99 and abs(sc["code_lookup_r2_gap"]) < 0.01
    assert sc["action_probe_r2"] > 0.99 and sc["action_dim"] == 2
    assert 0.6 < sc["action_mcc_pearson"] < 1  # one-hot latents correlate only partly with the level
    assert "continuous actions" in r.details["not_applicable"]["hungarian_global"]
    assert r.details["parts"]["decoder_curves"]["metric"] == "r2"
    assert all(np.isfinite(v) for v in sc.values())


def test_single_code_and_constant_action(grid):
    s, a, s1, _ = grid
    one = report(s, a, np.zeros_like(a), next_states=s1).score
    assert one["used_codes"] == 1 and one["ami"] == 0.0 and one["homogeneity"] == 0.0
    assert one["d3_action_entropy_given_code"] == pytest.approx(np.log(4), abs=0.01)
    const = report(s, np.zeros_like(a), a, next_states=s1).score
    assert const["n_actions"] == 1 and const["d3_action_entropy_given_code"] == 0.0
    assert all(np.isfinite(v) for v in one.values()) and all(np.isfinite(v) for v in const.values())


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"states": np.full((10, 2), np.nan)}, "^states: contains 20 NaN"),
        ({"codes": np.arange(9)}, r"^codes: length mismatch"),
        ({"probs": np.ones((10, 3))}, "^probs: every row must be a probability vector"),
        ({"codes": None}, "^latents: give continuous latents, codes, or both"),
        ({"actions": np.array([], dtype=int), "states": np.zeros((0, 2)), "codes": np.array([], dtype=int)},
         r"^actions: empty input"),
        ({"n_regions": 0}, "^n_regions: expected an integer >= 1"),
    ],
)
def test_bad_input(kwargs, match):
    args = {"actions": np.arange(10) % 2, "states": np.zeros((10, 2)), "codes": np.arange(10) % 2}
    args.update(kwargs)
    with pytest.raises(IdentlamError, match=match) as info:
        desiderata(args.pop("actions"), args.pop("states"), None, **args)
    assert "\n" not in str(info.value)


def test_public_name_is_the_function_even_after_its_module_is_imported():
    import importlib

    import identlam.metrics as metrics

    for name, module_name in metrics._LOCATIONS.items():
        module = importlib.import_module(f"identlam.metrics.{module_name}")
        assert module_name.startswith("_"), f"{module_name}: metric modules are private"
        assert getattr(metrics, name) is getattr(module, name)
    assert callable(metrics.desiderata) and desiderata is metrics.desiderata


def test_metrics_and_their_command_never_import_torch():
    import subprocess
    import sys

    code = ("import sys, identlam.metrics as m, identlam.metrics.cli; "
            "[getattr(m, n) for n in ('desiderata', 'entropy', 'ami', 'linear_probe')]; "
            "assert 'torch' not in sys.modules, 'torch imported'")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_too_few_samples_for_latent_estimates_makes_them_not_applicable():
    rng = np.random.default_rng(6)
    a = np.arange(12) % 4
    r = desiderata(a, rng.random((12, 2)), rng.normal(size=(12, 2)), exo=rng.normal(size=(12, 1)), budgets=[2])
    na = r.details["not_applicable"]
    for key in ("d2_latent_state_info_given_action", "leakage_latent_exo_given_action", "d3_mutual_info_latent_action"):
        assert "too few for a 2-fold probe" in na[key], key
    assert "d3_action_entropy_given_latent" not in r.score and "leakage_latent_exo_given_action" not in r.score
    assert all(np.isfinite(v) for v in r.score.values())


def test_too_few_samples_per_action_for_knn_makes_code_leakage_not_applicable():
    rng = np.random.default_rng(6)
    a = np.arange(12) % 4  # three samples per action: no group has more than n_neighbors = 3
    r = distractor_leakage(a, rng.normal(size=(12, 1)), codes=np.zeros(12, int))
    assert "every group" in r.details["not_applicable"]["leakage_code_exo_given_action"]


def test_default_decoder_budgets_are_shared_powers_of_two(grid):
    """Datasets of different sizes get the same budgets up to the smaller pool, so that their curves
    line up in a results table (decoder.NAME@B)."""
    from identlam.metrics._report import default_budgets

    assert default_budgets(4, 500) == [4, 8, 16, 32, 64, 128, 256]
    assert default_budgets(6, 100) == [8, 16, 32, 64]
    assert default_budgets(2, 3) == [2]
    assert default_budgets(4, 3) == [3]            # a pool smaller than the first budget
    assert default_budgets(4, 10**6)[-1] == 8192
    s, a, _, _ = grid
    small = desiderata(a[:600], s[:600], None, codes=a[:600]).details["parts"]["decoder_curves"]
    large = desiderata(a, s, None, codes=a).details["parts"]["decoder_curves"]
    assert small["budgets"] == [4, 8, 16, 32, 64, 128, 256]
    assert large["budgets"][:len(small["budgets"])] == small["budgets"] and large["budgets"][-1] == 2048


def _linear_world(rng, n, mix, noise):
    """Continuous actions read linearly (``mix``: action dim x latent width) from a latent, plus
    Gaussian noise; and states."""
    a = rng.normal(size=(n, mix.shape[0]))
    return a, a @ mix + noise * rng.normal(size=(n, mix.shape[1])), rng.normal(size=(n, 2))


def test_probe_fitted_on_more_transitions_beats_the_held_out_probe_of_a_wide_latent():
    """A 60-wide noisy latent scored on 100 transitions: the probe fitted on 80 of them overfits,
    the same probe fitted on 2000 others does not; a fit sample whose latent reads the action with
    the opposite sign gives a negative R² (the probe is fitted there, not on the scored rows)."""
    rng = np.random.default_rng(0)
    mix = rng.normal(size=(3, 60))
    a, z, s = _linear_world(rng, 100, mix, 3.0)
    fit_a, fit_z, _ = _linear_world(rng, 2000, mix, 3.0)
    score = desiderata(a, s, z, fit_probe_on=(fit_a, fit_z), budgets=[8]).score
    assert score["action_probe_r2_fit_on_train"] > 0.8  # 2000 rows for 60 weights: near the best linear read-out
    assert score["action_probe_r2"] < score["action_probe_r2_fit_on_train"] - 0.2
    flipped = desiderata(a, s, z, fit_probe_on=(-fit_a, fit_z), budgets=[8]).score
    assert flipped["action_probe_r2_fit_on_train"] < -2
    assert flipped["action_probe_r2"] == score["action_probe_r2"]
    assert "action_probe_r2_fit_on_train" not in desiderata(a, s, z, budgets=[8]).score


def test_probe_fitted_elsewhere_encodes_discrete_actions_jointly():
    """Fitted on actions 0-3, scored on rows holding only 2 and 3: the labels must mean the same
    actions on both sides (separate encodings would turn 2, 3 into 0, 1)."""
    rng = np.random.default_rng(1)
    fit_a = rng.integers(0, 4, 400)
    a = rng.integers(2, 4, 100)
    s = rng.normal(size=(100, 2))
    score = desiderata(a, s, np.eye(4)[a], fit_probe_on=(fit_a, np.eye(4)[fit_a]), budgets=[8]).score
    assert score["action_probe_accuracy_fit_on_train"] == 1.0
    permuted = desiderata(a, s, np.eye(4)[a], fit_probe_on=(fit_a, np.eye(4)[(fit_a + 1) % 4]), budgets=[8]).score
    assert permuted["action_probe_accuracy_fit_on_train"] == 0.0 and permuted["action_probe_accuracy"] == 1.0
    with pytest.raises(IdentlamError, match="fit_probe_on actions"):
        desiderata(a, s, np.eye(4)[a], fit_probe_on=(fit_a + 0.5, np.eye(4)[fit_a]), budgets=[8])


@pytest.mark.parametrize("fit_on, message", [
    ((np.zeros((50, 3)), np.zeros((50, 7))), "latents of width 7"),
    ((np.zeros((50, 2)), np.zeros((50, 6))), "actions of width 2"),
    ((np.zeros((50, 3)), np.zeros((40, 6))), "fit_probe_on"),
    ((np.zeros((50, 3)),), "a pair"),
    ((np.zeros((50, 3)), np.full((50, 6), np.nan)), "fit_probe_on latents"),
])
def test_probe_fit_sample_that_does_not_match_is_refused_by_name(fit_on, message):
    rng = np.random.default_rng(2)
    a, z, s = _linear_world(rng, 60, rng.normal(size=(3, 6)), 0.1)
    with pytest.raises(IdentlamError, match=message):
        desiderata(a, s, z, fit_probe_on=fit_on, budgets=[8])
