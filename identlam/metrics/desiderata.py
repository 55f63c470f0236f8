"""The identifiability report of one representation: desiderata D1–D3 and their symptoms.

Notation (research/theory.md §3): S state, S' next state, A true action, Â discrete latent code,
Z continuous latent, R state region. All entropies and MI are plug-in estimates in nats unless a
part's ``estimator`` says otherwise. With D1–D3 the code is an injective relabelling of the
action: ``H(Â|S,S') = I(Â;S|A) = H(A|Â) = 0``. For discrete codes and discrete S the chain rule
``H(Â|A) = H(Â|S,A) + I(Â;S|A)`` holds exactly and is reported (``details["chain_rule"]``).

States are *discrete* when integer-typed, or (``discrete_states=None``) float with whole-number
values and at most N/5 distinct rows (a gridworld); I(Â;S|A) and H(Â|S,S') are then exact
plug-in values. Continuous states are binned into regions (k-means on standardised states,
``n_regions`` clusters, seeded) unless ``regions`` is given: D2 becomes I(Â;R|A) (a lower bound
of I(Â;S|A) by data processing), and D1 on hard codes is not applicable (all (s, s') pairs are
distinct, so the plug-in H(Â|S,S') is 0 by construction); ``H(Â|R,A)`` is reported instead.

Continuous latents without codes: D2 uses I(Z;S|A) per action with KSG (or Ross for discrete
S), D3 uses ``H(A) - I(Z;A)`` (Ross); label-agreement parts are not applicable. Continuous
actions: D3 and the matching accuracy are replaced by R² parts (code → mean action lookup,
globally and per region, and their gap) and, from Z, the linear-probe R² and the Pearson MCC
between Z and the action dimensions (``identlam.metrics.mcc``); D2 uses the Ross chain-rule
estimator ``I(Â;(S,A)) - I(Â;A)``. Parts that do not apply are listed with the reason in
``details["not_applicable"]``; no part is ever silently NaN.

kNN estimators run on at most ``max_knn_samples`` rows and probes on at most
``max_probe_samples`` rows (seeded subsamples, reported in ``params``) so the report scales
linearly in N.
"""

from __future__ import annotations

import numpy as np

from identlam.errors import IdentlamError
from identlam.metrics.clustering import ami, homogeneity_completeness_v, hungarian_accuracy, nmi
from identlam.metrics.information import conditional_mutual_info, is_discrete, joint_labels, mutual_info, plugin_entropy
from identlam.metrics.mcc import mcc
from identlam.metrics.probes import fit_score, linear_probe
from identlam.metrics.result import MetricResult
from identlam.metrics.validation import as_2d, as_labels, check_positive_int, check_same_length

USED_CODE_THRESHOLD = 0.01  # a code counts as used when more than 1% of transitions get it


def _h_given(target: np.ndarray, *given: np.ndarray) -> float:
    """Plug-in H(target | given...) = H(target, given) - H(given)."""
    g = joint_labels(*given) if len(given) > 1 else given[0]
    return plugin_entropy(joint_labels(target, g)) - plugin_entropy(g)


def _states_are_discrete(states: np.ndarray, flag: bool | None) -> bool:
    if flag is not None or is_discrete(states):
        return bool(flag) if flag is not None else True
    whole = np.all(states == np.round(states))
    return bool(whole) and np.unique(states, axis=0).shape[0] <= states.shape[0] / 5


def state_regions(states: np.ndarray, n_regions: int, seed: int) -> np.ndarray:
    """k-means bins of standardised states (at most one bin per distinct state), seeded."""
    from sklearn.cluster import KMeans

    std = states.std(axis=0)
    x = (states - states.mean(axis=0)) / np.where(std > 0, std, 1.0)
    k = min(n_regions, np.unique(x, axis=0).shape[0])
    if k == 1:
        return np.zeros(len(x), dtype=np.int64)
    return KMeans(n_clusters=k, n_init=1, random_state=seed).fit_predict(x).astype(np.int64)


def _subsample(n: int, cap: int, rng: np.random.Generator) -> np.ndarray:
    return np.sort(rng.choice(n, cap, replace=False)) if n > cap else np.arange(n)


def _check_probs(probs, n: int) -> np.ndarray:
    p = as_2d(probs, "probs")
    check_same_length(probs=p, actions=np.empty(n))
    if np.any(p < 0) or not np.allclose(p.sum(axis=1), 1.0, atol=1e-4):
        raise IdentlamError("probs: every row must be a probability vector (non-negative, summing to 1)")
    return p


def _knn_part(key: str, score: dict, parts: dict, na: dict, estimate) -> bool:
    """Run one kNN estimate into ``score[key]``; too few samples for it makes the part n/a."""
    try:
        result = estimate()
    except IdentlamError as err:  # inputs are validated already: only sample-size limits remain
        na[key] = f"kNN estimator not applicable: {err}"
        return False
    score[key] = float(result)
    parts[f"{key}_estimator"] = result.params["estimator"]
    return True


