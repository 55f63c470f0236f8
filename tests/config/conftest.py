"""A small dataset for the command-line tests of the config."""

from __future__ import annotations

from pathlib import Path

import pytest
from train_fixtures import make_pointmass


@pytest.fixture(scope="session")
def vector_data(tmp_path_factory) -> Path:
    return make_pointmass(tmp_path_factory.mktemp("data") / "pm.h5", distractor="iid")
