"""The Ray backend gives the local backend's table on the tiny sweep (a local Ray instance)."""

from __future__ import annotations

import pandas as pd
import pytest

from identlam.runner import load_experiment, load_results, run_experiment

ray = pytest.importorskip("ray")


def test_ray_backend_gives_the_local_table(tiny_reference, tiny_toml, tmp_path):
    _, reference = tiny_reference
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        status = run_experiment(load_experiment(tiny_toml), tmp_path / "store", backend="ray", workers=2,
                                echo=lambda _: None)
    finally:
        ray.shutdown()
    assert status["failed"] == {} and status["ran"] == 4
    pd.testing.assert_frame_equal(load_results(tmp_path / "store"), reference)
