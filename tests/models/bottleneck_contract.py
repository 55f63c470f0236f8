"""The checks every registered bottleneck must pass (used by test_bottleneck_contract.py).

Each ``check_*`` function raises AssertionError naming what broke, so a test can also show
that a broken bottleneck is caught.
"""

from __future__ import annotations

import torch
from lam_batches import make_batch, tiny_config

from identlam.models import LatentActionModel
from identlam.models.bottlenecks import Bottled, Bottleneck

VEC, IMG = (5,), (8, 8, 3)
MODEL_PARTS = {"encoder": ("encoder.",), "idm": ("idm_fusion.", "idm.", "idm_norm."), "fdm": ("fdm.",)}


def build(name: str, obs_shape=VEC, seed: int = 0, **overrides) -> LatentActionModel:
    return LatentActionModel(tiny_config(bottleneck=name, **overrides), obs_shape, "discrete", n_actions=3, seed=seed)


def check_declaration(bn: Bottleneck) -> None:
    assert isinstance(bn, Bottleneck), f"{type(bn).__name__} does not derive from Bottleneck"
    for attr in ("in_dim", "fdm_latent_dim", "latent_dim"):
        value = getattr(bn, attr, None)
        assert isinstance(value, int) and value >= 1, f"{attr} must be a positive int, got {value!r}"
    assert bn.n_codes is None or (isinstance(bn.n_codes, int) and bn.n_codes >= 2), f"n_codes: {bn.n_codes!r}"
    own = {n for n, _ in bn.named_parameters()}
    for term, parts in {**bn.loss_terms, **bn.helper_terms}.items():
        for part in parts:
            assert part in MODEL_PARTS or (part.startswith("bottleneck.") and _own(own, part[len("bottleneck."):])), \
                f"term {term!r} names {part!r}, which is neither a model part nor one of its parameters"


def check_outputs(bn: Bottleneck, batch_size: int = 7) -> Bottled:
    """Shapes, dtypes, code ids in range, probabilities that sum to one; eval mode is deterministic."""
    bn.eval()
    raw = torch.randn(batch_size, bn.in_dim, generator=torch.Generator().manual_seed(0))
    out = bn(raw)
    assert out.z.shape == (batch_size, bn.latent_dim) and out.z.is_floating_point(), f"z: {tuple(out.z.shape)}"
    if bn.evaluates_every_code:
        assert out.probs is not None, "a bottleneck that evaluates every code returns probs"
    else:
        assert out.fdm_latent is not None and out.fdm_latent.shape == (batch_size, bn.fdm_latent_dim), \
            f"fdm_latent: {None if out.fdm_latent is None else tuple(out.fdm_latent.shape)}"
    if bn.n_codes is None:
        assert out.codes is None and out.probs is None, "a continuous latent has no codes"
    else:
        assert out.codes is not None and out.codes.dtype == torch.int64 and out.codes.shape == (batch_size,)
        assert 0 <= int(out.codes.min()) and int(out.codes.max()) < bn.n_codes, "code ids out of range"
    if out.probs is not None:
        assert out.probs.shape == (batch_size, bn.n_codes)
        torch.testing.assert_close(out.probs.sum(-1), torch.ones(batch_size), rtol=0, atol=1e-5)
    assert set(out.terms) <= set(bn.loss_terms), f"terms {set(out.terms)} not declared in loss_terms"
    again = bn(raw)
    assert torch.equal(again.z, out.z) and (out.codes is None or torch.equal(again.codes, out.codes)), \
        "eval mode is not deterministic"
    return out


def check_label_is_deterministic(lam: LatentActionModel) -> None:
    b = make_batch(lam.obs_shape, batch_size=6, seed=11)
    past = b["obs_past"] if lam.cfg.past_frame else None
    z1, c1, _ = lam.label(b["obs_t"], b["obs_next"], past)
    z2, c2, _ = lam.label(b["obs_t"], b["obs_next"], past)
    assert torch.equal(z1, z2) and (c1 is None or torch.equal(c1, c2)), "label() is not deterministic"


