"""LAOM's latent target (EMA encoder, detached FDM input) and the label-split supervision head."""

import pytest
import torch

from identlam.models import LatentActionModel
from lam_batches import make_batch, tiny_config

OBS = (5,)


def _laom(**kw):
    cfg = tiny_config(bottleneck="none", fdm_target="latent", **kw)
    return LatentActionModel(cfg, OBS, "discrete", n_actions=3, seed=0)


def test_ema_target_moves_by_tau_and_gets_no_gradient():
    tau = 0.25
    lam = _laom(target_ema_tau=tau)
    with torch.no_grad():
        for p in lam.encoder.parameters():
            p.add_(torch.randn_like(p))
    online = [p.detach().clone() for p in lam.encoder.parameters()]
    target = [p.detach().clone() for p in lam.target_encoder.parameters()]
    out = lam.loss(make_batch(OBS), 0, 10)
    for t_new, t_old, o in zip(lam.target_encoder.parameters(), target, online):
        torch.testing.assert_close(t_new, (1 - tau) * t_old + tau * o)
    out.loss.backward()
    assert all(p.grad is None and not p.requires_grad for p in lam.target_encoder.parameters())
    lam.eval()
    lam.loss(make_batch(OBS), 0, 10)  # evaluation calls leave the target alone
    for t_new, t_old, o in zip(lam.target_encoder.parameters(), target, online):
        torch.testing.assert_close(t_new, (1 - tau) * t_old + tau * o)


def test_tau_zero_uses_the_stop_gradient_online_encoder():
    lam = _laom(target_ema_tau=0.0)
    with torch.no_grad():
        for p in lam.encoder.parameters():
            p.mul_(1.5)
    batch = make_batch(OBS)
    out = lam.loss(batch, 0, 10)
    with torch.no_grad():
        expected = lam.encoder(batch["obs_next"]).norm(dim=-1).mean()
    assert out.logs["target_norm"] == pytest.approx(float(expected), rel=1e-5)


@pytest.mark.parametrize("bottleneck", ["none", "categorical"])
def test_detach_switch_stops_encoder_gradient_through_the_fdm_input(bottleneck):
    def encoder_grad(detach):
        cfg = tiny_config(bottleneck=bottleneck, fdm_target="latent", detach_fdm_input=detach, target_ema_tau=0.0)
        lam = LatentActionModel(cfg, OBS, "discrete", n_actions=3, seed=0)
        width = lam.bottleneck.in_dim
        lam.idm.forward = lambda x, c: torch.zeros(c.shape[0], width)  # cut the IDM path to the encoder
        lam.loss(make_batch(OBS), 0, 10).loss.backward()
        grads = [p.grad for p in lam.encoder.parameters()]
        return sum(0.0 if g is None else float(g.abs().sum()) for g in grads)

    assert encoder_grad(True) == 0.0
    assert encoder_grad(False) > 0.0


@pytest.mark.parametrize("action_space", ["discrete", "continuous"])
def test_supervision_head_learns_only_from_the_label_split(action_space):
    kw = dict(n_actions=3) if action_space == "discrete" else dict(action_dim=2)
    cfg = tiny_config(bottleneck="none", fdm_target="latent", label_coef=0.5)
    lam = LatentActionModel(cfg, OBS, action_space, **kw, seed=0)
    lam.loss(make_batch(OBS), 0, 10).loss.backward()
    assert lam.action_head.weight.grad is None  # no labels, no gradient
    lam.zero_grad()
    batch = make_batch(OBS, labels=True, action_dim=kw.get("action_dim"), n_actions=kw.get("n_actions", 3))
    out = lam.loss(batch, 0, 10)
    out.loss.backward()
    g_full = lam.action_head.weight.grad.clone()
    assert g_full.abs().sum() > 0
    lam.zero_grad()
    (0.5 * lam.label_loss(batch["labels"], 0)).backward()
    torch.testing.assert_close(lam.action_head.weight.grad, g_full)  # all of it comes from the labels
    assert out.logs["objective"] == pytest.approx(out.logs["rec_loss"] + 0.5 * out.logs["label_loss"], rel=1e-5)


def test_label_loss_is_cross_entropy_for_discrete_actions():
    cfg = tiny_config(bottleneck="categorical", label_coef=1.0)
    lam = LatentActionModel(cfg, OBS, "discrete", n_actions=3, seed=0).eval()
    labels = make_batch(OBS, labels=True)["labels"]
    with torch.no_grad():
        z, _, _ = lam.label(labels["obs_t"], labels["obs_future"])
        expected = torch.nn.functional.cross_entropy(lam.action_head(z), labels["actions"])
        assert float(lam.label_loss(labels)) == pytest.approx(float(expected), rel=1e-5)


def test_without_label_coef_there_is_no_head_and_labels_are_ignored():
    lam = _laom()
    assert not hasattr(lam, "action_head")
    plain = lam.loss(make_batch(OBS), 0, 10).logs
    lam2 = _laom()
    with_labels = lam2.loss(make_batch(OBS, labels=True), 0, 10).logs
    assert "label_loss" not in with_labels and with_labels["loss"] == pytest.approx(plain["loss"])


def test_only_the_label_split_carries_actions_into_the_objective():
    lam = LatentActionModel(tiny_config(label_coef=0.5), OBS, "discrete", n_actions=3, seed=0)
    batch = make_batch(OBS)
    base = lam.loss(batch, 0, 10).logs["objective"]
    leaked = dict(batch, actions=torch.randint(0, 3, (6,)), states=torch.randn(6, 2), exo=torch.randn(6, 2))
    assert lam.loss(leaked, 0, 10).logs["objective"] == base  # top-level privileged keys are never read
