"""Privileged access: every action, true state, distractor and reward of a dataset.

For metrics, probes and evaluation only. Training code (``identlam.models``, ``identlam.train``
except its ``evaluate`` stage) never imports this module, and a test enforces it; the only
route from a dataset to a training objective's actions is ``Dataset.label_split``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from identlam.errors import DatasetError

@dataclass(frozen=True)
class TransitionTable:
    """Ground truth per transition, aligned row by row with ``WindowSampler.transitions()``.

    ``actions``: (N,) int64 or (N, A) float32, ``a_t``; ``states``/``next_states``: (N, S)
    float32, ``s_t`` and ``s_{t+1}``; ``exo``/``next_exo``: (N, E) float32 or None when the file
    has no distractors; ``rewards``: (N,) float32 ``r_t`` or None; ``traj``, ``t``: (N,) int64.
    """

    actions: np.ndarray
    states: np.ndarray
    next_states: np.ndarray
    exo: np.ndarray | None
    next_exo: np.ndarray | None
    rewards: np.ndarray | None
    traj: np.ndarray
    t: np.ndarray

    def __len__(self) -> int:
        return len(self.t)


class PrivilegedView:
    """All ground-truth fields of a :class:`~identlam.data.reader.Dataset`."""

    def __init__(self, ds):
        self.dataset = ds
        self._store = ds._store

    def _field(self, name: str, i: int) -> np.ndarray | None:
        if not self._store.has(name):
            return None
        if not 0 <= i < self.dataset.n_trajectories:
            raise DatasetError(f"privileged view: trajectory {i} is outside [0, {self.dataset.n_trajectories})")
        return np.array(self._store.trajectory(name, int(i)))

    def actions(self, i: int) -> np.ndarray:
        """All T actions of trajectory ``i`` (the last one moves nothing stored)."""
        return self._field("actions", i)

    def states(self, i: int) -> np.ndarray:
        return self._field("states", i)

    def exo(self, i: int) -> np.ndarray | None:
        return self._field("exo", i)

    def rewards(self, i: int) -> np.ndarray | None:
        return self._field("rewards", i)

    def blocks(self, name: str):
        """``(first, stop, rows)``: the field ``name`` of trajectories ``first .. stop - 1``,
        concatenated along time, a bounded block at a time, in dataset order."""
        return self._store.blocks(name)

    def transition_table(self, trajectories=None) -> TransitionTable:
        """Ground truth of every transition of ``trajectories`` (all by default), in dataset order."""
        if trajectories is None:
            return self._whole_table()
        chosen = [int(i) for i in trajectories]
        parts: dict[str, list[np.ndarray]] = {k: [] for k in ("actions", "states", "next_states", "exo", "next_exo", "rewards", "traj", "t")}
        has_exo, has_rewards = self._store.has("exo"), self._store.has("rewards")
        for i in chosen:
            states = self._field("states", i)
            n = len(states) - 1
            parts["actions"].append(self._field("actions", i)[:n])
            parts["states"].append(states[:-1])
            parts["next_states"].append(states[1:])
            if has_exo:
                exo = self._field("exo", i)
                parts["exo"].append(exo[:-1])
                parts["next_exo"].append(exo[1:])
            if has_rewards:
                parts["rewards"].append(self._field("rewards", i)[:n])
            parts["traj"].append(np.full(n, i, dtype=np.int64))
            parts["t"].append(np.arange(n, dtype=np.int64))
        return self._table(parts)

    def _whole_table(self) -> TransitionTable:
        """Every trajectory's ground truth, streamed in blocks: a few numpy calls per block."""
        parts: dict[str, list[np.ndarray]] = {k: [] for k in ("actions", "states", "next_states", "exo", "next_exo", "rewards", "traj", "t")}
        lengths = self.dataset.lengths
        for name in ("actions", "states", "exo", "rewards"):
            if not self._store.has(name):
                continue
            for first, stop, rows in self._store.blocks(name):
                moved = moved_rows(lengths[first:stop])
                if name in ("states", "exo"):
                    parts[name].append(rows[moved])
                    parts[f"next_{name}"].append(rows[1:][moved[:-1]])
                else:
                    parts[name].append(rows[moved])
        n = lengths - 1
        parts["traj"].append(np.repeat(np.arange(len(lengths), dtype=np.int64), n))
        parts["t"].append(np.arange(int(n.sum()), dtype=np.int64) - np.repeat(np.cumsum(n) - n, n))
        return self._table(parts)

    def _table(self, parts: dict[str, list[np.ndarray]]) -> TransitionTable:
        has_exo, has_rewards = self._store.has("exo"), self._store.has("rewards")
        ds = self.dataset
        empty = {
            "actions": np.zeros((0,) if ds.action_space == "discrete" else (0, ds.action_dim), np.int64 if ds.action_space == "discrete" else np.float32),
            "states": np.zeros((0, ds.state_dim), np.float32),
            "next_states": np.zeros((0, ds.state_dim), np.float32),
            "exo": np.zeros((0, ds.exo_dim), np.float32),
            "next_exo": np.zeros((0, ds.exo_dim), np.float32),
            "rewards": np.zeros(0, np.float32),
            "traj": np.zeros(0, np.int64),
            "t": np.zeros(0, np.int64),
        }
        out = {k: (np.concatenate(v) if v else empty[k]) for k, v in parts.items()}
        if not has_exo:
            out["exo"] = out["next_exo"] = None
        if not has_rewards:
            out["rewards"] = None
        return TransitionTable(**out)


def moved_rows(lengths: np.ndarray) -> np.ndarray:
    """Mask over trajectories concatenated along time: False at each one's last step, whose
    action moves nothing stored and which has no next state."""
    mask = np.ones(int(lengths.sum()), bool)
    mask[np.cumsum(lengths) - 1] = False
    return mask


def privileged(ds) -> PrivilegedView:
    """The privileged view of ``ds``: for metrics and evaluation, never for training objectives."""
    return PrivilegedView(ds)
