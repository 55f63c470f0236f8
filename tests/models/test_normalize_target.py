"""model.normalize_target: the FDM target is standardized by pooled running statistics."""

import pytest
import torch

from identlam.errors import ConfigError
from identlam.models import LatentActionModel
from identlam.models.standardize import RunningStandardizer
from lam_batches import make_batch, tiny_config

VEC, IMG = (5,), (8, 8, 3)


def _lam(obs_shape=VEC, **kw):
    cfg = tiny_config(bottleneck="categorical", predict_delta=True, normalize_target=True, **kw)
    return LatentActionModel(cfg, obs_shape, "discrete", n_actions=3, seed=0)


def test_running_statistics_equal_the_pooled_statistics_of_every_training_batch():
    g = torch.Generator().manual_seed(0)
    batches = [torch.randn(n, 3, generator=g) * torch.tensor([0.1, 2.0, 5.0]) + torch.tensor([1.0, -3.0, 0.0])
               for n in (7, 64, 1, 30)]
    norm = RunningStandardizer(3)
    for b in batches:
        out = norm(b)
    pooled = torch.cat(batches)
    torch.testing.assert_close(norm.mean, pooled.mean(0), atol=1e-5, rtol=0)
    torch.testing.assert_close(norm.var, pooled.var(0, unbiased=False), atol=1e-5, rtol=1e-5)
    assert float(norm.count) == len(pooled)
    expected = (batches[-1] - pooled.mean(0)) / pooled.var(0, unbiased=False).sqrt()
    torch.testing.assert_close(out, expected, atol=1e-4, rtol=1e-4)
    norm.eval()
    frozen = norm.mean.clone()
    norm(batches[0] + 100.0)
    torch.testing.assert_close(norm.mean, frozen, atol=0, rtol=0)  # eval mode leaves them alone


def test_image_targets_are_standardized_per_channel():
    g = torch.Generator().manual_seed(1)
    x = torch.randn(4, 3, 6, 6, generator=g) * torch.tensor([1.0, 10.0, 0.1]).view(1, 3, 1, 1) + 2.0
    out = RunningStandardizer(3)(x)
    torch.testing.assert_close(out.mean((0, 2, 3)), torch.zeros(3), atol=1e-5, rtol=0)
    torch.testing.assert_close(out.var((0, 2, 3), unbiased=False), torch.ones(3), atol=1e-4, rtol=0)


@pytest.mark.parametrize("obs_shape", [VEC, IMG])
def test_first_reconstruction_error_is_one_whatever_the_observation_scale(obs_shape):
    # symmetric start: the FDM predicts 0 for every code, so the error is the standardized
    # target's second moment over the first batch, 1 exactly, for raw and 10x-scaled data
    recs = []
    for scale in (1.0, 10.0):
        batch = make_batch(obs_shape, batch_size=32)
        if obs_shape == VEC:
            batch = {k: v * scale if k.startswith("obs") else v for k, v in batch.items()}
        lam = _lam(obs_shape, fdm_zero_init=True)
        recs.append(lam.loss(batch, 0, 10).logs["rec_loss"])
    assert recs[0] == pytest.approx(1.0, abs=1e-4)
    assert recs[1] == pytest.approx(1.0, abs=1e-4)
    raw = LatentActionModel(tiny_config(bottleneck="categorical", predict_delta=True, fdm_zero_init=True),
                            VEC, "discrete", n_actions=3, seed=0)
    assert raw.loss(make_batch(VEC, batch_size=32), 0, 10).logs["rec_loss"] != pytest.approx(1.0, abs=0.05)


def test_statistics_are_saved_with_the_model_and_labels_do_not_move_them():
    lam = _lam()
    batch = make_batch(VEC, batch_size=16)
    lam.loss(batch, 0, 10)
    state = lam.state_dict()
    assert float(state["target_norm.count"]) == 16
    before = lam.target_norm.mean.clone()
    lam.label(batch["obs_t"], batch["obs_next"])
    torch.testing.assert_close(lam.target_norm.mean, before, atol=0, rtol=0)
    fresh = _lam()
    fresh.load_state_dict(state)
    torch.testing.assert_close(fresh.target_norm.var, lam.target_norm.var, atol=0, rtol=0)


def test_latent_target_is_rejected_naming_the_field():
    with pytest.raises(ConfigError) as e:
        _lam(fdm_target="latent")
    assert "model.normalize_target" in str(e.value) and "\n" not in str(e.value)
