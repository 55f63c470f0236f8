"""Run configuration: one nested dataclass per pipeline stage, printable, copyable, overridable.

A run is fully described by a :class:`RunConfig`. Presets (``identlam presets``) are plain
``RunConfig`` values; ``--set key=value`` overrides any field by its dotted path
(``model.entropy_weight=0.3``) or, when the leaf name is unique, by the leaf alone
(``entropy_weight=0.3``). Values are parsed as JSON where possible (``true``, ``[8, 5, 5]``,
``1e-3``) and otherwise taken as strings, then coerced to the field's type; a bad key or value
raises :class:`~identlam.errors.ConfigError` naming it.

Only plain types appear here (no torch), so configs can be read without importing models.
"""

from __future__ import annotations

import dataclasses
import json
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from identlam.errors import ConfigError


@dataclass
class LAMConfig:
    """Axes of the one LatentActionModel (DESIGN §4). Each field is a switch."""

    # --- observation encoder -------------------------------------------------------------
    encoder: str = "auto"  # auto (mlp for vectors, impala for images) | mlp | impala
    hidden_dim: int = 256  # width of MLP encoders and of the IDM/FDM heads
    mlp_layers: int = 2  # hidden layers of the MLP encoder; 0 = a linear encoder
    impala_channels: tuple[int, ...] = (16, 32, 32)
    impala_scale: int = 1  # channel multiplier
    impala_res_blocks: int = 2
    embed_dim: int = 256  # size of the observation embedding fed to the heads
    # --- IDM input -----------------------------------------------------------------------
    frame_stack: int = 1  # F frames per observation, oldest first, padded with the first frame
    future_k: int = 1  # K: the IDM sees (o_t, o_{t+k}), k ~ U{1..K}; K = 1 is one-step
    past_frame: bool = False  # LAPO: the IDM and FDM also see o_{t-1}
    idm_input_norm: bool = False  # the IDM standardizes its input embeddings over the batch (BatchNorm1d, no affine)
    idm_fusion: str = "concat"  # concat: IDM reads [state, e_future] | gated: also (U state) * (V e_future), factored multiplicative features
    idm_factors: int = 16  # gated fusion: number of multiplicative factors
    # --- bottleneck ----------------------------------------------------------------------
    bottleneck: str = "categorical"  # none | vq | fsq | categorical
    latent_dim: int = 16  # width of the continuous latent (none) or of code embeddings
    n_codes: int = 8  # categorical: number of codes M
    entropy: str = "conditional"  # categorical: none | conditional | policy | marginal
    entropy_weight: float = 0.1  # lambda
    entropy_warmup_steps: int = 0  # lambda ramps linearly from 0 over these steps
    entropy_bonus: float = 0.0  # deterministic annealing: the entropy term starts as a bonus of this weight (> 0 switches it on)
    entropy_anneal_end: float = 0.5  # annealing: fraction of train.steps at which the bonus has become the penalty lambda
    fdm_zero_init: bool = False  # the FDM's output layer starts at zero, so every code makes the same first prediction
    vq_codebook_size: int = 64
    vq_num_codebooks: int = 2  # LAPO layout: latent split into codebooks x positions
    vq_num_latents: int = 4
    vq_code_dim: int = 16
    vq_shared_codebook: bool = True
    vq_decay: float = 0.999
    vq_commitment: float = 0.05
    fsq_levels: tuple[int, ...] = (8, 5, 5, 5)
    # --- prediction target ---------------------------------------------------------------
    target: str = "observation"  # observation (pixels/vector; LAPO) | latent (LAOM)
    predict_delta: bool = False  # observation target: predict o_{t+1} - o_t instead of o_{t+1}
    normalize_target: bool = False  # observation target: standardize it per channel by running statistics over training batches
    target_ema_tau: float = 1e-3  # latent target: EMA rate of the target encoder; 0 = stop-grad
    detach_fdm_input: bool = True  # latent target: the FDM sees a detached e_t (LAOM)
    # --- augmentations -------------------------------------------------------------------
    augment: bool = False
    augment_ops: tuple[str, ...] = ("shift", "rotate", "perspective")
    # --- supervision ---------------------------------------------------------------------
    label_coef: float = 0.0  # > 0 adds a latent -> true action head fed by the label split
    label_batch_size: int = 32


