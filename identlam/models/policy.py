"""Observation-conditioned networks of the pipeline: the BC and latent-BC policies.

Conventions: observations arrive as the data layer yields them, images ``(B, H, W, C·F)`` uint8
(frames stacked on the channel axis, oldest first) and vectors ``(B, D·F)`` float32; outputs are
``(B, out_dim)`` float tensors, logits for discrete targets and values for continuous ones.

The trunks reuse the latent action model's encoders (IMPALA ResNet for images, MLP for vectors)
so that the BC actor and the LAM see observations through the same architecture family.
"""

from __future__ import annotations

from typing import Sequence

import torch
from torch import nn

from identlam.models.encoders import ImpalaEncoder, MLPEncoder, orthogonal_init
from identlam.models.inputs import to_model_input


class ObservationTrunk(nn.Module):
    """Observation -> feature vector ``(B, out_features)``, built from the LAM's encoders.

    Images (``obs_shape == (H, W, C)``, C counting stacked frames) go through an
    :class:`~identlam.models.encoders.ImpalaEncoder` projected to ``hidden_dim``; vectors
    (``(D,)``) through an :class:`~identlam.models.encoders.MLPEncoder`. uint8 images are mapped
    to [-1, 1] NCHW inside (as the LAM's inputs), so callers pass raw batches.
    """

    def __init__(
        self,
        obs_shape: Sequence[int],
        *,
        hidden_dim: int = 256,
        channels: Sequence[int] = (16, 32, 32),
        scale: int = 1,
        res_blocks: int = 1,
        mlp_layers: int = 2,
    ):
        super().__init__()
        self.obs_shape = tuple(int(s) for s in obs_shape)
        self.is_image = len(self.obs_shape) == 3
        if self.is_image:
            h, w, c = self.obs_shape
            self.net = ImpalaEncoder(c, h, w, tuple(channels), int(scale), int(res_blocks), int(hidden_dim))
        else:
            self.net = MLPEncoder(self.obs_shape[0], int(hidden_dim), int(mlp_layers), int(hidden_dim))
        self.out_features = self.net.out_dim
        orthogonal_init(self.net)

    def normalize(self, obs: torch.Tensor) -> torch.Tensor:
        """Raw batch -> encoder input: images NCHW float in [-1, 1], vectors float32."""
        return to_model_input(obs, self.is_image, obs.device)

    def forward(self, obs: torch.Tensor, augmenter: nn.Module | None = None,
                generator: torch.Generator | None = None) -> torch.Tensor:
        """Features of a raw batch; images are augmented first when an ``augmenter`` is given."""
        x = self.normalize(obs)
        if augmenter is not None and self.is_image:
            x = augmenter(x, generator)
        return self.net(x)


class Policy(nn.Module):
    """Observation -> ``(B, out_dim)``: action logits (discrete), an action, or a latent action.

    ``obs_shape`` is the stacked input shape, ``(H, W, C·F)`` or ``(D·F,)``; ``seed`` fixes the
    initialization (drawn inside a forked RNG, so the caller's torch RNG is untouched).
    """

    def __init__(
        self,
        obs_shape: Sequence[int],
        out_dim: int,
        *,
        hidden_dim: int = 256,
        impala_scale: int = 1,
        channels: Sequence[int] = (16, 32, 32),
        res_blocks: int = 1,
        seed: int = 0,
    ):
        super().__init__()
        self.out_dim = int(out_dim)
        with torch.random.fork_rng(devices=[]):  # initialize from `seed`, leave the global RNG alone
            torch.manual_seed(int(seed))
            self._build(obs_shape, hidden_dim, impala_scale, channels, res_blocks)

    def _build(self, obs_shape, hidden_dim, impala_scale, channels, res_blocks) -> None:
        self.trunk = ObservationTrunk(
            obs_shape, hidden_dim=hidden_dim, channels=channels, scale=impala_scale, res_blocks=res_blocks
        )
        self.head = nn.Sequential(
            nn.Linear(self.trunk.out_features, hidden_dim), nn.ReLU(), nn.Linear(hidden_dim, self.out_dim)
        )
        orthogonal_init(self.head)
        # Small last layer: initial outputs near zero (uniform logits, latent near the origin).
        orthogonal_init(self.head[-1], gain=0.01)

    def forward(self, obs: torch.Tensor, augmenter: nn.Module | None = None,
                generator: torch.Generator | None = None) -> torch.Tensor:
        return self.head(self.trunk(obs, augmenter, generator))
