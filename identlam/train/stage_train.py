"""Stage 1, ``train``: the latent action model (or the stage-1 model of the ``bc``/``idm`` baselines).

The LAM sees observation windows of the training trajectories (``identlam.train.batches``) and,
only when its config has a supervision head (``model.label_coef > 0``), a batch of the label
split per step. It never sees the privileged view of the data.

Restarts (``train.restarts = R > 1``) are an identification trick: the entropy-regularized
objective's global optimum is the true labelling, but SGD from one initialization often stops
in a split or merged labelling. We train R initializations for ``train.restart_steps`` each,
score each by the *label-free* training objective (``logs["objective"]`` of the model's loss,
without a label batch) on one fixed set of unlabeled windows, and continue the lowest. The
choice and the scores are written to ``RUN/restarts.json``. With R = 1 the run is exactly
candidate 0 continued, so R is an ablation switch that changes nothing else.

With ``train.merge_tolerance > 0`` the trained categorical LAM then goes through the label-free
merge test (:mod:`identlam.train.merge`, ``RUN/merges.json``) before it is saved.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import torch

from identlam.errors import ConfigError
from identlam.io import atomic_write_json
from identlam.train.artifacts import build_lam
from identlam.train.autoscale import observation_statistics, record_derived, resolve_entropy_units
from identlam.train.baselines import train_supervised
from identlam.train.batches import label_split, split_trajectories, to_batch
from identlam.train.curriculum import ObservationCurriculum
from identlam.train.device import autocast, derive_seed, seeded_torch
from identlam.train.loop import fit
from identlam.train.merge import merge_codes
from identlam.train.rundir import RunDir
from identlam.train.stage import StageContext, run_stage, stage_schedule

PROBE_WINDOWS = 1024  # unlabeled windows on which restart candidates are compared


def run_train(run: RunDir | str | Path, *, threads: int | None = None) -> None:
    """Train stage 1 of ``run`` (a :class:`~identlam.train.rundir.RunDir` or its path); no-op when finished."""
    run_stage(run, "train", _train, threads=threads)


def _train(st: StageContext) -> None:
    kind = st.cfg.kind
    if kind == "lam":
        _train_lam(st)
    elif kind in ("bc", "idm"):
        train_supervised(st)
    else:
        raise ConfigError(f"config key 'kind': expected lam, bc or idm, got {kind!r}")


def _train_lam(st: StageContext) -> None:
    run, ds, device = st.run, st.ds, st.device
    cfg = run.cfg
    schedule = stage_schedule(cfg, "train")
    restarts, restart_steps = cfg.train.restarts, cfg.train.restart_steps
    if restarts < 1:
        raise ConfigError(f"config key 'train.restarts': must be >= 1, got {restarts}")
    if restarts > 1 and not 1 <= restart_steps < schedule.steps:
        raise ConfigError(f"config key 'train.restart_steps': must lie in [1, train.steps), got {restart_steps}")
    train_traj, _ = split_trajectories(ds.n_trajectories, cfg.eval.holdout_fraction)
    m = cfg.model
    windows = ds.observations(frame_stack=m.frame_stack, future_k=m.future_k, past_frame=m.past_frame,
                              trajectories=train_traj)
    cfg, derived = resolve_entropy_units(cfg, windows, derive_seed(cfg.seed, "autoscale"))
    if derived is not None:
        record_derived(run, derived)
    curriculum = ObservationCurriculum(windows, cfg.train.curriculum, cfg.train.curriculum_radius,
                                       derive_seed(cfg.seed, "curriculum"), cfg.train.curriculum_anchor,
                                       cfg.train.curriculum_hold) \
        if cfg.train.curriculum != 0 else None
    labels = None
    if m.label_coef > 0:
        if cfg.labels < 1:
            raise ConfigError("config key 'labels': model.label_coef > 0 needs a label budget (--labels N_TRAJ)")
        labels = label_split(ds, cfg)

    def make_step(lam, rng: np.random.Generator):
        def step_fn(step: int):
            weights = curriculum.weights(step, schedule.steps) if curriculum is not None else None
            batch = to_batch(windows.sample(cfg.train.batch_size, rng, weights), device)
            if labels is not None:
                lw = labels.sample(m.label_batch_size, rng, frame_stack=m.frame_stack, future_k=m.future_k,
                                   past_frame=m.past_frame)
                batch["labels"] = to_batch(lw, device)
            out = lam.loss(batch, step, schedule.steps)
            return out.loss, out.logs

        return step_fn

    obs_stats = observation_statistics(windows, derive_seed(cfg.seed, "standardize")) \
        if m.standardize_obs and len(ds.obs_shape) == 1 else None

    def candidate(r: int):
        lam = build_lam(cfg, ds, derive_seed(cfg.seed, "init", r)).to(device)
        if obs_stats is not None:
            lam.set_obs_statistics(*obs_stats)
        return lam, np.random.default_rng(derive_seed(cfg.seed, "batches", r))

    final_ckpt = run.checkpoint("train")
    st.use_threads([candidate(0)[0]], cfg.train.batch_size)
    chosen = _select_restart(run, cfg, device, windows, schedule, candidate, make_step) if restarts > 1 else 0
    lam, rng = candidate(chosen)
    with seeded_torch(derive_seed(cfg.seed, "torch", chosen), device):
        fit({"lam": lam}, make_step(lam, rng), schedule=schedule, rng=rng, device=device, stage="train",
            checkpoint_path=final_ckpt, log=run.log)
    meta = {"latent_dim_out": lam.latent_dim_out, "n_codes_out": lam.n_codes_out, "restart": chosen,
            "train_trajectories": len(train_traj)}
    if cfg.train.merge_tolerance > 0 and m.bottleneck == "categorical":
        meta["merges"] = merge_codes(run, lam, windows, schedule, make_step, device)["code_map"]
    st.save("lam", {"lam": lam}, meta)


def _select_restart(run, cfg, device, windows, schedule, candidate, make_step) -> int:
    """Train every candidate for ``restart_steps``, keep the lowest label-free objective."""
    record_path = run.path / "restarts.json"
    if record_path.is_file():
        return int(json.loads(record_path.read_text())["chosen"])
    probe = windows.sample(PROBE_WINDOWS, np.random.default_rng(derive_seed(cfg.seed, "restart-probe")))
    scores = []
    for r in range(cfg.train.restarts):
        lam, rng = candidate(r)
        with seeded_torch(derive_seed(cfg.seed, "torch", r), device):
            fit({"lam": lam}, make_step(lam, rng), schedule=schedule, rng=rng, device=device,
                stage=f"train/restart{r}", checkpoint_path=run.checkpoint(f"restart{r}"), log=run.log,
                stop_at=cfg.train.restart_steps)
        scores.append(label_free_objective(lam, probe, cfg.train.restart_steps, schedule.steps,
                                           cfg.train.batch_size, device))
    chosen = int(np.argmin(scores))
    shutil.copyfile(run.checkpoint(f"restart{chosen}"), run.checkpoint("train"))
    atomic_write_json(record_path, {"chosen": chosen, "objective": scores, "restart_steps": cfg.train.restart_steps,
                                    "probe_windows": len(probe)})
    for r in range(cfg.train.restarts):
        run.checkpoint(f"restart{r}").unlink(missing_ok=True)
    return chosen


@torch.no_grad()
def label_free_objective(lam, windows, step: int, total_steps: int, batch_size: int, device) -> float:
    """Mean ``logs["objective"]`` of ``lam.loss`` over fixed windows, in eval mode, no label batch.

    Eval mode leaves the model untouched (no EMA step, no usage statistics, no augmentation).
    """
    lam.eval()
    total, n = 0.0, len(windows)
    for s in range(0, n, batch_size):
        idx = np.arange(s, min(n, s + batch_size))
        chunk = type(windows)(**{k: (v[idx] if isinstance(v, np.ndarray) else v) for k, v in vars(windows).items()})
        with autocast(device):
            out = lam.loss(to_batch(chunk, device), step, total_steps)
        total += float(out.logs.get("objective", float(out.loss))) * len(idx)
    lam.train()
    return total / n
