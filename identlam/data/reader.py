"""Open and validate a dataset file (identlam-1 or LAOM layout); the ``Dataset`` object.

Validation is complete but cheap and bounded in memory (``identlam.data.validate`` says which
check runs when): a loaded file is checked completely at open, names, fields, shapes and
dtypes from HDF5 metadata at a few low-level calls per trajectory and values (NaN, inf,
magnitudes beyond ``schema.MAX_ABS``, discrete actions out of range) in one vectorised pass.
A lazily read file is checked at open as far as its geometry needs (group names, group 0, each
group's length) and every other trajectory at its first read, before anything of it is
returned, so opening a file far larger than memory touches one HDF5 object per trajectory.

A file without a ``format`` attribute is read as a LAOM dataset: groups ``"0"..`` with ``obs``
(T, 64, 64, 3) uint8, ``actions`` (T, A) float32 and ``states`` (T, S) float32, file attributes
``domain_name``, ``task_name`` (and ``difficulty``, ``dynamic``, ``img_hw``); it gets
``env_id = "dcs/<domain>-<task>"`` and a continuous action space.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import h5py
import numpy as np

from identlam.data.schema import FORMAT, JSON_ATTRS, Layout, check_file_attrs
from identlam.data.store import H5Store, MemoryStore
from identlam.data.validate import group_count, scan_groups
from identlam.data.windows import WindowSampler
from identlam.errors import DatasetError

# Bytes of one field checked at a time when a lazily read file is scanned.
SCAN_BYTES = 4 << 20
# in_memory="auto" loads the file when its arrays take at most this many bytes (and at most a
# quarter of the memory currently available).
MEMORY_BUDGET = 1 << 30


def open_dataset(path: str | Path, in_memory: bool | str = "auto", memory_budget: int = MEMORY_BUDGET) -> "Dataset":
    """Validate the file at ``path`` and open it.

    ``in_memory``: ``True`` loads every array, ``False`` reads lazily from the file, ``"auto"``
    loads when the arrays fit ``memory_budget`` bytes (and a quarter of available memory).
    Raises :class:`DatasetError` with one line naming the file, group, field, shape and dtype
    that is wrong.
    """
    path = Path(path)
    if in_memory not in (True, False, "auto"):
        raise DatasetError(f"open_dataset argument 'in_memory' is {in_memory!r}; expected true, false or 'auto'")
    if not path.exists():
        raise DatasetError(f"{path}: dataset file does not exist")
    if not path.is_file():
        raise DatasetError(f"{path}: not a file (a dataset is one .h5 file)")
    if not h5py.is_hdf5(path):
        raise DatasetError(f"{path}: not an HDF5 file")
    try:
        f = h5py.File(path, "r")
    except OSError as e:
        raise DatasetError(f"{path}: cannot be opened as HDF5 ({str(e).splitlines()[0]})") from None
    with f:
        try:
            attrs, layout, kind = _read_attrs(path, f)
            n = group_count(path, f)
            if in_memory is True:
                load_bytes = float("inf")
            elif in_memory == "auto":
                load_bytes = min(memory_budget, _available_memory() // 4)
            else:
                load_bytes = None
            lengths, fields, arrays = scan_groups(path, f, n, layout, load_bytes, SCAN_BYTES)
        except (OSError, KeyError, RuntimeError) as e:
            # h5py's own errors on a damaged file (corrupt metadata or chunks).
            raise DatasetError(f"{path}: damaged HDF5 file ({str(e).splitlines()[0] if str(e) else type(e).__name__})") from None
    if arrays is not None:
        store = MemoryStore(arrays, lengths)
    else:
        check_on_read = {"obs"} if layout.obs_kind == "vector" else set()
        store = H5Store(path, lengths, tuple(fields), layout, check_on_read, SCAN_BYTES)
    return Dataset(path, attrs, layout, kind, store)


class Dataset:
    """An opened, validated dataset. Public attributes carry no actions, states or distractors:
    observations come through :meth:`observations`, actions through :meth:`label_split`, and the
    rest through ``identlam.data.privileged.privileged(ds)`` (metrics and evaluation only)."""

    def __init__(self, path: Path, attrs: dict, layout: Layout, kind: str, store):
        self.path = path
        self._attrs = attrs
        self._store = store
        self.format = kind  # "identlam-1" or "laom"
        self.env_id: str = attrs["env_id"]
        self.action_space: str = layout.action_space
        self.n_actions: int | None = layout.n_actions
        self.action_dim: int | None = layout.action_dim
        self.obs_kind: str = layout.obs_kind
        self.obs_shape: tuple[int, ...] = layout.obs_shape
        self.obs_dtype = np.dtype(np.uint8 if layout.obs_kind == "image" else np.float32)
        self.state_dim: int = layout.state_dim
        self.exo_dim: int = layout.exo_dim
        self.has_rewards: bool = layout.has_rewards
        self.lengths: np.ndarray = store.lengths
        self.lengths.setflags(write=False)
        self.n_trajectories = len(self.lengths)
        self.n_transitions = int((self.lengths - 1).sum())
        self.in_memory = isinstance(store, MemoryStore)

    @property
    def attrs(self) -> dict[str, Any]:
        """File attributes; ``generator`` and ``assumptions`` decoded from JSON."""
        return dict(self._attrs)

    def observations(self, frame_stack: int = 1, future_k: int = 1, past_frame: bool = False, trajectories=None) -> WindowSampler:
        """Observation windows for training (see ``identlam.data.windows``); ``trajectories``
        restricts them to a subset (e.g. a held-out split), all by default."""
        return WindowSampler(self._store, self.obs_kind, frame_stack, future_k, past_frame, trajectories)

    def label_split(self, n_trajectories: int, seed: int, among=None):
        """The seeded label split of ``n_trajectories`` trajectories (a :class:`LabelSplit`),
        chosen among the trajectory indices ``among`` (all by default)."""
        from identlam.data.labels import LabelSplit

        return LabelSplit(self, n_trajectories, seed, among)

    def close(self) -> None:
        self._store.close()

    def __enter__(self) -> "Dataset":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __repr__(self) -> str:
        return (
            f"Dataset('{self.path}', env_id={self.env_id!r}, {self.n_trajectories} trajectories, "
            f"{self.n_transitions} transitions, obs {self.obs_shape} {self.obs_dtype.name}, "
            f"{self.action_space} actions, {'in memory' if self.in_memory else 'lazy'})"
        )


def _available_memory() -> int:
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return 4 * MEMORY_BUDGET


def _plain(value: Any) -> Any:
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    return value


def _read_attrs(path: Path, f: h5py.File) -> tuple[dict, Layout, str]:
    attrs = {key: _plain(value) for key, value in f.attrs.items()}
    for key in JSON_ATTRS:
        if key in attrs:
            try:
                attrs[key] = json.loads(attrs[key]) if isinstance(attrs[key], str) else attrs[key]
            except json.JSONDecodeError as e:
                raise DatasetError(f"{path}: attribute '{key}': not valid JSON ({e.msg})") from None
    if "format" in attrs:
        if attrs["format"] != FORMAT:
            raise DatasetError(
                f"{path}: attribute 'format' is {attrs['format']!r}; this identlam reads {FORMAT!r} and LAOM files"
            )
        return attrs, check_file_attrs(str(path), attrs), FORMAT
    # LAOM layout: the env is named by the DCS attributes and the action space is continuous.
    for key in ("domain_name", "task_name"):
        if not isinstance(attrs.get(key), str):
            raise DatasetError(
                f"{path}: attribute '{key}': missing; a file without 'format' is read as a LAOM file, "
                f"which names its domain_name and task_name"
            )
    attrs["env_id"] = f"dcs/{attrs['domain_name']}-{attrs['task_name']}"
    attrs["action_space"] = "continuous"
    first = f.get("0")
    obs = first.get("obs") if isinstance(first, h5py.Group) else None
    attrs["obs_kind"] = "vector" if isinstance(obs, h5py.Dataset) and obs.ndim == 2 else "image"
    return attrs, Layout(action_space="continuous", obs_kind=attrs["obs_kind"]), "laom"
