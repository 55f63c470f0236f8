"""State leakage of a run's latents beyond the true action (claim D), on held-out transitions.

Writes ``RUN/state_leakage.json`` with, on the held-out trajectories listed in
``RUN/metrics.json`` (``offline.trajectories``):

- ``state_r2_given_action_z_knn``: R² of predicting the true state s from the continuous latent
  z *within each true action* (kNN regression, k = 10, standardized z; 70/30 split per action;
  R² averaged over actions weighted by their counts). 0 when z carries no state information
  beyond a; near 1 when z encodes s.
- ``state_r2_given_action_z_linear``: the same with a ridge probe (penalty by leave-one-out).
- ``state_r2_given_action_code``: the same from the one-hot discrete code (when the run has codes):
  positive when codes split an action by state region.
- ``z_variance_within_action``: the share of the latent's total variance (raw, unstandardized)
  that lies within actions, sum_a n_a tr Cov(z | a) / (n tr Cov(z)): the scale-aware
  counterpart of the two R² (which standardize z and so see arbitrarily small variations).
- ``state_cmi_given_action_z``: I(Z; S | A) in nats, KSG per action (identlam.metrics), the same
  estimator for every method so the number is comparable across bottlenecks.

Usage: python state_leakage.py RUN [RUN ...]
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
from sklearn.linear_model import RidgeCV
from sklearn.metrics import r2_score
from sklearn.neighbors import KNeighborsRegressor

from identlam.data import open_dataset
from identlam.data.privileged import privileged
from identlam.io import atomic_write_json
from identlam.metrics import conditional_mutual_info


def r2_given_action(x: np.ndarray, s: np.ndarray, a: np.ndarray, make_model, seed: int) -> float:
    """Count-weighted mean over actions of the held-out R² of s from x within that action."""
    rng = np.random.default_rng(seed)
    scores, weights = [], []
    for action in np.unique(a):
        idx = rng.permutation(np.flatnonzero(a == action))
        if idx.size < 30:
            continue
        cut = int(0.7 * idx.size)
        tr, te = idx[:cut], idx[cut:]
        pred = make_model().fit(x[tr], s[tr]).predict(x[te])
        scores.append(r2_score(s[te], pred))
        weights.append(idx.size)
    return float(np.average(scores, weights=weights))


def ridge() -> RidgeCV:
    """Ridge probe whose penalty is chosen by leave-one-out on the training part."""
    return RidgeCV(alphas=np.logspace(-3, 3, 13))


def within_action_variance(z: np.ndarray, a: np.ndarray) -> float:
    """Share of the total variance of z that lies within the groups of equal true action."""
    within = sum(((z[a == v] - z[a == v].mean(axis=0)) ** 2).sum() for v in np.unique(a))
    return float(within / max(((z - z.mean(axis=0)) ** 2).sum(), 1e-300))


def standardize(x: np.ndarray) -> np.ndarray:
    sd = x.std(axis=0)
    return (x - x.mean(axis=0)) / np.where(sd > 1e-8, sd, 1.0)


def leakage(run: Path) -> dict[str, float]:
    report = json.loads((run / "metrics.json").read_text())
    held_out = np.asarray(report["offline"]["trajectories"])
    table = privileged(open_dataset(report["run"]["data"])).transition_table(held_out)
    lat = np.load(run / "latents.npz")
    chosen = np.isin(lat["traj"], held_out)
    raw = lat["z"][chosen].astype(np.float64)
    z = standardize(raw)
    a, s = np.asarray(table.actions), np.asarray(table.states, dtype=np.float64)
    seed = int(report["run"]["seed"])
    out = {
        "state_r2_given_action_z_knn": r2_given_action(z, s, a, lambda: KNeighborsRegressor(10), seed),
        "state_r2_given_action_z_linear": r2_given_action(z, s, a, ridge, seed),
        "z_variance_within_action": within_action_variance(raw, a),
        "state_cmi_given_action_z": float(conditional_mutual_info(z, s, a, discrete_z=True, seed=seed)),
    }
    if "codes" in lat.files:
        codes = lat["codes"][chosen]
        onehot = (codes[:, None] == np.unique(codes)[None, :]).astype(np.float64)
        out["state_r2_given_action_code"] = r2_given_action(onehot, s, a, ridge, seed)
    return out


if __name__ == "__main__":
    for arg in sys.argv[1:]:
        result = leakage(Path(arg))
        atomic_write_json(Path(arg) / "state_leakage.json", result)
        print(arg, json.dumps({k: round(v, 4) for k, v in result.items()}))
