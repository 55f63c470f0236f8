"""Validate a dataset file's trajectory groups, and load them, at HDF5's per-object cost.

Which checks run when (``open_dataset``):

* A file loaded into memory is checked completely at open: for every group, from metadata,
  names ``'0'..'n-1'`` without gaps, each a group; the required fields present and arrays;
  dtypes and number of axes; equal step counts across fields and at least 2 steps; per-step
  shapes and the set of optional fields equal to group 0's; continuous actions as wide as
  ``action_dim``; then the values (finite floats of magnitude at most ``schema.MAX_ABS``,
  discrete actions in range) in one vectorised pass over the loaded arrays.
* A file read lazily is checked at open only as far as its geometry needs: the group names,
  group 0 completely (values in blocks of at most ``scan_bytes``), and each other group's
  length from its ``obs`` (one HDF5 open per group; a group whose ``obs`` is missing or shorter
  than 2 steps gets the full check then). Everything else about a trajectory is checked by
  ``TrajectoryChecker`` at the first read of any of its fields (``store.H5Store``): the reads
  open those objects anyway, so the check costs little beside them, and the whole-file pass at
  open, which costs an open of every HDF5 object, goes.
* Float observations of a lazily read file are checked block by block as they are read.
  uint8 images are never scanned, since every byte is a valid pixel.

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


class TrajectoryChecker:
    """The checks a lazily read file defers from opening to the first read of each trajectory:
    every field's presence, dtype and shape against group 0, and the values of the fields that
    opening does not scan (actions, states, exo, rewards; float observations are checked as they
    are read). Raises the same one-line messages as a check at open."""

    def __init__(self, path: Path, f: h5py.File, layout: Layout, names: tuple, scan_bytes: int):
        self.path, self.f, self.layout, self.scan_bytes = path, f, layout, scan_bytes
        self.ref = _Reference(f["0"].id, {k: None for k in names})
        self.values = [k for k in names if k != "obs"]

    def check_many(self, groups) -> None:
        """``check`` for several groups, with one vectorised value pass per field (streaming)."""
        parts = {k: [] for k in self.values}
        for g in groups:
            for name, d in zip(self.ref.names, self._layout(int(g))):
                if name in parts:
                    buf = np.empty(d.shape, np.dtype(self.layout.expected(name)[0]))
                    d.read(h5py.h5s.ALL, h5py.h5s.ALL, buf)
                    parts[name].append(buf)
        for name, blocks in parts.items():
            if blocks and first_bad_row(name, np.concatenate(blocks), self.layout) is not None:
                for g, block in zip(groups, blocks):
                    check_values(f"{self.path}: group '{int(g)}'", name, block, 0, block.shape, self.layout)

    def check(self, g: int) -> None:
        where = f"{self.path}: group '{g}'"
        for name, d in zip(self.ref.names, self._layout(g)):
            if name in self.values:
                check_field_values(where, name, d, self.layout, self.scan_bytes)

    def _layout(self, g: int) -> list:
        """Low-level dataset ids of group ``g``'s fields, after its metadata checks."""
        where = f"{self.path}: group '{g}'"
        try:
            gid = h5py.h5g.open(self.f.id, str(g).encode())
        except ValueError:
            raise DatasetError(f"{where}: is a dataset, expected a group of fields") from None
        matched = self.ref.match(gid)
        if matched is None:
            check_group(where, group_fields(where, self.f[str(g)]), self.layout)
            return [h5py.h5d.open(gid, k) for k in self.ref.bnames]
        return matched[1]


def check_field_values(where: str, name: str, dsid, layout: Layout, scan_bytes: int) -> None:
    """Value checks of one field (a low-level dataset id), in blocks of at most ``scan_bytes``."""
    shape = dsid.shape
    dtype = np.dtype(layout.expected(name)[0])
    row_bytes = max(1, int(np.prod(shape[1:], dtype=np.int64)) * dtype.itemsize)
    step = max(1, scan_bytes // row_bytes)
    if shape[0] <= step:
        block = np.empty(shape, dtype)
        dsid.read(h5py.h5s.ALL, h5py.h5s.ALL, block)
        check_values(where, name, block, 0, shape, layout)
        return
    dset = h5py.Dataset(dsid)
    for s in range(0, shape[0], step):
        check_values(where, name, dset[s : s + step], s, shape, layout)


def _lazy_lengths(path: Path, f: h5py.File, lengths: np.ndarray, first: int, layout: Layout) -> None:
    """Fill ``lengths[first:]`` from each group's ``obs`` shape: one HDF5 open per trajectory.
    A group whose ``obs`` cannot be opened, or is shorter than 2 steps, gets the full check
    now, which raises its message; everything else about the group waits for its first read."""
    fid = f.id
    for g in range(first, len(lengths)):
        try:
            lengths[g] = h5py.h5d.open(fid, f"{g}/obs".encode()).shape[0]
        except (KeyError, ValueError, TypeError, IndexError):
            _full_check(path, f, g, layout)
            raise DatasetError(f"{path}: group '{g}' field 'obs': cannot be read as an array") from None
    for g in np.flatnonzero(lengths[first:] < 2) + first:
        _full_check(path, f, int(g), layout)


def _full_check(path: Path, f: h5py.File, g: int, layout: Layout) -> None:
    where = f"{path}: group '{g}'"
    group = f[str(g)]
    if not isinstance(group, h5py.Group):
        raise DatasetError(f"{where}: is a dataset, expected a group of fields")
    check_group(where, group_fields(where, group), layout)


def scan_groups(path: Path, f: h5py.File, n: int, layout: Layout, load_bytes: float | None, scan_bytes: int):
    """Check the file's groups; return ``(lengths, fields, arrays)``.

    ``load_bytes``: load every field into memory when the arrays take at most this many bytes
    (``None``: never); loading stops, and the file is read lazily, as soon as they exceed it.
    ``arrays`` is ``{field: concatenated array}`` when loaded (every group then fully checked),
    else None: group 0 is then fully checked and every other group only has its length read
    (``TrajectoryChecker`` checks it at its first read).
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
    if load_bytes is None or n * int(lengths[0]) * step_bytes > load_bytes:
        return _open_lazily(path, f, group0, lengths, 1, ref.names, layout, scan_bytes)
    loaded = {k: _Loaded(rows[k], dtypes[k], n * int(lengths[0])) for k in ref.names}
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
        if total_steps * step_bytes > load_bytes:
            # The lengths grew past the budget: read lazily from here on.
            return _open_lazily(path, f, group0, lengths, g + 1, ref.names, layout, scan_bytes)
        for k, d in zip(ref.names, ids):
            d.read(h5py.h5s.ALL, h5py.h5s.ALL, loaded[k].slot(T))
    arrays = {k: v.result() for k, v in loaded.items()}
    _check_loaded(path, arrays, lengths, scanned, layout, scan_bytes)
    return lengths, ref.names, arrays


def _open_lazily(path, f, group0, lengths, first, names, layout, scan_bytes):
    """Group 0's values now, the other groups' lengths from ``first`` on; the rest at first read."""
    for k in names:
        if k != "obs":
            check_field_values(f"{path}: group '0'", k, h5py.h5d.open(group0.id, k.encode()), layout, scan_bytes)
    _lazy_lengths(path, f, lengths, first, layout)
    return lengths, names, None


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
