"""The desiderata D1–D3 of a latent-action representation, one function each.

Notation: S state, S' next state, A true action, Â discrete latent code, Z continuous latent,
R state region. Entropies and MI are plug-in estimates in nats unless a part's ``estimator``
says otherwise. With D1–D3 the code is an injective relabelling of the action:
``H(Â|S,S') = I(Â;S|A) = H(A|Â) = 0``.

- :func:`determinism` (D1): ``H(Â|S,S')`` (or ``H(Â|R,A)`` on continuous states) and the IDM's
  mean conditional entropy of its code probabilities.
- :func:`state_invariance` (D2): ``I(Â;S|A)`` (``I(Â;R|A)`` on continuous states, a lower bound
  by data processing), with the chain rule ``H(Â|A) = H(Â|S,A) + I(Â;S|A)`` in the details;
  for continuous latents the lower bound of :func:`identlam.metrics.probe_mutual_info` on it.
- :func:`injectivity` (D3): ``H(A|Â)``, or ``H(A) - I(Z;A)`` for continuous latents, with the
  probe's lower bound on ``I(Z;A)`` (an upper bound on ``H(A|Z)``): kNN estimators lose their
  neighbours in wide latents.
- :func:`used_codes`: how many codes get more than 1% of the transitions, beside the number of
  actions and of distinct codes.
- :func:`identlam.metrics._leakage.distractor_leakage`: what the representation knows about
  distractor variables beyond the action (its own module; the distractor's step is prepared
  here with the other inputs).

States are *discrete* when integer-typed, or (``discrete_states=None``) float with whole-number
values and at most N/5 distinct rows (a gridworld). Continuous states are binned into regions
(:func:`identlam.metrics.state_regions`, k-means, seeded) unless ``regions`` is given. kNN
estimators run on at most ``max_knn_samples`` rows (a seeded subsample, reported in
``params``), so every part stays linear in N. Each part draws from its own generator seeded
with ``seed``, so a part computed alone equals the same part of :func:`desiderata`.
Every part lists what does not apply, with the reason, in ``details["not_applicable"]``; no
part is ever silently NaN. Codes that nearly label each transition apart (more than one distinct
code per 5 transitions, as LAPO's VQ with several tokens gives) leave the plug-in entropies and
informations of the code n/a: from N samples they are bounds (``H(A|Â)`` reads 0 when every
code is seen once), not measurements; AMI and the Hungarian matching stay (chance-corrected and
direct). Every score key is lower-is-better except where
``greater_is_better`` says otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from identlam.errors import IdentlamError
from identlam.metrics._information import conditional_mutual_info
from identlam.metrics._probe_info import probe_mutual_info
from identlam.metrics._regions import state_regions
from identlam.metrics._result import MetricResult
from identlam.metrics._shared import is_discrete, joint_labels, plugin_entropy
from identlam.metrics._validation import as_2d, as_labels, check_positive_int, check_same_length, count_distinct_rows

USED_CODE_THRESHOLD = 0.01  # a code counts as used when more than 1% of transitions get it

# Direction of every score key any part reports (None: a count or baseline, no better side).
DIRECTIONS = {
    "d1_code_entropy_given_transition": False, "d1_idm_conditional_entropy": False,
    "code_entropy_given_region_action": False, "d2_code_state_info_given_action": False,
    "d2_latent_state_info_given_action": False, "code_entropy_given_action": False,
    "d3_action_entropy_given_code": False, "d3_action_entropy_given_latent": False,
    "hungarian_global": True, "hungarian_per_region": True, "hungarian_gap": False,
    "ami": True, "nmi": True, "homogeneity": True, "completeness": True, "v_measure": True,
    "code_lookup_r2": True, "code_lookup_r2_per_region": True, "code_lookup_r2_gap": False,
    "used_codes": None, "distinct_codes": None, "n_actions": None, "action_dim": None,
    "action_probe_accuracy": True, "action_probe_f1_weighted": True, "action_probe_majority_baseline": None,
    "action_probe_r2": True, "action_probe_mse": False, "action_mcc_pearson": True,
    "action_probe_accuracy_fit_on_train": True, "action_probe_f1_weighted_fit_on_train": True,
    "action_probe_majority_baseline_fit_on_train": None, "action_probe_r2_fit_on_train": True,
    "action_probe_mse_fit_on_train": False,
    "leakage_latent_exo_given_action": False, "leakage_code_exo_given_action": False,
    "leakage_latent_exo_step_given_action": False, "leakage_code_exo_step_given_action": False,
    "leakage_latent_exo_next_given_action": False, "leakage_code_exo_next_given_action": False,
}

# Codes need transitions per code: beyond one distinct code per 5 transitions (the limit discrete
# states have too) a plug-in or Ross estimate of the code's entropy or information is a bound.
MAX_CODES_PER_SAMPLE_RATIO = 5

# A step taking at most this many distinct values (up to float error) is a discrete variable: a
# distractor that moves by one of a few fixed steps must not go to a kNN estimator, whose
# neighbour counts degenerate on ties.
MAX_DISCRETE_STEPS = 64


@dataclass
class Inputs:
    """Validated arrays shared by the parts (built once by :func:`prepare`)."""

    n: int
    a: np.ndarray
    disc_a: bool
    s: np.ndarray | None
    disc_s: bool
    z: np.ndarray | None
    c: np.ndarray | None
    s1: np.ndarray | None
    e: np.ndarray | None
    e_next: np.ndarray | None
    e_step: np.ndarray | None
    disc_step: bool
    q: np.ndarray | None
    given_regions: np.ndarray | None
    n_regions: int
    seed: int
    max_knn_samples: int

    @cached_property
    def r(self) -> np.ndarray:
        """Region label per transition (computed on first use: k-means is the costly step)."""
        if self.given_regions is not None:
            return self.given_regions
        if self.s is None:
            raise IdentlamError("states: needed for state regions")
        return state_regions(self.s, self.n_regions, self.seed)

    @cached_property
    def s_lab(self) -> np.ndarray:
        """The state variable of the plug-in parts: S itself when discrete, else its region R."""
        return as_labels(self.s, "states") if self.disc_s else self.r

    @cached_property
    def distinct_codes(self) -> int:
        return len(np.unique(self.c)) if self.c is not None else 0

    def codes_too_many(self, keys, na: dict, rows: np.ndarray | None = None) -> bool:
        """True (and ``na[key]`` says why for each key) when the codes, on ``rows`` or on all
        transitions, nearly label each transition apart."""
        if self.c is None:
            return False
        n = self.n if rows is None else len(rows)
        distinct = self.distinct_codes if rows is None else len(np.unique(self.c[rows]))
        if distinct <= n / MAX_CODES_PER_SAMPLE_RATIO:
            return False
        for key in keys:
            na[key] = (f"{distinct} distinct codes in {n} transitions (more than 1 per "
                       f"{MAX_CODES_PER_SAMPLE_RATIO}): too many codes to estimate their entropy or information")
        return True

    def codes_for_plugin(self, keys, na: dict) -> np.ndarray | None:
        """The codes, or None (with the reason for each key in ``na``) when there are too many
        of them for plug-in entropies."""
        return None if self.codes_too_many(keys, na) else self.c

    def rng(self) -> np.random.Generator:
        return np.random.default_rng(self.seed)

    def subsample(self, cap: int, rng: np.random.Generator) -> np.ndarray:
        return np.sort(rng.choice(self.n, cap, replace=False)) if self.n > cap else np.arange(self.n)


def prepare(actions, states=None, latents=None, codes=None, *, next_states=None, exo=None, next_exo=None,
            exo_period: float | None = None, regions=None, probs=None, n_regions: int = 16, seed: int = 0,
            discrete_states: bool | None = None, max_knn_samples: int = 10_000) -> Inputs:
    """Check every given array once (one-line errors naming the argument) and bundle them."""
    n_regions = check_positive_int(n_regions, "n_regions")
    max_knn_samples = check_positive_int(max_knn_samples, "max_knn_samples")
    disc_a = is_discrete(actions)
    a = as_labels(actions, "actions") if disc_a else as_2d(actions, "actions")
    s = as_2d(states, "states") if states is not None else None
    z = as_2d(latents, "latents") if latents is not None else None
    c = as_labels(codes, "codes") if codes is not None else None
    s1 = as_2d(next_states, "next_states") if next_states is not None else None
    if exo is not None and np.ndim(exo) == 2 and np.shape(exo)[1] == 0:
        exo = None
    e = as_2d(exo, "exo") if exo is not None else None
    e1 = as_2d(next_exo, "next_exo") if next_exo is not None and e is not None else None
    if e1 is not None and e1.shape[1] != e.shape[1]:
        raise IdentlamError(f"next_exo: {e1.shape[1]} columns, exo has {e.shape[1]}")
    n = check_same_length(actions=a, states=s, latents=z, codes=c, next_states=s1, exo=e, next_exo=e1,
                          regions=None if regions is None else np.asarray(regions))
    q = _check_probs(probs, n) if probs is not None else None
    disc_s = _states_are_discrete(s, discrete_states) if s is not None else False
    r = as_labels(regions, "regions") if regions is not None else None
    e_step, disc_step = _exo_step(e, e1, exo_period) if e1 is not None else (None, False)
    return Inputs(n, a, disc_a, s, disc_s, z, c, s1, e, e1, e_step, disc_step, q, r, n_regions, seed,
                  max_knn_samples)


def _exo_step(e: np.ndarray, e1: np.ndarray, period: float | None) -> tuple[np.ndarray, bool]:
    """The distractor's step ``E' - E`` (on a torus of ``period``: the shortest way round) and
    whether it is discrete; a discrete step comes back as one int label per row."""
    step = e1.astype(np.float64) - e
    if period is not None:
        if not np.isfinite(period) or period <= 0:
            raise IdentlamError(f"exo_period: must be a positive number, got {period!r}")
        step -= period * np.round(step / period)
    # Stored positions are float32: equal steps differ by a few ulps of the position, so values
    # closer than 1e-5 of a column's magnitude are one value (sorted, chained by their gaps).
    labels = []
    for j in range(step.shape[1]):
        tol = 1e-5 * max(1.0, float(np.abs(e[:, j]).max(initial=0.0)), float(np.abs(e1[:, j]).max(initial=0.0)))
        order = np.argsort(step[:, j], kind="stable")
        cluster = np.concatenate([[0], np.cumsum(np.diff(step[order, j]) > tol)])
        column = np.empty(len(order), np.int64)
        column[order] = cluster
        labels.append(column)
    symbols = joint_labels(*labels) if len(labels) > 1 else labels[0]
    if symbols.max(initial=0) + 1 <= MAX_DISCRETE_STEPS:
        return symbols, True
    return step, False


def part_result(name: str, inp: Inputs, score: dict, parts: dict, na: dict, **params) -> MetricResult:
    """One part's :class:`MetricResult`: scores with their directions, parts and what is n/a."""
    return MetricResult(name, score, {"n_samples": inp.n, "parts": parts, "not_applicable": na},
                        {"seed": inp.seed, "units": "nats", **params}, {k: DIRECTIONS[k] for k in score})


