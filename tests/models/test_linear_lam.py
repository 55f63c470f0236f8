"""The linear latent action model: linear heads (model.head_layers = 0) and the linear-lam preset."""

import dataclasses

import numpy as np
import pytest
import torch
from torch import nn

from identlam.metrics import linear_probe
from identlam.models import LatentActionModel
from identlam.models.encoders import ConditionedMLP
from identlam.presets import get_preset

D, A = 8, 2


def _model(**overrides) -> LatentActionModel:
    cfg = dataclasses.replace(get_preset("linear-lam").model, **overrides)
    return LatentActionModel(cfg, (D,), "continuous", action_dim=A, seed=0)


def _idm(model, o, o2):
    return model.label(o, o2)[0]


@torch.no_grad()
def _additive_gap(f, x, y) -> float:
    zero = f(torch.zeros_like(x))
    return float(((f(x + y) - zero) - (f(x) - zero) - (f(y) - zero)).abs().max())


def test_linear_lam_preset_has_only_affine_layers():
    model = _model()
    assert model.cfg.head_layers == 0 and model.cfg.mlp_layers == 0 and model.cfg.bottleneck == "none"
    from identlam.models.bottlenecks.quantizers import ContinuousBottleneck
    from identlam.models.encoders import GatedFusion

    kinds = {type(m) for m in model.modules() if not list(m.children())}
    assert kinds <= {nn.Linear, nn.Identity, ContinuousBottleneck, GatedFusion}, kinds
    assert model.idm_fusion.factors == 0  # concatenation, no products


@pytest.mark.parametrize("layers,linear", [(0, True), (3, False)])
def test_idm_is_additive_exactly_when_the_heads_are_linear(layers, linear):
    model = _model(head_layers=layers, mlp_layers=0 if linear else 2)
    g = torch.Generator().manual_seed(0)
    x, y = torch.randn(32, 2 * D, generator=g), torch.randn(32, 2 * D, generator=g)
    gap = _additive_gap(lambda v: _idm(model, v[:, :D], v[:, D:]), 3 * x, 3 * y)
    assert (gap < 1e-4) if linear else (gap > 1e-2)  # float32 rounding vs a real nonlinearity


@pytest.mark.parametrize("layers,linear", [(0, True), (3, False)])
def test_conditioned_head_is_affine_iff_zero_layers(layers, linear):
    head = ConditionedMLP(5, 3, 16, 4, layers).double()
    g = torch.Generator().manual_seed(1)
    x, y = torch.randn(8, 8, generator=g, dtype=torch.float64), torch.randn(8, 8, generator=g, dtype=torch.float64)
    gap = _additive_gap(lambda v: head(v[:, :5], v[:, 5:]), 3 * x, 3 * y)
    assert (gap < 1e-10) if linear else (gap > 1e-3)


def test_fdm_without_state_reads_only_the_latent():
    model = _model()
    assert model.fdm.out.in_features == model.cfg.latent_dim  # fdm_reads_state = false: no o_t columns
    reading = _model(fdm_reads_state=True)
    assert reading.fdm.out.in_features == D + reading.cfg.latent_dim


def _gaussian(n, rng, q, sigma=0.0):
    o, a = rng.standard_normal((n, D)), rng.standard_normal((n, A))
    o2 = o + a @ q.T + sigma * rng.standard_normal((n, D))
    return [torch.tensor(v, dtype=torch.float32) for v in (o, o2, a)]


def test_short_training_on_noiseless_data_recovers_the_action_with_dz_equal_to_a():
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    q, _ = np.linalg.qr(rng.standard_normal((D, A)))
    model = _model(latent_dim=A)
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    for step in range(400):
        o, o2, _ = _gaussian(256, rng, q)
        out = model.loss({"obs_t": o, "obs_next": o2, "obs_future": o2, "k": torch.ones(256, dtype=torch.int64)}, step, 400)
        opt.zero_grad()
        out.loss.backward()
        opt.step()
    o, o2, a = _gaussian(2000, np.random.default_rng(1), q)
    z = model.label(o, o2)[0].detach().numpy()
    assert linear_probe(a.numpy(), z).score["r2"] > 0.9
    assert linear_probe(o.numpy(), z).score["r2"] < 0.1  # the latent holds the action, not the observation
