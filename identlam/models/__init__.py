"""Latent action models: one :class:`LatentActionModel` whose axes are switches.

``LatentActionModel(cfg.model, obs_shape, action_space, n_actions=None, action_dim=None)``
with ``loss(batch, step, total_steps) -> LossOutput(loss, logs)`` and
``label(obs_t, obs_next) -> (z, codes, probs)``. Presets live in :mod:`identlam.presets`.

The torch models load on first use: importing the package alone does not import torch.
(The numpy-only exact objective on tiny MDPs lives in :mod:`identlam.exact`.)
"""

from __future__ import annotations

__all__ = ["LatentActionModel", "LossOutput"]


def __getattr__(name: str):
    if name in __all__:
        from identlam.models import lam

        return getattr(lam, name)
    raise AttributeError(f"module 'identlam.models' has no attribute '{name}'")
