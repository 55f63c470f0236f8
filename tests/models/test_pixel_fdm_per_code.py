"""The per-code path of the pixel FDM: encode once, decode per code, equal to forward() per code."""

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from identlam.errors import IdentlamError
from identlam.models import LatentActionModel
from identlam.models.code_surgery import output_layer
from identlam.models import pixel_fdm
from identlam.models.pixel_fdm import PixelFDM, per_sample_mse
from lam_batches import make_batch, tiny_config


def _loop_over_codes(fdm: PixelFDM, frames: torch.Tensor, codes: torch.Tensor) -> torch.Tensor:
    """The reference: one full forward() per code, ``(B, M, C, H, W)``."""
    b = frames.shape[0]
    return torch.stack([fdm(frames, code.expand(b, -1)) for code in codes], dim=1)


@settings(max_examples=6, deadline=None)
@given(height=st.integers(5, 14), width=st.integers(5, 14), in_frames=st.integers(1, 2), m=st.integers(1, 5),
       bounded=st.booleans(), seed=st.integers(0, 2**16))
def test_predict_per_code_equals_forward_per_code(height, width, in_frames, m, bounded, seed):
    # odd sizes exercise the crop after each transposed conv
    torch.manual_seed(seed)
    fdm = PixelFDM(3 * in_frames, 3, height, width, 6, (4, 8), bounded=bounded, tile_latent=False)
    frames, codes = torch.rand(3, 3 * in_frames, height, width) * 2 - 1, torch.randn(m, 6)
    fast, slow = fdm.predict_per_code(frames, codes), _loop_over_codes(fdm, frames, codes)
    assert fast.shape == (3, m, 3, height, width)
    torch.testing.assert_close(fast, slow, rtol=1e-5, atol=1e-5)


