"""Validate a dataset file's trajectory groups, and load them, at HDF5's per-object cost.

Which checks run when (``open_dataset``):

* At open, from metadata only, for every group: names ``'0'..'n-1'`` without gaps, each a
  group; the required fields present and arrays; dtypes and number of axes; equal step counts
  across fields and at least 2 steps; per-step shapes and the set of optional fields equal to
  group 0's; continuous actions as wide as ``action_dim``.
* At open, values (finite floats of magnitude at most ``schema.MAX_ABS``, discrete actions in
  range): a file held in memory is checked in one vectorised pass over its loaded arrays; a file
  read lazily has its non-observation fields (actions, states, exo, rewards) read and checked
  in blocks of at most ``scan_bytes``.
* Float observations of a lazily read file are checked block by block as they are read
  (``store.H5Store``): scanning them at open would read the whole file. uint8 images are never
  scanned, since every byte is a valid pixel.

Cost: group 0 is checked field by field with h5py's high-level API and fixes the layout. Every
other group is compared with group 0 through h5py's low-level API: one open, shape and type
comparison per field, a handful of calls per trajectory. Only a group that differs runs the
full per-field check, which raises the one-line message naming file, group, field, shape and
dtype. No per-group Python object outlives the pass, so memory does not grow with the file
beyond the lengths array (and the arrays themselves when they are loaded).
"""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np

from identlam.data.schema import ALL_FIELDS, Layout, check_group, check_values, first_bad_row
from identlam.errors import DatasetError


def group_count(path: Path, f: h5py.File) -> int:
    """The number of trajectory groups; raises unless they are named '0'..'n-1' without gaps."""
    keys = list(f.keys())
    if not keys:
        raise DatasetError(f"{path}: no trajectory groups (expected groups '0', '1', ...)")
    for key in keys:
        if not (key.isdigit() and (key == "0" or not key.startswith("0"))):
            raise DatasetError(f"{path}: group '{key}': unexpected name; trajectory groups are named '0', '1', ...")
    numbers = np.sort(np.fromiter((int(k) for k in keys), dtype=np.int64, count=len(keys)))
    expected = np.arange(len(keys))
    if not np.array_equal(numbers, expected):
        missing = int(np.setdiff1d(expected, numbers)[0])
        raise DatasetError(
            f"{path}: group '{missing}': missing; {len(keys)} groups must be named '0'..'{len(keys) - 1}' without gaps"
        )
    return len(keys)


def group_fields(where: str, group: h5py.Group) -> dict[str, tuple]:
    """``{field: (shape, dtype)}`` of the known fields of one group (high-level, for messages)."""
    fields = {}
    for name in ALL_FIELDS:
        if name in group:
            item = group[name]
            if not isinstance(item, h5py.Dataset):
                raise DatasetError(f"{where} field '{name}': is a group, expected an array")
            fields[name] = (item.shape, item.dtype)
    return fields


class _Reference:
    """Group 0's signature: field names, HDF5 types, per-step shapes, number of links."""

    def __init__(self, gid, fields: dict):
        self.names = tuple(fields)
        self.bnames = tuple(n.encode() for n in self.names)
        ids = [h5py.h5d.open(gid, n) for n in self.bnames]
        self.types = [d.get_type() for d in ids]
        self.steps = [d.shape[1:] for d in ids]
        self.n_links = gid.get_num_objs()
        # With links beyond the known fields, an equal link count no longer proves the same
        # set of optional fields: every group then takes the full check.
        self.exact = self.n_links == len(self.names)

    def match(self, gid) -> tuple[int, list] | None:
        """(T, dataset ids) when the group has group 0's layout exactly, else None."""
        if not self.exact or gid.get_num_objs() != self.n_links:
            return None
        ids, T = [], None
        for name, rtype, rstep in zip(self.bnames, self.types, self.steps):
            try:
                d = h5py.h5d.open(gid, name)
            except KeyError:
                return None
            shape = d.shape
            if T is None:
                T = shape[0]
            if shape[0] != T or shape[1:] != rstep or d.get_type() != rtype:
                return None
            ids.append(d)
        return (T, ids) if T >= 2 else None


