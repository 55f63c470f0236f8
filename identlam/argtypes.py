"""argparse ``type=`` checks shared by every subcommand: a bad value is refused while parsing,
before any work starts, with one line naming the option (``identlam CMD: error: argument ...``)."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from identlam.errors import IdentlamError
from identlam.io import check_writable_location


def _int(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None


def positive_int(text: str) -> int:
    value = _int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {value}")
    return value


def thread_count(text: str) -> int:
    """A torch thread count: at least 1, at most the machine's cores (more never helps, and
    torch crashes outright on absurd counts)."""
    value = positive_int(text)
    cores = os.cpu_count() or 1
    if value > cores:
        raise argparse.ArgumentTypeError(f"must be <= {cores} (the cores of this machine), got {value}")
    return value


SEED_MAX = 2**32 - 1  # numpy, scikit-learn and the run config all take seeds in [0, 2**32)


def seed(text: str) -> int:
    value = _int(text)
    if not 0 <= value <= SEED_MAX:
        raise argparse.ArgumentTypeError(f"must be in [0, {SEED_MAX}], got {value}")
    return value


def nonneg_int(text: str) -> int:
    value = _int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0, got {value}")
    return value


def field_int(field: str, minimum: int):
    """An int option that sets config field ``field``: the error names both."""

    def parse(text: str) -> int:
        value = _int(text)
        if value < minimum:
            raise argparse.ArgumentTypeError(f"config key '{field}' must be >= {minimum}, got {value}")
        return value

    parse.__name__ = field  # argparse names the type in some messages
    return parse


def input_file(text: str) -> Path:
    p = Path(text)
    if p.is_dir():
        raise argparse.ArgumentTypeError(f"'{p}' is a directory, not a file")
    if not p.is_file():
        raise argparse.ArgumentTypeError(f"'{p}' does not exist")
    return p


def existing_dir(text: str) -> Path:
    p = Path(text)
    if p.exists() and not p.is_dir():
        raise argparse.ArgumentTypeError(f"'{p}' is a file, not a directory")
    if not p.is_dir():
        raise argparse.ArgumentTypeError(f"'{p}' does not exist")
    return p


def output_dir(text: str) -> Path:
    """A directory to create or reuse: not a file, under a writable location."""
    p = Path(text)
    if p.exists() and not p.is_dir():
        raise argparse.ArgumentTypeError(f"'{p}' is a file, not a directory")
    return _writable(p)


def output_file(text: str) -> Path:
    """A file to write (atomically): not a directory, under a writable location."""
    p = Path(text)
    if p.is_dir():
        raise argparse.ArgumentTypeError(f"'{p}' is a directory, not a file")
    return _writable(p)


def _writable(p: Path) -> Path:
    try:
        return check_writable_location(p, "output")
    except IdentlamError as err:
        raise argparse.ArgumentTypeError(str(err)) from None
