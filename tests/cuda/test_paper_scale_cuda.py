"""Every preset at paper scale on CUDA under bf16 autocast (marked ``cuda``; skipped without a GPU).

Run on a GPU machine with ``python -m pytest -m cuda -s tests/cuda`` (``-s`` shows the
throughput lines). The CPU test at the bottom runs the same helper at tiny sizes, so this
module is exercised wherever the fast suite runs.
"""

from __future__ import annotations

import math

import pytest
import torch

from identlam.presets import PRESET_NAMES
from paper_scale import TINY, make_image_data, train_steps

STEPS = 5
needs_cuda = pytest.mark.skipif(not torch.cuda.is_available(),
                                reason="no CUDA device: torch.cuda.is_available() is false")


@pytest.fixture(scope="module")
def image_data_64(tmp_path_factory):
    # 64 px frames, episodes long enough for LAOM's K = 10 future frame and F = 3 stacked frames
    return make_image_data(tmp_path_factory.mktemp("cuda") / "pointmass64.h5", episodes=64, steps=40, image_size=64)


def _check(result: dict, steps: int) -> None:
    assert len(result["losses"]) == steps
    assert all(math.isfinite(x) for x in result["losses"]), result["losses"]
    assert result["param_change"] > 0, "training did not move any parameter"


@pytest.mark.cuda
@needs_cuda
@pytest.mark.parametrize("name", PRESET_NAMES)
def test_paper_scale_preset_trains_on_cuda_with_bf16(name, image_data_64, tmp_path):
    result = train_steps(name, image_data_64, tmp_path, scale="paper", device="cuda", steps=STEPS)
    _check(result, STEPS)
    print(f"\n{name}: paper scale, batch {result['batch_size']}, {result['steps_per_s']:.2f} updates/s "
          f"({result['transitions_per_s']:.0f} transitions/s), losses {[round(x, 4) for x in result['losses']]}")


@pytest.fixture(scope="module")
def image_data_tiny(tmp_path_factory):
    return make_image_data(tmp_path_factory.mktemp("cpu") / "pointmass16.h5", episodes=8, steps=16, image_size=16)


@pytest.mark.parametrize("name", PRESET_NAMES)
def test_same_path_runs_on_cpu_at_tiny_sizes(name, image_data_tiny, tmp_path):
    result = train_steps(name, image_data_tiny, tmp_path, scale="paper", device="cpu", steps=2, overrides=TINY)
    _check(result, 2)
    assert result["device"] == "cpu" and result["batch_size"] == 8