def h_given(target: np.ndarray, *given: np.ndarray) -> float:
    """Plug-in H(target | given...) = H(target, given) - H(given)."""
    g = joint_labels(*given) if len(given) > 1 else given[0]
    return plugin_entropy(joint_labels(target, g)) - plugin_entropy(g)


def _states_are_discrete(states: np.ndarray, flag: bool | None) -> bool:
    if flag is not None or is_discrete(states):
        return bool(flag) if flag is not None else True
    whole = np.all(states == np.round(states))
    return bool(whole) and count_distinct_rows(states) <= states.shape[0] / 5


def _check_probs(probs, n: int) -> np.ndarray:
    p = as_2d(probs, "probs")
    check_same_length(probs=p, actions=np.empty(n))
    if np.any(p < 0) or not np.allclose(p.sum(axis=1), 1.0, atol=1e-4):
        raise IdentlamError("probs: every row must be a probability vector (non-negative, summing to 1)")
    return p


def estimate_part(key: str, score: dict, parts: dict, na: dict, estimate) -> bool:
    """Run one estimate (kNN, or a probe's bound) into ``score[key]``; too few samples for it
    makes the part n/a."""
    try:
        result = estimate()
    except IdentlamError as err:  # inputs are validated already: only sample-size limits remain
        na[key] = f"estimator not applicable: {err}"
        return False
    score[key] = float(result)
    parts[f"{key}_estimator"] = result.params["estimator"]
    return True


