"""The pixel forward model of LAPO-style presets: frames + latent action -> next frames.

A small conv encoder / transposed-conv decoder. The latent enters twice, as in LAPO's world
model: tiled over H x W at the input, and as an extra feature map at the bottleneck. The last
conv sees the raw input frames again (LAPO's final skip), so static content can be copied and
the latent only has to explain the change. There are no other U-Net skips (LAOM's LAPO has
none), which keeps the per-code evaluation of the categorical bottleneck cheap.

Shapes: ``frames`` ``(B, C_in, H, W)`` in [-1, 1]; ``latent`` ``(B, d)``; output
``(B, C_out, H, W)``: in [-1, 1] (tanh) for absolute targets, unbounded for deltas.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

LATENT_CHANNELS = 8  # feature maps the latent is tiled into at the input


class PixelFDM(nn.Module):
    def __init__(self, in_channels: int, out_channels: int, height: int, width: int, latent_dim: int,
                 widths: tuple[int, ...], bounded: bool):
        super().__init__()
        self.bounded = bounded
        self.latent_in = nn.Linear(latent_dim, LATENT_CHANNELS)
        downs, sizes = [], [(height, width)]
        c = in_channels + LATENT_CHANNELS
        for w in widths:
            downs.append(nn.Sequential(nn.Conv2d(c, w, 3, stride=2, padding=1), nn.ReLU6()))
            h_, w_ = sizes[-1]
            sizes.append(((h_ + 1) // 2, (w_ + 1) // 2))
            c = w
        self.downs = nn.ModuleList(downs)
        self.sizes = sizes
        bh, bw = sizes[-1]
        self.bottleneck_channels = c
        self.latent_mid = nn.Linear(latent_dim, c * bh * bw)
        self.mid = nn.Sequential(nn.Conv2d(2 * c, c, 3, padding=1), nn.ReLU6())
        ups = []
        for w in reversed((widths[0],) + tuple(widths[:-1])):
            ups.append(nn.Sequential(nn.ConvTranspose2d(c, w, 4, stride=2, padding=1), nn.ReLU6()))
            c = w
        self.ups = nn.ModuleList(ups)
        self.final = nn.Sequential(nn.Conv2d(c + in_channels, c, 3, padding=1), nn.ReLU6(),
                                   nn.Conv2d(c, out_channels, 1))

    def forward(self, frames: torch.Tensor, latent: torch.Tensor) -> torch.Tensor:
        b, _, h, w = frames.shape
        tiled = self.latent_in(latent)[:, :, None, None].expand(-1, -1, h, w)
        x = torch.cat([frames, tiled.to(frames.dtype)], dim=1)
        for down in self.downs:
            x = down(x)
        bh, bw = self.sizes[-1]
        mid = self.latent_mid(latent).reshape(b, self.bottleneck_channels, bh, bw)
        x = self.mid(torch.cat([x, mid.to(x.dtype)], dim=1))
        for up, (th, tw) in zip(self.ups, reversed(self.sizes[:-1])):
            x = up(x)[:, :, :th, :tw]  # stride-2 rounding up: crop back to the encoder's size
        out = self.final(torch.cat([x, frames.to(x.dtype)], dim=1))
        return torch.tanh(out) if self.bounded else out


def per_sample_mse(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Mean squared error over every non-batch dimension, in fp32: ``(B, ...) -> (B,)``."""
    return F.mse_loss(pred.float(), target.float(), reduction="none").flatten(1).mean(1)
