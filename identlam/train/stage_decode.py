"""Stage 4, ``decode``: latent action -> true action, on the label split only (LAOM's protocol).

The latent policy of stage 3 is frozen. A new :class:`~identlam.models.decoder.ActionDecoder`
learns ``loss(decoder(latent(policy(o_t))), a_t)`` on windows of the label split, for exactly
``decoder.steps`` updates whatever the label budget (LAOM: 2500), where ``latent`` is the
policy's code probabilities (discrete) or its latent (continuous). The final agent is
``decoder ∘ policy``. The ``idm`` baseline's policy already outputs actions, so its decoder is
the identity (``decoder.pt`` records that).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from identlam.errors import ConfigError, IdentlamError
from identlam.train.artifacts import build_decoder, load_latent_policy, policy_latent
from identlam.train.batches import accuracy_or_mse, action_loss, label_split, to_batch
from identlam.train.device import derive_seed, seeded_torch
from identlam.train.loop import fit
from identlam.train.rundir import RunDir
from identlam.train.stage import StageContext, run_stage, stage_schedule


def run_decode(run: RunDir | str | Path, *, threads: int | None = None) -> None:
    """Stage 4 of ``run``: write ``RUN/decoder.pt``; no-op when it exists."""
    run_stage(run, "decode", _decode, threads=threads)


def _decode(st: StageContext) -> None:
    run, cfg, device = st.run, st.cfg, st.device
    if cfg.kind == "bc":
        raise IdentlamError(f"run '{run.path}': the 'bc' baseline outputs actions; run `identlam evaluate {run.path}`")
    if cfg.kind == "idm":
        st.save("identity", {}, {"reason": "the idm baseline's policy outputs actions"})
        return
    if cfg.labels < 1:
        raise ConfigError("config key 'labels': the decoder learns from the label split; pass --labels N_TRAJ")
    ds = st.ds
    policy, meta = load_latent_policy(run, ds, device)
    policy.requires_grad_(False)
    labels = label_split(ds, cfg)
    discrete = ds.action_space == "discrete"
    decoder = build_decoder(cfg, ds, int(meta["out_dim"]), derive_seed(cfg.seed, "decoder")).to(device)
    rng = np.random.default_rng(derive_seed(cfg.seed, "decoder-batches"))
    schedule = stage_schedule(cfg, "decode")
    st.use_threads([decoder, policy], cfg.decoder.batch_size)

    def step_fn(step: int):
        b = to_batch(labels.sample(cfg.decoder.batch_size, rng, frame_stack=cfg.model.frame_stack), device)
        with torch.no_grad():
            latent = policy_latent(policy(b["obs_t"]), meta["target"])
        out = decoder(latent, b["obs_t"] if decoder.uses_observation else None)
        loss = action_loss(out, b["actions"], discrete)
        name, value = accuracy_or_mse(out.detach(), b["actions"], discrete)
        return loss, {f"decoder_{name}": value}

    with seeded_torch(derive_seed(cfg.seed, "decoder-torch"), device):
        fit({"decoder": decoder}, step_fn, schedule=schedule, rng=rng, device=device, stage="decode",
            checkpoint_path=run.checkpoint("decode"), log=run.log)
    st.save("decoder", {"decoder": decoder},
            {"latent_dim": int(meta["out_dim"]), "label_trajectories": labels.trajectories.tolist()})