def _require(value, message: str) -> None:
    if value is None:
        raise IdentlamError(message)


# ------------------------------------------------------------------------------------- the parts
def determinism_part(inp: Inputs) -> MetricResult:
    score, parts, na = {}, {}, {}
    a = inp.a
    c = inp.codes_for_plugin(("d1_code_entropy_given_transition", "code_entropy_given_region_action"), na)
    if inp.q is not None:
        q = inp.q
        plogp = np.where(q > 0, q * np.log(np.where(q > 0, q, 1.0)), 0.0)
        score["d1_idm_conditional_entropy"] = float(-plogp.sum(axis=1).mean())
    else:
        na["d1_idm_conditional_entropy"] = "no code probabilities (probs) given"
    if c is not None and inp.disc_s:
        if inp.s1 is not None:
            score["d1_code_entropy_given_transition"] = h_given(c, inp.s_lab, as_labels(inp.s1, "next_states"))
            parts["d1_conditioning"] = "(S, S')"
        elif inp.disc_a:
            score["d1_code_entropy_given_transition"] = h_given(c, inp.s_lab, a)
            parts["d1_conditioning"] = "(S, A): equals (S, S') when actions are distinguishable (A2)"
        else:
            na["d1_code_entropy_given_transition"] = "no next_states and continuous actions"
    elif c is not None:
        na["d1_code_entropy_given_transition"] = (
            "continuous states: every (s, s') is distinct, plug-in H(Â|S,S') is 0 by construction")
        if inp.disc_a:
            score["code_entropy_given_region_action"] = h_given(c, inp.r, a)
    elif inp.c is None:
        na["d1_code_entropy_given_transition"] = "no discrete codes"
    return part_result("determinism", inp, score, parts, na, estimator="plug-in entropies")