def _regions_r2(codes, actions_f, regions, train, test) -> dict:
    """R² of predicting continuous actions by the training mean per code (and per region+code)."""
    from sklearn.metrics import r2_score

    def lookup(keys):
        pred = np.empty((test.size, actions_f.shape[1]))
        fallback = actions_f[train].mean(axis=0)
        k_train, k_test = keys[train], keys[test]
        means = {}
        for key in np.unique(k_train):
            means[key] = actions_f[train][k_train == key].mean(axis=0)
        for i, key in enumerate(k_test):
            pred[i] = means.get(key, fallback)
        return float(r2_score(actions_f[test], pred))

    global_r2 = lookup(codes)
    region_r2 = lookup(joint_labels(codes, regions))
    return {"code_lookup_r2": global_r2, "code_lookup_r2_per_region": region_r2,
            "code_lookup_r2_gap": region_r2 - global_r2}


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


def desiderata(latents, actions, states, *, codes=None, next_states=None, exo=None, regions=None, probs=None,
               seed: int = 0, n_regions: int = 16, budgets=None, discrete_states: bool | None = None,
               max_knn_samples: int = 10_000, max_probe_samples: int = 20_000) -> MetricResult:
    """The whole identifiability report; see the module docstring for every part.

    ``latents`` (N, d) float or None (then ``codes`` is required); ``actions`` (N,) int
    (discrete) or (N, k) float (continuous); ``states``/``next_states`` (N, S); ``codes`` (N,)
    discrete; ``exo`` (N, E) distractors (E = 0 is treated as absent); ``regions`` (N,) labels;
    ``probs`` (N, M) the IDM's code probabilities. ``score`` holds the headline numbers,
    ``details`` the parts.
    """
    if latents is None and codes is None:
        raise IdentlamError("latents: give continuous latents, codes, or both")
    n_regions = check_positive_int(n_regions, "n_regions")
    rng = np.random.default_rng(seed)
    disc_a = is_discrete(actions)
    a = as_labels(actions, "actions") if disc_a else as_2d(actions, "actions")
    s = as_2d(states, "states")
    z = as_2d(latents, "latents") if latents is not None else None
    c = as_labels(codes, "codes") if codes is not None else None
    s1 = as_2d(next_states, "next_states") if next_states is not None else None
    if exo is not None and np.ndim(exo) == 2 and np.shape(exo)[1] == 0:
        exo = None
    e = as_2d(exo, "exo") if exo is not None else None
    n = check_same_length(actions=a, states=s, latents=z, codes=c, next_states=s1, exo=e,
                          regions=None if regions is None else np.asarray(regions))
    q = _check_probs(probs, n) if probs is not None else None
    disc_s = _states_are_discrete(s, discrete_states)
    r = as_labels(regions, "regions") if regions is not None else state_regions(s, n_regions, seed)
    s_lab = as_labels(s, "states") if disc_s else r
    score: dict[str, float] = {}
    parts: dict[str, object] = {}
    na: dict[str, str] = {}

    # D1: determinism ---------------------------------------------------------------------
    if q is not None:
        plogp = np.where(q > 0, q * np.log(np.where(q > 0, q, 1.0)), 0.0)
        score["d1_idm_conditional_entropy"] = float(-plogp.sum(axis=1).mean())
    else:
        na["d1_idm_conditional_entropy"] = "no code probabilities (probs) given"
    if c is not None and disc_s:
        if s1 is not None:
            score["d1_code_entropy_given_transition"] = _h_given(c, s_lab, as_labels(s1, "next_states"))
            parts["d1_conditioning"] = "(S, S')"
        elif disc_a:
            score["d1_code_entropy_given_transition"] = _h_given(c, s_lab, a)
            parts["d1_conditioning"] = "(S, A): equals (S, S') when actions are distinguishable (A2)"
        else:
            na["d1_code_entropy_given_transition"] = "no next_states and continuous actions"
    elif c is not None:
        na["d1_code_entropy_given_transition"] = (
            "continuous states: every (s, s') is distinct, plug-in H(Â|S,S') is 0 by construction")
        if disc_a:
            score["code_entropy_given_region_action"] = _h_given(c, r, a)
    else:
        na["d1_code_entropy_given_transition"] = "no discrete codes"

    # D2, D3 and label agreement ------------------------------------------------------------
    state_name = "S" if disc_s else "R (state regions)"
    parts["d2_state_variable"] = state_name
    if c is not None and disc_a:
        h_c_a = _h_given(c, a)
        h_c_sa = _h_given(c, s_lab, a)
        cmi = conditional_mutual_info(c, s_lab, a)
        cmi_mm = conditional_mutual_info(c, s_lab, a, estimator="miller_madow")
        score.update(
            d2_code_state_info_given_action=float(cmi),
            d3_action_entropy_given_code=_h_given(a, c),
            code_entropy_given_action=h_c_a,
        )
        parts["d2_miller_madow"] = float(cmi_mm)
        parts["chain_rule"] = {"H(Â|A)": h_c_a, f"H(Â|{state_name},A)": h_c_sa, f"I(Â;{state_name}|A)": float(cmi),
                               "residual": h_c_a - h_c_sa - float(cmi)}
        hung = hungarian_accuracy(a, c, regions=r)
        score.update(hungarian_global=hung.score["global"], hungarian_per_region=hung.score["per_region"],
                     hungarian_gap=hung.score["gap"])
        parts["hungarian"] = hung.details
        score["ami"] = float(ami(a, c))
        score["nmi"] = float(nmi(a, c))
        score.update(homogeneity_completeness_v(a, c).score)
    elif c is not None:
        train, test = np.split(rng.permutation(n), [n - max(1, n // 5)])
        score.update(_regions_r2(c, a, r, train, test))
        sub = _subsample(n, max_knn_samples, rng)
        _knn_part("d2_code_state_info_given_action", score, parts, na,
                  lambda: conditional_mutual_info(c[sub], s[sub], a[sub], discrete_y=False, seed=seed))
        for key in ("d3_action_entropy_given_code", "hungarian_global", "ami", "nmi", "homogeneity", "completeness"):
            na[key] = "continuous actions: see code_lookup_r2 and the action probe R²"
    else:
        for key in ("d3_action_entropy_given_code", "hungarian_global", "ami", "nmi", "homogeneity", "completeness",
                    "used_codes"):
            na[key] = "no discrete codes (continuous latents only)"
    if c is None and z is not None and disc_a:
        sub = _subsample(n, max_knn_samples, rng)
        s_sub = s_lab[sub] if disc_s else s[sub]
        _knn_part("d2_latent_state_info_given_action", score, parts, na,
                  lambda: conditional_mutual_info(z[sub], s_sub, a[sub], discrete_y=disc_s, seed=seed))
        if _knn_part("d3_mutual_info_latent_action", score, parts, na, lambda: mutual_info(z[sub], a[sub], seed=seed)):
            i_za = score.pop("d3_mutual_info_latent_action")
            score["d3_action_entropy_given_latent"] = max(0.0, plugin_entropy(a[sub]) - i_za)
            parts["d3_action_entropy_given_latent"] = "H(A) plug-in minus Ross I(Z;A), clipped at 0"
    if c is not None:
        freq = np.bincount(c) / n
        score["used_codes"] = float(np.sum(freq > USED_CODE_THRESHOLD))
        parts["code_frequencies"] = freq
    score["n_actions" if disc_a else "action_dim"] = float(a.max() + 1 if disc_a else a.shape[1])

    # Action probe and leakage ---------------------------------------------------------------
    if z is not None:
        sub = _subsample(n, max_probe_samples, rng)
        probe = linear_probe(z[sub], a[sub], discrete=disc_a, seed=seed)
        score.update({f"action_probe_{k}": v for k, v in probe.score.items()})
        if not disc_a and np.ptp(a, axis=0).max() > 0:
            score["action_mcc_pearson"] = float(mcc(z[sub], a[sub], method="pearson"))
        elif not disc_a:
            na["action_mcc_pearson"] = "every action dimension is constant"
    else:
        na["action_probe"] = "no continuous latents"
    if e is not None:
        sub = _subsample(n, max_knn_samples, rng)
        if z is not None:
            _knn_part("leakage_latent_exo_given_action", score, parts, na,
                      lambda: conditional_mutual_info(z[sub], e[sub], a[sub], discrete_z=disc_a, seed=seed))
        if c is not None:
            _knn_part("leakage_code_exo_given_action", score, parts, na,
                      lambda: conditional_mutual_info(c[sub], e[sub], a[sub], discrete_x=True, discrete_y=False,
                                                      discrete_z=disc_a, seed=seed))
    else:
        na["leakage_latent_exo_given_action"] = "no distractor variables (exo) given"

    # Decoder sample complexity -------------------------------------------------------------
    if budgets is None:
        k = int(a.max() + 1) if disc_a else 4
        budgets = np.unique(np.geomspace(max(2, k), max(2 * k, min(10_000, n - n // 5 - 1)), 8).astype(int))
    budgets = [check_positive_int(int(b), "budgets") for b in np.atleast_1d(budgets)]
    sub = _subsample(n, max_probe_samples, rng)
    parts["decoder_curves"] = decoder_curves(
        a[sub], s[sub], None if c is None else c[sub], None if z is None else z[sub], budgets, disc_a, seed)

    params = {"seed": seed, "n_regions": int(r.max() + 1), "regions_given": regions is not None,
              "discrete_states": disc_s,
              "discrete_actions": disc_a, "units": "nats", "estimator": "plugin (discrete parts)",
              "used_code_threshold": USED_CODE_THRESHOLD, "max_knn_samples": max_knn_samples,
              "max_probe_samples": max_probe_samples}
    details = {"n_samples": n, "parts": parts, "not_applicable": na}
    return MetricResult("desiderata", score, details, params)
