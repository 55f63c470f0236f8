"""Label-free quality of a trained entropy-regularized LAM, on the held-out trajectories.

Without labels a run can still be judged by how well its codes explain held-out transitions:
the reconstruction error of the FDM under the IDM's codes, and the final objective
(reconstruction + the final entropy penalty). Both are divided by the variance of the FDM
target on the same windows, so they compare runs across datasets of different scales. Only
observations are read.
"""

from __future__ import annotations

import json

import numpy as np
import torch

from identlam.errors import IdentlamError
from identlam.train.artifacts import load_stage1
from identlam.train.autoscale import target_variance
from identlam.train.batches import split_trajectories, to_batch
from identlam.train.device import resolve_device

CHUNK = 1024
# what held_out_quality returns (the runner tabulates them as label_free.NAME)
QUALITY_KEYS = ("held_out_transitions", "target_variance", "rec", "rec_normalized", "h_conditional", "objective",
                "objective_normalized", "h_marginal", "codes_used")


def quality_applies(run, n_trajectories: int) -> bool:
    """Whether :func:`held_out_quality` is defined for ``run`` on a dataset of ``n_trajectories``
    (a categorical LAM with an observation target, and at least one held-out trajectory)."""
    cfg = run.cfg
    if cfg.kind != "lam" or cfg.model.bottleneck != "categorical" or cfg.model.fdm_target != "observation":
        return False
    return len(split_trajectories(n_trajectories, cfg.eval.holdout_fraction)[1]) > 0


@torch.no_grad()
def held_out_quality(run) -> dict[str, float]:
    """``rec`` and ``objective`` (absolute and over the target variance), ``h_conditional``,
    ``h_marginal`` and ``codes_used`` of ``run``'s LAM on its held-out trajectories (k = 1)."""
    cfg = run.cfg
    if cfg.kind != "lam" or cfg.model.bottleneck != "categorical" or cfg.model.fdm_target != "observation":
        raise IdentlamError(f"run '{run.path}': held-out quality needs a categorical LAM with an observation target")
    ds = run.open_dataset()
    _, held_out = split_trajectories(ds.n_trajectories, cfg.eval.holdout_fraction)
    if len(held_out) == 0:
        raise IdentlamError(f"run '{run.path}': eval.holdout_fraction is 0, there are no held-out trajectories")
    m = cfg.model
    windows = ds.observations(frame_stack=m.frame_stack, future_k=1, past_frame=m.past_frame, trajectories=held_out)
    device = resolve_device(cfg.device)
    _, lam = load_stage1(run, ds, device)
    sums: dict[str, float] = {"rec_loss": 0.0, "h_conditional": 0.0}
    usage = None
    obs_t, obs_next, n = [], [], 0
    for w in windows.transitions(batch_size=CHUNK):
        b = to_batch(w, device)
        out = lam.loss(b, cfg.train.steps, cfg.train.steps)
        for key in sums:
            sums[key] += out.logs[key] * len(w.traj)
        _, codes, _ = lam.label(b["obs_t"], b["obs_next"], b.get("obs_past"))
        counts = np.bincount(codes.cpu().numpy(), minlength=lam.n_codes_out)
        usage = counts if usage is None else usage + counts
        obs_t.append(w.obs_t)
        obs_next.append(w.obs_next)
        n += len(w.traj)
    var = target_variance(np.concatenate(obs_t), np.concatenate(obs_next), m.predict_delta)
    weight = _final_weight(run)
    rec, h = sums["rec_loss"] / n, sums["h_conditional"] / n
    p = usage / usage.sum()
    return {"held_out_transitions": n, "target_variance": var, "rec": rec, "rec_normalized": rec / var,
            "h_conditional": h, "objective": rec + weight * h, "objective_normalized": (rec + weight * h) / var,
            "h_marginal": float(-(p[p > 0] * np.log(p[p > 0])).sum()), "codes_used": int((p > 0.01).sum())}


def _final_weight(run) -> float:
    """The entropy penalty the run ended with: the data-derived one when the run measured it."""
    saved = json.loads((run.path / "config.json").read_text())
    derived = saved.get("derived", {}).get("entropy")
    return float(derived["model.entropy.weight"]) if derived else float(run.cfg.model.entropy.weight)
