"""File writes that survive crashes and concurrent commands.

- Atomic writes: write to a temporary name in the same directory, fsync, then rename. A reader
  never sees a half-written file, and an interrupted write leaves the previous version plus, at
  worst, a temporary ``.NAME.XXXXXXXX.tmp`` that :func:`sweep_temp_files` removes on the next run.
  Files get the permissions of the user's umask (``mkstemp`` alone would make them owner-only).
- :func:`directory_lock`: one writer per directory (``fcntl.flock`` on ``DIR/.lock``). The kernel
  drops the lock when its process dies, so a crashed command never blocks the next one.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import sys
import tempfile
from pathlib import Path
from typing import Any, Iterator

from identlam.errors import IdentlamError

# mkstemp's names: "." + target name + "." + 8 random characters + ".tmp"
_TEMP_NAME = re.compile(r"^\..+\.[A-Za-z0-9_]{8}\.tmp$")
LOCK_NAME = ".lock"


def current_umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


@contextlib.contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; on success it replaces ``path`` atomically."""
    target = Path(path)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    except (FileExistsError, NotADirectoryError):
        raise IdentlamError(f"cannot write '{target}': a parent of it is a file, not a directory") from None
    except OSError as err:  # permission, read-only file system, /proc, disk full
        raise IdentlamError(f"cannot write '{target}': {err.strerror or type(err).__name__}") from None
    os.fchmod(fd, 0o666 & ~current_umask())
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        with open(tmp_path, "rb+") as fh:
            os.fsync(fh.fileno())
        if target.is_dir():
            raise IdentlamError(f"cannot write '{target}': it is a directory")
        os.replace(tmp_path, target)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


def atomic_write_text(path: str | Path, text: str) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(text)


def atomic_write_json(path: str | Path, data: Any) -> None:
    atomic_write_text(path, json.dumps(data, indent=2, default=json_default) + "\n")


def sweep_temp_files(directory: str | Path) -> list[Path]:
    """Delete the temporaries that interrupted atomic writes left in ``directory`` (not recursive).

    Call it only while holding the directory's lock: a temporary of a running writer looks the same.
    """
    d = Path(directory)
    if not d.is_dir():
        return []
    removed = []
    for p in d.iterdir():
        if _TEMP_NAME.match(p.name) and p.is_file():
            p.unlink(missing_ok=True)
            removed.append(p)
    return removed


def cannot_create_in(directory: str | Path) -> str | None:
    """Why a file cannot be created in ``directory`` (None when it can). It tries, with a
    temporary that it removes at once: permission bits say nothing for root, and /proc, /sys or
    a read-only mount refuse writes whatever they say."""
    try:
        fd, tmp = tempfile.mkstemp(prefix=".probe.", suffix=".tmp", dir=directory)
    except OSError as err:
        return err.strerror or type(err).__name__
    os.close(fd)
    os.unlink(tmp)
    return None


def check_writable_location(path: str | Path, what: str) -> Path:
    """Refuse, before any work, an output path that cannot be written: an ancestor that is a file,
    or a nearest existing ancestor in which nothing can be created."""
    p = Path(path)
    ancestor = p
    while not ancestor.exists():
        if ancestor.parent == ancestor:
            break
        ancestor = ancestor.parent
    if ancestor != p and not ancestor.is_dir():
        raise IdentlamError(f"{what} '{p}': '{ancestor}' is a file, not a directory")
    directory = ancestor if ancestor.is_dir() else ancestor.parent
    why = cannot_create_in(directory)
    if why:
        raise IdentlamError(f"{what} '{p}': '{directory}' is not writable ({why})")
    return p


class LockBusy(Exception):
    """Another process holds the lock; ``holder`` is what it wrote into the lock file."""

    def __init__(self, holder: str):
        super().__init__(holder)
        self.holder = holder


def take_flock(path: str | Path, *, wait: bool = False, note: str | None = None):
    """Open ``path`` (created if needed) and hold an exclusive ``flock`` on it: the one lock
    primitive of the package (run directories, datasets, the normalizer cache).

    Returns the open file; closing it releases the lock, and a process that dies releases it
    too, so a stale lock never blocks. ``wait=False`` raises :class:`LockBusy` naming the holder
    when another process holds it; ``note`` (e.g. ``"pid 123"``) is written into the file for
    the next would-be holder to read. ``OSError`` from creating the file propagates.
    """
    try:
        import fcntl  # POSIX only: imported here so that the rest of the package loads without it
    except ImportError:
        raise IdentlamError(f"'{path}': locking needs fcntl (POSIX), which {sys.platform} lacks") from None
    fh = open(path, "a+")
    try:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
    except BlockingIOError:
        fh.seek(0)
        holder = fh.read().strip() or "another process"
        fh.close()
        raise LockBusy(holder) from None
    if note is not None:
        fh.seek(0)
        fh.truncate()
        fh.write(note + "\n")
        fh.flush()
    return fh


_HELD: dict[str, list] = {}  # lock path -> [open file, depth]: a process may re-enter its own lock


@contextlib.contextmanager
def directory_lock(directory: str | Path, what: str = "directory") -> Iterator[None]:
    """Hold ``DIRECTORY/.lock`` exclusively; another process holding it stops this one with one line."""
    d = Path(directory)
    key = str(d.resolve() / LOCK_NAME)
    if key in _HELD:
        _HELD[key][1] += 1
        try:
            yield
        finally:
            _HELD[key][1] -= 1
        return
    note = f"pid {os.getpid()} ({' '.join(Path(sys.argv[0]).name.split()[:1] + sys.argv[1:3])})"
    try:
        d.mkdir(parents=True, exist_ok=True)
        fh = take_flock(key, note=note)
    except (FileExistsError, NotADirectoryError):
        raise IdentlamError(f"{what} '{d}' is not a directory") from None
    except LockBusy as busy:
        raise IdentlamError(f"{what} '{d}' is in use by {busy.holder}; wait for it to finish, or use another directory") from None
    except OSError as err:
        raise IdentlamError(f"{what} '{d}' is not writable ({err.strerror or type(err).__name__})") from None
    _HELD[key] = [fh, 1]
    try:
        yield
    finally:
        del _HELD[key]
        fh.close()  # closing the descriptor releases the lock


def read_json(path: str | Path, *, what: str = "file", error: type[Exception] = IdentlamError) -> Any:
    """Parse a JSON file; a missing file or bad JSON raises ``error`` with one line naming it."""
    p = Path(path)
    if p.is_dir():
        raise error(f"{what} '{p}' is a directory, not a file")
    if not p.is_file():
        raise error(f"{what} '{p}' does not exist")
    try:
        return json.loads(p.read_text(encoding="utf-8"))
    except json.JSONDecodeError as e:
        raise error(f"{what} '{p}': not valid JSON ({e.msg} at line {e.lineno})") from None
    except UnicodeDecodeError as e:
        raise error(f"{what} '{p}': not UTF-8 text (byte {e.start})") from None
    except PermissionError:
        raise error(f"{what} '{p}': permission denied") from None


def json_default(obj: Any) -> Any:
    """``json.dumps(default=...)`` for numpy scalars and arrays."""
    import numpy as np

    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    raise TypeError(f"not JSON serializable: {type(obj).__name__}")
