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


def test_fdm_zero_init_switch_gives_every_code_the_same_error_at_step_zero():
    from identlam.config import LAMConfig
    from identlam.models import LatentActionModel

    cfg = LAMConfig(hidden_dim=16, embed_dim=8, n_codes=5, predict_delta=True, fdm_zero_init=True)
    lam = LatentActionModel(cfg, (4,), "discrete", n_actions=3, seed=0)
    state, target = torch.randn(6, 4), torch.randn(6, 4)
    errors = lam._per_code_errors(state, target, lam.bottleneck.embedding)
    assert torch.allclose(errors, errors[:, :1].expand_as(errors))
    plain = LatentActionModel(LAMConfig(hidden_dim=16, embed_dim=8, n_codes=5, predict_delta=True), (4,), "discrete",
                              n_actions=3, seed=0)
    spread = plain._per_code_errors(state, target, plain.bottleneck.embedding)
    assert (spread.max(1).values - spread.min(1).values).min() > 1e-3
