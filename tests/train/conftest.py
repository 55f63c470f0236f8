"""Session datasets for the pipeline tests (see train_fixtures.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from train_fixtures import write_handmade


@pytest.fixture(scope="session")
def vector_data(tmp_path_factory) -> Path:
    return write_handmade(tmp_path_factory.mktemp("data") / "pm.h5")


@pytest.fixture(scope="session")
def image_data(tmp_path_factory) -> Path:
    return write_handmade(tmp_path_factory.mktemp("data") / "pm_img.h5", n_traj=4, T=30, obs="image")
