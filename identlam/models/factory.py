"""The bottleneck registry: the one place that maps ``model.*`` config fields to bottleneck modules.

Each registered name has a builder ``builder(cfg, context) -> Bottleneck``; ``cfg`` is the
:class:`~identlam.config.LAMConfig`, ``context`` what the model knows at build time (the IDM
state width that sizes a latent-policy head). Builders import their module when called, so this
registry (and config validation, which reads its names) imports no torch.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from identlam.errors import ConfigError


@dataclass(frozen=True)
class BuildContext:
    """What the model knows when it builds its bottleneck."""

    state_dim: int  # width of the IDM's state input (e_t, or [e_{t-1}, e_t] with past_frame)


Builder = Callable[[Any, BuildContext], Any]
_BUILDERS: dict[str, Builder] = {}


def register_bottleneck(name: str, builder: Builder) -> None:
    """Make ``model.bottleneck = name`` build ``builder(cfg, context)``; names are unique."""
    if name in _BUILDERS:
        raise ValueError(f"bottleneck '{name}' is already registered")
    _BUILDERS[name] = builder


def unregister_bottleneck(name: str) -> None:
    """Remove a registered bottleneck (tests that register their own clean up with this)."""
    _BUILDERS.pop(name, None)


def bottleneck_names() -> tuple[str, ...]:
    return tuple(_BUILDERS)


def make_bottleneck(cfg, context: BuildContext):
    """The bottleneck named by ``cfg.bottleneck``, built from its config fields."""
    if cfg.bottleneck not in _BUILDERS:
        raise ConfigError(f"config key 'model.bottleneck': expected one of {', '.join(_BUILDERS)}, got {cfg.bottleneck!r}")
    return _BUILDERS[cfg.bottleneck](cfg, context)


def _continuous(cfg, context: BuildContext):
    from identlam.models.bottlenecks import ContinuousBottleneck

    return ContinuousBottleneck(dim=cfg.latent_dim)


def _vq(cfg, context: BuildContext):
    from identlam.models.bottlenecks import VQBottleneck

    v = cfg.vq
    return VQBottleneck(codebook_size=v.codebook_size, num_codebooks=v.num_codebooks, num_latents=v.num_latents,
                        code_dim=v.code_dim, shared_codebook=v.shared_codebook, decay=v.decay, commitment=v.commitment,
                        dead_code_threshold=v.dead_code_threshold)


def _fsq(cfg, context: BuildContext):
    from identlam.models.bottlenecks import FSQBottleneck

    return FSQBottleneck(levels=cfg.fsq.levels, dim=cfg.latent_dim)


def _categorical(cfg, context: BuildContext):
    from identlam.models.bottlenecks import CategoricalBottleneck

    return CategoricalBottleneck(n_codes=cfg.n_codes, code_dim=cfg.latent_dim, state_dim=context.state_dim,
                                 policy_hidden=cfg.hidden_dim, entropy=cfg.entropy)


register_bottleneck("none", _continuous)
register_bottleneck("vq", _vq)
register_bottleneck("fsq", _fsq)
register_bottleneck("categorical", _categorical)
