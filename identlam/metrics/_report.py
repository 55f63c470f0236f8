"""The identifiability report of one representation: every desideratum and its symptoms.

:func:`desiderata` combines the parts of :mod:`identlam.metrics._desiderata` (determinism,
state invariance, injectivity, used codes, distractor leakage) with the parts defined here:

- :func:`label_agreement`: how well codes agree with true actions: Hungarian matching (globally
  and per state region; their gap measures state dependence), AMI, NMI, homogeneity,
  completeness, V-measure. Continuous actions: R² of predicting the action by the training mean
  per code (``code_lookup_r2``), per region and code, and their gap.
- :func:`action_probe`: a linear probe from Z to the action (held-out accuracy and weighted F1,
  or R² and MSE) and, for continuous actions, the Pearson MCC between the action and Z; given
  other transitions to fit it on (``fit_probe_on``), the same probe fitted on them
  (:func:`action_probe_fit_on_part`).
- decoder curves (``details["parts"]["decoder_curves"]``): accuracy (or R²) of decoding true
  actions from n labelled transitions, per decoder.

With discrete codes and discrete states the chain rule ``H(Â|A) = H(Â|S,A) + I(Â;S|A)`` holds
exactly and is reported (``details["parts"]["chain_rule"]``). Probes and decoder curves run on
at most ``max_probe_samples`` rows (seeded subsamples, reported in ``params``), kNN estimators on
at most ``max_knn_samples``, so the report scales linearly in N.
"""

from __future__ import annotations

import numpy as np

from identlam.errors import IdentlamError
from identlam.metrics._clustering import ami, homogeneity_completeness_v, hungarian_accuracy, nmi
from identlam.metrics._desiderata import (
    DIRECTIONS,
    USED_CODE_THRESHOLD,
    Inputs,
    determinism_part,
    injectivity_part,
    part_result,
    prepare,
    state_invariance_part,
    used_codes_part,
)
from identlam.metrics._leakage import distractor_leakage_part
from identlam.metrics._mcc import mcc
from identlam.metrics._probes import fit_score, linear_probe
from identlam.metrics._result import MetricResult
from identlam.metrics._shared import joint_labels
from identlam.metrics._validation import as_2d, as_labels, check_positive_int, check_same_length


def _lookup_r2(codes, actions_f, regions, train, test) -> dict:
    """R² of predicting continuous actions by the training mean per code (and per region+code)."""
    from sklearn.metrics import r2_score

    def lookup(keys):
        fallback = actions_f[train].mean(axis=0)
        k_train, k_test = keys[train], keys[test]
        size = int(keys.max()) + 1
        counts = np.bincount(k_train, minlength=size)
        sums = np.stack([np.bincount(k_train, weights=col, minlength=size) for col in actions_f[train].T], axis=1)
        means = np.where(counts[:, None] > 0, sums / np.maximum(counts, 1)[:, None], fallback)
        return float(r2_score(actions_f[test], means[k_test]))

    global_r2 = lookup(codes)
    region_r2 = lookup(joint_labels(codes, regions))
    return {"code_lookup_r2": global_r2, "code_lookup_r2_per_region": region_r2,
            "code_lookup_r2_gap": region_r2 - global_r2}


