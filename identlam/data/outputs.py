"""Where a dataset is written: output-path checks, one writer per dataset, stale temporaries.

``write_dataset`` writes through ``identlam.io.atomic_path`` (a temporary next to the target,
renamed on success), so a killed write leaves the previous file, or none, plus at worst its
temporary ``.NAME.XXXXXXXX.tmp``. While writing it holds ``.NAME.lock`` next to the target
(``fcntl.flock``; the kernel drops it when the process dies): a second writer of the same path
stops with one line instead of racing the first, and the holder removes the temporaries that
earlier, interrupted writes of this one target left behind. Other files in the directory,
including other datasets' temporaries, are never touched.
"""

from __future__ import annotations

import contextlib
import os
import re
from pathlib import Path
from typing import Iterator

from identlam.errors import DatasetError
from identlam.io import LockBusy, cannot_create_in, take_flock


def check_output_path(path: str | Path) -> Path:
    """Refuse, before any work, a dataset path that cannot be written: an existing directory,
    an ancestor that is a file, or a location this user cannot write."""
    target = Path(path)
    if target.is_dir():
        raise DatasetError(f"{target}: is a directory; give the path of the .h5 file to write, e.g. {target / 'data.h5'}")
    ancestor = target.parent
    while not ancestor.exists() and ancestor.parent != ancestor:
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        raise DatasetError(f"{target}: cannot be written: '{ancestor}' is a file, not a directory")
    why = cannot_create_in(ancestor)
    if why:
        raise DatasetError(f"{target}: cannot be written: directory '{ancestor}' is not writable ({why})")
    return target


def lock_path(target: Path) -> Path:
    return target.parent / f".{target.name}.lock"


def stale_temporaries(target: Path) -> list[Path]:
    """Temporaries of interrupted atomic writes of ``target`` (``.NAME.XXXXXXXX.tmp``)."""
    pattern = re.compile(rf"^\.{re.escape(target.name)}\.[A-Za-z0-9_]{{8}}\.tmp$")
    if not target.parent.is_dir():
        return []
    return [p for p in target.parent.iterdir() if pattern.match(p.name) and p.is_file()]


@contextlib.contextmanager
def dataset_lock(target: Path) -> Iterator[None]:
    """Hold the lock of ``target`` for one write; another holder stops this one with one line.
    On entry, temporaries of earlier interrupted writes of ``target`` are removed."""
    lock = lock_path(target)
    while True:
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            fh = take_flock(lock, note=f"pid {os.getpid()}")
        except LockBusy as busy:
            raise DatasetError(f"{target}: is being written by {busy.holder} (lock {lock}); wait for it to finish "
                               "or write another path") from None
        except OSError as e:
            raise DatasetError(f"{target}: cannot be written ({e.strerror or e})") from None
        # The previous holder unlinks the lock file as it leaves: a lock taken on an unlinked
        # file guards nothing, so take it again on the file now at that path.
        try:
            same = os.stat(lock).st_ino == os.fstat(fh.fileno()).st_ino
        except FileNotFoundError:
            same = False
        if same:
            break
        fh.close()
    try:
        for tmp in stale_temporaries(target):
            tmp.unlink(missing_ok=True)
        yield
    finally:
        lock.unlink(missing_ok=True)
        fh.close()  # releases the lock