def state_invariance_part(inp: Inputs) -> MetricResult:
    score, parts, na = {}, {}, {}
    a, rng = inp.a, inp.rng()
    c = inp.codes_for_plugin(("d2_code_state_info_given_action", "code_entropy_given_action"), na)
    state_name = "S" if inp.disc_s else "R (state regions)"
    parts["d2_state_variable"] = state_name
    if c is not None and inp.disc_a:
        s_lab = inp.s_lab
        h_c_a, h_c_sa = h_given(c, a), h_given(c, s_lab, a)
        cmi = float(conditional_mutual_info(c, s_lab, a))
        score.update(d2_code_state_info_given_action=cmi, code_entropy_given_action=h_c_a)
        parts["d2_miller_madow"] = float(conditional_mutual_info(c, s_lab, a, estimator="miller_madow"))
        parts["chain_rule"] = {"H(Â|A)": h_c_a, f"H(Â|{state_name},A)": h_c_sa, f"I(Â;{state_name}|A)": cmi,
                               "residual": h_c_a - h_c_sa - cmi}
    elif c is not None:
        sub = inp.subsample(inp.max_knn_samples, rng)
        estimate_part("d2_code_state_info_given_action", score, parts, na,
                      lambda: conditional_mutual_info(c[sub], inp.s[sub], a[sub], discrete_y=False, seed=inp.seed))
    elif inp.z is not None and inp.disc_a:  # no codes, or too many: the latent's D2 is the one to read
        sub = inp.subsample(inp.max_knn_samples, rng)
        estimate_part("d2_latent_state_info_given_action", score, parts, na,
                      lambda: probe_mutual_info(inp.s_lab[sub], inp.z[sub], a[sub], seed=inp.seed))
    return part_result("state_invariance", inp, score, parts, na, discrete_states=inp.disc_s,
                       max_knn_samples=inp.max_knn_samples)


def injectivity_part(inp: Inputs) -> MetricResult:
    score, parts, na = {}, {}, {}
    a = inp.a
    c = inp.codes_for_plugin(("d3_action_entropy_given_code",), na)
    if c is not None and inp.disc_a:
        score["d3_action_entropy_given_code"] = h_given(a, c)
    elif c is not None:
        na["d3_action_entropy_given_code"] = "continuous actions: see code_lookup_r2 and the action probe R²"
    elif inp.c is None:
        na["d3_action_entropy_given_code"] = "no discrete codes (continuous latents only)"
    if c is None and inp.z is not None and inp.disc_a:
        sub = inp.subsample(inp.max_knn_samples, inp.rng())
        if estimate_part("d3_mutual_info_latent_action", score, parts, na,
                         lambda: probe_mutual_info(a[sub], inp.z[sub], seed=inp.seed)):
            i_za = score.pop("d3_mutual_info_latent_action")
            score["d3_action_entropy_given_latent"] = max(0.0, plugin_entropy(a[sub]) - i_za)
            parts["d3_action_entropy_given_latent"] = "H(A) plug-in minus the probe's lower bound on I(Z;A), clipped at 0"
    return part_result("injectivity", inp, score, parts, na, max_knn_samples=inp.max_knn_samples)