def label_agreement_part(inp: Inputs) -> MetricResult:
    score, parts, na = {}, {}, {}
    c, a = inp.c, inp.a
    keys = ("hungarian_global", "ami", "nmi", "homogeneity", "completeness")
    if c is not None and inp.disc_a:
        hung = hungarian_accuracy(a, c, regions=inp.r)
        score.update(hungarian_global=hung.score["global"], hungarian_per_region=hung.score["per_region"],
                     hungarian_gap=hung.score["gap"])
        parts["hungarian"] = hung.details
        score["ami"] = float(ami(a, c))
        if not inp.codes_too_many(("nmi", "homogeneity", "completeness", "v_measure"), na):
            score["nmi"] = float(nmi(a, c))
            score.update(homogeneity_completeness_v(a, c).score)
    elif c is not None:
        train, test = np.split(inp.rng().permutation(inp.n), [inp.n - max(1, inp.n // 5)])
        score.update(_lookup_r2(c, a, inp.r, train, test))
        na.update({key: "continuous actions: see code_lookup_r2 and the action probe R²" for key in keys})
    else:
        na.update({key: "no discrete codes (continuous latents only)" for key in keys})
    return part_result("label_agreement", inp, score, parts, na)


def action_probe_part(inp: Inputs, max_probe_samples: int) -> MetricResult:
    score, parts, na = {}, {}, {}
    z, a = inp.z, inp.a
    if z is not None:
        sub = inp.subsample(max_probe_samples, inp.rng())
        probe = linear_probe(a[sub], z[sub], discrete=inp.disc_a, seed=inp.seed)
        score.update({f"action_probe_{k}": v for k, v in probe.score.items()})
        if not inp.disc_a and np.ptp(a, axis=0).max() > 0:
            score["action_mcc_pearson"] = float(mcc(a[sub], z[sub], method="pearson"))
        elif not inp.disc_a:
            na["action_mcc_pearson"] = "every action dimension is constant"
    else:
        na["action_probe"] = "no continuous latents"
    return part_result("action_probe", inp, score, parts, na, max_probe_samples=max_probe_samples)


def action_probe_fit_on_part(inp: Inputs, actions, fit_on, max_probe_samples: int) -> MetricResult:
    """The linear action probe fitted on another sample of the same representation (``fit_on``:
    its actions and latents, e.g. every transition of the training trajectories) and scored on
    these rows. Beside :func:`action_probe_part`, whose probe sees only 80% of these rows, it
    measures the latent with a probe fitted on more data: with few rows and a wide latent, the
    held-out probe's R² falls with the latent's width (its fit overfits) and varies with its split."""
    score, parts, na = {}, {}, {}
    if inp.z is None:
        na["action_probe_fit_on_train"] = "no continuous latents"
        return part_result("action_probe_fit_on_train", inp, score, parts, na)
    try:
        fit_actions, fit_latents = fit_on
    except (TypeError, ValueError):
        raise IdentlamError("fit_probe_on: expected a pair (actions, latents)") from None
    fit_z = as_2d(fit_latents, "fit_probe_on latents")
    if fit_z.shape[1] != inp.z.shape[1]:
        raise IdentlamError(f"fit_probe_on: latents of width {fit_z.shape[1]}, the report's latents {inp.z.shape[1]}")
    if inp.disc_a:  # encoded jointly, so that a label means the same action on both sides
        as_labels(fit_actions, "fit_probe_on actions")  # its errors name it, not the joint target
        fit_a, own_a = np.asarray(fit_actions), np.asarray(actions)
        if fit_a.shape[1:] != own_a.shape[1:]:
            raise IdentlamError(f"fit_probe_on: actions of shape {fit_a.shape}, the report's {own_a.shape}")
    else:
        fit_a, own_a = as_2d(fit_actions, "fit_probe_on actions"), inp.a
        if fit_a.shape[1] != own_a.shape[1]:
            raise IdentlamError(f"fit_probe_on: actions of width {fit_a.shape[1]}, the report's {own_a.shape[1]}")
    n_fit = check_same_length(**{"fit_probe_on actions": fit_a, "fit_probe_on latents": fit_z})
    fit_rows = np.arange(n_fit)
    if n_fit > max_probe_samples:
        fit_rows = np.sort(np.random.default_rng(inp.seed + 1).choice(n_fit, max_probe_samples, replace=False))
    own_rows = inp.subsample(max_probe_samples, inp.rng())
    target = np.concatenate([fit_a[fit_rows], own_a[own_rows]])
    latents = np.concatenate([fit_z[fit_rows], inp.z[own_rows]])
    n_train = len(fit_rows)
    probe = linear_probe(target, latents, discrete=inp.disc_a, seed=inp.seed, train_idx=np.arange(n_train),
                         test_idx=np.arange(n_train, len(target)))
    score.update({f"action_probe_{k}_fit_on_train": v for k, v in probe.score.items()})
    parts["action_probe_fit_on_train"] = {**probe.details, "model": probe.params["model"]}
    return part_result("action_probe_fit_on_train", inp, score, parts, na, max_probe_samples=max_probe_samples)


def label_agreement(actions, codes, *, states=None, regions=None, n_regions: int = 16, seed: int = 0) -> MetricResult:
    """Agreement of ``codes`` with ``actions`` (see the module docstring); per-region parts use
    ``regions`` or k-means regions of ``states``. Higher is better except for the gaps.

    >>> r = label_agreement([0, 1, 2, 3] * 5, [2, 3, 0, 1] * 5, regions=[0, 1] * 10)
    >>> r.score["hungarian_global"], r.score["ami"], r.better("hungarian_gap")
    (1.0, 1.0, False)
    """
    if states is None and regions is None:
        raise IdentlamError("states: give states or regions (per-region matching needs one)")
    return label_agreement_part(prepare(actions, states, codes=codes, regions=regions, n_regions=n_regions,
                                        seed=seed))


def action_probe(actions, latents, *, seed: int = 0, max_probe_samples: int = 20_000) -> MetricResult:
    """A linear probe from ``latents`` to ``actions`` on a held-out 20%; see the module docstring.

    >>> actions = [0, 1, 2] * 20
    >>> action_probe(actions, [[a, -a] for a in actions]).score["action_probe_accuracy"]
    1.0
    """
    max_probe_samples = check_positive_int(max_probe_samples, "max_probe_samples")
    return action_probe_part(prepare(actions, latents=latents, seed=seed), max_probe_samples)


# the decoders of decoder_curves (runner metric names: decoder.NAME@B)
DECODERS = ("global_lookup", "state_conditioned", "latent_probe", "bc_scratch")


def default_budgets(n_actions: int, pool: int) -> list[int]:
    """Powers of two from the first one >= the number of actions up to the labelled pool (at most
    8192): the same budgets for every dataset large enough, so that runs on datasets of different
    sizes, or with different held-out fractions, are tabulated side by side (``decoder.NAME@B``)."""
    first = 1 << max(1, int(np.ceil(np.log2(max(2, n_actions)))))
    budgets = [b for b in (first << i for i in range(14)) if b <= min(8192, pool)]
    return budgets or [max(1, min(first, pool))]


def decoder_curves(actions, states, codes, latents, budgets, discrete, seed, n_neighbors=5) -> dict:
    """Accuracy (or R²) of decoding true actions from n labelled transitions, per decoder.

    ``global_lookup``: code → majority (mean) action of the labelled transitions with that code;
    ``state_conditioned``: kNN on states among labelled transitions with the same code;
    ``bc_scratch``: kNN on states alone; ``latent_probe`` (without codes): linear probe on Z.
    One held-out test set (20%, at most 5000) and nested training prefixes of one permutation.
    """
    from sklearn.metrics import accuracy_score, r2_score
    from sklearn.neighbors import KNeighborsClassifier, KNeighborsRegressor

    n = len(actions)
    rng = np.random.default_rng(seed)
    perm = rng.permutation(n)
    n_test = min(5000, max(1, n // 5))
    test, pool = perm[:n_test], perm[n_test:]
    budgets = sorted({b for b in budgets if b <= pool.size})
    knn = KNeighborsClassifier if discrete else KNeighborsRegressor
    score = (lambda y, p: float(accuracy_score(y, p))) if discrete else (lambda y, p: float(r2_score(y, p)))

    def constant(y):
        if discrete:
            values, counts = np.unique(y, return_counts=True)
            return values[np.argmax(counts)]
        return y.mean(axis=0)

    def knn_predict(x_train, y_train, x_test):
        if discrete and np.unique(y_train).size == 1:
            return np.repeat(y_train[:1], len(x_test), axis=0)
        return knn(n_neighbors=min(n_neighbors, len(x_train))).fit(x_train, y_train).predict(x_test)

    curves: dict[str, list[float]] = {}
    for b in budgets:
        tr = pool[:b]
        a_tr, a_te = actions[tr], actions[test]
        fallback = constant(a_tr)
        if codes is not None:
            lookup = {c: constant(a_tr[codes[tr] == c]) for c in np.unique(codes[tr])}
            pred = np.array([lookup.get(c, fallback) for c in codes[test]])
            curves.setdefault("global_lookup", []).append(score(a_te, pred))
            pred = np.repeat(np.asarray(fallback)[None], n_test, axis=0).reshape(a_te.shape).astype(a_te.dtype)
            for c in np.unique(codes[test]):
                te_c, tr_c = codes[test] == c, tr[codes[tr] == c]
                if tr_c.size:
                    pred[te_c] = knn_predict(states[tr_c], actions[tr_c], states[test][te_c])
            curves.setdefault("state_conditioned", []).append(score(a_te, pred))
        elif latents is not None:
            scores, _ = fit_score("linear", latents[tr], a_tr, latents[test], a_te, discrete, seed)
            curves.setdefault("latent_probe", []).append(scores["accuracy" if discrete else "r2"])
        curves.setdefault("bc_scratch", []).append(score(a_te, knn_predict(states[tr], a_tr, states[test])))
    return {"budgets": budgets, "n_test": n_test, "metric": "accuracy" if discrete else "r2", **curves}


def desiderata(actions, states, latents=None, *, codes=None, next_states=None, exo=None, next_exo=None,
               exo_period: float | None = None, regions=None, probs=None, seed: int = 0, n_regions: int = 16,
               budgets=None, discrete_states: bool | None = None, max_knn_samples: int = 10_000,
               max_probe_samples: int = 20_000, fit_probe_on=None) -> MetricResult:
    """The whole identifiability report: every part above and in :mod:`._desiderata`.

    ``actions`` (N,) int (discrete) or (N, k) float (continuous); ``states``/``next_states``
    (N, S); ``latents`` (N, d) float or None (then ``codes`` is required); ``codes`` (N,)
    discrete; ``exo`` (N, E) distractors (E = 0 is treated as absent) and ``next_exo`` (N, E)
    their state after the transition (``exo_period``: they live on a torus of that period, see
    :func:`distractor_leakage`); ``regions`` (N,) labels;
    ``probs`` (N, M) the IDM's code probabilities; ``fit_probe_on`` (actions, latents) of other
    transitions (e.g. the training trajectories') adds the linear action probe fitted on them and
    scored on these (``action_probe_r2_fit_on_train`` or ``action_probe_accuracy_fit_on_train``,
    :func:`action_probe_fit_on_part`). ``score`` holds the headline numbers (each
    key's direction in ``greater_is_better``), ``details`` the parts.

    >>> actions, states = [0, 1, 2, 3] * 25, [[i % 5] for i in range(100)]
    >>> report = desiderata(actions, states, codes=[(a + 1) % 4 for a in actions])
    >>> report.score["d3_action_entropy_given_code"], report.score["hungarian_global"]
    (0.0, 1.0)
    >>> report.better("hungarian_global"), report.better("d2_code_state_info_given_action")
    (True, False)
    """
    if latents is None and codes is None:
        raise IdentlamError("latents: give continuous latents, codes, or both")
    max_probe_samples = check_positive_int(max_probe_samples, "max_probe_samples")
    inp = prepare(actions, states, latents, codes, next_states=next_states, exo=exo, next_exo=next_exo,
                  exo_period=exo_period, regions=regions, probs=probs,
                  n_regions=n_regions, seed=seed, discrete_states=discrete_states, max_knn_samples=max_knn_samples)
    _ = inp.r  # the regions' errors (and cost) come first, as every part below may use them
    score: dict[str, float] = {}
    parts: dict[str, object] = {}
    na: dict[str, str] = {}
    for part in (determinism_part(inp), state_invariance_part(inp), injectivity_part(inp),
                 label_agreement_part(inp), used_codes_part(inp), action_probe_part(inp, max_probe_samples),
                 distractor_leakage_part(inp),
                 *([] if fit_probe_on is None else [action_probe_fit_on_part(inp, actions, fit_probe_on,
                                                                             max_probe_samples)])):
        score.update(part.score)
        parts.update(part.details["parts"])
        na.update(part.details["not_applicable"])
    disc_a, a = inp.disc_a, inp.a
    if budgets is None:
        budgets = default_budgets(int(a.max() + 1) if disc_a else 4, inp.n - inp.n // 5 - 1)
    budgets = [check_positive_int(int(b), "budgets") for b in np.atleast_1d(budgets)]
    sub = inp.subsample(max_probe_samples, inp.rng())
    parts["decoder_curves"] = decoder_curves(
        a[sub], inp.s[sub], None if inp.c is None else inp.c[sub], None if inp.z is None else inp.z[sub], budgets,
        disc_a, seed)

    params = {"seed": seed, "n_regions": int(inp.r.max() + 1), "regions_given": regions is not None,
              "discrete_states": inp.disc_s, "discrete_actions": disc_a, "units": "nats",
              "estimator": "plugin (discrete parts)", "used_code_threshold": USED_CODE_THRESHOLD,
              "max_knn_samples": inp.max_knn_samples, "max_probe_samples": max_probe_samples}
    details = {"n_samples": inp.n, "parts": parts, "not_applicable": na}
    return MetricResult("desiderata", score, details, params, {k: DIRECTIONS[k] for k in score})
