"""Stage 1 of the baselines, learned from the label split's true actions only.

- ``bc``: behaviour cloning ``o_t -> a_t`` (the BC actor, widths from ``bc.*``).
- ``idm``: LAOM's IDM baseline. The LatentActionModel of ``model.*`` with a supervision head
  (``model.label_coef > 0``) is trained on its ``label_loss`` alone: the IDM on
  ``(o_t, o_{t+k})`` followed by ``Linear(z -> action)``. ``relabel`` then labels every
  transition with its predicted action and ``bc`` clones those (LAOM, B.4).

Both use ``train.*`` for the optimization and read actions only through the label split.
"""

from __future__ import annotations

import numpy as np

from identlam.errors import ConfigError
from identlam.train.artifacts import action_out_dim, build_lam, build_policy
from identlam.train.batches import accuracy_or_mse, action_loss, label_split, to_batch
from identlam.train.device import derive_seed, seeded_torch
from identlam.train.loop import fit
from identlam.train.stage import StageContext, stage_schedule


def train_supervised(st: StageContext) -> None:
    """Stage 1 of the ``bc`` and ``idm`` baselines (the body of ``run_train`` for those kinds)."""
    run, device = st.run, st.device
    cfg, m = run.cfg, run.cfg.model
    if cfg.labels < 1:
        raise ConfigError(f"config key 'labels': the '{cfg.kind}' baseline learns from labels; pass --labels N_TRAJ")
    if cfg.kind == "idm" and m.label_coef <= 0:
        raise ConfigError("config key 'model.label_coef': the idm baseline needs the supervision head (> 0)")
    ds = st.ds
    labels = label_split(ds, cfg)
    discrete = ds.action_space == "discrete"
    seed = derive_seed(cfg.seed, "init", 0)
    net = (build_policy(cfg, ds, action_out_dim(ds), seed) if cfg.kind == "bc" else build_lam(cfg, ds, seed)).to(device)
    rng = np.random.default_rng(derive_seed(cfg.seed, "batches", 0))
    schedule = stage_schedule(cfg, "train")
    st.use_threads([net], cfg.train.batch_size)

    def step_fn(step: int):
        lw = labels.sample(cfg.train.batch_size, rng, frame_stack=m.frame_stack,
                           future_k=m.future_k if cfg.kind == "idm" else 1,
                           past_frame=m.past_frame and cfg.kind == "idm")
        b = to_batch(lw, device)
        if cfg.kind == "idm":
            loss = net.label_loss(b, step)
            return loss, {"label_loss": float(loss.detach())}
        out = net(b["obs_t"])
        name, value = accuracy_or_mse(out.detach(), b["actions"], discrete)
        return action_loss(out, b["actions"], discrete), {f"train_{name}": value}

    with seeded_torch(derive_seed(cfg.seed, "torch", 0), device):
        fit({cfg.kind: net}, step_fn, schedule=schedule, rng=rng, device=device, stage="train",
            checkpoint_path=run.checkpoint("train"), log=run.log)
    st.save(cfg.kind, {cfg.kind: net}, {"label_trajectories": labels.trajectories.tolist(), "out_dim": action_out_dim(ds)})
