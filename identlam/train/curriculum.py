"""State-space curriculum: training windows are drawn near one anchor observation first, then everywhere.

An identification trick (docs/identification.md, "State-space curriculum"). When an action's
effect on the observation depends on the state, codes that are learned on all states at once
settle for a state-dependent labelling (on broad-coverage PointMass-warp the gated recipe
quantizes the direction of o' - o: AMI 0.48-0.79). Codes learned in a small neighbourhood first
mean one action each there, and the growing neighbourhood carries that meaning along by
continuity (A1) and connectivity (A3) — as goal-directed data, which concentrate near the goal,
do by themselves.

Label-free: the anchor is the densest of a seeded subsample of training windows (``"dense"``,
the smallest distance to its k-th nearest observation) or a seeded random window
(``"random"``), and distances are Euclidean between raw (frame-stacked, flattened) observations
o_t; no action, state or distractor is read. For a
fraction ``curriculum`` of training a window at distance d is drawn with weight
``exp(-d^2 / (2 r^2))``; the radius r grows geometrically from ``start_radius`` times the
largest distance to that largest distance; afterwards sampling is uniform. With ``hold > 0`` the radius stays at its start for
that fraction of training (so that the codes can specialize near the anchor while the entropy
bonus fades) and grows over the rest of the curriculum.
"""

from __future__ import annotations

import numpy as np

from identlam.errors import ConfigError, DatasetError

READ_CHUNK = 4096  # windows read at a time to measure distances (bounded memory on images)
DENSITY_SAMPLE = 2000  # windows among which the densest is the "dense" anchor
DENSITY_K = 20  # its density: distance to the k-th nearest of those windows


class ObservationCurriculum:
    """Sampling weights over the windows of a :class:`~identlam.data.windows.WindowSampler`.

    Args:
        windows: the training windows; weights follow their ``window_starts()`` order.
        fraction: share of training (in [0, 1]) that uses the curriculum; 0 switches it off.
        start_radius: initial radius as a fraction of the largest distance to the anchor, in (0, 1].
        seed: chooses the anchor window.
        anchor: ``"dense"`` (default) or ``"random"``.
        hold: share of training (from step 0) spent at ``start_radius``; must be below ``fraction``.
    """

    def __init__(self, windows, fraction: float, start_radius: float, seed: int, anchor: str = "dense",
                 hold: float = 0.0):
        if not 0.0 <= fraction <= 1.0:
            raise ConfigError(f"config key 'train.curriculum': must lie in [0, 1], got {fraction}")
        if not 0.0 <= hold < fraction:
            raise ConfigError(f"config key 'train.curriculum_hold': must lie in [0, train.curriculum = {fraction}), got {hold}")
        self.hold = float(hold)
        if not 0.0 < start_radius <= 1.0:
            raise ConfigError(f"config key 'train.curriculum_radius': must lie in (0, 1], got {start_radius}")
        self.fraction, self.start_radius = float(fraction), float(start_radius)
        if anchor not in ("dense", "random"):
            raise ConfigError(f"config key 'train.curriculum_anchor': expected dense or random, got {anchor!r}")
        traj, t = windows.window_starts()
        if not len(traj):
            raise DatasetError("config key 'train.curriculum': the training trajectories hold no window to draw")
        self.anchor = _choose_anchor(windows, traj, t, anchor, np.random.default_rng(seed))
        anchor_obs = _flat_obs(windows, traj[self.anchor : self.anchor + 1], t[self.anchor : self.anchor + 1])[0]
        self.distance = np.concatenate([
            np.linalg.norm(_flat_obs(windows, traj[s : s + READ_CHUNK], t[s : s + READ_CHUNK]) - anchor_obs, axis=1)
            for s in range(0, len(traj), READ_CHUNK)
        ])
        self.max_distance = float(self.distance.max())

    def radius(self, step: int, total_steps: int) -> float | None:
        """The sampling radius at ``step``; None once the curriculum is over (uniform sampling)."""
        progress = step / max(int(total_steps), 1)
        if progress >= self.fraction or self.max_distance == 0.0:
            return None
        growth = max(0.0, progress - self.hold) / (self.fraction - self.hold)
        return self.max_distance * self.start_radius ** (1.0 - growth)

    def weights(self, step: int, total_steps: int) -> np.ndarray | None:
        """``(n_windows,)`` sampling weights at ``step`` (the anchor's weight is 1), or None."""
        r = self.radius(step, total_steps)
        return None if r is None else np.exp(-0.5 * (self.distance / r) ** 2)


def _flat_obs(windows, traj: np.ndarray, t: np.ndarray) -> np.ndarray:
    obs = windows.read(traj, t, None).obs_t
    return obs.reshape(len(obs), -1).astype(np.float32)


def _choose_anchor(windows, traj: np.ndarray, t: np.ndarray, kind: str, rng: np.random.Generator) -> int:
    """Index (in ``window_starts`` order) of the anchor window."""
    if kind == "random":
        return int(rng.integers(len(traj)))
    pick = np.sort(rng.choice(len(traj), size=min(DENSITY_SAMPLE, len(traj)), replace=False))
    obs = _flat_obs(windows, traj[pick], t[pick])
    squared = (obs * obs).sum(1)
    distances = np.sqrt(np.maximum(squared[:, None] + squared[None, :] - 2.0 * obs @ obs.T, 0.0))
    k = min(DENSITY_K, len(pick) - 1)
    kth = np.partition(distances, k, axis=1)[:, k]  # column 0 after partition is the point itself
    return int(pick[int(np.argmin(kth))])
