"""Entropy weights in units of the data: scaled by the variance of the FDM target, measured on observations.

The entropy-regularized objective adds ``lambda * H(A^|S,S')`` to a reconstruction error whose
size is set by the data: the mean squared change of an observation. A weight tuned on one
environment is therefore too strong (every action merged into one code) or too weak (actions
split) on another whose observations move more or less per step. With
``model.entropy.units = "target_variance"`` the configured ``weight`` and ``bonus`` are read as
multiples of the FDM target's variance (the mean over dimensions of the per-dimension variance of
``o_{t+1} - o_t``, or of ``o_{t+1}``), measured on a seeded sample of *unlabeled training
windows* before the model is built. Only observations enter the measurement: no actions, states
or distractor variables. The measured value and the resulting absolute weights are written into
``RUN/config.json`` (key ``derived``) and logged, so the run records what it chose.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from identlam.errors import ConfigError
from identlam.io import atomic_write_json, read_json

SAMPLE_WINDOWS = 4096  # unlabeled windows on which the target variance is measured


def target_variance(obs_t: np.ndarray, obs_next: np.ndarray, predict_delta: bool) -> float:
    """Mean per-dimension variance of the FDM target over the given windows (images: in model units [-1, 1])."""
    a = np.asarray(obs_t)
    b = np.asarray(obs_next)
    scale = 2.0 / 255.0 if a.dtype == np.uint8 else 1.0  # the model reads uint8 images as x * 2/255 - 1
    a = a.astype(np.float64) * scale
    b = b.astype(np.float64) * scale
    target = b - a if predict_delta else b
    target = target.reshape(len(target), -1)
    if len(target) < 2:
        raise ConfigError("config key 'model.entropy.units': target_variance needs at least 2 training windows")
    var = float(target.var(axis=0).mean())
    if not np.isfinite(var) or var <= 0:
        raise ConfigError(f"config key 'model.entropy.units': the FDM target has no variance ({var}); "
                          "use units='absolute'")
    return var


def resolve_entropy_units(cfg, windows, seed: int):
    """``(cfg, record)``: ``cfg`` with absolute entropy weights, and what was measured (``None`` if nothing).

    ``windows``: the training stage's unlabeled :class:`~identlam.data.windows.TrainWindows`
    (only ``obs_t`` and ``obs_next`` of a seeded sample are read).
    """
    m = cfg.model
    ent = m.entropy
    if ent.units == "absolute":
        return cfg, None
    if m.fdm_target != "observation":
        raise ConfigError("config key 'model.entropy.units': target_variance needs model.fdm_target='observation' "
                          f"(the latent target has no scale before training), got {m.fdm_target!r}")
    if m.normalize_target:
        var = 1.0  # the standardized target has unit variance per dimension by construction
    else:
        sample = windows.sample(min(SAMPLE_WINDOWS, max(2, windows.n_windows)), np.random.default_rng(seed))
        var = target_variance(sample.obs_t, sample.obs_next, m.predict_delta)
    scaled = dataclasses.replace(ent, weight=ent.weight * var, bonus=ent.bonus * var,
                                 merge_weight=ent.merge_weight * var, units="absolute")
    record = {"target_variance": var, "model.entropy.weight": scaled.weight, "model.entropy.bonus": scaled.bonus,
              "model.entropy.merge_weight": scaled.merge_weight,
              "from": {"model.entropy.weight": ent.weight, "model.entropy.bonus": ent.bonus,
                       "model.entropy.merge_weight": ent.merge_weight, "model.entropy.units": ent.units}}
    return dataclasses.replace(cfg, model=dataclasses.replace(m, entropy=scaled)), record


def record_derived(run, record: dict, key: str = "entropy", stage: str = "train/autoscale") -> None:
    """Write data-derived values into ``RUN/config.json`` (``derived.KEY``) and the run log.

    The ``config`` entry stays as created, so resuming the run still compares like with like.
    """
    path = run.path / "config.json"
    saved = read_json(path, what="run config", error=ConfigError)
    saved.setdefault("derived", {})[key] = record
    atomic_write_json(path, saved)
    run.log.append({"stage": stage, "step": 0, "derived": key, **{k: v for k, v in record.items()
                                                                  if k not in ("from", "tries")}})


def observation_statistics(windows, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Per-dimension mean and standard deviation of ``o_t`` (stacked vector windows) on a seeded
    sample of unlabeled training windows, for ``model.standardize_obs``. Only observations are read."""
    sample = windows.sample(min(SAMPLE_WINDOWS, max(2, windows.n_windows)), np.random.default_rng(seed))
    obs = np.asarray(sample.obs_t, np.float64).reshape(len(sample.obs_t), -1)
    return obs.mean(0), obs.std(0)
