"""The BC policy and the action decoder modules."""

from __future__ import annotations

import pytest
import torch

from identlam.errors import IdentlamError
from identlam.models.augment import Augmenter
from identlam.models.decoder import ActionDecoder
from identlam.models.policy import Policy


@pytest.mark.parametrize("shape", [(6,), (16, 16, 3)])
def test_policy_shapes_and_seeded_init(shape):
    a, b, c = (Policy(shape, 5, hidden_dim=32, channels=(4, 8), seed=s) for s in (0, 0, 1))
    x = torch.randint(0, 256, (7, *shape), dtype=torch.uint8) if len(shape) == 3 else torch.randn(7, *shape)
    out = a(x)
    assert out.shape == (7, 5) and out.dtype == torch.float32
    assert torch.equal(out, b(x))
    assert not torch.allclose(out, c(x))


def test_policy_init_leaves_the_global_rng_alone():
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    Policy((4,), 2, hidden_dim=8, seed=5)
    assert torch.equal(torch.rand(3), expected)


def test_policy_reads_uint8_images_in_the_lams_range():
    p = Policy((8, 8, 1), 2, hidden_dim=8, channels=(4,))
    x = torch.full((1, 8, 8, 1), 255, dtype=torch.uint8)
    assert torch.equal(p.trunk.normalize(x), torch.ones(1, 1, 8, 8))
    assert torch.equal(p.trunk.normalize(torch.zeros_like(x)), -torch.ones(1, 1, 8, 8))


def test_policy_learns_a_linear_rule():
    torch.manual_seed(0)
    x = torch.randn(256, 4)
    y = (x[:, 0] > 0).long()
    p = Policy((4,), 2, hidden_dim=32, seed=0)
    opt = torch.optim.Adam(p.parameters(), lr=3e-2)
    for _ in range(60):
        loss = torch.nn.functional.cross_entropy(p(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert (p(x).argmax(-1) == y).float().mean() > 0.95


def test_policy_augmentation_changes_images_only_when_asked():
    p = Policy((16, 16, 1), 3, hidden_dim=8, channels=(4,))
    x = torch.randint(0, 256, (4, 16, 16, 1), dtype=torch.uint8)
    aug = Augmenter(("shift", "rotate"))
    gen = torch.Generator().manual_seed(0)
    assert torch.equal(p(x), p(x))
    assert not torch.allclose(p(x, aug, gen), p(x))


def test_decoder_latent_only_and_with_observation():
    d = ActionDecoder(8, 3, hidden_dim=16, seed=0)
    z = torch.randn(5, 8)
    assert d(z).shape == (5, 3) and not d.uses_observation
    d_obs = ActionDecoder(8, 2, hidden_dim=16, obs_shape=(6,), seed=0)
    assert d_obs.uses_observation
    obs = torch.randn(5, 6)
    out = d_obs(z, obs)
    assert out.shape == (5, 2)
    assert not torch.allclose(out, d_obs(z, obs + 1.0))  # the observation matters
    with pytest.raises(IdentlamError, match="'obs'"):
        d_obs(z)
    assert torch.equal(ActionDecoder(8, 3, hidden_dim=16, seed=0)(z), d(z))


def test_regressed_latents_are_standardized_on_training_trajectories():
    import numpy as np

    from identlam.train.stage_bc import standardized_latents

    rng = np.random.default_rng(0)
    traj = np.repeat(np.arange(4), 50)
    z = (1e-4 * rng.normal(size=(200, 3)) + np.array([5.0, -2.0, 0.0])).astype(np.float32)
    z[traj == 3] += 100.0  # a held-out trajectory must not move the statistics
    labels, mean, std = standardized_latents({"z": z, "traj": traj}, np.arange(3))
    train = labels.numpy()[traj < 3]
    np.testing.assert_allclose(train.mean(axis=0), 0.0, atol=1e-3)
    np.testing.assert_allclose(train.std(axis=0), 1.0, atol=1e-3)
    np.testing.assert_allclose(mean, z[traj < 3].mean(axis=0), rtol=1e-6)
    constant = np.ones((200, 2), np.float32)  # a constant latent stays finite
    labels, _, _ = standardized_latents({"z": constant, "traj": traj}, np.arange(3))
    assert np.isfinite(labels.numpy()).all()
