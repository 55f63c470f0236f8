"""A piecewise ("tabular") IDM head: one output layer per cell of a fixed partition of o_t.

``model.idm_cells = N`` turns assumption A1 off on the model side. The identifiability theorem
for the entropy-regularized objective needs the inverse model to be a continuous function of
``(o_t, o_{t+1})``; with one independent logit head per cell of o_t, a code may mean one action
in one cell and another action in the next at no cost to the IDM, which is what a tabular IDM
(one logit table per state bin) allows.

The partition (:class:`CellPartition`) must not depend on anything the model learns, so that
it stays fixed through training and relabelling reproduces it from the checkpoint:

- two seeded random directions project o_t (vectors as given; images average-pooled to 8 x 8
  per channel first, so the cell depends on the picture's layout, not on single pixels);
- the first projection is cut into ``rows`` equal-count bins, then the second projection into
  ``cols`` equal-count bins within each row (``rows x cols = N``, the most square factorization
  of N; a two-level k-d tree along random directions), at quantiles of the first batch the
  model sees: its observations only, never actions or states.

Why quantile bins on two projections rather than the sign pattern of log2(N) hyperplanes
through the origin: PointMass observations lie on a small patch far from the origin (the
behaviour policy keeps the agent near its goal), so on PointMass with N = 16 the largest
sign-pattern cell held 65-91% of the transitions over five draws of the hyperplanes, and still
19-39% (3-6 times its share) with the hyperplanes through the data mean; two projections cut
at their quantiles give N non-empty cells of equal size on the calibration batch and of
comparable size on the rest of the data (docs/methods.md: measured sizes on PointMass, random
families and images).

Everything here is computed without gradient and in float32 (also under bf16 autocast, so
training and relabelling assign the same cell); the partition is a set of buffers, saved and
loaded with the model's state dict.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

POOL = 8  # images: cells are read from an 8 x 8 average-pooled copy of o_t


def grid_shape(n_cells: int) -> tuple[int, int]:
    """``(rows, cols)`` with ``rows * cols == n_cells`` and rows the largest divisor <= sqrt(n_cells)."""
    rows = max(d for d in range(1, math.isqrt(n_cells) + 1) if n_cells % d == 0)
    return rows, n_cells // rows


def cell_features(x: torch.Tensor) -> torch.Tensor:
    """What the partition reads of o_t: vectors ``(B, D)`` as they are; images ``(B, C, H, W)``
    average-pooled to ``(B, C * 8 * 8)``."""
    if x.dim() == 4:
        return F.adaptive_avg_pool2d(x.float(), (POOL, POOL)).flatten(1)
    return x.float()


class CellPartition(nn.Module):
    """Maps o_t (the model's normalized input, ``(B, D)`` or ``(B, C, H, W)``) to a cell in ``[0, N)``.

    Args:
        n_cells: N >= 2.
        in_features: width of :func:`cell_features` of one observation.

    The bin edges are set from the first batch passed in (training or not) and then frozen;
    ``calibrated`` records that, so a loaded model never recalibrates.
    """

    def __init__(self, n_cells: int, in_features: int):
        super().__init__()
        self.n_cells = int(n_cells)
        self.rows, self.cols = grid_shape(self.n_cells)
        self.register_buffer("directions", torch.randn(2, in_features))
        self.register_buffer("row_edges", torch.zeros(self.rows - 1))
        self.register_buffer("col_edges", torch.zeros(self.rows, self.cols - 1))  # one set per row
        self.register_buffer("calibrated", torch.zeros((), dtype=torch.bool))

    def _project(self, x: torch.Tensor) -> torch.Tensor:
        return cell_features(x) @ self.directions.t()

    @torch.no_grad()
    def calibrate(self, x: torch.Tensor) -> None:
        """Freeze the equal-count bin edges at this batch's quantiles (rows, then columns per row)."""
        with torch.autocast(device_type=x.device.type, enabled=False):
            u = self._project(x)
            self.row_edges.copy_(_quantile_edges(u[:, 0], self.rows))
            row = torch.bucketize(u[:, 0].contiguous(), self.row_edges)
            for r in range(self.rows):
                inside = u[row == r, 1]
                # an empty row (ties in a degenerate batch) takes the whole batch's column edges
                self.col_edges[r] = _quantile_edges(inside if inside.numel() else u[:, 1], self.cols)
            self.calibrated.fill_(True)

    @torch.no_grad()
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """int64 ``(B,)`` cell indices ``row * cols + col``."""
        if not bool(self.calibrated):
            self.calibrate(x)
        with torch.autocast(device_type=x.device.type, enabled=False):
            u = self._project(x)
            row = torch.bucketize(u[:, 0].contiguous(), self.row_edges)
            col = torch.searchsorted(self.col_edges[row], u[:, 1].contiguous().unsqueeze(1)).squeeze(1)
        return row * self.cols + col


def _quantile_edges(values: torch.Tensor, bins: int) -> torch.Tensor:
    if bins == 1:
        return values.new_zeros(0)
    levels = torch.arange(1, bins, device=values.device, dtype=values.dtype) / bins
    return torch.quantile(values, levels)


class CellHeads(nn.Module):
    """N independent linear output layers; sample i goes through the head of its cell.

    ``weight`` ``(N, out, in)``, ``bias`` ``(N, out)``. Head 0 is ``first`` (the single head's
    draw); heads 1..N-1 are drawn orthogonal, as every Linear layer, from the global torch RNG
    (the model builds inside a seeded, forked RNG). All heads are applied in one matmul and
    each sample's own row is gathered, so a head's parameters receive gradient only from the
    samples of its cell and changing them changes only those samples' outputs.
    """

    def __init__(self, first: nn.Linear, n_cells: int, gain: float = math.sqrt(2.0)):
        super().__init__()
        out_dim, in_dim = first.weight.shape
        weight = torch.empty(n_cells, out_dim, in_dim)
        weight[0] = first.weight.detach()  # head 0 keeps the single head's draw: the rest of the model is unchanged
        for j in range(1, n_cells):
            nn.init.orthogonal_(weight[j], gain)
        bias = torch.zeros(n_cells, out_dim)
        if first.bias is not None:
            bias[0] = first.bias.detach()
        self.weight = nn.Parameter(weight)
        self.bias = nn.Parameter(bias)

    @property
    def n_cells(self) -> int:
        return self.weight.shape[0]

    def forward(self, h: torch.Tensor, cells: torch.Tensor) -> torch.Tensor:
        n, out_dim, in_dim = self.weight.shape
        every = F.linear(h, self.weight.reshape(n * out_dim, in_dim), self.bias.reshape(n * out_dim))
        index = cells.to(every.device).view(-1, 1, 1).expand(-1, 1, out_dim)
        return every.view(-1, n, out_dim).gather(1, index).squeeze(1)

