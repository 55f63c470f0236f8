"""A cheap fingerprint of a dataset file, recorded by every stage output that derives from it.

It hashes what tells two datasets apart without reading them whole: the file's attributes, the
name, shape and dtype of every array (so every trajectory length), and a few rows sampled from
up to :data:`SAMPLED_GROUPS` trajectories spread over the file (their first, middle and last
row of every field). Two files of the same length generated with other seeds, parameters or
policies differ in it; a copy of a file keeps it. It is not a checksum of every byte (the run
directory keeps one of those, ``config.json``'s ``sha256``).
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import numpy as np

from identlam.errors import DatasetError

SAMPLED_GROUPS = 8
KEY = "data_fingerprint"  # the entry's name in latents.npz and in the stage outputs' meta


def dataset_fingerprint(path: str | Path) -> str:
    """A 16-hex-digit fingerprint of the HDF5 dataset at ``path``."""
    import h5py

    p = Path(path)
    digest = hashlib.sha256()
    try:
        with h5py.File(p, "r") as f:
            _attrs(digest, f.attrs)
            arrays: list[tuple[str, Any]] = []
            f.visititems(lambda name, obj: arrays.append((name, obj)) if isinstance(obj, h5py.Dataset) else None)
            for name, obj in arrays:
                digest.update(f"{name}|{obj.shape}|{obj.dtype.str};".encode())
            groups = sorted({name.rsplit("/", 1)[0] for name, _ in arrays if "/" in name})
            picked = set(np.unique(np.linspace(0, len(groups) - 1, min(SAMPLED_GROUPS, len(groups))).astype(int)).tolist()) \
                if groups else set()
            chosen = {groups[i] for i in picked}
            for name, obj in arrays:
                if ("/" in name and name.rsplit("/", 1)[0] not in chosen) or obj.ndim == 0 or obj.shape[0] == 0:
                    continue
                for row in sorted({0, obj.shape[0] // 2, obj.shape[0] - 1}):
                    digest.update(np.ascontiguousarray(obj[row]).tobytes())
    except (OSError, KeyError, RuntimeError) as e:
        raise DatasetError(f"{p}: cannot be read to fingerprint it ({str(e).splitlines()[0] if str(e) else type(e).__name__})") from None
    return digest.hexdigest()[:16]


def _attrs(digest, attrs) -> None:
    for key in sorted(attrs):
        value = attrs[key]
        digest.update(f"{key}=".encode())
        digest.update(np.asarray(value).tobytes() if not isinstance(value, (str, bytes)) else str(value).encode())


def check_same_data(recorded: str | None, data_path: str | Path, what: str) -> None:
    """Raise one line when ``what`` (e.g. ``--latents X``) recorded a fingerprint other than the dataset's.

    Outputs written before fingerprints existed (``recorded`` None or empty) are accepted.
    """
    if not recorded:
        return
    now = dataset_fingerprint(data_path)
    if str(recorded) != now:
        raise DatasetError(f"{what} was computed on a different dataset than '{data_path}' "
                           f"(fingerprint {recorded} != {now}); pass the dataset it came from")
