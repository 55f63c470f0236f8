"""Per-dimension standardizers of the model's inputs and targets (buffers, saved with the model).

``FixedStandardizer``: statistics measured once, before training, on unlabeled windows
(``model.standardize_obs``). ``RunningStandardizer``: pooled running statistics of the training
batches (``model.normalize_target``).
"""

from __future__ import annotations

import torch
from torch import nn

from identlam.errors import ConfigError


class FixedStandardizer(nn.Module):
    """``(x - mean) / std`` per dimension of ``(B, D)`` with statistics fixed before training (buffers)."""

    def __init__(self, dim: int):
        super().__init__()
        self.register_buffer("mean", torch.zeros(dim))
        self.register_buffer("std", torch.ones(dim))

    def set(self, mean, std) -> None:
        mean = torch.as_tensor(mean, dtype=torch.float32).reshape(-1)
        std = torch.as_tensor(std, dtype=torch.float32).reshape(-1)
        if mean.shape != self.mean.shape or std.shape != self.std.shape:
            raise ConfigError(f"model.standardize_obs: statistics of shape {tuple(mean.shape)} for inputs of {tuple(self.mean.shape)}")
        if not (torch.isfinite(mean).all() and torch.isfinite(std).all()):
            raise ConfigError("model.standardize_obs: the measured statistics are not finite")
        self.mean.copy_(mean.to(self.mean.device))
        self.std.copy_(std.clamp_min(1e-6).to(self.std.device))  # a constant dimension stays 0 instead of NaN

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (x - self.mean) / self.std


class RunningStandardizer(nn.Module):
    """Standardizes a target per channel (axis 1 of ``(B, C)`` or ``(B, C, H, W)``).

    The mean and variance are the exact statistics of every sample seen in training mode so far
    (a pooled running count, so they converge to the data's statistics, not a recent window);
    each training batch first enters the statistics and is then standardized by them. Eval mode
    uses them unchanged; before any training batch they are mean 0, variance 1 (identity).
    """

    EPS = 1e-8

    def __init__(self, channels: int):
        super().__init__()
        self.register_buffer("mean", torch.zeros(channels))
        self.register_buffer("var", torch.ones(channels))
        self.register_buffer("count", torch.zeros((), dtype=torch.float64))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        shape = (1, -1) + (1,) * (x.dim() - 2)
        if self.training:
            with torch.no_grad():
                self._update(x.detach().float().transpose(0, 1).reshape(x.shape[1], -1))
        return (x - self.mean.view(shape)) / (self.var.view(shape) + self.EPS).sqrt()

    def _update(self, per_channel: torch.Tensor) -> None:
        """Chan et al.'s pooled mean/variance of the old statistics and ``per_channel`` (C, n)."""
        n = per_channel.shape[1]
        mean_b, var_b = per_channel.mean(1), per_channel.var(1, unbiased=False)
        total = float(self.count) + n
        delta = mean_b - self.mean
        old = float(self.count)
        self.mean += delta * (n / total)
        self.var.copy_((self.var * old + var_b * n + delta.square() * (old * n / total)) / total)
        self.count.fill_(total)
