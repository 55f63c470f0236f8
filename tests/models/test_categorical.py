"""The categorical bottleneck: exact expectation over codes, entropy terms, their gradients."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from identlam.models import LatentActionModel
from identlam.models.bottlenecks import CategoricalBottleneck
from lam_batches import make_batch, tiny_config


@pytest.mark.parametrize("obs_shape,target", [((5,), "observation"), ((5,), "latent"), ((12, 12, 3), "observation")])
def test_reconstruction_is_the_exact_expectation_over_codes(obs_shape, target):
    cfg = tiny_config(bottleneck="categorical", fdm_target=target, entropy=dict(kind="none"), predict_delta=True)
    lam = LatentActionModel(cfg, obs_shape, "discrete", n_actions=3, seed=1)
    batch = make_batch(obs_shape, batch_size=4, seed=2)
    rec = lam.loss(batch, 0, 10).logs["rec_loss"]
    # brute force: one FDM call per (sample, code), weighted by q
    lam.eval()
    with torch.no_grad():
        views = lam._views({k: batch[k] for k in ("obs_t", "obs_next", "obs_future")}, None, 0)
        state, _, bottled = lam._idm(views, "obs_future")
        q = bottled.probs
        if target == "latent":
            tgt, fdm_state = lam.target_encoder(views["obs_next"]), state
        else:
            tgt, fdm_state = views["obs_next"] - views["obs_t"], views["obs_t"]
        total = 0.0
        for i in range(4):
            for a in range(cfg.n_codes):
                pred = lam.fdm(fdm_state[i:i + 1], lam.bottleneck.embedding[a:a + 1])
                total += float(q[i, a]) * float(((pred - tgt[i:i + 1]) ** 2).mean())
    assert rec == pytest.approx(total / 4, rel=1e-5)


def _np_entropy(p):
    p = np.asarray(p, dtype=np.float64)
    nz = p[p > 0]
    return float(-(nz * np.log(nz)).sum())


@settings(max_examples=10, deadline=None)
@given(st.lists(st.lists(st.floats(-4, 4), min_size=4, max_size=4), min_size=2, max_size=5),
       st.floats(0.25, 4.0))
def test_entropy_terms_match_hand_computation(rows, temperature):
    bn = CategoricalBottleneck(n_codes=4, code_dim=8, state_dim=3, policy_hidden=32)
    logits = torch.tensor(rows, dtype=torch.float32)
    out = bn(logits / temperature)  # the logits at any scale
    x = np.asarray(rows) / temperature
    q = np.exp(x - x.max(1, keepdims=True))
    q /= q.sum(1, keepdims=True)
    np.testing.assert_allclose(out.probs.numpy(), q, rtol=1e-5, atol=1e-6)
    from identlam.models.bottlenecks import entropy
    assert float(entropy(out.probs).mean()) == pytest.approx(np.mean([_np_entropy(r) for r in q]), abs=1e-5)
    assert float(entropy(out.probs.mean(0))) == pytest.approx(_np_entropy(q.mean(0)), abs=1e-5)
    assert out.logs["perplexity"] == pytest.approx(np.exp(_np_entropy(q.mean(0))), rel=1e-4)
    assert torch.equal(out.codes, out.probs.argmax(1))  # (float ties make the numpy argmax unreliable)
    assert out.logs["codes_used"] == len(set(out.codes.tolist()))
    np.testing.assert_allclose(out.z.detach().numpy(), q @ bn.embedding.detach().numpy(), rtol=1e-4, atol=1e-5)


def test_policy_entropy_estimator_is_cross_entropy_and_equals_h_given_s_at_its_minimizer():
    bn = CategoricalBottleneck(n_codes=3, code_dim=8, state_dim=2, policy_hidden=32)
    # two transitions from the same state with different next states
    q = torch.tensor([[0.7, 0.2, 0.1], [0.1, 0.3, 0.6]])
    mean_q = q.mean(0)
    with torch.no_grad():  # make pi(.|s) output exactly mean_q: zero weights, bias = log mean_q
        for layer in bn.policy:
            if isinstance(layer, torch.nn.Linear):
                layer.weight.zero_()
                layer.bias.zero_()
        bn.policy[-1].bias.copy_(mean_q.log())
    state = torch.zeros(2, 2)
    with torch.no_grad():
        fit, h_policy = bn.policy_terms(q, state)
    assert float(h_policy) == pytest.approx(_np_entropy(mean_q.numpy()), abs=1e-6)  # = H(A^|S=s)
    assert float(fit) == pytest.approx(float(h_policy), abs=1e-6)  # CE(q, q(.|s)) = H(q(.|s))
    # the fit's gradient reaches pi only; the estimate's gradient reaches q only
    qg = q.clone().requires_grad_(True)
    fit, h_policy = bn.policy_terms(qg, state)
    fit.backward(retain_graph=True)
    assert qg.grad is None and bn.policy[-1].bias.grad is not None
    # at the minimizer the fit's gradient in pi's logits vanishes
    assert float(bn.policy[-1].bias.grad.abs().max()) < 1e-6
    bn.zero_grad()
    h_policy.backward()
    assert qg.grad is not None and bn.policy[-1].bias.grad is None


@pytest.mark.parametrize("term", ["conditional", "policy", "marginal"])
def test_entropy_penalty_gradient_reaches_the_idm_and_its_sign_follows_the_weight(term):
    obs_shape = (5,)
    batch = make_batch(obs_shape, batch_size=8, seed=3)

    def idm_grad(weight):  # a negative weight is a bonus: the annealing schedule's start
        ent = dict(kind=term, weight=weight) if weight >= 0 else dict(kind=term, weight=0.0, bonus=-weight, anneal_end=1.0)
        cfg = tiny_config(bottleneck="categorical", entropy=ent)
        lam = LatentActionModel(cfg, obs_shape, "discrete", n_actions=3, seed=0)
        out = lam.loss(batch, 0, 10)
        out.loss.backward()
        return torch.cat([p.grad.flatten() for p in lam.idm.parameters()]), out.logs

    g0, logs0 = idm_grad(0.0)
    g1, logs1 = idm_grad(1.0)
    gm, _ = idm_grad(-1.0)
    assert logs1[f"w_{term}"] == 1.0 and logs0[f"w_{term}"] == 0.0
    assert logs1["objective"] == pytest.approx(logs0["objective"] + logs1[f"h_{term}"], rel=1e-5)
    diff = g1 - g0
    assert float(diff.abs().max()) > 1e-6  # the entropy term moves the IDM
    torch.testing.assert_close(gm - g0, -diff, rtol=0, atol=1e-3 * float(diff.abs().max()))  # a bonus pushes the other way


def test_gradient_descent_on_conditional_entropy_lowers_it():
    cfg = tiny_config(bottleneck="categorical", entropy=dict(kind="conditional", weight=1.0))
    lam = LatentActionModel(cfg, (5,), "discrete", n_actions=3)
    batch = make_batch((5,), batch_size=16, seed=4)
    h = lam.loss(batch, 0, 10).logs["h_conditional"]
    opt = torch.optim.SGD(lam.idm.parameters(), lr=0.05)
    for _ in range(20):
        lam.loss(batch, 0, 10).loss.backward()
        opt.step()
        opt.zero_grad()
    assert lam.loss(batch, 0, 10).logs["h_conditional"] < h - 0.05