@dataclass
class TrainConfig:
    """Stage 1: the latent action model (or the supervised model of the baselines)."""

    steps: int = 2000
    batch_size: int = 128
    lr: float = 3e-4
    weight_decay: float = 0.0
    warmup_steps: int = 100
    schedule: str = "cosine"  # constant | linear | cosine (after warm-up)
    grad_clip: float = 2.0  # 0 disables
    checkpoint_every: int = 500
    log_every: int = 50
    restarts: int = 1  # R > 1: train R initializations for restart_steps, keep the lowest label-free loss
    restart_steps: int = 200  # steps each restart candidate trains before the selection
    curriculum: float = 0.0  # > 0: for this fraction of steps, windows are drawn near one seeded anchor observation (state-space curriculum)
    curriculum_radius: float = 0.1  # curriculum: starting radius, as a fraction of the largest distance to the anchor
    curriculum_anchor: str = "dense"  # curriculum: dense (the densest observation of a seeded subsample) | random


@dataclass
class BCConfig:
    """Stage 3: latent behaviour cloning, observation -> latent action (labels from k = 1)."""

    steps: int = 2000
    batch_size: int = 128
    lr: float = 3e-4
    hidden_dim: int = 256
    impala_scale: int = 1
    augment: bool = False
    target: str = "auto"  # auto (codes when the code set has <= 4096 codes, else z) | codes (classifier) | latent (MSE on z)


@dataclass
class DecoderConfig:
    """Stage 4: latent action -> true action, trained on the label split only."""

    steps: int = 1000  # fixed number of updates, whatever the label budget (LAOM)
    batch_size: int = 128
    lr: float = 3e-4
    hidden_dim: int = 256
    use_observation: bool = False  # LAOM's decoder ignores the observation


@dataclass
class EvalConfig:
    """Stage 5: offline identifiability report and online return."""

    episodes: int = 10
    max_steps: int = 200
    holdout_fraction: float = 0.2  # trajectories held out for the offline metrics
    normalizer_steps: int = 2000  # BC on all true actions, the return normalizer


