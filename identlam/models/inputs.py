"""Validation and normalization of the batches a LatentActionModel consumes.

A batch is a dict of torch tensors built from ``identlam.data`` Windows: ``obs_t``,
``obs_next``, ``obs_future``, ``obs_past`` (when the model uses the past frame) and ``k``
(int64 ``(B,)``, 1..K); images are uint8 ``(B, H, W, C*F)``, vectors floating ``(B, D*F)``. The
optional ``"labels"`` entry is a dict with the same keys plus ``actions`` (int64 ``(B,)`` for
discrete action spaces, floating ``(B, action_dim)`` for continuous ones).

Every problem raises :class:`~identlam.errors.IdentlamError` with one line naming the key.
Images come out as NCHW float in [-1, 1] (LAOM's ``(x/255 - 0.5) * 2``) in channels-last
memory; vectors as float32.
"""

from __future__ import annotations

import torch

from identlam.errors import IdentlamError


def _where(prefix: str, key: str) -> str:
    return f"batch key '{prefix}{key}'"


def check_observation(x: object, key: str, expected: tuple[int, ...], is_image: bool, prefix: str = "") -> torch.Tensor:
    """Check one observation tensor against the per-sample shape ``expected``."""
    where = _where(prefix, key)
    if not isinstance(x, torch.Tensor):
        raise IdentlamError(f"{where}: expected a torch.Tensor, got {type(x).__name__}")
    if tuple(x.shape[1:]) != expected or x.ndim != len(expected) + 1 or x.shape[0] == 0:
        raise IdentlamError(f"{where}: expected shape (B>0, {', '.join(map(str, expected))}), got {tuple(x.shape)}")
    if is_image:
        if x.dtype != torch.uint8:
            raise IdentlamError(f"{where}: expected dtype uint8 for images, got {x.dtype}")
    else:
        if not x.dtype.is_floating_point:
            raise IdentlamError(f"{where}: expected a floating dtype for vectors, got {x.dtype}")
        if not bool(torch.isfinite(x).all()):
            raise IdentlamError(f"{where}: contains NaN or infinite values")
    return x


def check_future_offsets(k: object, batch_size: int, future_k: int, prefix: str = "") -> torch.Tensor:
    where = _where(prefix, "k")
    if not isinstance(k, torch.Tensor):
        raise IdentlamError(f"{where}: expected a torch.Tensor, got {type(k).__name__}")
    if k.dtype != torch.int64 or tuple(k.shape) != (batch_size,):
        raise IdentlamError(f"{where}: expected int64 of shape ({batch_size},), got {k.dtype} {tuple(k.shape)}")
    if bool(((k < 1) | (k > future_k)).any()):
        raise IdentlamError(f"{where}: offsets must lie in 1..{future_k} (model.future_k), got {int(k.min())}..{int(k.max())}")
    return k


def check_actions(a: object, batch_size: int, n_actions: int | None, action_dim: int | None) -> torch.Tensor:
    where = _where("labels.", "actions")
    if not isinstance(a, torch.Tensor):
        raise IdentlamError(f"{where}: expected a torch.Tensor, got {type(a).__name__}")
    if n_actions is not None:
        if a.dtype != torch.int64 or tuple(a.shape) != (batch_size,):
            raise IdentlamError(f"{where}: expected int64 of shape ({batch_size},), got {a.dtype} {tuple(a.shape)}")
        if bool(((a < 0) | (a >= n_actions)).any()):
            raise IdentlamError(f"{where}: discrete actions must lie in 0..{n_actions - 1}")
        return a
    if not a.dtype.is_floating_point or tuple(a.shape) != (batch_size, action_dim):
        raise IdentlamError(f"{where}: expected floating of shape ({batch_size}, {action_dim}), got {a.dtype} {tuple(a.shape)}")
    if not bool(torch.isfinite(a).all()):
        raise IdentlamError(f"{where}: contains NaN or infinite values")
    return a


def to_model_input(x: torch.Tensor, is_image: bool, device: torch.device) -> torch.Tensor:
    """uint8 NHWC -> float NCHW in [-1, 1] (channels-last memory); vectors -> float32."""
    x = x.to(device, non_blocking=True)
    if not is_image:
        return x.float()
    x = x.permute(0, 3, 1, 2).float().mul_(2.0 / 255.0).sub_(1.0)
    return x.contiguous(memory_format=torch.channels_last)


def check_batch(batch: object, keys: tuple[str, ...], expected: tuple[int, ...], is_image: bool,
                future_k: int, prefix: str = "") -> dict[str, torch.Tensor]:
    """Validate the observation keys and ``k`` of a (labels) batch; returns the raw tensors."""
    if not isinstance(batch, dict):
        raise IdentlamError(f"batch{' ' + prefix.rstrip('.') if prefix else ''}: expected a dict of tensors, got {type(batch).__name__}")
    out = {}
    for key in keys:
        if key not in batch or batch[key] is None:
            raise IdentlamError(f"{_where(prefix, key)}: missing")
        out[key] = check_observation(batch[key], key, expected, is_image, prefix)
    sizes = {key: out[key].shape[0] for key in keys}
    if len(set(sizes.values())) != 1:
        raise IdentlamError(f"batch{' ' + prefix.rstrip('.') if prefix else ''}: keys disagree on the batch size: {sizes}")
    b = next(iter(sizes.values()))
    if "k" not in batch:
        raise IdentlamError(f"{_where(prefix, 'k')}: missing")
    out["k"] = check_future_offsets(batch["k"], b, future_k, prefix)
    return out
