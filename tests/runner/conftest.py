"""The tiny experiment's uninterrupted run, shared by the runner tests."""

from __future__ import annotations

from pathlib import Path

import pytest
from runner_fixtures import TINY, write_toml


@pytest.fixture(scope="session")
def tiny_toml(tmp_path_factory) -> Path:
    return write_toml(tmp_path_factory.mktemp("exp"), TINY)


@pytest.fixture(scope="session")
def tiny_reference(tiny_toml, tmp_path_factory):
    """The tiny sweep run once, uninterrupted, with two local workers: (store, table)."""
    from identlam.runner import load_experiment, load_results, run_experiment

    out = tmp_path_factory.mktemp("reference")
    status = run_experiment(load_experiment(tiny_toml), out, workers=2, echo=lambda _: None)
    assert status["failed"] == {}
    return out, load_results(out)