@dataclass
class RunConfig:
    method: str = "lapo-entropy"
    kind: str = "lam"  # lam | bc | idm
    seed: int = 0
    device: str = "auto"  # auto | cpu | cuda | cuda:N
    labels: int = 0  # label budget, in trajectories (a seeded choice; DESIGN §2)
    model: LAMConfig = field(default_factory=LAMConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    bc: BCConfig = field(default_factory=BCConfig)
    decoder: DecoderConfig = field(default_factory=DecoderConfig)
    eval: EvalConfig = field(default_factory=EvalConfig)


# ---------------------------------------------------------------------------------------
# Generic machinery: dict round trip, overrides, validation of types.


def to_dict(cfg: Any) -> dict:
    """A JSON-able nested dict (tuples become lists)."""
    return json.loads(json.dumps(dataclasses.asdict(cfg)))


def from_dict(cls: type, data: dict, *, path: str = "") -> Any:
    """Build ``cls`` from a nested dict, rejecting unknown keys with their dotted path."""
    if not isinstance(data, dict):
        raise ConfigError(f"config {path or 'root'}: expected a table, got {type(data).__name__}")
    hints = typing.get_type_hints(cls)
    names = {f.name for f in dataclasses.fields(cls)}
    kwargs = {}
    for key, value in data.items():
        dotted = f"{path}.{key}" if path else key
        if key not in names:
            raise ConfigError(f"config key '{dotted}' is unknown")
        hint = hints[key]
        if dataclasses.is_dataclass(hint):
            kwargs[key] = from_dict(hint, value, path=dotted)
        else:
            kwargs[key] = _coerce(value, hint, dotted)
    return cls(**kwargs)


def save(cfg: Any, path: str | Path) -> None:
    """Write the config as JSON, atomically."""
    from identlam.io import atomic_write_text

    atomic_write_text(path, json.dumps(to_dict(cfg), indent=2, sort_keys=False) + "\n")


def load(path: str | Path, cls: type = RunConfig) -> Any:
    from identlam.io import read_json

    return from_dict(cls, read_json(path, what="config file", error=ConfigError))


def leaf_paths(cls: type, prefix: str = "") -> dict[str, str]:
    """Map every dotted leaf path of a config class to itself and unique leaf names to paths."""
    out: dict[str, str] = {}
    hints = typing.get_type_hints(cls)
    for f in dataclasses.fields(cls):
        dotted = f"{prefix}.{f.name}" if prefix else f.name
        if dataclasses.is_dataclass(hints[f.name]):
            out.update(leaf_paths(hints[f.name], dotted))
        else:
            out[dotted] = dotted
    return out


def apply_overrides(cfg: Any, assignments: list[str] | dict[str, Any]) -> Any:
    """Return a copy of ``cfg`` with ``key=value`` assignments applied.

    ``key`` is a dotted path or a leaf name that is unique across the whole config.
    """
    items = assignments.items() if isinstance(assignments, dict) else map(_split_assignment, assignments)
    data = to_dict(cfg)
    full = leaf_paths(type(cfg))
    by_leaf: dict[str, list[str]] = {}
    for dotted in full:
        by_leaf.setdefault(dotted.rsplit(".", 1)[-1], []).append(dotted)
    for key, raw in items:
        if key in full:
            dotted = key
        elif len(by_leaf.get(key, [])) == 1:
            dotted = by_leaf[key][0]
        elif key in by_leaf:
            raise ConfigError(f"--set key '{key}' is ambiguous: use one of {', '.join(by_leaf[key])}")
        else:
            raise ConfigError(f"--set key '{key}' is unknown (see `identlam presets NAME` for the keys)")
        node = data
        parts = dotted.split(".")
        for part in parts[:-1]:
            node = node[part]
        node[parts[-1]] = parse_value(raw) if isinstance(raw, str) else raw
    return from_dict(type(cfg), data)


def parse_value(raw: str) -> Any:
    """JSON when it parses (numbers, booleans, lists), else the string itself."""
    try:
        return json.loads(raw)
    except json.JSONDecodeError:
        low = raw.strip().lower()
        if low in ("true", "false"):
            return low == "true"
        return raw


def _split_assignment(text: str) -> tuple[str, str]:
    if "=" not in text:
        raise ConfigError(f"--set '{text}': expected key=value")
    key, value = text.split("=", 1)
    return key.strip(), value.strip()


def _coerce(value: Any, hint: Any, dotted: str) -> Any:
    origin = typing.get_origin(hint)
    if origin is tuple:
        if isinstance(value, (int, float, str)):
            value = [value]
        if not isinstance(value, (list, tuple)):
            raise ConfigError(f"config key '{dotted}': expected a list, got {value!r}")
        (inner, *_rest) = typing.get_args(hint) or (Any,)
        return tuple(_coerce(v, inner, f"{dotted}[{i}]") for i, v in enumerate(value))
    if hint is bool:
        if isinstance(value, bool):
            return value
        raise ConfigError(f"config key '{dotted}': expected true or false, got {value!r}")
    if hint is int:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or float(value) != int(value):
            raise ConfigError(f"config key '{dotted}': expected an integer, got {value!r}")
        return int(value)
    if hint is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(f"config key '{dotted}': expected a number, got {value!r}")
        if value != value or value in (float("inf"), float("-inf")):
            raise ConfigError(f"config key '{dotted}': must be finite, got {value!r}")
        return float(value)
    if hint is str:
        if not isinstance(value, str):
            raise ConfigError(f"config key '{dotted}': expected a string, got {value!r}")
        return value
    return value
