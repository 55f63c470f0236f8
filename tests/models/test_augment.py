"""Augmentations: kornia warps drawn from a generator, per view, training only, images only."""

import pytest
import torch

from identlam.models import LatentActionModel
from identlam.models.augment import Augmenter
from lam_batches import make_batch, tiny_config

IMG = (16, 16, 3)


def test_shift_is_an_integer_translation_with_border_padding():
    aug = Augmenter(("shift",))
    gen = torch.Generator().manual_seed(0)
    mats = aug.homographies(64, 16, 16, torch.Generator().manual_seed(0), "cpu")
    shifts = mats[:, :2, 2]
    assert torch.equal(shifts, shifts.round()) and float(shifts.abs().max()) <= round(14 / 64 * 16)
    torch.testing.assert_close(mats[:, :2, :2], torch.eye(2).expand(64, 2, 2))
    assert (shifts.abs().sum(1) == 0).any() and (shifts.abs().sum(1) > 0).any()  # each op drawn with prob 1/2
    x = torch.rand(64, 3, 16, 16) * 2 - 1
    out = aug(x, gen)
    for i in range(64):
        dx, dy = int(shifts[i, 0]), int(shifts[i, 1])
        src = x[i, :, max(0, -dy):16 - max(0, dy), max(0, -dx):16 - max(0, dx)]
        dst = out[i, :, max(0, dy):16 - max(0, -dy), max(0, dx):16 - max(0, -dx)]
        torch.testing.assert_close(dst, src, atol=1e-4, rtol=0)


def test_rotation_and_perspective_keep_shape_and_range_and_follow_the_generator():
    aug = Augmenter(("rotate", "perspective"))
    x = torch.rand(8, 6, 16, 16) * 2 - 1
    a = aug(x, torch.Generator().manual_seed(3))
    b = aug(x, torch.Generator().manual_seed(3))
    c = aug(x, torch.Generator().manual_seed(4))
    assert a.shape == x.shape and torch.equal(a, b) and not torch.equal(a, c)
    assert float(a.min()) >= -1 - 1e-5 and float(a.max()) <= 1 + 1e-5
    # a 90-degree rotation about the centre maps the image onto itself rotated
    mats = aug.homographies(8, 16, 16, torch.Generator().manual_seed(3), "cpu")
    assert not torch.allclose(mats, torch.eye(3).expand(8, 3, 3))


def test_views_are_augmented_independently_in_training_only():
    cfg = tiny_config(bottleneck="none", fdm_target="latent", augment=True)
    lam = LatentActionModel(cfg, IMG, "discrete", n_actions=3, seed=0)
    batch = make_batch(IMG)
    same = {k: batch["obs_t"] for k in ("obs_t", "obs_next", "obs_future")}
    views = lam._views(same, step=5, salt=0)
    assert not torch.equal(views["obs_t"], views["obs_next"])  # same image, different draws
    assert torch.equal(lam._views(same, step=5, salt=0)["obs_t"], views["obs_t"])  # (seed, step) decides
    assert not torch.equal(lam._views(same, step=6, salt=0)["obs_t"], views["obs_t"])
    lam.eval()
    plain = lam._views(same, step=5, salt=0)
    assert torch.equal(plain["obs_t"], plain["obs_next"])
    # label() never augments: identical to a model without augmentations
    lam.train()
    twin = LatentActionModel(tiny_config(bottleneck="none", fdm_target="latent"), IMG, "discrete", n_actions=3, seed=0)
    torch.testing.assert_close(lam.label(batch["obs_t"], batch["obs_next"])[0],
                               twin.label(batch["obs_t"], batch["obs_next"])[0])
    assert lam.loss(batch, 5, 10).logs["loss"] != pytest.approx(twin.loss(batch, 5, 10).logs["loss"])


def test_vectors_are_never_augmented():
    lam = LatentActionModel(tiny_config(augment=True), (5,), "discrete", n_actions=3)
    assert lam.augmenter is None
