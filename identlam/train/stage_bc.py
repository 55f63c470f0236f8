"""Stage 3, ``bc``: latent behaviour cloning, observation -> latent action (LAPO, LAOM).

Targets come from ``RUN/latents.npz`` (k = 1). With a discrete bottleneck whose code set is
small enough the policy is a classifier over codes (cross-entropy); otherwise it regresses the
continuous latent ``z`` (MSE), as LAOM does and as LAPO does with its pre-quantization latent
(``bc.policy_target``: auto | codes | latent); a regressed ``z`` is standardized per dimension first.
For the ``idm`` baseline the targets are the IDM's
predicted actions, so this stage is BC on them. It trains on the training trajectories only
(``identlam.train.batches``); no action reaches it.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from identlam.errors import ConfigError, IdentlamError
from identlam.models.augment import Augmenter
from identlam.train.artifacts import build_policy
from identlam.train.batches import accuracy_or_mse, action_loss, split_trajectories, to_batch, transition_rows
from identlam.train.device import derive_seed, seeded_torch
from identlam.train.loop import fit
from identlam.train.rundir import RunDir
from identlam.train.stage import StageContext, run_stage, stage_schedule
from identlam.train.stage_relabel import load_latents

MAX_CLASSIFIER_CODES = 4096  # above this (e.g. VQ's joint codes) ``auto`` regresses z instead


def bc_target(setting: str, latents: dict[str, np.ndarray]) -> str:
    n_codes = int(latents["n_codes"])
    has_codes = "codes" in latents and n_codes > 0
    if setting == "auto":
        return "codes" if has_codes and n_codes <= MAX_CLASSIFIER_CODES else "latent"
    if setting == "codes" and not has_codes:
        raise ConfigError("config key 'bc.policy_target': 'codes' needs a discrete bottleneck; this run's latents have no codes")
    if setting == "codes" and n_codes > MAX_CLASSIFIER_CODES:
        raise ConfigError(f"config key 'bc.policy_target': {n_codes} codes are too many for a classifier; use 'latent'")
    if setting not in ("codes", "latent"):
        raise ConfigError(f"config key 'bc.policy_target': expected auto, codes or latent, got {setting!r}")
    return setting


def standardized_latents(latents: dict[str, np.ndarray], train_traj: np.ndarray) -> tuple[torch.Tensor, list, list]:
    """``z`` standardized per dimension by its statistics over the training trajectories.

    Continuous latents can be nearly constant (LAPO's pre-quantization z, LAOM's embedding
    scale), and an unnormalized MSE is then met by predicting the mean: the policy and the
    decoder fed by it would see no action signal. The policy therefore predicts standardized z;
    the decoder learns from that output, so nothing downstream needs the raw scale.
    """
    z = latents["z"].astype(np.float64)  # float64: a tiny spread around a large mean survives
    rows = np.isin(latents["traj"], train_traj)
    mean = z[rows].mean(axis=0)
    std = np.maximum(z[rows].std(axis=0), 1e-8 * max(float(np.abs(z[rows]).max()), 1e-30))
    return torch.from_numpy(((z - mean) / std).astype(np.float32)), mean.tolist(), std.tolist()


def run_bc(run: RunDir | str | Path, *, threads: int | None = None) -> None:
    """Stage 3 of ``run``: write ``RUN/policy.pt``; no-op when it exists."""
    run_stage(run, "bc", _bc, threads=threads)


def _bc(st: StageContext) -> None:
    run, cfg, device = st.run, st.cfg, st.device
    if cfg.kind == "bc":
        raise IdentlamError(f"run '{run.path}': the 'bc' baseline was cloned in its train stage; run `identlam evaluate {run.path}`")
    latents = load_latents(run)
    ds = st.ds
    target = bc_target(cfg.bc.policy_target, latents)
    train_traj, _ = split_trajectories(ds.n_trajectories, cfg.eval.holdout_fraction)
    # Targets stay in host memory (one row per transition can be large); a batch moves per step.
    meta = {"target": target}
    if target == "codes":
        labels = torch.from_numpy(latents["codes"])
        out_dim = int(latents["n_codes"])
    elif cfg.kind == "idm":  # z are predicted actions, read directly by the identity decoder: keep their units
        labels = torch.from_numpy(latents["z"])
        out_dim = int(labels.shape[1])
    else:
        labels, meta["z_mean"], meta["z_std"] = standardized_latents(latents, train_traj)
        out_dim = int(labels.shape[1])
    meta["out_dim"] = out_dim
    windows = ds.observations(frame_stack=cfg.model.frame_stack, future_k=1, trajectories=train_traj)
    policy = build_policy(cfg, ds, out_dim, derive_seed(cfg.seed, "bc")).to(device)
    augmenter = Augmenter(cfg.model.augment_ops) if cfg.bc.augment and ds.obs_kind == "image" else None
    augment_gen = torch.Generator(device=device)
    rng = np.random.default_rng(derive_seed(cfg.seed, "bc-batches"))
    schedule = stage_schedule(cfg, "bc")
    st.use_threads([policy], cfg.bc.batch_size)

    def step_fn(step: int):
        w = windows.sample(cfg.bc.batch_size, rng)
        rows = torch.from_numpy(transition_rows(ds.lengths, w.traj, w.t))
        y = labels[rows].to(device)
        augment_gen.manual_seed(derive_seed(cfg.seed, "bc-augment", step))  # resumable: a function of the step
        out = policy(to_batch(w, device)["obs_t"], augmenter, augment_gen)
        loss = action_loss(out, y, target == "codes")
        name, value = accuracy_or_mse(out.detach(), y, target == "codes")
        return loss, {f"bc_{name}": value}

    with seeded_torch(derive_seed(cfg.seed, "bc-torch"), device):
        fit({"policy": policy}, step_fn, schedule=schedule, rng=rng, device=device, stage="bc",
            checkpoint_path=run.checkpoint("bc"), log=run.log)
    st.save("policy", {"policy": policy}, meta)
