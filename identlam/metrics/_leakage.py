"""Distractor leakage: what a representation knows about distractor variables E beyond the action.

``I(Z;E|A)`` and ``I(Â;E|A)`` for the distractor's position at t and, given the next
distractor state E', the same for E' and for the step ``ΔE = E' - E``: what a latent of the
transition takes from a distractor that moves by small steps is its step, from one that jumps at
random its new place; neither shows in its position at t. The inputs (the step included) are
prepared by :func:`identlam.metrics._desiderata.prepare` with the other desiderata's.
"""

from __future__ import annotations

import numpy as np

from identlam.metrics._desiderata import Inputs, _require, estimate_part, part_result, prepare
from identlam.metrics._information import conditional_mutual_info
from identlam.metrics._probe_info import probe_mutual_info
from identlam.metrics._result import MetricResult
from identlam.metrics._shared import _quantile, joint_labels

# kNN estimators lose their neighbours in wide latents (a 128-wide latent that carries a
# distractor's step: Ross 0.11 nats, a held-out MLP probe at least 0.81). With discrete actions
# every latent's leakage is therefore the probe's lower bound on a discrete target (the same
# estimator for a 16-wide and a 128-wide latent, so bottlenecks compare): the step when
# discrete, else the target binned into quantiles per column.
PROBE_BINS = 4
PROBE_MAX_COLUMNS = 3


def _probe_target(y: np.ndarray, discrete: bool) -> np.ndarray | None:
    if discrete:
        return y
    if y.shape[1] > PROBE_MAX_COLUMNS:
        return None
    return joint_labels(*_quantile(y, PROBE_BINS).T)


def _latent_estimate(inp: Inputs, y: np.ndarray, disc_y: bool, sub: np.ndarray, key: str, parts: dict):
    """The estimate of ``I(Z; y | A)`` to run: the probe bound, or kNN for continuous actions or
    a target with too many columns to bin."""
    z, a = inp.z, inp.a
    target = _probe_target(y, disc_y) if inp.disc_a else None
    if target is None:
        return lambda: conditional_mutual_info(z[sub], y[sub], a[sub], discrete_y=disc_y, discrete_z=inp.disc_a,
                                               seed=inp.seed)
    if not disc_y:
        parts[f"{key}_target"] = f"binned: {PROBE_BINS} quantile bins per column (a lower bound by data processing)"
    return lambda: probe_mutual_info(target[sub], z[sub], a[sub], seed=inp.seed)


def distractor_leakage_part(inp: Inputs) -> MetricResult:
    score, parts, na = {}, {}, {}
    if inp.e is None:
        na["leakage_latent_exo_given_action"] = "no distractor variables (exo) given"
        return part_result("distractor_leakage", inp, score, parts, na, max_knn_samples=inp.max_knn_samples)
    sub = inp.subsample(inp.max_knn_samples, inp.rng())
    z, c, a = inp.z, inp.c, inp.a
    targets = [("exo", inp.e, False)]  # (name, variable, discrete)
    if inp.e_step is not None:
        targets += [("exo_next", inp.e_next, False), ("exo_step", inp.e_step, inp.disc_step)]
        parts["exo_step_discrete"] = inp.disc_step
        if inp.disc_step:
            parts["exo_step_values"] = int(inp.e_step.max(initial=0) + 1)
    else:
        na["leakage_latent_exo_step_given_action"] = "no next distractor state (next_exo) given"
    if c is not None and inp.codes_too_many([f"leakage_code_{name}_given_action" for name, _, _ in targets], na,
                                            rows=sub):
        c = None
    for name, y, disc_y in targets:
        if z is not None:
            key = f"leakage_latent_{name}_given_action"
            estimate_part(key, score, parts, na, _latent_estimate(inp, y, disc_y, sub, key, parts))
        if c is not None:
            estimate_part(f"leakage_code_{name}_given_action", score, parts, na,
                          lambda y=y, disc_y=disc_y: conditional_mutual_info(
                              c[sub], y[sub], a[sub], discrete_x=True, discrete_y=disc_y, discrete_z=inp.disc_a,
                              seed=inp.seed))
    return part_result("distractor_leakage", inp, score, parts, na, max_knn_samples=inp.max_knn_samples)


def distractor_leakage(actions, exo, latents=None, *, codes=None, next_exo=None, exo_period: float | None = None,
                       seed: int = 0, max_knn_samples: int = 10_000) -> MetricResult:
    """``I(Z;E|A)`` and ``I(Â;E|A)``: what the representation knows about distractors ``exo``
    (N, E) beyond the action; lower is better. Codes: plug-in or Ross per action. Latents: with
    discrete actions a held-out MLP probe's lower bound (:func:`probe_mutual_info`; a continuous
    target with at most 3 columns is binned into 4 quantiles per column), else kNN (KSG, Ross).

    With ``next_exo`` (N, E), the distractor state after each transition, the same two for that
    state (``*_exo_next_given_action``) and for the step ``ΔE = E' - E``
    (``*_exo_step_given_action``): a latent of the transition spends capacity on a distractor's
    random step (or, for one that jumps, on its new place), which its position at t need not
    reveal. Codes with more than one distinct value per 5 transitions get no code leakage (n/a).
    ``exo_period`` wraps the step the short way round a torus of that period (synthetic
    distractors live on the unit torus). A step with at most 64 distinct values is discrete
    (plug-in or Ross estimators instead of KSG).

    >>> rng = np.random.default_rng(0)
    >>> actions, exo = rng.integers(0, 2, 400), rng.normal(size=(400, 1))
    >>> r = distractor_leakage(actions, exo, latents=exo + 0.01 * rng.normal(size=(400, 1)))
    >>> r.score["leakage_latent_exo_given_action"] > 1.0  # the latent copies the distractor
    True
    >>> step = rng.integers(0, 4, 400)  # a distractor moving by one of 4 steps, whatever the action
    >>> r = distractor_leakage(actions, exo, codes=step, next_exo=exo + step[:, None])
    >>> r.score["leakage_code_exo_given_action"] < 0.1 < 1.3 < r.score["leakage_code_exo_step_given_action"]
    True
    """
    _require(codes if codes is not None else latents, "latents: give continuous latents, codes, or both")
    _require(exo, "exo: required")
    return distractor_leakage_part(prepare(actions, latents=latents, codes=codes, exo=exo, next_exo=next_exo,
                                           exo_period=exo_period, seed=seed, max_knn_samples=max_knn_samples))
