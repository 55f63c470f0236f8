"""The piecewise IDM (``model.idm_cells``) through the real training path on CUDA with bf16 autocast
(marked ``cuda``; skipped without a GPU), and the same helper at tiny sizes on CPU."""

from __future__ import annotations

import math

import pytest
import torch

from paper_scale import TINY, make_image_data, train_steps

CELLS = ("model.idm_cells=16",)


@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device: torch.cuda.is_available() is false")
def test_cells_train_at_paper_scale_on_cuda(tmp_path):
    data = make_image_data(tmp_path / "pointmass64.h5", episodes=64, steps=40, image_size=64)
    result = train_steps("lapo-entropy", data, tmp_path, scale="paper", device="cuda", steps=5, overrides=CELLS)
    assert len(result["losses"]) == 5 and all(math.isfinite(x) for x in result["losses"])
    assert result["param_change"] > 0


def test_cells_take_the_same_path_on_cpu_at_tiny_sizes(tmp_path):
    data = make_image_data(tmp_path / "pointmass16.h5", episodes=8, steps=16, image_size=16)
    result = train_steps("lapo-entropy", data, tmp_path, scale="paper", device="cpu", steps=2,
                         overrides=(*TINY, *CELLS))
    assert len(result["losses"]) == 2 and all(math.isfinite(x) for x in result["losses"])
    assert result["param_change"] > 0 and result["device"] == "cpu"
