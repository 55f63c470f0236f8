"""Write a dataset in the identlam-1 format, one trajectory at a time, atomically.

``write_dataset`` streams: each trajectory is checked and written as the iterator yields it, so
generating a dataset never holds more than one trajectory in memory. The file appears under its
final name only when every trajectory has been written; on any error (a bad trajectory, an
exception inside the iterator, Ctrl-C) neither the file nor its temporary copy remains, and an
existing file of the same name is left untouched. A killed write (SIGKILL, power loss) leaves
the old file or none, and the next write of the same path removes its temporary. One process
writes a path at a time (``identlam.data.outputs``); the output path is checked before the
first trajectory is drawn.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

import h5py
import numpy as np

from identlam.data.schema import (
    ALL_FIELDS,
    FORMAT,
    JSON_ATTRS,
    Layout,
    check_file_attrs,
    check_group,
    check_values,
)
from identlam.data.outputs import check_output_path, dataset_lock
from identlam.errors import DatasetError
from identlam.io import atomic_path, json_default

# Target bytes per obs chunk (2 frames of 64 px). Measured with benchmarks/data.py on random
# windows (frame stack 3, K 4): uncompressed, 32 KiB and 128 KiB chunks read equally fast;
# with lzf, 32 KiB chunks read about 1.7x faster than 128 KiB (less decompressed per window).
CHUNK_BYTES = 1 << 15
# Compression of obs. None keeps random-window reads cheapest (lzf about 2x slower per window,
# gzip slower still, for files 20-40x smaller on synthetic sprites); pass compression="lzf" or
# "gzip" to write_dataset to trade read speed for size.
DEFAULT_COMPRESSION: str | None = None
_FLOAT_FIELDS = ("states", "exo", "rewards")


def write_dataset(
    path: str | Path,
    trajectories: Iterable[Any],
    attrs: Mapping[str, Any],
    *,
    compression: str | None = DEFAULT_COMPRESSION,
    chunk_bytes: int = CHUNK_BYTES,
    on_trajectory: Callable[[int, int], None] | None = None,
) -> Path:
    """Write ``trajectories`` to ``path`` (identlam-1) atomically and return the path.

    ``trajectories``: an iterable of mappings or objects (e.g. ``synthetic.Trajectory``) with
    ``obs``, ``actions``, ``states`` and optionally ``exo`` and ``rewards`` (``None`` or an
    ``exo`` of width 0 means absent). Floating fields are stored as float32 and discrete
    actions as int64; any other dtype kind (float actions in a discrete space, float images) is
    rejected. ``attrs``: the file attributes (``env_id``, ``action_space``,
    ``n_actions`` or ``action_dim``, ``obs_kind``; ``seed``, ``generator``, ``assumptions``
    and the DCS attributes when known); dicts and lists are stored as JSON strings.
    ``on_trajectory(index, length)`` is called after each trajectory is written (progress bars).
    """
    file_attrs = _file_attrs(attrs)
    target = check_output_path(path)
    layout = check_file_attrs(str(target), file_attrs)
    count = 0
    with dataset_lock(target), atomic_path(target) as tmp:
        with _file_errors(target), h5py.File(tmp, "w") as f:
            fields = _GroupWriter(compression, chunk_bytes)
            for key, value in file_attrs.items():
                f.attrs[key] = value
            for index, traj in enumerate(trajectories):
                arrays = _trajectory_arrays(traj, f"{target}: trajectory {index}", layout)
                where = f"{target}: group '{index}'"
                T = check_group(where, {k: (v.shape, v.dtype) for k, v in arrays.items()}, layout)
                for name, values in arrays.items():
                    check_values(where, name, values, 0, values.shape, layout)
                with _file_errors(target):
                    fields.write(f, index, arrays)
                count += 1
                if on_trajectory is not None:
                    on_trajectory(index, T)
            if count == 0:
                raise DatasetError(f"{target}: no trajectories to write")
    return target


@contextlib.contextmanager
def _file_errors(target: Path) -> Iterator[None]:
    """HDF5's errors while creating or filling the file (full disk, lost permission) as one line."""
    try:
        yield
    except OSError as e:
        raise DatasetError(f"{target}: cannot be written ({e.strerror or str(e).splitlines()[0]})") from None


