"""Stage 5, ``evaluate``: ``RUN/metrics.json``, the only stage that reads privileged data.

``metrics.json`` holds:

- ``offline``: the :func:`identlam.metrics.desiderata` report of ``RUN/latents.npz`` against the
  true actions, states, next states and distractors of the **held-out trajectories** (the last
  ``ceil(eval.holdout_fraction × N)`` trajectories of the file, on which neither the LAM nor the
  latent policy trained; with ``holdout_fraction = 0`` it is computed on all transitions,
  in-sample). The label split is drawn among the training trajectories only, so no held-out
  action reached training. Its ``score`` is the
  headline dict, ``details`` the matrices. Absent for the ``bc`` baseline (no latents).
- ``online`` (when the file's ``generator`` attribute describes a simulable synthetic
  environment): the return of the final policy over ``eval.episodes`` episodes, the return of a
  uniformly random policy, and the return of a BC trained on all true actions of the same
  file (the normalizer; cached per dataset and seed), see :mod:`identlam.train.evaluate_online`.
- ``run``: method, kind, seed, label budget, data path and fingerprint.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np

from identlam.config import to_dict
from identlam.data.privileged import privileged
from identlam.io import atomic_write_json
from identlam.train.batches import split_trajectories
from identlam.train.device import resolve_device


def run_evaluate(run, episodes: int | None = None) -> dict[str, Any]:
    """Write ``RUN/metrics.json`` and return its contents; a no-op when it exists, unless
    ``episodes`` asks for a different number of online episodes than it holds."""
    if run.finished("evaluate"):
        report = json.loads(run.output("evaluate").read_text())
        done = (report.get("online") or {}).get("episodes")
        if episodes is None or done is None or done == int(episodes):
            return report  # a different --episodes re-evaluates; otherwise the stage is finished
    cfg = run.cfg
    ds = run.open_dataset()
    _, held_out = split_trajectories(ds.n_trajectories, cfg.eval.holdout_fraction)
    report: dict[str, Any] = {
        "run": {"method": cfg.method, "kind": cfg.kind, "seed": cfg.seed, "labels": cfg.labels,
                "data": str(run.data_path), "data_sha256": run.data_fingerprint["sha256"],
                "config": to_dict(cfg)},
        "offline": None,
        "online": None,
    }
    if cfg.kind != "bc":
        report["offline"] = offline_report(run, ds, held_out if len(held_out) else np.arange(ds.n_trajectories))
    from identlam.train.evaluate_online import online_report, simulable

    if not simulable(ds):
        report["online_skipped"] = "the dataset's 'generator' attribute does not describe a synthetic environment"
    elif cfg.kind != "bc" and not run.finished("decode"):
        report["online_skipped"] = "no decoder (decode needs a label budget, --labels N_TRAJ)"
    else:
        n = cfg.eval.episodes if episodes is None else int(episodes)
        report["online"] = online_report(run, ds, resolve_device(cfg.device), n)
    atomic_write_json(run.output("evaluate"), report)
    return report


def offline_report(run, ds, trajectories: np.ndarray) -> dict[str, Any]:
    """The desiderata report on the transitions of ``trajectories`` (rows of latents.npz)."""
    from identlam.metrics.desiderata import desiderata
    from identlam.train.stage_relabel import load_latents

    latents = load_latents(run)
    table = privileged(ds).transition_table(trajectories)
    chosen = np.isin(latents["traj"], trajectories)
    pick = {k: (latents[k][chosen] if k in latents else None) for k in ("z", "codes", "probs")}
    result = desiderata(pick["z"], table.actions, table.states, codes=pick["codes"], next_states=table.next_states,
                        exo=table.exo, probs=pick["probs"], seed=run.cfg.seed)
    out = result.to_dict()
    out["trajectories"] = [int(i) for i in trajectories]
    out["transitions"] = int(chosen.sum())
    return out
