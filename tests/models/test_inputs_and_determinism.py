"""Input validation (one-line errors naming the key) and determinism for a seed."""

import pytest
import torch

from identlam.errors import ConfigError, IdentlamError
from identlam.models import LatentActionModel
from lam_batches import make_batch, tiny_config

VEC, IMG = (5,), (8, 8, 3)


def _lam(obs_shape=VEC, **kw):
    return LatentActionModel(tiny_config(**kw), obs_shape, "discrete", n_actions=3, seed=0)


def _raises(fn, *needles):
    with pytest.raises(IdentlamError) as e:
        fn()
    msg = str(e.value)
    assert "\n" not in msg
    for needle in needles:
        assert needle in msg, msg


def _bad(mutate, obs_shape=VEC, **kw):
    lam = _lam(obs_shape, **kw)
    batch = make_batch(obs_shape, labels=True)
    mutate(batch)
    return lambda: lam.loss(batch, 0, 10)


@pytest.mark.parametrize("mutate,needles", [
    (lambda b: b.pop("obs_next"), ["'obs_next'", "missing"]),
    (lambda b: b.update(obs_t=b["obs_t"][:, :4]), ["'obs_t'", "shape"]),
    (lambda b: b.update(obs_future=b["obs_future"].double().long()), ["'obs_future'", "dtype"]),
    (lambda b: b["obs_t"].__setitem__((0, 0), float("nan")), ["'obs_t'", "NaN"]),
    (lambda b: b.update(k=b["k"] + 5), ["'k'", "1..1"]),
    (lambda b: b.update(k=b["k"].int()), ["'k'", "int64"]),
    (lambda b: b.update(obs_next=b["obs_next"][:3]), ["batch size"]),
    (lambda b: b.update(obs_t=b["obs_t"].numpy()), ["'obs_t'", "torch.Tensor"]),
])
def test_bad_vector_batches_raise_one_line_errors(mutate, needles):
    _raises(_bad(mutate), *needles)


def test_bad_image_batches_and_labels_raise():
    _raises(_bad(lambda b: b.update(obs_t=b["obs_t"].float()), IMG), "'obs_t'", "uint8")
    _raises(_bad(lambda b: b.update(obs_t=b["obs_t"][..., :2]), IMG, frame_stack=1), "'obs_t'", "(B>0, 8, 8, 3)")
    _raises(_bad(lambda b: b["labels"].update(actions=b["labels"]["actions"] + 10), label_coef=1.0),
            "'labels.actions'", "0..2")
    _raises(_bad(lambda b: b["labels"].pop("obs_t"), label_coef=1.0), "'labels.obs_t'", "missing")
    _raises(_bad(lambda b: b.pop("obs_past"), past_frame=True), "'obs_past'", "missing")
    lam = _lam(past_frame=True)
    b = make_batch(VEC)
    _raises(lambda: lam.label(b["obs_t"], b["obs_next"]), "'obs_past'")
    _raises(lambda: lam.loss([1, 2], 0, 10), "dict")


@pytest.mark.parametrize("kw,needle", [
    (dict(bottleneck="gumbel"), "model.bottleneck"), (dict(fdm_target="pixels"), "model.fdm_target"),
    (dict(encoder="resnet"), "model.encoder"), (dict(augment=True, augment_ops=("blur",)), "model.augment_ops"),
    (dict(n_codes=1), "model.n_codes"), (dict(target_ema_tau=2.0), "model.target_ema_tau"),
])
def test_bad_configs_raise_config_errors(kw, needle):
    with pytest.raises(ConfigError, match=needle):
        _lam(IMG, **kw)
    with pytest.raises(ConfigError, match="n_actions"):
        LatentActionModel(tiny_config(), VEC, "discrete")
    with pytest.raises(ConfigError, match="encoder"):
        LatentActionModel(tiny_config(encoder="impala"), VEC, "discrete", n_actions=2)


def _train(seed, steps=3, obs_shape=VEC, **kw):
    lam = LatentActionModel(tiny_config(**kw), obs_shape, "discrete", n_actions=3, seed=seed)
    opt = torch.optim.Adam(lam.parameters(), lr=1e-2)
    losses = []
    for step in range(steps):
        batch = make_batch(obs_shape, lam.cfg.frame_stack, lam.cfg.future_k, seed=step)
        out = lam.loss(batch, step, steps)
        out.loss.backward()
        opt.step()
        opt.zero_grad()
        losses.append(float(out.loss.detach()))
    return lam, losses


@pytest.mark.parametrize("kw", [dict(bottleneck="categorical"), dict(bottleneck="vq"),
                                dict(bottleneck="none", fdm_target="latent", augment=True, frame_stack=2, future_k=3)])
def test_same_seed_same_training_different_seed_different(kw):
    obs_shape = IMG if kw.get("augment") else VEC
    state = torch.get_rng_state()
    a, la = _train(0, obs_shape=obs_shape, **kw)
    assert torch.equal(torch.get_rng_state(), state)  # the global RNG is neither read nor advanced
    b, lb = _train(0, obs_shape=obs_shape, **kw)
    assert la == lb
    for pa, pb in zip(a.state_dict().values(), b.state_dict().values()):
        assert torch.equal(pa, pb)
    c, lc = _train(1, obs_shape=obs_shape, **kw)
    assert lc != la


@pytest.mark.parametrize("bottleneck", ["none", "vq", "fsq", "categorical"])
@pytest.mark.parametrize("target", ["observation", "latent"])
def test_bf16_autocast_runs_every_axis(bottleneck, target):
    # CPU autocast stands in for the trainer's CUDA bf16 autocast: same casting rules for Linear/conv
    cfg = tiny_config(bottleneck=bottleneck, fdm_target=target, label_coef=0.1, augment=True, past_frame=True)
    lam = LatentActionModel(cfg, IMG, "discrete", n_actions=3, seed=0)
    batch = make_batch(IMG, labels=True, n_actions=3)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        out = lam.loss(batch, 0, 10)
        z, _, _ = lam.label(batch["obs_t"], batch["obs_next"], batch["obs_past"])
    assert out.loss.dtype == torch.float32 and torch.isfinite(out.loss) and z.dtype == torch.float32
    out.loss.backward()
    assert all(p.grad is None or p.grad.dtype == p.dtype for p in lam.parameters())
    assert all(p.dtype == torch.float32 for p in lam.state_dict().values() if p.is_floating_point())


def test_idm_input_norm_standardizes_in_training_and_uses_running_stats_for_labels():
    lam = _lam(bottleneck="categorical", idm_input_norm=True)
    seen = []
    forward = lam.idm.forward
    lam.idm.forward = lambda x, c: (seen.append(c.detach()), forward(x, c))[1]
    batch = make_batch(VEC, batch_size=16)
    lam.loss(batch, 0, 10)
    c = seen[-1]
    torch.testing.assert_close(c.mean(0), torch.zeros(c.shape[1]), atol=1e-5, rtol=0)
    torch.testing.assert_close(c.var(0, unbiased=False), torch.ones(c.shape[1]), atol=1e-3, rtol=0)
    assert float(lam.idm_norm.running_var.sub(1).abs().sum()) > 0  # statistics tracked for label()
    _, codes_all, probs_all = lam.label(batch["obs_t"], batch["obs_next"])
    _, codes_one, probs_one = lam.label(batch["obs_t"][:1], batch["obs_next"][:1])
    torch.testing.assert_close(probs_one, probs_all[:1])  # labels do not depend on the batch
    _raises(lambda: lam.loss(make_batch(VEC, batch_size=1), 0, 10), "'obs_t'", "idm_input_norm")
