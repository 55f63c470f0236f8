"""Stage 5, ``evaluate``: ``RUN/metrics.json``, the only stage that reads privileged data.

``metrics.json`` holds:

- ``offline``: the :func:`identlam.metrics.desiderata` report of ``RUN/latents.npz`` against the
  true actions, states, next states and distractors of the **held-out trajectories** (the last
  ``ceil(eval.holdout_fraction × N)`` trajectories of the file, on which neither the LAM nor the
  latent policy trained; with ``holdout_fraction = 0`` it is computed on all transitions,
  in-sample). Its action probe is fitted twice: on 80% of the held-out transitions
  (``action_probe_r2``) and on the training trajectories' (``action_probe_r2_fit_on_train``,
  scored on every held-out transition), a probe of the same latent fitted on more data. The
  label split is drawn among the training trajectories only, so no held-out action reached
  training. Its ``score`` is the headline dict, ``details`` the matrices. State regions
  (per-region matching, D2 on continuous states) follow ``--regions``
  (:mod:`identlam.metrics._regions`, default ``kmeans:16``), recorded as ``params["regions"]``. Absent for the ``bc`` baseline (no latents).
- ``online`` (when the file's ``env_id`` is a registered environment and its ``generator``
  attribute holds the parameters that rebuild it): the return of the final policy over ``eval.episodes`` episodes, the return of a
  uniformly random policy, and the return of a BC trained on all true actions of the same
  file (the normalizer; cached per dataset and seed), see :mod:`identlam.train.evaluate_online`.
- ``run``: method, kind, seed, label budget, data path, its sha256 and its fingerprint
  (:mod:`identlam.fingerprint`).

``RUN/report.md`` (:mod:`identlam.train.report`) shows the same results as tables for people.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from identlam.config import to_dict
from identlam.data.privileged import privileged
from identlam.errors import ConfigError
from identlam.io import atomic_write_json, atomic_write_text
from identlam.train.batches import split_trajectories
from identlam.metrics import DEFAULT_REGIONS, RegionSpec, check_region_count, check_state_dim, parse_regions
from identlam.train.progress import say
from identlam.train.report import REPORT_NAME, format_report
from identlam.train.rundir import RunDir
from identlam.train.stage import StageContext, run_stage


def check_regions_fit(spec: RegionSpec, cfg, ds):
    """Refuse, before any work, a region spec that does not fit the held-out states the report
    scores; returns the train/held-out trajectory split."""
    split = split_trajectories(ds.n_trajectories, cfg.eval.holdout_fraction)
    check_state_dim(spec, ds.state_dim)
    check_region_count(spec, int((ds.lengths[split[1]] - 1).sum()))
    return split


def check_regions_fit_data(regions: str, cfg, data_path) -> None:
    """:func:`check_regions_fit` for a region spec as written and a dataset file, run before training
    (``identlam pipeline`` and the runner's runs that evaluate)."""
    from identlam.data import open_dataset

    with open_dataset(data_path, in_memory=False) as ds:
        check_regions_fit(parse_regions(regions), cfg, ds)


def run_evaluate(run: RunDir | str | Path, episodes: int | None = None, regions: str | None = None,
                 env_overrides: dict[str, Any] | None = None, *, threads: int | None = None,
                 recompute_offline: bool = False) -> dict[str, Any]:
    """Write ``RUN/metrics.json`` and return its contents.

    A no-op when it exists, unless ``episodes`` asks for a different number of online episodes
    or ``env_overrides`` for different environment parameters (the online part is redone) or
    ``regions`` for different state regions or ``recompute_offline`` (the offline part is redone,
    e.g. after an estimator of :mod:`identlam.metrics` changed; see also
    :mod:`identlam.metrics._regions`); the other part is kept. ``None`` keeps what the report
    holds, or takes the defaults (``eval.episodes``, no overrides, ``kmeans:16``) for a new report.
    """
    spec = parse_regions(regions) if regions is not None else None  # a bad spec fails before any work
    if episodes is not None and int(episodes) < 1:
        raise ConfigError(f"--episodes: must be >= 1, got {episodes}")
    return run_stage(run, "evaluate", lambda st: _evaluate(st, episodes, spec, env_overrides, recompute_offline),
                     threads=threads, skip_finished=False)


def _evaluate(st: StageContext, episodes: int | None, spec: RegionSpec | None,
              env_overrides: dict[str, Any] | None, recompute_offline: bool = False) -> dict[str, Any]:
    run = st.run
    previous = _previous_report(run)
    redo_offline = redo_online = True
    if previous is not None:
        online = previous.get("online") or {}
        done = online.get("episodes")
        redo_online = False
        if done is not None:  # what the report holds stays unless asked otherwise
            episodes = done if episodes is None else int(episodes)
            env_overrides = online.get("env_overrides", {}) if env_overrides is None else env_overrides
            redo_online = episodes != done or env_overrides != online.get("env_overrides", {})
        redo_offline = previous.get("offline") is not None and (
            recompute_offline or (spec is not None and regions_of(previous) != str(spec)))
        if not (redo_online or redo_offline):
            if not (run.path / REPORT_NAME).is_file():
                atomic_write_text(run.path / REPORT_NAME, format_report(previous))
            say(f"evaluate: done ({run.output('evaluate')}), skipped")
            return previous
    cfg = run.cfg
    ds = st.ds
    if env_overrides:  # an unknown environment parameter fails here, before the offline report
        from identlam.train.evaluate_online import make_env, simulable

        if simulable(ds):
            make_env(ds, env_overrides).close()
    if spec is None:
        spec = parse_regions(regions_of(previous) if previous is not None else DEFAULT_REGIONS)
    _, held_out = check_regions_fit(spec, cfg, ds)
    report: dict[str, Any] = {
        "run": {"method": cfg.method, "kind": cfg.kind, "seed": cfg.seed, "labels": cfg.labels,
                "data": str(run.data_path), "data_sha256": run.data_fingerprint["sha256"],
                "data_fingerprint": st.data_fingerprint, "config": to_dict(cfg)},
        "offline": None,
        "online": None,
    }
    if not redo_offline:
        report["offline"] = previous["offline"]
    elif cfg.kind != "bc":
        trajectories = held_out if len(held_out) else np.arange(ds.n_trajectories)
        say(f"evaluate: offline report on {len(trajectories)} trajectories (regions {spec})")
        report["offline"] = offline_report(run, ds, trajectories, spec)
    if redo_offline or previous is None or "label_free" not in previous:
        report["label_free"] = label_free_part(run, ds.n_trajectories)
    else:
        report["label_free"] = previous["label_free"]
    if not redo_online:
        report["online"] = previous.get("online")
        if "online_skipped" in previous:
            report["online_skipped"] = previous["online_skipped"]
    else:
        report.update(_online_part(st, episodes, env_overrides))
    atomic_write_json(run.output("evaluate"), report)
    atomic_write_text(run.path / REPORT_NAME, format_report(report))
    return report


def label_free_part(run, n_trajectories: int) -> dict[str, Any] | None:
    """Held-out label-free quality (:func:`identlam.train.quality.held_out_quality`) where it is
    defined: a trained categorical LAM with an observation target and held-out trajectories; else None."""
    from identlam.train.quality import held_out_quality, quality_applies

    if not run.finished("train"):  # latents written by other means (e.g. `identlam metrics` inputs) have no model
        return None
    return held_out_quality(run) if quality_applies(run, n_trajectories) else None


def _previous_report(run) -> dict[str, Any] | None:
    if not run.finished("evaluate"):
        return None
    try:
        previous = json.loads(run.output("evaluate").read_text(encoding="utf-8"))
    except ValueError:  # torn or foreign: redo it
        return None
    return previous if isinstance(previous, dict) else None


def regions_of(report: dict[str, Any]) -> str:
    """The regions spec a report's offline part used (reports written before specs existed: the default)."""
    return ((report.get("offline") or {}).get("params") or {}).get("regions", DEFAULT_REGIONS)


def _online_part(st: StageContext, episodes: int | None, env_overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    from identlam.train.evaluate_online import online_report, simulable

    run, ds, cfg = st.run, st.ds, st.cfg
    if not simulable(ds):
        return {"online_skipped": f"the dataset's environment {ds.env_id!r} is not registered here "
                                  "(identlam collect --list), or its 'generator' attribute is missing"}
    if cfg.kind != "bc" and not run.finished("decode"):
        return {"online_skipped": "no decoder (decode needs a label budget, --labels N_TRAJ)"}
    n = cfg.eval.episodes if episodes is None else int(episodes)
    from identlam.train.artifacts import action_out_dim, build_policy

    st.use_threads([build_policy(cfg, ds, action_out_dim(ds), 0)], cfg.bc.batch_size)  # the normalizer's BC trains here
    say(f"evaluate: online, {n} episodes of at most {cfg.eval.max_steps} steps")
    return {"online": online_report(run, ds, st.device, n, env_overrides)}


def offline_report(run, ds, trajectories: np.ndarray, regions: RegionSpec | str = DEFAULT_REGIONS) -> dict[str, Any]:
    """The desiderata report on the transitions of ``trajectories`` (rows of latents.npz), with
    state regions from ``regions`` (a spec string or :class:`RegionSpec`), recorded in ``params``."""
    from identlam.metrics import desiderata
    from identlam.metrics._files import distractor_arguments
    from identlam.train.stage_relabel import load_latents

    spec = regions if isinstance(regions, RegionSpec) else parse_regions(regions, ds.state_dim)
    latents = load_latents(run)
    view = privileged(ds)
    table = view.transition_table(trajectories)
    chosen = np.isin(latents["traj"], trajectories)
    pick = {k: (latents[k][chosen] if k in latents else None) for k in ("z", "codes", "probs")}
    # the probe is only scored here: fitting it on the training trajectories' actions trains nothing
    training = np.setdiff1d(np.arange(ds.n_trajectories), trajectories)
    fit_probe_on = None
    if len(training) and pick["z"] is not None:
        fit_probe_on = (view.transition_table(training).actions, latents["z"][np.isin(latents["traj"], training)])
    result = desiderata(table.actions, table.states, pick["z"], codes=pick["codes"], next_states=table.next_states,
                        probs=pick["probs"], seed=run.cfg.seed, fit_probe_on=fit_probe_on,
                        **distractor_arguments(ds.env_id, table), **spec.desiderata_arguments(table.states))
    out = result.to_dict()
    if not len(training):
        out["details"]["not_applicable"]["action_probe_fit_on_train"] = \
            "no training trajectories beside the scored ones (eval.holdout_fraction = 0)"
    out["params"]["regions"] = str(spec)
    out["trajectories"] = [int(i) for i in trajectories]
    out["transitions"] = int(chosen.sum())
    return out