def test_gradients_of_the_per_code_path_equal_those_of_the_loop():
    torch.manual_seed(0)
    fdm = PixelFDM(3, 3, 12, 12, 6, (4, 8), bounded=False, tile_latent=False)
    frames, target = torch.rand(4, 3, 12, 12) * 2 - 1, torch.randn(4, 3, 12, 12)
    codes = torch.randn(5, 6, requires_grad=True)
    weights = torch.rand(4, 5)

    def grads(pred):
        err = (pred - target[:, None]).square().flatten(2).mean(2)
        return torch.autograd.grad((weights * err).sum(), [codes, *fdm.parameters()])

    for fast, slow in zip(grads(fdm.predict_per_code(frames, codes)), grads(_loop_over_codes(fdm, frames, codes))):
        torch.testing.assert_close(fast, slow, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("past_frame", [False, True])
def test_lam_per_code_errors_equal_a_forward_loop_at_1e_5(past_frame):
    cfg = tiny_config(bottleneck="categorical", n_codes=6, predict_delta=True, past_frame=past_frame)
    lam = LatentActionModel(cfg, (13, 11, 3), "discrete", n_actions=3, seed=3)
    g = torch.Generator().manual_seed(1)
    state = torch.rand(5, 3 * (2 if past_frame else 1), 13, 11, generator=g) * 2 - 1
    target = torch.randn(5, 3, 13, 11, generator=g) * 0.1
    errors = lam._per_code_errors(state, target, lam.bottleneck.embedding)
    reference = torch.stack([per_sample_mse(lam.fdm(state, code.expand(5, -1)), target)
                             for code in lam.bottleneck.embedding], dim=1)
    assert errors.shape == (5, 6)
    assert (reference.max(1).values - reference.min(1).values).min() > 1e-4  # the codes really differ
    torch.testing.assert_close(errors, reference, rtol=1e-5, atol=1e-5)


def test_only_the_categorical_fdm_drops_the_tiled_input_latent():
    cat = LatentActionModel(tiny_config(bottleneck="categorical"), (8, 8, 3), "discrete", n_actions=3)
    vq = LatentActionModel(tiny_config(bottleneck="vq"), (8, 8, 3), "discrete", n_actions=3)
    assert not cat.fdm.tile_latent and cat.fdm.downs[0][0].in_channels == 3
    assert vq.fdm.tile_latent and vq.fdm.downs[0][0].in_channels == 3 + 8
    assert output_layer(cat.fdm) is cat.fdm.final[-1]  # symmetric_start still zeroes the output conv


def test_encode_decode_compose_to_forward_with_the_tiled_latent():
    torch.manual_seed(0)
    fdm = PixelFDM(3, 3, 9, 9, 4, (4, 8), bounded=True)
    frames, latent = torch.rand(2, 3, 9, 9), torch.randn(2, 4)
    assert torch.equal(fdm(frames, latent), fdm.decode(fdm.encode(frames, latent), frames, latent))
    other = fdm(frames, torch.randn(2, 4))
    assert (other - fdm(frames, latent)).abs().max() > 1e-4  # the latent reaches the output


def test_misused_latent_arguments_raise_one_line_errors():
    tiled = PixelFDM(3, 3, 8, 8, 4, (4,), bounded=False)
    plain = PixelFDM(3, 3, 8, 8, 4, (4,), bounded=False, tile_latent=False)
    frames = torch.zeros(1, 3, 8, 8)
    with pytest.raises(IdentlamError, match="^codes: .*tile_latent=False"):
        tiled.predict_per_code(frames, torch.zeros(2, 4))
    with pytest.raises(IdentlamError, match="^latent: .*needs the latent"):
        tiled.encode(frames)
    with pytest.raises(IdentlamError, match="^latent: .*frames alone"):
        plain.encode(frames, torch.zeros(1, 4))


def test_lam_loss_runs_on_images_with_the_per_code_path():
    cfg = tiny_config(bottleneck="categorical", predict_delta=True)
    lam = LatentActionModel(cfg, (10, 10, 3), "discrete", n_actions=3, seed=0)
    out = lam.loss(make_batch((10, 10, 3), batch_size=4, seed=0), 0, 10)
    out.loss.backward()
    assert torch.isfinite(out.loss)
    assert lam.fdm.latent_mid.weight.grad.abs().sum() > 0 and lam.fdm.downs[0][0].weight.grad.abs().sum() > 0


@pytest.mark.parametrize("m", [1, 3, 8])
@pytest.mark.parametrize("budget_rows", [1, 2, 5, 1000])  # one sample per chunk, two, an uneven split, one chunk
def test_chunked_per_code_errors_equal_the_loop_in_values_and_gradients(m, budget_rows, monkeypatch):
    torch.manual_seed(m)
    fdm = PixelFDM(3, 3, 11, 10, 6, (4, 8), bounded=False, tile_latent=False)
    monkeypatch.setattr(pixel_fdm, "CHUNK_BYTES", fdm._row_bytes(4) * m * budget_rows)
    chunks = []
    original = fdm._chunk_errors
    monkeypatch.setattr(fdm, "_chunk_errors", lambda *a: chunks.append(a[0].shape[0]) or original(*a))
    frames, target = torch.rand(7, 3, 11, 10) * 2 - 1, torch.randn(7, 3, 11, 10) * 0.3
    codes = torch.randn(m, 6, requires_grad=True)
    weights = torch.rand(7, m)

    def errors_and_grads(errors):
        return errors.detach(), torch.autograd.grad((weights * errors).sum(), [codes, *fdm.parameters()])

    fast, fast_grads = errors_and_grads(fdm.per_code_errors(frames, codes, target))
    slow, slow_grads = errors_and_grads((_loop_over_codes(fdm, frames, codes) - target[:, None]).square().flatten(2).mean(2))
    assert fast.shape == (7, m)
    assert sum(chunks) >= 7 and max(chunks) == min(budget_rows, 7)  # (the backward pass recomputes the chunks)
    torch.testing.assert_close(fast, slow, rtol=1e-5, atol=1e-6)
    for a, b in zip(fast_grads, slow_grads):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6)
    with torch.no_grad():
        torch.testing.assert_close(fdm.per_code_errors(frames, codes, target), slow, rtol=1e-5, atol=1e-6)


def test_image_training_with_the_chunked_path_is_deterministic(monkeypatch):
    monkeypatch.setattr(pixel_fdm, "CHUNK_BYTES", 1)  # one sample per chunk: recomputation in every backward
    cfg = tiny_config(bottleneck="categorical", n_codes=4, predict_delta=True)

    def train(steps: int) -> list[torch.Tensor]:
        lam = LatentActionModel(cfg, (10, 10, 3), "discrete", n_actions=3, seed=0)
        opt = torch.optim.AdamW(lam.parameters(), lr=1e-2)
        for step in range(steps):
            opt.zero_grad()
            lam.loss(make_batch((10, 10, 3), batch_size=5, seed=step), step, steps).loss.backward()
            opt.step()
        return [p.detach().clone() for p in lam.parameters()]

    first, second, start = train(3), train(3), train(0)
    assert all(torch.equal(a, b) for a, b in zip(first, second))
    assert any(not torch.equal(a, b) for a, b in zip(first, start))  # the steps did change the model
