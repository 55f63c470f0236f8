"""Presets: every method builds and trains one step; paper values are the papers'."""

import dataclasses

import pytest
import torch

from identlam.config import RunConfig, from_dict, to_dict
from identlam.errors import ConfigError
from identlam.models import LatentActionModel
from identlam.presets import PRESET_NAMES, describe, get_preset
from lam_batches import make_batch

SHAPES = [(5,), (32, 32, 3)]


@pytest.mark.parametrize("name", PRESET_NAMES)
@pytest.mark.parametrize("obs_shape", SHAPES, ids=["vector", "image32"])
def test_every_preset_runs_loss_label_backward(name, obs_shape):
    run = get_preset(name, obs_kind="image" if len(obs_shape) == 3 else "vector")
    # the preset's switches, at tiny widths (orthogonal init of 256-wide heads dominates otherwise)
    cfg = dataclasses.replace(run.model, hidden_dim=16, impala_channels=(4, 8),
                              latent_dim=min(run.model.latent_dim, 8) if run.model.bottleneck != "fsq" else 8)
    lam = LatentActionModel(cfg, obs_shape, "discrete", n_actions=4)
    batch = make_batch(obs_shape, cfg.frame_stack, cfg.future_k, batch_size=3, labels=True)
    out = lam.loss(batch, step=3, total_steps=10)
    assert out.loss.ndim == 0 and torch.isfinite(out.loss)
    out.loss.backward()
    grads = [p.grad for p in lam.encoder.parameters()]
    assert all(g is not None and torch.isfinite(g).all() for g in grads)
    assert any(g.abs().sum() > 0 for g in grads)
    z, codes, probs = lam.label(batch["obs_t"], batch["obs_next"], batch["obs_past"])
    assert z.shape == (3, lam.latent_dim_out) and z.dtype == torch.float32
    assert (codes is None) == (lam.n_codes_out is None)
    if codes is not None:
        assert codes.dtype == torch.int64 and codes.shape == (3,)
        assert int(codes.min()) >= 0 and int(codes.max()) < lam.n_codes_out
    assert (probs is not None) == (cfg.bottleneck == "categorical")
    assert all(isinstance(v, float) for v in out.logs.values())
    if cfg.label_coef > 0:
        assert "label_loss" in out.logs


def test_lapo_entropy_is_categorical_with_entropy_not_vq():
    m = get_preset("lapo-entropy").model
    assert m.bottleneck == "categorical" and m.entropy.kind != "none" and m.entropy.weight > 0
    assert get_preset("lapo").model.bottleneck == "vq"
    assert get_preset("lapo-fsq").model.bottleneck == "fsq"
    assert get_preset("lapo-continuous").model.bottleneck == "none"


def test_lapo_entropy_cpu_carries_the_identification_recipe():
    # docs/identification.md: each switch below was measured on random families and PointMass
    run = get_preset("lapo-entropy")
    m = run.model
    assert (m.entropy.bonus, m.entropy.weight, m.entropy.anneal_end, m.entropy.merge_weight) == (1.0, 0.1, 0.7, 0.05)
    assert (m.entropy.cooling, m.entropy.cooling_floor) == ("geometric", 1e-3)
    assert (run.train.merge_tolerance, run.train.merge_steps) == (0.5, 200)
    assert m.entropy.units == "target_variance" and m.n_codes == 16 and m.standardize_obs
    assert (run.train.curriculum, run.train.curriculum_hold) == (0.9, 0.5)
    assert (m.head_block, m.head_layers) == ("relu", 2)
    assert m.fdm_zero_init and m.predict_delta
    assert (m.idm_fusion, m.idm_factors, m.mlp_layers) == ("gated", 64, 0)
    assert get_preset("lapo-entropy", scale="paper").model.idm_fusion == "concat"  # not measured there


def test_paper_scale_values():
    laom = get_preset("laom", scale="paper")
    m = laom.model
    assert (m.frame_stack, m.future_k, m.latent_dim, m.hidden_dim, m.impala_scale) == (3, 10, 8192, 1024, 6)
    assert m.fdm_target == "latent" and m.target_ema_tau == 1e-3 and m.detach_fdm_input and m.augment
    assert laom.train.batch_size == 512
    assert get_preset("laom-sup", scale="paper").model.label_coef == 1e-3
    lapo = get_preset("lapo", scale="paper")
    lm = lapo.model
    assert (lm.vq.num_codebooks, lm.vq.num_latents, lm.vq.code_dim, lm.vq.codebook_size) == (2, 4, 16, 64)
    assert (lm.vq.commitment, lm.vq.decay, lm.impala_scale, lm.past_frame) == (0.05, 0.999, 4, True)
    assert (lapo.train.optim.lr, lapo.train.batch_size, lapo.train.steps) == (3e-4, 128, 50_000)


def test_kinds_and_label_budgets():
    for name in PRESET_NAMES:
        run = get_preset(name)
        assert run.method == name
        assert run.kind == {"bc": "bc", "idm": "idm"}.get(name, "lam")
        needs_labels = name in ("laom-sup", "bc", "idm")
        assert (run.labels > 0) == needs_labels, name


def test_presets_round_trip_and_are_fresh_copies():
    for name in PRESET_NAMES:
        for scale in ("cpu", "paper"):
            run = get_preset(name, scale)
            assert from_dict(RunConfig, to_dict(run)) == run
    a = get_preset("laom")
    a.model.latent_dim = 3
    assert get_preset("laom").model.latent_dim != 3


def test_obs_kind_adapts_encoder():
    assert get_preset("laom", obs_kind="vector").model.encoder == "mlp"
    assert get_preset("laom", obs_kind="vector").model.augment is False
    assert get_preset("laom", obs_kind="image").model.encoder == "impala"
    assert get_preset("laom").model.encoder == "auto"


@pytest.mark.parametrize("call", [lambda: get_preset("lapo-vq"), lambda: get_preset("laom", scale="gpu"),
                                  lambda: get_preset("laom", obs_kind="audio"), lambda: describe("nope")])
def test_bad_preset_arguments_raise(call):
    with pytest.raises(ConfigError) as e:
        call()
    assert "\n" not in str(e.value)


def test_describe_names_the_axes():
    text = describe("lapo-entropy")
    assert text.startswith("lapo-entropy:") and "bottleneck=categorical" in text and "\n" not in text