def used_codes_part(inp: Inputs) -> MetricResult:
    score, parts, na = {}, {}, {}
    if inp.c is not None:
        freq = np.bincount(inp.c) / inp.n
        score["used_codes"] = float(np.sum(freq > USED_CODE_THRESHOLD))
        score["distinct_codes"] = float(inp.distinct_codes)
        parts["code_frequencies"] = freq
    else:
        na["used_codes"] = "no discrete codes (continuous latents only)"
    score["n_actions" if inp.disc_a else "action_dim"] = float(inp.a.max() + 1 if inp.disc_a else inp.a.shape[1])
    return part_result("used_codes", inp, score, parts, na, used_code_threshold=USED_CODE_THRESHOLD)


# ------------------------------------------------------------------------------- public functions
def determinism(actions, states, codes=None, *, next_states=None, probs=None, regions=None, n_regions: int = 16,
                discrete_states: bool | None = None, seed: int = 0) -> MetricResult:
    """D1: ``H(Â|S,S')`` of ``codes`` (0 when the code is a function of the transition) and the
    IDM's mean entropy of ``probs`` (N, M). Lower is better.

    >>> actions, states = [0, 1, 0, 1] * 5, [[0], [0], [1], [1]] * 5
    >>> determinism(actions, states, codes=[3, 7, 3, 7] * 5).score["d1_code_entropy_given_transition"]
    0.0
    """
    if codes is None and probs is None:
        raise IdentlamError("codes: give codes, probs, or both")
    inp = prepare(actions, states, codes=codes, next_states=next_states, regions=regions, probs=probs,
                  n_regions=n_regions, seed=seed, discrete_states=discrete_states)
    return determinism_part(inp)


def state_invariance(actions, states, latents=None, *, codes=None, regions=None, n_regions: int = 16,
                     discrete_states: bool | None = None, seed: int = 0,
                     max_knn_samples: int = 10_000) -> MetricResult:
    """D2: ``I(Â;S|A)`` for ``codes`` (or KSG/Ross ``I(Z;S|A)`` for ``latents`` only). Lower is better.

    >>> actions, states = [0, 0, 1, 1] * 5, [[0], [1], [0], [1]] * 5
    >>> r = state_invariance(actions, states, codes=[0, 2, 1, 3] * 5)  # the code also names the state
    >>> round(r.score["d2_code_state_info_given_action"], 4), r.better("d2_code_state_info_given_action")
    (0.6931, False)
    """
    _require(codes if codes is not None else latents, "latents: give continuous latents, codes, or both")
    inp = prepare(actions, states, latents, codes, regions=regions, n_regions=n_regions, seed=seed,
                  discrete_states=discrete_states, max_knn_samples=max_knn_samples)
    return state_invariance_part(inp)


def injectivity(actions, latents=None, *, codes=None, seed: int = 0, max_knn_samples: int = 10_000) -> MetricResult:
    """D3: ``H(A|Â)`` for ``codes`` (0 when no code is shared by two actions). Lower is better.

    >>> injectivity([0, 1, 2, 3] * 5, codes=[0, 0, 1, 1] * 5).score["d3_action_entropy_given_code"] > 0.69
    True
    """
    _require(codes if codes is not None else latents, "latents: give continuous latents, codes, or both")
    return injectivity_part(prepare(actions, latents=latents, codes=codes, seed=seed,
                                    max_knn_samples=max_knn_samples))


def used_codes(actions, codes) -> MetricResult:
    """Codes given to more than 1% of transitions, beside the number of actions to compare with.

    >>> used_codes([0, 1] * 50, [0] * 60 + [1] * 39 + [2]).score
    {'used_codes': 2.0, 'distinct_codes': 3.0, 'n_actions': 2.0}
    """
    _require(codes, "codes: required")
    return used_codes_part(prepare(actions, codes=codes))
