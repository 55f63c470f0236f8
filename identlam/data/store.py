"""Where a dataset's arrays live: in memory, or in the HDF5 file, read on demand.

Both stores answer one question: the rows ``idx[b, j]`` of trajectory ``traj[b]`` of a field,
as one array ``(B, J, *row)``. The HDF5 store turns a batch of such requests into a read plan:
requests are grouped by trajectory, sorted by time, and requests whose rows lie within one chunk
of each other are merged into a single contiguous slice, so each chunk is read (and decompressed)
once per batch and HDF5 only ever sees simple hyperslabs.
"""

from __future__ import annotations

from collections import OrderedDict
from pathlib import Path

import h5py
import numpy as np

# Per-dataset HDF5 chunk cache: none. A batch reads each chunk once (the plan merges requests
# within a chunk of each other), so a cache saves nothing: benchmarks/data.py measured the same
# window throughput with 0 and 1 MiB per dataset, plain or lzf. Without it, memory does not grow
# with the number of open trajectories (HDF5 then reads uncompressed selections directly).
CHUNK_CACHE_BYTES = 0
CHUNK_CACHE_SLOTS = 1009
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

    def close(self) -> None:
        self.arrays = {}


class H5Store:
    """Reads fields lazily from an open HDF5 file."""

    def __init__(self, path: Path, lengths: np.ndarray, fields: set[str], group_names: list[str]):
        self.path = path
        self.lengths = lengths
        self.fields = fields
        self.group_names = group_names
        self.file = h5py.File(path, "r", rdcc_nbytes=CHUNK_CACHE_BYTES, rdcc_nslots=CHUNK_CACHE_SLOTS)
        self._open: OrderedDict[tuple[str, int], h5py.Dataset] = OrderedDict()

    def has(self, name: str) -> bool:
        return name in self.fields

    def dataset(self, name: str, i: int) -> h5py.Dataset:
        key = (name, int(i))
        dset = self._open.get(key)
        if dset is None:
            dset = self.file[self.group_names[i]][name]
            self._open[key] = dset
            if len(self._open) > OPEN_DATASETS:
                self._open.popitem(last=False)
        else:
            self._open.move_to_end(key)
        return dset

    def trajectory(self, name: str, i: int) -> np.ndarray:
        return self.dataset(name, i)[()]

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
        return out

    def close(self) -> None:
        self._open.clear()
        if self.file.id.valid:
            self.file.close()
