"""The label split: the only way training code reaches true actions.

LAOM gives a label budget in trajectories: a seeded choice of whole trajectories whose actions
may be used (by a supervised head, the action decoder, or the BC/IDM baselines). Everything
else about actions, states and distractors lives in ``identlam.data.privileged``, which
training code never imports.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from identlam.data.windows import LabeledWindows, WindowSampler, Windows
from identlam.errors import DatasetError


class LabelSplit:
    """``n_trajectories`` trajectories chosen with ``seed``; their windows come with actions.

    ``trajectories``: sorted int64 indices of the chosen trajectories, drawn from ``among`` (e.g.
    the training trajectories, so that labels never come from a held-out split) or from all. The
    choice depends only on ``(n_trajectories, seed, candidates)``; a smaller budget with the same
    seed is not necessarily a subset of a larger one (as in LAOM's per-budget files).
    """

    def __init__(self, ds, n_trajectories: int, seed: int, among=None):
        candidates = np.arange(ds.n_trajectories, dtype=np.int64) if among is None else np.unique(np.asarray(among, np.int64))
        if candidates.size and (candidates[0] < 0 or candidates[-1] >= ds.n_trajectories):
            raise DatasetError(f"label split 'among': trajectory indices must lie in [0, {ds.n_trajectories})")
        n = len(candidates)
        if isinstance(n_trajectories, bool) or not isinstance(n_trajectories, (int, np.integer)):
            raise DatasetError(f"label split 'n_trajectories' is {n_trajectories!r}; expected an integer")
        if not 0 <= n_trajectories <= n:
            where = f"the dataset {ds.path} has" if among is None else "'among' holds"
            raise DatasetError(f"label split 'n_trajectories' is {n_trajectories}; {where} {n} trajectories")
        self._ds = ds
        self._store = ds._store
        self.seed = int(seed)
        rng = np.random.default_rng(self.seed)
        chosen = candidates[rng.choice(n, size=int(n_trajectories), replace=False)]
        self.trajectories = np.sort(chosen).astype(np.int64)
        self.trajectories.setflags(write=False)
        self.n_transitions = int((self._store.lengths[self.trajectories] - 1).sum())
        self._samplers: dict[tuple, WindowSampler] = {}

    def __len__(self) -> int:
        return len(self.trajectories)

    def __repr__(self) -> str:
        return f"LabelSplit({len(self)} of {self._ds.n_trajectories} trajectories, seed={self.seed})"

    def _sampler(self, frame_stack: int, future_k: int, past_frame: bool) -> WindowSampler:
        key = (frame_stack, future_k, past_frame)
        if key not in self._samplers:
            self._samplers[key] = WindowSampler(
                self._store, self._ds.obs_kind, frame_stack, future_k, past_frame, trajectories=self.trajectories
            )
        return self._samplers[key]

    def sample(
        self, batch_size: int, rng: np.random.Generator, frame_stack: int = 1, future_k: int = 1, past_frame: bool = False
    ) -> LabeledWindows:
        """Windows drawn uniformly over the split's valid windows, with ``actions`` = ``a_t``."""
        if not len(self):
            raise DatasetError("label split 'n_trajectories' is 0: there are no labelled windows to sample")
        return self._with_actions(self._sampler(frame_stack, future_k, past_frame).sample(batch_size, rng))

    def transitions(self, batch_size: int = 1024, frame_stack: int = 1, past_frame: bool = False) -> Iterator[LabeledWindows]:
        """Every transition of the split's trajectories in dataset order, with ``actions``."""
        for w in self._sampler(frame_stack, 1, past_frame).transitions(batch_size):
            yield self._with_actions(w)

    def actions(self) -> np.ndarray:
        """The actions ``a_t`` of every transition of the split, in ``transitions()`` order."""
        parts = [self._store.trajectory("actions", int(i))[:-1] for i in self.trajectories]
        if parts:
            return np.concatenate(parts)
        shape = (0,) if self._ds.action_space == "discrete" else (0, self._ds.action_dim)
        return np.zeros(shape, np.int64 if self._ds.action_space == "discrete" else np.float32)

    def _with_actions(self, w: Windows) -> LabeledWindows:
        actions = self._store.rows("actions", w.traj, w.t[:, None])[:, 0]
        return LabeledWindows(**vars(w), actions=actions)
