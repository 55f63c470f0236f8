"""Where a dataset's arrays live: in memory, or in the HDF5 file, read on demand.

Both stores answer one question: the rows ``idx[b, j]`` of trajectory ``traj[b]`` of a field,
as one array ``(B, J, *row)``. The HDF5 store turns a batch of such requests into a read plan:
requests are grouped by trajectory, sorted by time, and requests whose rows lie within one chunk
of each other are merged into a single contiguous slice, so each chunk is read (and decompressed)
once per batch and HDF5 only ever sees simple hyperslabs.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator
from pathlib import Path

import h5py
import numpy as np

from identlam.data.schema import Layout, check_values, first_bad_row
from identlam.data.validate import TrajectoryChecker

# Per-dataset HDF5 chunk cache: none. A batch reads each chunk once (the plan merges requests
# within a chunk of each other), so a cache saves nothing: benchmarks/data.py measured the same
# window throughput with 0 and 1 MiB per dataset, plain or lzf. Without it, memory does not grow
# with the number of open trajectories (HDF5 then reads uncompressed selections directly).
CHUNK_CACHE_BYTES = 0
CHUNK_CACHE_SLOTS = 1009
# Bytes per block when a whole field is streamed (``blocks``: inspect, transition tables).
BLOCK_BYTES = 8 << 20
# Open h5py datasets kept at once (each may hold a chunk cache).
OPEN_DATASETS = 256


class MemoryStore:
    """All fields of all trajectories concatenated along time, one array per field."""

    def __init__(self, arrays: dict[str, np.ndarray], lengths: np.ndarray):
        self.arrays = arrays
        self.lengths = lengths
        self.offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)

    def has(self, name: str) -> bool:
        return name in self.arrays

    def rows(self, name: str, traj: np.ndarray, idx: np.ndarray) -> np.ndarray:
        return self.arrays[name][self.offsets[traj][:, None] + idx]

    def trajectory(self, name: str, i: int) -> np.ndarray:
        return self.arrays[name][self.offsets[i] : self.offsets[i + 1]]

    def blocks(self, name: str, block_bytes: int | None = None) -> Iterator[tuple[int, int, np.ndarray]]:
        """``(first, stop, rows)``: trajectories ``first .. stop - 1`` of a field, concatenated
        along time, about ``block_bytes`` at a time (views, no copy)."""
        yield from _blocks(self.lengths, self.arrays[name][0].nbytes, block_bytes,
                           lambda a, b: self.arrays[name][self.offsets[a] : self.offsets[b]])

    def close(self) -> None:
        self.arrays = {}


def _blocks(lengths: np.ndarray, row_bytes: int, block_bytes: int, read) -> Iterator[tuple[int, int, np.ndarray]]:
    """Split trajectories into consecutive runs of about ``block_bytes`` and read each run."""
    block_bytes = BLOCK_BYTES if block_bytes is None else block_bytes
    ends = np.cumsum(lengths) * max(1, row_bytes)
    first = 0
    while first < len(lengths):
        base = ends[first - 1] if first else 0
        stop = max(first + 1, int(np.searchsorted(ends, base + block_bytes, side="right")))
        yield first, stop, read(first, stop)
        first = stop


class H5Store:
    """Reads fields lazily from an open HDF5 file. Opening checked group 0 and every group's
    length; the first read of any field of another trajectory checks that trajectory's fields
    (``validate.TrajectoryChecker``) before anything of it is returned. Fields named in
    ``check_on_read`` (float observations) have their values checked as they are read."""

    def __init__(self, path: Path, lengths: np.ndarray, fields: tuple[str, ...], layout: Layout,
                 check_on_read: set[str], scan_bytes: int):
        self.path = path
        self.lengths = lengths
        self.fields = set(fields)
        self.layout = layout
        self.check_on_read = check_on_read
        self.file = h5py.File(path, "r", rdcc_nbytes=CHUNK_CACHE_BYTES, rdcc_nslots=CHUNK_CACHE_SLOTS)
        self._open: OrderedDict[tuple[str, int], h5py.Dataset] = OrderedDict()
        self._checker = TrajectoryChecker(path, self.file, layout, tuple(fields), scan_bytes)
        self._checked = np.zeros(len(lengths), bool)
        self._checked[0] = True  # at open

    def has(self, name: str) -> bool:
        return name in self.fields

    def check(self, i: int) -> None:
        """Check trajectory ``i`` unless done before (a failed check raises again next time)."""
        if not self._checked[i]:
            self._checker.check(int(i))
            self._checked[i] = True

    def dataset(self, name: str, i: int) -> h5py.Dataset:
        key = (name, int(i))
        dset = self._open.get(key)
        if dset is None:
            self.check(i)
            dset = self.file[str(int(i))][name]
            self._open[key] = dset
            if len(self._open) > OPEN_DATASETS:
                self._open.popitem(last=False)
        else:
            self._open.move_to_end(key)
        return dset

    def trajectory(self, name: str, i: int) -> np.ndarray:
        values = self.dataset(name, i)[()]
        if name in self.check_on_read:
            check_values(f"{self.path}: group '{int(i)}'", name, values, 0, values.shape, self.layout)
        return values

    def _check_rows(self, name: str, traj: np.ndarray, idx: np.ndarray, out: np.ndarray) -> None:
        bad = first_bad_row(name, out.reshape(-1, *out.shape[2:]), self.layout)
        if bad is not None:
            b, j = divmod(bad, idx.shape[1])
            step = int(idx[b, j])
            dset = self.dataset(name, int(traj[b]))
            check_values(f"{self.path}: group '{int(traj[b])}'", name, dset[step : step + 1], step, dset.shape, self.layout)

    def rows(self, name: str, traj: np.ndarray, idx: np.ndarray) -> np.ndarray:
        first = self.dataset(name, int(traj[0])) if len(traj) else None
        row_shape = first.shape[1:] if first is not None else ()
        out = np.empty((len(traj), idx.shape[1], *row_shape), dtype=first.dtype if first is not None else np.float32)
        if not len(traj):
            return out
        lo, hi = idx.min(axis=1), idx.max(axis=1) + 1
        order = np.lexsort((lo, traj))
        start = 0
        while start < len(order):
            i = int(traj[order[start]])
            dset = self.dataset(name, i)
            gap = dset.chunks[0] if dset.chunks else 1
            # Extend the slice while the next request of this trajectory starts within a chunk.
            end, s, e = start + 1, lo[order[start]], hi[order[start]]
            while end < len(order) and traj[order[end]] == i and lo[order[end]] <= e + gap:
                e = max(e, hi[order[end]])
                end += 1
            block = dset[s:e]
            members = order[start:end]
            out[members] = block[idx[members] - s]
            start = end
        if name in self.check_on_read:
            self._check_rows(name, traj, idx, out)
        return out

    def blocks(self, name: str, block_bytes: int | None = None) -> Iterator[tuple[int, int, np.ndarray]]:
        """As :meth:`MemoryStore.blocks`, read with one low-level HDF5 read per trajectory into
        one buffer per block; values are checked as for :meth:`trajectory`."""
        first = self.dataset(name, 0)
        row, dtype = first.shape[1:], first.dtype.newbyteorder("=")

        def read(a: int, b: int) -> np.ndarray:
            out = np.empty((int(self.lengths[a:b].sum()), *row), dtype)
            pos = 0
            unchecked = np.flatnonzero(~self._checked[a:b]) + a
            if len(unchecked):
                self._checker.check_many(unchecked)
                self._checked[unchecked] = True
            for i in range(a, b):
                T = int(self.lengths[i])
                dsid = h5py.h5d.open(self.file.id, f"{i}/{name}".encode())
                dsid.read(h5py.h5s.ALL, h5py.h5s.ALL, out[pos : pos + T])
                pos += T
            if name in self.check_on_read and first_bad_row(name, out, self.layout) is not None:
                for i in range(a, b):
                    self.trajectory(name, i)  # raises the message naming the group and step
            return out

        yield from _blocks(self.lengths, int(np.prod(row, dtype=np.int64)) * dtype.itemsize, block_bytes, read)

    def close(self) -> None:
        self._open.clear()
        if self.file.id.valid:
            self.file.close()
