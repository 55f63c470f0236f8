"""The action decoder of LAOM's protocol: latent action -> true action.

Trained on the label split only, for a fixed number of updates (stage 4 of the pipeline). Its
input is the latent policy's output (``(B, d)`` for continuous latents, ``(B, M)`` code
probabilities for discrete ones), optionally together with the observation
(``DecoderConfig.use_observation``; LAOM's decoder ignores it). Output ``(B, n_actions)``
logits for discrete action spaces, ``(B, action_dim)`` actions for continuous ones.
"""

from __future__ import annotations

from typing import Sequence

import torch
from torch import nn

from identlam.errors import IdentlamError
from identlam.models.encoders import orthogonal_init
from identlam.models.policy import ObservationTrunk


class ActionDecoder(nn.Module):
    """MLP(latent [, trunk(obs)]) -> action logits or action values."""

    def __init__(
        self,
        latent_dim: int,
        out_dim: int,
        *,
        hidden_dim: int = 256,
        obs_shape: Sequence[int] | None = None,
        seed: int = 0,
    ):
        super().__init__()
        self.latent_dim = int(latent_dim)
        self.out_dim = int(out_dim)
        with torch.random.fork_rng(devices=[]):  # initialize from `seed`, leave the global RNG alone
            torch.manual_seed(int(seed))
            self._build(hidden_dim, obs_shape)

    def _build(self, hidden_dim: int, obs_shape: Sequence[int] | None) -> None:
        self.obs_trunk = ObservationTrunk(obs_shape, hidden_dim=hidden_dim) if obs_shape is not None else None
        in_dim = self.latent_dim + (self.obs_trunk.out_features if self.obs_trunk is not None else 0)
        self.net = nn.Sequential(
            nn.Linear(in_dim, hidden_dim),
            nn.ReLU(),
            nn.Linear(hidden_dim, hidden_dim),
            nn.ReLU(),
            nn.Linear(hidden_dim, self.out_dim),
        )
        orthogonal_init(self.net)

    @property
    def uses_observation(self) -> bool:
        return self.obs_trunk is not None

    def forward(self, latent: torch.Tensor, obs: torch.Tensor | None = None) -> torch.Tensor:
        if self.obs_trunk is not None:
            if obs is None:
                raise IdentlamError("ActionDecoder: built with obs_shape, so forward() needs 'obs'")
            latent = torch.cat([latent.float(), self.obs_trunk(obs)], dim=-1)
        return self.net(latent.float())
