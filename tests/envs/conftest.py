"""Fixtures for the environment-interface tests."""

from __future__ import annotations

import pytest

import identlam.cli


@pytest.fixture
def cli_main():
    """The `identlam` command's entry point: main(argv) -> exit status."""
    return identlam.cli.main
