"""Fixtures for the data tests."""

from __future__ import annotations

import numpy as np
import pytest

import identlam.cli

from data_helpers import file_attrs, numpy_trajectory
from identlam.data import write_dataset


@pytest.fixture
def small_dataset(tmp_path):
    """(path, trajectories): 7 image trajectories of lengths 2..15, discrete actions, exo and rewards."""
    rng = np.random.default_rng(0)
    lengths = [9, 2, 15, 5, 11, 3, 8]
    trajs = [numpy_trajectory(T, rng) for T in lengths]
    path = write_dataset(tmp_path / "small.h5", trajs, file_attrs())
    return path, trajs


@pytest.fixture
def cli_main():
    """The `identlam` command's entry point: main(argv) -> exit status."""
    return identlam.cli.main