def check_gradient_paths(lam: LatentActionModel) -> None:
    """Each loss term reaches exactly the parts its contract names (and the bottleneck's own
    parameters only where declared); every trainable bottleneck parameter is trained by some term."""
    bn = lam.bottleneck
    lam.train()
    terms = lam.loss_terms(make_batch(lam.obs_shape, batch_size=8, seed=5), 0, 10)
    expected = {"reconstruction": ({"encoder", "idm", "fdm"}, bn.trained_by_reconstruction)}
    for term, parts in {**bn.loss_terms, **bn.helper_terms}.items():
        model = {p for p in parts if p in MODEL_PARTS}
        own = tuple(p[len("bottleneck."):] for p in parts if p.startswith("bottleneck."))
        expected[term] = (model, own)
    values = {"reconstruction": terms.reconstruction, **terms.bottleneck.terms, **terms.bottleneck.helpers}
    assert set(values) == set(expected), f"terms {sorted(values)} but the contract declares {sorted(expected)}"
    params = {n: p for n, p in lam.named_parameters() if p.requires_grad}
    own_trained: set[str] = set()
    for term, value in values.items():
        grads = torch.autograd.grad(value, list(params.values()), retain_graph=True, allow_unused=True)
        reached = {n for (n, _), g in zip(params.items(), grads) if g is not None and float(g.abs().sum()) > 0}
        model_parts, own_prefixes = expected[term]
        got_parts = {part for part, prefixes in MODEL_PARTS.items() if any(n.startswith(prefixes) for n in reached)}
        assert got_parts == model_parts, f"{term!r} reaches {sorted(got_parts)}, its contract says {sorted(model_parts)}"
        got_own = {n[len("bottleneck."):] for n in reached if n.startswith("bottleneck.")}
        stray = {n for n in got_own if not _own({n}, *own_prefixes)} if own_prefixes else got_own
        assert not stray, f"{term!r} reaches bottleneck parameters it does not declare: {sorted(stray)}"
        own_names = {n[len("bottleneck."):] for n in params if n.startswith("bottleneck.")}
        for prefix in own_prefixes:
            declared = {n for n in own_names if _own({n}, prefix)}
            assert declared <= got_own, f"{term!r} should train {sorted(declared)} but reaches {sorted(got_own)}"
        own_trained |= got_own
    orphans = {n[len("bottleneck."):] for n in params if n.startswith("bottleneck.")} - own_trained
    assert not orphans, f"bottleneck parameters no loss term trains: {sorted(orphans)}"


def check_training_updates(lam: LatentActionModel, steps: int = 5) -> None:
    """A few optimizer steps on one batch: the reconstruction falls, every trainable bottleneck
    parameter moves, and every state declared ``updated_in_training`` changes."""
    bn = lam.bottleneck
    lam.train()
    batch = make_batch(lam.obs_shape, batch_size=16, seed=7)
    before = {k: v.detach().clone() for k, v in bn.state_dict().items()}
    opt = torch.optim.Adam([p for p in lam.parameters() if p.requires_grad], lr=1e-2)
    first = None
    for step in range(steps):
        out = lam.loss(batch, step, 10 * steps)
        first = out.logs["rec_loss"] if first is None else first
        opt.zero_grad()
        out.loss.backward()
        opt.step()
    assert lam.loss(batch, steps, 10 * steps).logs["rec_loss"] < first, "the reconstruction does not fall"
    after = bn.state_dict()
    for name, p in bn.named_parameters():
        if p.requires_grad:
            assert not torch.equal(after[name], before[name]), f"parameter {name!r} never moved"
    for prefix in bn.updated_in_training:
        names = [k for k in after if _own({k}, prefix)]
        assert names, f"updated_in_training names {prefix!r}, which is not in the state dict"
        for k in names:
            assert not torch.equal(after[k], before[k]), f"{k!r} is declared updated in training but never changed"


def check_all(name: str, obs_shape=VEC, **overrides) -> None:
    lam = build(name, obs_shape, **overrides)
    check_declaration(lam.bottleneck)
    check_outputs(lam.bottleneck)
    check_label_is_deterministic(lam)
    check_gradient_paths(lam)
    check_training_updates(build(name, obs_shape, seed=1, **overrides))


def _own(names: set[str], *prefixes: str) -> bool:
    """Whether any of ``names`` is one of ``prefixes`` or lies under one (``vq.`` or ``embedding``)."""
    return any(n == p or n.startswith(p if p.endswith(".") else p + ".") or (p.endswith(".") and n.startswith(p))
               for n in names for p in prefixes)
