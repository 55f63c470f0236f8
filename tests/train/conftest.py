"""Session datasets for the pipeline tests (see train_fixtures.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from train_fixtures import make_pointmass


@pytest.fixture(scope="session", autouse=True)
def normalizer_cache(tmp_path_factory) -> Iterator[Path]:
    """Keep the BC-on-all-actions return cache out of the home directory (session-wide, so
    module-scoped runs see it too)."""
    path = tmp_path_factory.getbasetemp() / "identlam-cache"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("IDENTLAM_CACHE", str(path))
        yield path


@pytest.fixture(scope="session")
def vector_data(tmp_path_factory) -> Path:
    return make_pointmass(tmp_path_factory.mktemp("data") / "pm.h5", distractor="iid")


@pytest.fixture(scope="session")
def image_data(tmp_path_factory) -> Path:
    return make_pointmass(tmp_path_factory.mktemp("data") / "pm_img.h5", episodes=4, steps=30, obs="image",
                          image_size=16)
