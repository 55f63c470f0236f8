"""A tiny optimization sanity check: a toy 4-action problem is learned in 200 Adam steps."""

import numpy as np
import pytest
import torch

from identlam.models import LatentActionModel
from lam_batches import tiny_config

MOVES = np.array([[0.3, 0.0], [-0.3, 0.0], [0.0, 0.3], [0.0, -0.3]], dtype=np.float32)


def _toy_batch(rng: np.random.Generator, n: int) -> dict:
    s = rng.uniform(-1, 1, (n, 2)).astype(np.float32)
    a = rng.integers(0, 4, n)
    s1 = s + MOVES[a]
    t = {"obs_t": torch.from_numpy(s), "obs_next": torch.from_numpy(s1), "obs_future": torch.from_numpy(s1),
         "k": torch.ones(n, dtype=torch.int64)}
    return t, a


@pytest.mark.parametrize("bottleneck", ["categorical", "none"])
def test_loss_drops_and_codes_track_actions(bottleneck):
    cfg = tiny_config(bottleneck=bottleneck, n_codes=4, hidden_dim=32, embed_dim=32, latent_dim=8,
                      predict_delta=True, entropy=dict(kind="conditional", weight=0.01))
    lam = LatentActionModel(cfg, (2,), "discrete", n_actions=4, seed=0)
    opt = torch.optim.Adam(lam.parameters(), lr=3e-3)
    rng = np.random.default_rng(0)
    steps = 200
    first = None
    for step in range(steps):
        batch, _ = _toy_batch(rng, 64)
        out = lam.loss(batch, step, steps)
        out.loss.backward()
        opt.step()
        opt.zero_grad()
        first = first if first is not None else out.logs["rec_loss"]
    batch, actions = _toy_batch(np.random.default_rng(1), 512)
    lam.eval()
    final = lam.loss(batch, steps - 1, steps).logs["rec_loss"]
    assert final < 0.05 * first, (first, final)
    if bottleneck == "categorical":
        _, codes, _ = lam.label(batch["obs_t"], batch["obs_next"])
        codes = codes.numpy()
        # each action is read off its majority code for most transitions
        purity = sum(np.bincount(codes[actions == a]).max() for a in range(4)) / len(actions)
        assert purity > 0.95
