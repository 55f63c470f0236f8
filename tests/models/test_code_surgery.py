"""Label-free code operations: the symmetric start of the forward model."""

import pytest
import torch
from torch import nn

from identlam.models.code_surgery import output_layer, symmetric_start
from identlam.models.encoders import ConditionedMLP
from identlam.models.pixel_fdm import PixelFDM


def test_symmetric_start_makes_every_code_predict_the_same():
    torch.manual_seed(0)
    fdm = ConditionedMLP(4, 8, 32, 4)
    state = torch.randn(16, 4)
    codes = torch.randn(3, 8)
    before = torch.stack([fdm(state, c.expand(16, -1)) for c in codes])
    assert (before[0] - before[1]).abs().max() > 1e-3  # distinct codes differ at a random init
    symmetric_start(fdm)
    after = torch.stack([fdm(state, c.expand(16, -1)) for c in codes])
    assert torch.equal(after, torch.zeros_like(after))


def test_zeroed_output_layer_still_learns():
    torch.manual_seed(0)
    fdm = ConditionedMLP(4, 8, 32, 4)
    layer = symmetric_start(fdm)
    loss = (fdm(torch.randn(8, 4), torch.randn(8, 8)) - 1.0).pow(2).mean()
    loss.backward()
    assert layer.weight.grad.abs().sum() > 0 and layer.bias.grad.abs().sum() > 0


def test_output_layer_of_the_pixel_fdm_is_its_last_conv():
    fdm = PixelFDM(3, 3, 16, 16, 8, (8, 8), bounded=False)
    assert output_layer(fdm) is fdm.final[-1]


def test_module_without_layers_is_rejected():
    with pytest.raises(TypeError, match="ReLU"):
        symmetric_start(nn.ReLU())
