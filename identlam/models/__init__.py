"""Latent action models (DESIGN §4): one :class:`LatentActionModel` whose axes are switches.

``LatentActionModel(cfg.model, obs_shape, action_space, n_actions=None, action_dim=None)``
with ``loss(batch, step, total_steps) -> LossOutput(loss, logs)`` and
``label(obs_t, obs_next) -> (z, codes, probs)``. Presets live in :mod:`identlam.presets`.
"""

from identlam.models.lam import LatentActionModel, LossOutput

__all__ = ["LatentActionModel", "LossOutput"]
