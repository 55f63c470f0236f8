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

    return ContinuousBottleneck(cfg)


def _vq(cfg, context: BuildContext):
    from identlam.models.bottlenecks import VQBottleneck

    return VQBottleneck(cfg)


def _fsq(cfg, context: BuildContext):
    from identlam.models.bottlenecks import FSQBottleneck

    return FSQBottleneck(cfg)


def _categorical(cfg, context: BuildContext):
    from identlam.models.bottlenecks import CategoricalBottleneck

    return CategoricalBottleneck(cfg, context.state_dim)


register_bottleneck("none", _continuous)
register_bottleneck("vq", _vq)
register_bottleneck("fsq", _fsq)
register_bottleneck("categorical", _categorical)
