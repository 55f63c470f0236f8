"""From data-layer windows to the tensors the stages train on, and the splits they train on.

Split convention (documented in the README): the last ``ceil(eval.holdout_fraction × N)``
trajectories of a file are held out. The LAM and the latent policy train on the others; the
offline report of ``evaluate`` is computed on the held-out ones. ``relabel`` labels every
transition of the file. With ``holdout_fraction = 0`` nothing is held out (the report is then
in-sample). The label split is the data layer's seeded choice among the training trajectories,
so no held-out action ever reaches a training objective.
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F

from identlam.data import LabeledWindows, Windows
from identlam.errors import ConfigError, DatasetError
from identlam.train.device import to_tensor

OBS_KEYS = ("obs_t", "obs_next", "obs_future", "obs_past")


def split_trajectories(n_trajectories: int, holdout_fraction: float) -> tuple[np.ndarray, np.ndarray]:
    """(training, held-out) trajectory indices: the held-out ones are the last ``ceil(f·N)``."""
    if not 0.0 <= holdout_fraction < 1.0:
        raise ConfigError(f"config key 'eval.holdout_fraction': must lie in [0, 1), got {holdout_fraction}")
    n_out = math.ceil(holdout_fraction * n_trajectories)
    if n_trajectories - n_out < 1:
        raise DatasetError(
            f"eval.holdout_fraction {holdout_fraction} leaves no training trajectory out of {n_trajectories}"
        )
    idx = np.arange(n_trajectories, dtype=np.int64)
    return idx[: n_trajectories - n_out], idx[n_trajectories - n_out :]


def label_split(ds, cfg):
    """The run's label split: ``cfg.labels`` trajectories chosen (seeded) among the training ones."""
    train_traj, _ = split_trajectories(ds.n_trajectories, cfg.eval.holdout_fraction)
    if cfg.labels > len(train_traj):
        raise ConfigError(
            f"config key 'labels': {cfg.labels} labelled trajectories requested but only {len(train_traj)} "
            f"of {ds.n_trajectories} are training trajectories (eval.holdout_fraction={cfg.eval.holdout_fraction})"
        )
    return ds.label_split(cfg.labels, cfg.seed, among=train_traj)


def transition_rows(lengths: np.ndarray, traj: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Row of transition ``(traj, t)`` in dataset order (``relabel``'s latents.npz rows)."""
    offsets = np.concatenate([[0], np.cumsum(np.asarray(lengths) - 1)]).astype(np.int64)
    return offsets[np.asarray(traj)] + np.asarray(t)


def to_batch(w: Windows, device: torch.device) -> dict[str, torch.Tensor]:
    """Windows -> the LAM batch dict (``identlam.models.inputs``); LabeledWindows add ``actions``."""
    batch = {key: to_tensor(getattr(w, key), device) for key in OBS_KEYS if getattr(w, key) is not None}
    batch["k"] = to_tensor(w.k, device)
    if isinstance(w, LabeledWindows):
        batch["actions"] = to_tensor(w.actions, device)
    return batch


def action_loss(output: torch.Tensor, target: torch.Tensor, discrete: bool) -> torch.Tensor:
    """Cross-entropy on logits for discrete targets (int64 ``(B,)``), MSE for continuous ``(B, d)``."""
    if discrete:
        return F.cross_entropy(output.float(), target)
    return F.mse_loss(output.float(), target.float())


def accuracy_or_mse(output: torch.Tensor, target: torch.Tensor, discrete: bool) -> tuple[str, float]:
    """A readable training diagnostic: ``("acc", accuracy)`` or ``("mse", value)``."""
    if discrete:
        return "acc", float((output.argmax(-1) == target).float().mean())
    return "mse", float(F.mse_loss(output.float(), target.float()))


def stacked_shape(obs_shape: tuple[int, ...], frame_stack: int) -> tuple[int, ...]:
    """The stacked input shape of ``frame_stack`` frames: channels (images) or features (vectors)."""
    if len(obs_shape) == 3:
        h, w, c = obs_shape
        return (h, w, c * frame_stack)
    return (obs_shape[0] * frame_stack,)