def _file_attrs(attrs: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"format": FORMAT}
    for key, value in attrs.items():
        if key == "format":
            continue
        if isinstance(value, (dict, list, tuple)) or key in JSON_ATTRS:
            value = value if isinstance(value, str) else json.dumps(value, default=json_default, sort_keys=True)
        elif isinstance(value, np.generic):
            value = value.item()
        if value is None:
            continue
        out[key] = value
    return out




def _trajectory_arrays(traj: Any, where: str, layout: Layout) -> dict[str, np.ndarray]:
    arrays = {}
    for name in ALL_FIELDS:
        value = traj.get(name) if isinstance(traj, Mapping) else getattr(traj, name, None)
        if value is None:
            continue
        value = np.asarray(value)
        if name == "exo" and value.ndim == 2 and value.shape[1] == 0:
            continue
        arrays[name] = _cast(name, value, where, layout)
    return arrays


def _cast(name: str, value: np.ndarray, where: str, layout: Layout) -> np.ndarray:
    """Convert to the stored dtype when that loses no meaning (float64 -> float32, int32 -> int64)."""
    kind = value.dtype.kind
    if name == "obs" and layout.obs_kind == "image":
        ok, dtype = value.dtype == np.uint8, np.uint8
    elif name == "actions" and layout.action_space == "discrete":
        ok, dtype = kind in "iu", np.int64
    else:
        ok, dtype = kind in "fiu", np.float32
    if not ok:
        raise DatasetError(
            f"{where} field '{name}': dtype {value.dtype.name} cannot be stored as {np.dtype(dtype).name}"
        )
    return np.ascontiguousarray(value, dtype=dtype)


class _GroupWriter:
    """Writes one trajectory group. Group 0 goes through h5py's high-level API; later groups
    reuse its creation properties and types through the low-level API, several times cheaper
    per trajectory for the same file content."""

    def __init__(self, compression: str | None, chunk_bytes: int):
        self.compression, self.chunk_bytes = compression, chunk_bytes
        self.templates: dict[str, tuple] = {}
        self.return_type = None

    def write(self, f: h5py.File, index: int, arrays: dict[str, np.ndarray]) -> None:
        if not self.templates:
            group = f.create_group(str(index))
            for name, values in arrays.items():
                dset = _create_field(group, name, values, self.compression, self.chunk_bytes)
                self.templates[name] = (dset.id.get_create_plist(), dset.id.get_type(), dset.chunks)
            if "rewards" in arrays:
                group.attrs["traj_return"] = float(arrays["rewards"].sum(dtype=np.float64))
                self.return_type = h5py.h5a.open(group.id, b"traj_return").get_type()
            return
        gid = h5py.h5g.create(f.id, str(index).encode())
        for name, values in arrays.items():
            dcpl, tid, chunks = self.templates[name]
            if chunks is not None:
                rows = _chunk_rows(values, self.chunk_bytes)
                if rows != chunks[0]:
                    dcpl = dcpl.copy()
                    dcpl.set_chunk((rows, *values.shape[1:]))
            dsid = h5py.h5d.create(gid, name.encode(), tid, h5py.h5s.create_simple(values.shape), dcpl=dcpl)
            dsid.write(h5py.h5s.ALL, h5py.h5s.ALL, values)
        if "rewards" in arrays:
            attr = h5py.h5a.create(gid, b"traj_return", self.return_type, h5py.h5s.create(h5py.h5s.SCALAR))
            attr.write(np.array(arrays["rewards"].sum(dtype=np.float64)))


def _chunk_rows(values: np.ndarray, chunk_bytes: int) -> int:
    return int(np.clip(chunk_bytes // max(1, values[0].nbytes), 1, len(values)))


def _create_field(group: h5py.Group, name: str, values: np.ndarray, compression: str | None, chunk_bytes: int) -> h5py.Dataset:
    if name != "obs":
        return group.create_dataset(name, data=values)
    # obs is chunked along time only, so a window of consecutive frames touches one or two chunks.
    rows = _chunk_rows(values, chunk_bytes)
    return group.create_dataset(name, data=values, chunks=(rows, *values.shape[1:]), compression=compression)
