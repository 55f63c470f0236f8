"""The worked example of docs/bottlenecks.md: a new bottleneck in one module, registered, trained.

``BinaryBottleneck`` quantizes each latent unit to -1 or +1 with a straight-through gradient
(2**bits codes). Registering it makes ``model.bottleneck = "binary"`` a valid config value; the
model trains with it unchanged, and it passes the same contract as the built-in bottlenecks.
"""

from __future__ import annotations

import pytest
import torch
from bottleneck_contract import IMG, VEC, check_all
from lam_batches import make_batch, tiny_config

from identlam.config import apply_overrides, validate
from identlam.models import LatentActionModel
from identlam.models.bottlenecks import Bottled, Bottleneck
from identlam.models.factory import register_bottleneck, unregister_bottleneck
from identlam.presets import get_preset


class BinaryBottleneck(Bottleneck):
    """Each of ``bits`` latent units becomes -1 or +1 (straight-through); 2**bits codes."""

    def __init__(self, bits: int):
        super().__init__()
        self.in_dim = self.fdm_latent_dim = self.latent_dim = bits
        self.n_codes = 2 ** bits
        self.register_buffer("place", 2 ** torch.arange(bits))

    def forward(self, raw: torch.Tensor) -> Bottled:
        soft = torch.tanh(raw.float())
        hard = torch.where(soft >= 0, 1.0, -1.0)
        latent = soft + (hard - soft).detach()  # forward: the sign; backward: tanh's gradient
        codes = ((hard > 0).long() * self.place).sum(-1)
        return Bottled(fdm_latent=latent, z=soft, codes=codes, probs=None,
                       logs={"codes_used": float(torch.unique(codes).numel())})


@pytest.fixture
def binary():
    register_bottleneck("binary", lambda cfg, context: BinaryBottleneck(bits=cfg.latent_dim))
    yield
    unregister_bottleneck("binary")


@pytest.mark.parametrize("obs_shape", [VEC, IMG], ids=["vector", "image"])
def test_the_binary_bottleneck_meets_the_contract(binary, obs_shape):
    check_all("binary", obs_shape, latent_dim=4)


def test_a_registered_bottleneck_is_a_config_value_and_trains(binary):
    cfg = apply_overrides(get_preset("lapo", obs_kind="vector"), ["model.bottleneck=binary", "model.latent_dim=3"])
    validate(cfg)
    lam = LatentActionModel(tiny_config(bottleneck="binary", latent_dim=3), (5,), "discrete", n_actions=3, seed=0)
    assert lam.n_codes_out == 8 and lam.latent_dim_out == 3
    batch = make_batch((5,), batch_size=32, seed=0)
    opt = torch.optim.Adam(lam.parameters(), lr=3e-3)
    first = lam.loss(batch, 0, 30).logs["rec_loss"]
    for step in range(30):
        out = lam.loss(batch, step, 30)
        opt.zero_grad()
        out.loss.backward()
        opt.step()
    assert out.logs["rec_loss"] < 0.8 * first
    z, codes, probs = lam.label(batch["obs_t"], batch["obs_next"])
    assert codes.dtype == torch.int64 and int(codes.max()) < 8 and probs is None and z.shape == (32, 3)
