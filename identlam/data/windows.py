"""Windows of observations for training: (o_{t-1}), o_t, o_{t+1}, o_{t+k}, frame-stacked.

Conventions (LAOM's, made exact):
- A window starts at step ``t`` of trajectory ``traj`` with ``t`` in ``0 .. T-1-K``, so every
  ``t + k`` with ``k ~ U{1..K}`` stays inside the trajectory: no window crosses a trajectory end.
  Sampling is uniform over all valid ``(traj, t)`` pairs, and ``k`` is drawn per item.
- Frame stacking with ``F`` frames: observation ``u`` is frames ``u-F+1 .. u``, oldest first,
  concatenated along the channel axis: images ``(B, H, W, C*F)`` uint8, vectors ``(B, D*F)``
  float32. Before the episode start the first frame is repeated, as gymnasium's
  ``FrameStackObservation`` pads at reset (and as LAOM's datasets do).
- ``obs_past`` (LAPO's past frame) is the stack ending at ``t-1``; at ``t = 0`` it is padded the
  same way, so it equals ``obs_t`` there.

Nothing here reads actions, states or distractors: those are privileged (``identlam.data.labels``
and ``identlam.data.privileged``).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from identlam.errors import DatasetError


@dataclass(frozen=True)
class Windows:
    """A batch of windows. ``k``, ``traj``, ``t``: ``(B,)`` int64; observations as above."""

    obs_t: np.ndarray
    obs_next: np.ndarray
    obs_future: np.ndarray
    obs_past: np.ndarray | None
    k: np.ndarray
    traj: np.ndarray
    t: np.ndarray

    def __len__(self) -> int:
        return len(self.t)


@dataclass(frozen=True)
class LabeledWindows(Windows):
    """Windows of the label split, with the true action ``a_t``: ``(B,)`` int64 or ``(B, A)`` float32."""

    actions: np.ndarray


def check_window_args(frame_stack: int, future_k: int, past_frame: bool) -> None:
    for name, value in (("frame_stack", frame_stack), ("future_k", future_k)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise DatasetError(f"window argument '{name}' is {value!r}; expected an integer >= 1")
    if not isinstance(past_frame, (bool, np.bool_)):
        raise DatasetError(f"window argument 'past_frame' is {past_frame!r}; expected true or false")


class WindowSampler:
    """Frame-stacked observation windows of a dataset (or of a subset of its trajectories).

    Obtain it from ``Dataset.observations(frame_stack, future_k, past_frame)``.
    """

    def __init__(self, store, obs_kind: str, frame_stack: int, future_k: int, past_frame: bool, trajectories=None):
        check_window_args(frame_stack, future_k, past_frame)
        self._store = store
        self.obs_kind = obs_kind
        self.frame_stack = int(frame_stack)
        self.future_k = int(future_k)
        self.past_frame = bool(past_frame)
        n = len(store.lengths)
        self.trajectories = np.arange(n, dtype=np.int64) if trajectories is None else np.asarray(trajectories, np.int64)
        if self.trajectories.size and (self.trajectories.min() < 0 or self.trajectories.max() >= n):
            raise DatasetError(f"window argument 'trajectories': indices must lie in [0, {n})")
        lengths = store.lengths[self.trajectories]
        # Windows starting at t in 0 .. T-1-K, per trajectory; cumulative counts map a flat draw back.
        self._starts = np.maximum(lengths - self.future_k, 0)
        self._cum = np.concatenate([[0], np.cumsum(self._starts)]).astype(np.int64)
        self.n_windows = int(self._cum[-1])
        self.n_transitions = int((lengths - 1).sum())

    def sample(self, batch_size: int, rng: np.random.Generator, weights: np.ndarray | None = None) -> Windows:
        """``batch_size`` windows drawn with replacement: uniformly over all valid windows, or with
        probabilities proportional to ``weights`` (``(n_windows,)``, >= 0, in the order of
        :meth:`window_starts`)."""
        if self.n_windows == 0:
            raise DatasetError(
                f"window argument 'future_k' is {self.future_k}: no trajectory has more than {self.future_k} steps"
            )
        if weights is None:
            flat = rng.integers(0, self.n_windows, size=int(batch_size))
        else:
            weights = np.asarray(weights, np.float64)
            if weights.shape != (self.n_windows,) or not np.isfinite(weights).all() or (weights < 0).any() \
                    or weights.sum() <= 0:
                raise DatasetError(f"window argument 'weights': expected {self.n_windows} finite non-negative "
                                   f"values with a positive sum, got shape {weights.shape}")
            flat = rng.choice(self.n_windows, size=int(batch_size), p=weights / weights.sum())
        k = rng.integers(1, self.future_k + 1, size=int(batch_size))
        pos = np.searchsorted(self._cum, flat, side="right") - 1
        return self.read(self.trajectories[pos], flat - self._cum[pos], k.astype(np.int64))

    def window_starts(self) -> tuple[np.ndarray, np.ndarray]:
        """``(traj, t)`` of every valid window, in the flat order that ``sample(weights=)`` uses."""
        pos = np.repeat(np.arange(len(self._starts)), self._starts)
        t = np.arange(self.n_windows, dtype=np.int64) - self._cum[pos]
        return self.trajectories[pos], t

    def transitions(self, batch_size: int = 1024) -> Iterator[Windows]:
        """Every transition ``(t, t+1)``, ``t = 0 .. T-2``, of every trajectory, in dataset order
        (trajectory by trajectory, then by time), in chunks of at most ``batch_size``; ``k = 1``
        and ``obs_future`` is ``obs_next``. ``relabel`` writes latents in this order."""
        if batch_size < 1:
            raise DatasetError(f"argument 'batch_size' is {batch_size}; expected an integer >= 1")
        lengths = self._store.lengths[self.trajectories] - 1
        traj = np.repeat(self.trajectories, lengths)
        t = np.arange(len(traj), dtype=np.int64) - np.repeat(np.cumsum(lengths) - lengths, lengths)
        for s in range(0, len(traj), batch_size):
            yield self.read(traj[s : s + batch_size], t[s : s + batch_size], None)

    def read(self, traj: np.ndarray, t: np.ndarray, k: np.ndarray | None) -> Windows:
        """The windows at given ``(traj, t, k)``; ``k = None`` reads transitions (k = 1, future = next)."""
        traj, t = np.asarray(traj, np.int64), np.asarray(t, np.int64)
        anchors = [t, t + 1] + ([] if k is None else [t + k]) + ([t - 1] if self.past_frame else [])
        F = self.frame_stack
        # (B, n_anchors * F) row indices, padded at the episode start by repeating frame 0.
        idx = np.concatenate([a[:, None] + np.arange(1 - F, 1)[None, :] for a in anchors], axis=1)
        rows = self._store.rows("obs", traj, np.maximum(idx, 0))
        stacks = [self._stack(rows[:, j * F : (j + 1) * F]) for j in range(len(anchors))]
        obs_t, obs_next = stacks[0], stacks[1]
        obs_future = obs_next if k is None else stacks[2]
        return Windows(
            obs_t=obs_t,
            obs_next=obs_next,
            obs_future=obs_future,
            obs_past=stacks[-1] if self.past_frame else None,
            k=np.ones_like(t) if k is None else np.asarray(k, np.int64),
            traj=traj,
            t=t,
        )

    def _stack(self, frames: np.ndarray) -> np.ndarray:
        """(B, F, *row) -> channels last, oldest frame first."""
        B, F = frames.shape[:2]
        if self.obs_kind == "image":
            H, W, C = frames.shape[2:]
            if F == 1:
                return frames[:, 0]
            # Move whole pixels (C bytes viewed as one void item), not single bytes: numpy copies
            # 3-byte items about 1.6x faster than a byte-strided transpose (benchmarks/data.py).
            pixels = np.ascontiguousarray(frames).view(np.dtype((np.void, C * frames.itemsize)))[..., 0]
            stacked = np.ascontiguousarray(pixels.transpose(0, 2, 3, 1))
            return stacked.view(frames.dtype).reshape(B, H, W, F * C)
        return frames.reshape(B, -1)
