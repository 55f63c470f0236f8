"""The identlam-1 dataset schema and the checks shared by the writer and the reader.

A dataset is one HDF5 file. File attributes describe the environment; one group per trajectory,
named ``"0"``, ``"1"``, ... in order, holds the per-step fields below. Action ``t`` moves
``obs[t]`` to ``obs[t + 1]``, so a trajectory of ``T`` steps holds ``T - 1`` transitions.

================  =======================================  ==========================================
field             shape, dtype                             who may read it
================  =======================================  ==========================================
``obs``           (T, H, W, C) uint8 or (T, D) float32     everyone (``Dataset.observations``)
``actions``       (T,) int64 or (T, A) float32             the label split; metrics (privileged)
``states``        (T, S) float32                           metrics and probes only (privileged)
``exo``           (T, E) float32, when the source has any  metrics and probes only (privileged)
``rewards``       (T,) float32, when the source has any    metrics and evaluation (privileged)
================  =======================================  ==========================================

Every check here works on shapes and dtypes only (``check_group``) or on one block of values
(``check_values``), so the reader can validate a file far larger than memory block by block.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from identlam.errors import DatasetError

FORMAT = "identlam-1"
REQUIRED_FIELDS = ("obs", "actions", "states")
OPTIONAL_FIELDS = ("exo", "rewards")
ALL_FIELDS = REQUIRED_FIELDS + OPTIONAL_FIELDS
ACTION_SPACES = ("discrete", "continuous")
OBS_KINDS = ("image", "vector")
# File attributes stored as JSON strings and decoded on reading.
JSON_ATTRS = ("generator", "assumptions")
# Largest magnitude accepted in a float field. Models standardise and square these values in
# float32, whose squares overflow past about 1.8e19 (1e30 becomes inf); simulators and sensors
# stay many orders of magnitude below 1e9, so only broken data is refused.
MAX_ABS = 1e9
# LAOM's DCS attributes, kept as they are when present.
DCS_ATTRS = ("domain_name", "task_name", "difficulty", "dynamic", "img_hw")


def describe(shape: tuple[int, ...], dtype: np.dtype) -> str:
    """``(100, 64, 64, 3) uint8``: how messages name an array."""
    return f"{tuple(int(s) for s in shape)} {np.dtype(dtype).name}"


@dataclass
class Layout:
    """What every trajectory group must agree on: filled from the file attributes and group 0."""

    action_space: str
    obs_kind: str
    n_actions: int | None = None
    action_dim: int | None = None
    obs_shape: tuple[int, ...] | None = None  # per-step shape of obs, from group 0
    state_dim: int | None = None
    exo_dim: int | None = None  # None until group 0 is seen; 0 when the file has no exo
    has_rewards: bool | None = None
    seen: set = field(default_factory=set)

    def expected(self, name: str) -> tuple[str, int, str]:
        """(dtype name, ndim, human-readable layout) the field must have."""
        if name == "obs":
            return ("uint8", 4, "(T, H, W, C)") if self.obs_kind == "image" else ("float32", 2, "(T, D)")
        if name == "actions":
            return ("int64", 1, "(T,)") if self.action_space == "discrete" else ("float32", 2, "(T, A)")
        if name == "rewards":
            return ("float32", 1, "(T,)")
        return ("float32", 2, "(T, S)" if name == "states" else "(T, E)")


def check_group(where: str, fields: dict[str, tuple[tuple[int, ...], np.dtype]], layout: Layout) -> int:
    """Check one trajectory's field shapes and dtypes against ``layout``; return its length T.

    ``where`` prefixes every message (``"data.h5: group '3'"``); ``fields`` maps each present
    field name to ``(shape, dtype)``. The first group checked fixes the per-step shapes and which
    optional fields exist; later groups must match it.
    """
    for name in REQUIRED_FIELDS:
        if name not in fields:
            raise DatasetError(f"{where} field '{name}': missing (each group needs {', '.join(REQUIRED_FIELDS)})")
    for name, (shape, dtype) in fields.items():
        exp_dtype, exp_ndim, exp_layout = layout.expected(name)
        dtype_ok = np.dtype(dtype).name == exp_dtype
        if dtype_ok and len(shape) == exp_ndim and all(shape[1:]):
            continue
        what = f"{where} field '{name}': {describe(shape, dtype)}"
        if not dtype_ok:
            raise DatasetError(f"{what}: dtype must be {exp_dtype} for {_context(name, layout)}")
        if len(shape) != exp_ndim:
            raise DatasetError(f"{what}: expected {exp_layout} for {_context(name, layout)}")
        raise DatasetError(f"{what}: a per-step dimension is empty")
    T = int(fields["obs"][0][0])
    for name, (shape, dtype) in fields.items():
        if shape[0] != T:
            raise DatasetError(
                f"{where} field '{name}': {describe(shape, dtype)} has {shape[0]} steps but 'obs' has {T}"
            )
    if T < 2:
        raise DatasetError(
            f"{where} field 'obs': {describe(*fields['obs'])} has {T} step(s); a trajectory needs at least 2"
        )
    _check_across_groups(where, fields, layout)
    return T


def _context(name: str, layout: Layout) -> str:
    if name == "obs":
        return f"obs_kind '{layout.obs_kind}'"
    if name == "actions":
        return f"action_space '{layout.action_space}'"
    return "this field"


def _check_across_groups(where: str, fields: dict, layout: Layout) -> None:
    shape = {name: tuple(int(s) for s in fields[name][0][1:]) for name in fields}
    if layout.action_space == "continuous" and layout.action_dim is not None:
        if shape["actions"] != (layout.action_dim,):
            raise DatasetError(
                f"{where} field 'actions': {describe(*fields['actions'])}: "
                f"expected (T, {layout.action_dim}) for action_dim {layout.action_dim}"
            )
    if layout.obs_shape is None:
        layout.obs_shape = shape["obs"]
        layout.state_dim = shape["states"][0]
        layout.exo_dim = shape["exo"][0] if "exo" in fields else 0
        layout.has_rewards = "rewards" in fields
        if layout.action_space == "continuous" and layout.action_dim is None:
            layout.action_dim = shape["actions"][0]
        return
    first = "group '0'"
    if shape["obs"] != layout.obs_shape:
        raise DatasetError(
            f"{where} field 'obs': {describe(*fields['obs'])}: per-step shape {shape['obs']} "
            f"differs from {first}'s {layout.obs_shape}"
        )
    if shape["states"][0] != layout.state_dim:
        raise DatasetError(
            f"{where} field 'states': {describe(*fields['states'])}: state dimension "
            f"{shape['states'][0]} differs from {first}'s {layout.state_dim}"
        )
    if ("exo" in fields) != (layout.exo_dim > 0):
        raise DatasetError(
            f"{where} field 'exo': {'present' if 'exo' in fields else 'missing'} here but "
            f"{'missing' if 'exo' in fields else 'present'} in {first}"
        )
    if "exo" in fields and shape["exo"][0] != layout.exo_dim:
        raise DatasetError(
            f"{where} field 'exo': {describe(*fields['exo'])}: exo dimension {shape['exo'][0]} "
            f"differs from {first}'s {layout.exo_dim}"
        )
    if ("rewards" in fields) != layout.has_rewards:
        raise DatasetError(
            f"{where} field 'rewards': {'present' if 'rewards' in fields else 'missing'} here but "
            f"{'missing' if 'rewards' in fields else 'present'} in {first}"
        )


def first_bad_row(name: str, block: np.ndarray, layout: Layout) -> int | None:
    """Index of the first row of ``block`` holding a value ``check_values`` refuses, or None.
    One vectorised pass; the caller builds the message for that row only."""
    if block.dtype.kind == "f":
        # NaN compares False, so this one test catches NaN, inf and implausible magnitudes.
        ok = np.abs(block) <= MAX_ABS
        rows_ok = ok.reshape(len(block), -1).all(axis=1) if block.ndim > 1 else ok
        return None if rows_ok.all() else int(np.argmin(rows_ok))
    if name == "actions" and layout.action_space == "discrete" and block.size:
        inside = (block >= 0) & (block < layout.n_actions)
        return None if inside.all() else int(np.argmin(inside))
    return None


def check_values(where: str, name: str, block: np.ndarray, start: int, full_shape: tuple, layout: Layout) -> None:
    """Check the values of rows ``start .. start + len(block)`` of one field: finite floats of
    magnitude at most ``MAX_ABS``, discrete actions in ``[0, n_actions)``. uint8 images cannot
    hold bad values and are skipped."""
    row = first_bad_row(name, block, layout)
    if row is None:
        return
    what = f"{where} field '{name}': {describe(full_shape, block.dtype)}"
    values = np.asarray(block[row]).reshape(-1)
    step = start + row
    if block.dtype.kind == "f":
        if not np.isfinite(values).all():
            bad = "NaN" if np.isnan(values).any() else "inf"
            raise DatasetError(f"{what}: contains {bad} (first non-finite value at step {step})")
        value = float(values[np.argmax(np.abs(values))])
        raise DatasetError(
            f"{what}: value {value:.3g} at step {step} exceeds {MAX_ABS:.0e} in magnitude "
            f"(float32 training would overflow on it)"
        )
    value = int(values[0])
    raise DatasetError(f"{what}: value {value} at step {step} is outside [0, {layout.n_actions}) (attribute n_actions)")


def check_file_attrs(where: str, attrs: dict) -> Layout:
    """Check the identlam-1 file attributes that fix the layout; return the Layout to fill."""
    if not isinstance(attrs.get("env_id"), str) or not attrs.get("env_id"):
        raise DatasetError(f"{where}: attribute 'env_id': missing or not a string (e.g. 'synthetic/pointmass')")
    space = attrs.get("action_space")
    if space not in ACTION_SPACES:
        raise DatasetError(f"{where}: attribute 'action_space' is {space!r}; expected one of {', '.join(ACTION_SPACES)}")
    kind = attrs.get("obs_kind")
    if kind not in OBS_KINDS:
        raise DatasetError(f"{where}: attribute 'obs_kind' is {kind!r}; expected one of {', '.join(OBS_KINDS)}")
    key = "n_actions" if space == "discrete" else "action_dim"
    value = attrs.get(key)
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)) or value < 1:
        raise DatasetError(f"{where}: attribute '{key}' is {value!r}; a {space} action space needs a positive integer")
    if space == "discrete":
        return Layout(action_space=space, obs_kind=kind, n_actions=int(value))
    return Layout(action_space=space, obs_kind=kind, action_dim=int(value))
