"""The one place where a configuration is checked: every field's rule, then the rules between fields.

:func:`validate` runs when a config is built from a preset, loaded from a file, overridden with
``--set`` and when a model is constructed, so a value that makes no sense stops the command
before any work starts, with one line naming its dotted path.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any, Iterator

from identlam.config.schema import EntropyConfig, LAMConfig, RunConfig, TrainConfig
from identlam.errors import ConfigError


def validate(cfg: Any, path: str = "") -> Any:
    """Check every field of ``cfg`` (any config dataclass); return ``cfg`` or raise ConfigError.

    ``path`` is the dotted prefix of ``cfg`` in the run config (``"model"`` for a LAMConfig), so
    errors name the field as ``--set`` addresses it.
    """
    for dotted, value, rule in walk(cfg, path):
        bad = rule.problem(value)
        if bad is not None:
            raise ConfigError(f"config key '{dotted}': {bad}")
    _check_relations(cfg, path)
    return cfg


def walk(cfg: Any, path: str = "") -> Iterator[tuple[str, Any, Any]]:
    """``(dotted path, value, rule)`` for every leaf of ``cfg``, depth first in declaration order."""
    for f in dataclasses.fields(cfg):
        dotted = f"{path}.{f.name}" if path else f.name
        value = getattr(cfg, f.name)
        if "rule" in f.metadata:
            yield dotted, value, f.metadata["rule"]
        else:
            default = f.default_factory()
            if type(value) is not type(default):
                raise ConfigError(f"config key '{dotted}': expected a table of {type(default).__name__} fields, "
                                  f"got {value!r}")
            yield from walk(value, dotted)


def _key(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def _check_relations(cfg: Any, path: str) -> None:
    """Constraints between fields, for whichever part of the run config ``cfg`` is."""
    checks = {RunConfig: lambda: _check_run(cfg), LAMConfig: lambda: _check_model(cfg, path),
              TrainConfig: lambda: _check_train(cfg, path), EntropyConfig: lambda: _check_entropy(cfg, path)}
    check = checks.get(type(cfg))
    if check is not None:
        check()


def _check_entropy(ent: Any, path: str) -> None:
    if ent.bonus > 0 and ent.warmup_steps > 0:
        raise ConfigError(f"config key '{_key(path, 'warmup_steps')}': annealing ({_key(path, 'bonus')} > 0) "
                          "replaces the warm-up; set one of them to 0")


def _check_model(m: Any, path: str) -> None:
    _check_entropy(m.entropy, _key(path, "entropy"))
    if m.idm_cells == 1:
        raise ConfigError(f"config key '{_key(path, 'idm_cells')}': must be 0 (one head) or >= 2 cells, got 1")
    if m.normalize_target and m.fdm_target != "observation":
        raise ConfigError(f"config key '{_key(path, 'normalize_target')}': applies to observation targets only, "
                          f"got {_key(path, 'fdm_target')}={m.fdm_target!r}")
    if m.entropy.units == "target_variance" and m.fdm_target != "observation":
        raise ConfigError(f"config key '{_key(path, 'entropy.units')}': target_variance needs an observation target, "
                          f"got {_key(path, 'fdm_target')}={m.fdm_target!r}")
    if m.bottleneck == "vq":
        tokens = m.vq.num_codebooks * m.vq.num_latents
        if tokens * math.log2(m.vq.codebook_size) >= 63:
            raise ConfigError(f"config key '{_key(path, 'vq.codebook_size')}': {m.vq.codebook_size}**{tokens} joint "
                              "codes overflow int64; use fewer codebooks, positions or codes")


def _check_train(t: Any, path: str) -> None:
    if t.restarts > 1 and not t.restart_steps < t.steps:
        raise ConfigError(f"config key '{_key(path, 'restart_steps')}': must be < {_key(path, 'steps')} "
                          f"({t.steps}) when restarts > 1, got {t.restart_steps}")
    if t.curriculum > 0 and not t.curriculum_hold < t.curriculum:  # curriculum 0 switches both off
        raise ConfigError(f"config key '{_key(path, 'curriculum_hold')}': must be < {_key(path, 'curriculum')} "
                          f"({t.curriculum}), got {t.curriculum_hold}")


def _check_run(run: Any) -> None:
    _check_model(run.model, "model")
    _check_train(run.train, "train")
    if run.kind in ("bc", "idm") and run.labels < 1:
        raise ConfigError(f"config key 'labels': the '{run.kind}' baseline learns from labels; "
                          "give a label budget >= 1 (--labels N_TRAJ)")
    if run.kind == "idm" and run.model.label_coef <= 0:
        raise ConfigError("config key 'model.label_coef': the idm baseline needs the supervision head (> 0)")
    if run.kind == "lam" and run.model.label_coef > 0 and run.labels < 1:
        raise ConfigError("config key 'labels': model.label_coef > 0 needs a label budget (--labels N_TRAJ)")
    if run.kind == "lam" and run.model.bottleneck == "none" and run.bc.policy_target == "codes":
        raise ConfigError("config key 'bc.policy_target': 'codes' needs a discrete bottleneck; "
                          "model.bottleneck is 'none'")