class _Loaded:
    """One field of every trajectory, concatenated along time in a buffer that grows."""

    def __init__(self, row: tuple, dtype: np.dtype, capacity: int):
        self.array = np.empty((max(capacity, 1), *row), dtype)
        self.size = 0

    def slot(self, T: int) -> np.ndarray:
        if self.size + T > len(self.array):
            grown = np.empty((max(self.size + T, len(self.array) * 3 // 2), *self.array.shape[1:]), self.array.dtype)
            grown[: self.size] = self.array[: self.size]
            self.array = grown
        view = self.array[self.size : self.size + T]
        self.size += T
        return view

    def result(self) -> np.ndarray:
        return self.array[: self.size] if self.size == len(self.array) else self.array[: self.size].copy()


class _Scanner:
    """Value checks of one field of a lazily read file, in blocks of at most ``scan_bytes``."""

    def __init__(self, path: Path, f: h5py.File, name: str, row: tuple, dtype: np.dtype, layout: Layout, scan_bytes: int):
        self.path, self.f, self.name, self.layout = path, f, name, layout
        row_bytes = max(1, int(np.prod(row, dtype=np.int64)) * dtype.itemsize)
        self.capacity = max(1, scan_bytes // row_bytes)
        self.buf = np.empty((self.capacity, *row), dtype)
        self.pos, self.groups, self.starts = 0, [], []

    def add(self, g: int, T: int, dsid) -> None:
        if T > self.capacity:
            self.flush()
            self._scan_large(g)
            return
        if self.pos + T > self.capacity:
            self.flush()
        dsid.read(h5py.h5s.ALL, h5py.h5s.ALL, self.buf[self.pos : self.pos + T])
        self.groups.append(g)
        self.starts.append(self.pos)
        self.pos += T

    def flush(self) -> None:
        block = self.buf[: self.pos]
        row = first_bad_row(self.name, block, self.layout) if self.pos else None
        if row is not None:
            i = int(np.searchsorted(self.starts, row, side="right")) - 1
            end = self.starts[i + 1] if i + 1 < len(self.starts) else self.pos
            part = block[self.starts[i] : end]
            check_values(f"{self.path}: group '{self.groups[i]}'", self.name, part, 0, part.shape, self.layout)
        self.pos, self.groups, self.starts = 0, [], []

    def _scan_large(self, g: int) -> None:
        dset = self.f[str(g)][self.name]
        for s in range(0, dset.shape[0], self.capacity):
            check_values(f"{self.path}: group '{g}'", self.name, dset[s : s + self.capacity], s, dset.shape, self.layout)


def scan_groups(path: Path, f: h5py.File, n: int, layout: Layout, load_bytes: float | None, scan_bytes: int):
    """Check every group; return ``(lengths, fields, arrays)``.

    ``load_bytes``: load every field into memory when the arrays take at most this many bytes
    (``None``: never); loading stops, and the file is read lazily, as soon as they exceed it.
    ``arrays`` is ``{field: concatenated array}`` when loaded, else None.
    """
    lengths = np.empty(n, np.int64)
    group0 = f["0"]
    if not isinstance(group0, h5py.Group):
        raise DatasetError(f"{path}: group '0': is a dataset, expected a group of fields")
    fields0 = group_fields(f"{path}: group '0'", group0)
    lengths[0] = check_group(f"{path}: group '0'", fields0, layout)
    ref = _Reference(group0.id, fields0)
    dtypes = {name: np.dtype(layout.expected(name)[0]) for name in ref.names}
    rows = {name: tuple(int(s) for s in shape[1:]) for name, (shape, _) in fields0.items()}
    scanned = [name for name in ref.names if not (name == "obs" and layout.obs_kind == "image")]
    step_bytes = sum(int(np.prod(rows[k], dtype=np.int64)) * dtypes[k].itemsize for k in ref.names)
    loading = load_bytes is not None and n * int(lengths[0]) * step_bytes <= load_bytes
    loaded = {k: _Loaded(rows[k], dtypes[k], n * int(lengths[0])) for k in ref.names} if loading else None
    scanners = None if loading else _scanners(path, f, ref.names, rows, dtypes, layout, scan_bytes, scanned)
    total_steps = 0
    for g in range(n):
        name = str(g)
        try:
            gid = h5py.h5g.open(f.id, name.encode())
        except ValueError:
            raise DatasetError(f"{path}: group '{name}': is a dataset, expected a group of fields") from None
        matched = ref.match(gid) if g else None
        if matched is None:
            if g:
                where = f"{path}: group '{name}'"
                check_group(where, group_fields(where, f[name]), layout)
            ids = [h5py.h5d.open(gid, k) for k in ref.bnames]
            T = ids[0].shape[0]
        else:
            T, ids = matched
        lengths[g] = T
        total_steps += T
        if loading and total_steps * step_bytes > load_bytes:
            # The lengths grew past the budget: check what was loaded, then read lazily.
            _check_loaded(path, loaded, lengths[:g], scanned, layout, scan_bytes)
            loading, loaded = False, None
            scanners = _scanners(path, f, ref.names, rows, dtypes, layout, scan_bytes, scanned)
            for done in range(g):
                for k, s in scanners.items():
                    s.add(done, int(lengths[done]), h5py.h5d.open(f.id, f"{done}/{k}".encode()))
        for k, d in zip(ref.names, ids):
            if loading:
                d.read(h5py.h5s.ALL, h5py.h5s.ALL, loaded[k].slot(T))
            elif k in scanners:
                scanners[k].add(g, T, d)
    if loading:
        arrays = {k: v.result() for k, v in loaded.items()}
        _check_loaded(path, arrays, lengths, scanned, layout, scan_bytes)
        return lengths, ref.names, arrays
    for s in scanners.values():
        s.flush()
    return lengths, ref.names, None


def _scanners(path, f, names, rows, dtypes, layout, scan_bytes, scanned) -> dict[str, _Scanner]:
    # Observations of a lazy file are checked as they are read, not here.
    return {k: _Scanner(path, f, k, rows[k], dtypes[k], layout, scan_bytes) for k in names if k in scanned and k != "obs"}


def _check_loaded(path, arrays, lengths, scanned, layout, scan_bytes) -> None:
    """One vectorised pass per field over loaded arrays, in blocks of ``scan_bytes`` rows' worth."""
    offsets = np.concatenate([[0], np.cumsum(lengths)])
    for k in scanned:
        arr = arrays[k].array[: int(offsets[-1])] if isinstance(arrays[k], _Loaded) else arrays[k]
        row_bytes = max(1, arr[0].nbytes) if len(arr) else 1
        step = max(1, scan_bytes // row_bytes)
        for s in range(0, len(arr), step):
            row = first_bad_row(k, arr[s : s + step], layout)
            if row is not None:
                g = int(np.searchsorted(offsets, s + row, side="right")) - 1
                part = arr[offsets[g] : offsets[g + 1]]
                check_values(f"{path}: group '{g}'", k, part, 0, part.shape, layout)
