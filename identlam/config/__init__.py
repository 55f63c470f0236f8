"""Run configuration: one nested dataclass per pipeline stage, printable, copyable, addressable.

A run is fully described by a :class:`RunConfig`. Presets (``identlam presets``) are plain
``RunConfig`` values; ``--set key=value`` overrides any field by its dotted path
(``model.entropy.weight=0.3``) or, when the leaf name is unique, by the leaf alone
(``anneal_end=0.4``). Values are parsed as JSON where possible (``true``, ``[8, 5, 5]``,
``1e-3``), otherwise taken as strings. Every field declares its admissible values and a one-line
description (:mod:`identlam.config.schema`); :func:`validate` checks them all, and every way a
config is built, loaded or overridden ends in it, raising :class:`~identlam.errors.ConfigError`
with the field's dotted path. Config files of the earlier flat layout are translated on load
(:mod:`identlam.config.legacy`).

Only plain types appear here (no torch), so configs can be read without importing models.
"""

from identlam.config.convert import (apply_overrides, from_dict, leaf_paths, load, parse_value, resolve_key, save,
                                     to_dict)
from identlam.config.describe import describe_fields
from identlam.config.schema import (BCConfig, DecoderConfig, EntropyConfig, EvalConfig, FSQConfig, LAMConfig,
                                    OptimConfig, RunConfig, TrainConfig, VQConfig)
from identlam.config.validate import validate, walk

__all__ = [
    "BCConfig", "DecoderConfig", "EntropyConfig", "EvalConfig", "FSQConfig", "LAMConfig", "OptimConfig", "RunConfig",
    "TrainConfig", "VQConfig", "apply_overrides", "describe_fields", "from_dict", "leaf_paths", "load",
    "parse_value", "resolve_key", "save", "to_dict", "validate", "walk",
]
