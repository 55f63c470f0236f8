"""VQ in LAPO's layout (which dims go to which codebook and position), FSQ, straight-through."""

import pytest
import torch

from identlam.models import LatentActionModel
from identlam.models.bottlenecks import FSQBottleneck, VQBottleneck
from lam_batches import make_batch, tiny_config

N, L, D, M = 2, 3, 2, 5


def _vq(shared: bool) -> VQBottleneck:
    return VQBottleneck(codebook_size=M, num_codebooks=N, num_latents=L, code_dim=D, shared_codebook=shared)


@pytest.mark.parametrize("shared", [True, False])
def test_vq_layout_dims_to_codebook_and_position(shared):
    torch.manual_seed(0)
    vq = _vq(shared).eval()
    heads = N if shared else N * L
    # distinct, well separated entries: codebook h, entry j = 10*h + j + [0, 0.5] (D = 2)
    book = torch.stack([torch.stack([torch.tensor([10.0 * h + j, 10.0 * h + j + 0.5]) for j in range(M)])
                        for h in range(heads)])
    vq.vq.codebook = book
    b = 4
    chosen = torch.randint(0, M, (b, N, L))
    x = torch.zeros(b, N, D, L)  # LAPO: x.view(B, N, D, L)[:, n, :, l] is token (n, l)
    for n in range(N):
        for l in range(L):
            h = n if shared else n * L + l
            x[:, n, :, l] = book[h, chosen[:, n, l]]
    out = vq(x.reshape(b, -1))
    tokens = torch.stack([(out.codes // M**j) % M for j in range(N * L)], dim=1)
    assert torch.equal(tokens, chosen.reshape(b, N * L))  # token j = n * L + l
    torch.testing.assert_close(out.fdm_latent, x.reshape(b, -1))
    torch.testing.assert_close(out.z, x.reshape(b, -1))  # z: the pre-quantization latent
    expected_codes = sum(chosen[:, n, l] * M ** (n * L + l) for n in range(N) for l in range(L))
    assert torch.equal(out.codes, expected_codes)
    assert vq.n_codes == M ** (N * L) and vq.latent_dim == N * D * L


def test_vq_shared_codebook_serves_every_position():
    vq = _vq(True).eval()
    assert vq.vq.codebook.shape == (N, M, D)
    vq_sep = _vq(False).eval()
    assert vq_sep.vq.codebook.shape == (N * L, M, D)


def test_vq_straight_through_commitment_and_ema():
    torch.manual_seed(0)
    vq = _vq(True).train()
    raw = torch.randn(8, N * D * L, requires_grad=True)
    before = vq.vq.codebook.clone()
    out = vq(raw)
    q = out.fdm_latent
    expected_commit = 0.05 * torch.nn.functional.mse_loss(raw.detach(), q.detach())
    assert float(out.terms["commitment"].detach()) == pytest.approx(float(expected_commit), rel=1e-4)
    # straight-through: d(sum q * w)/d raw = w (plus the commitment gradient, absent here)
    w = torch.randn_like(q)
    (q * w).sum().backward()
    torch.testing.assert_close(raw.grad, w)
    assert not torch.equal(vq.vq.codebook, before)  # EMA update in training
    # the codebook has no gradient-trained parameters (EMA only)
    assert not list(vq.vq._codebook.parameters())


def test_label_does_not_move_the_vq_codebook_and_training_does():
    cfg = tiny_config(bottleneck="vq")
    lam = LatentActionModel(cfg, (5,), "discrete", n_actions=3)
    batch = make_batch((5,), batch_size=6)
    book = lam.bottleneck.vq.codebook.clone()
    lam.label(batch["obs_t"], batch["obs_next"])
    assert torch.equal(lam.bottleneck.vq.codebook, book) and lam.training
    out = lam.loss(batch, 0, 10)
    assert not torch.equal(lam.bottleneck.vq.codebook, book)
    assert out.logs["commitment"] > 0 and "dead_codes" in out.logs and out.logs["codes_used"] >= 1
    out.loss.backward()
    assert lam.idm.out.weight.grad.abs().sum() > 0  # reconstruction reaches the IDM through the STE


def test_fsq_codes_and_gradient():
    fsq = FSQBottleneck(levels=(3, 5), dim=6)
    raw = torch.randn(10, 6, requires_grad=True)
    out = fsq(raw)
    assert fsq.n_codes == 15 and out.codes.dtype == torch.int64
    assert int(out.codes.max()) < 15 and out.fdm_latent.shape == (10, 6)
    out.fdm_latent.sum().backward()
    assert raw.grad is not None and raw.grad.abs().sum() > 0
    # equal grid points give equal codes
    same = fsq(torch.cat([raw[:1], raw[:1]]).detach())
    assert same.codes[0] == same.codes[1]


def test_fsq_rejects_levels_below_three():
    from identlam.errors import ConfigError
    from identlam.config import validate
    with pytest.raises(ConfigError, match=r"model\.fsq\.levels"):
        validate(tiny_config(bottleneck="fsq", fsq=dict(levels=(2, 5))), "model")


@pytest.mark.parametrize("threshold, revived", [(0.0, False), (2.0, True)])
def test_dead_code_threshold_revives_a_collapsed_codebook(threshold, revived):
    """Tokens that share a large offset and differ little (a small IDM early in training) all land
    on one code of LAPO's uniformly initialised codebooks and stay there; replacing codes whose
    EMA count falls below the threshold by tokens of the batch brings codes back into use."""
    cfg = tiny_config(bottleneck="vq", vq=dict(dead_code_threshold=threshold))
    vq = LatentActionModel(cfg, (5,), "discrete", n_actions=3).bottleneck.train()
    g = torch.Generator().manual_seed(0)
    offset = 5.0 * torch.ones(vq.in_dim)
    used = []
    for _ in range(20):
        out = vq(offset + 0.1 * torch.randn(64, vq.in_dim, generator=g))
        used.append(int(out.codes.unique().numel()))
    assert used[0] == 1  # collapsed from the start either way
    assert (used[-1] > 8) == revived, used
