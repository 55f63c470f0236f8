"""The pixel forward model of LAPO-style presets: frames + latent action -> next frames.

A small conv encoder / transposed-conv decoder. The latent enters at the bottleneck as an extra
feature map and, with ``tile_latent`` (LAPO's world model, code_anchors.md A.3), also tiled over
H x W at the input. The last conv sees the raw input frames again (LAPO's final skip), so static
content can be copied and the latent only has to explain the change. There are no other U-Net
skips (LAOM's LAPO has none).

Without ``tile_latent`` the down path sees the frames only, which is what makes the categorical
bottleneck affordable: :meth:`PixelFDM.predict_per_code` encodes each sample once, evaluates the
latent's share of the bottleneck conv once per code, and runs only the up path per (sample,
code) pair, with the frames' share of the final conv computed once per sample.

Shapes: ``frames`` ``(B, C_in, H, W)`` in [-1, 1]; ``latent`` ``(B, d)``; ``codes`` ``(M, d)``;
output ``(B, C_out, H, W)`` (``(B, M, C_out, H, W)`` per code): in [-1, 1] (tanh) for absolute
targets, unbounded for deltas.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from identlam.errors import IdentlamError

LATENT_CHANNELS = 8  # feature maps the latent is tiled into at the input


class PixelFDM(nn.Module):
    """Frames + latent -> next frames. ``forward = decode(encode(frames, latent), frames, latent)``.

    Args:
        tile_latent: also tile the latent over the input (LAPO). Categorical bottlenecks turn it
            off, so that the down path is independent of the code (:meth:`predict_per_code`).
    """

    def __init__(self, in_channels: int, out_channels: int, height: int, width: int, latent_dim: int,
                 widths: tuple[int, ...], bounded: bool, tile_latent: bool = True):
        super().__init__()
        self.bounded = bounded
        self.tile_latent = tile_latent
        # registration order = initialization order of orthogonal_init; the output layer stays last
        self.latent_in = nn.Linear(latent_dim, LATENT_CHANNELS) if tile_latent else None
        downs, sizes = [], [(height, width)]
        c = in_channels + (LATENT_CHANNELS if tile_latent else 0)
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
        return self.decode(self.encode(frames, latent if self.tile_latent else None), frames, latent)

    def encode(self, frames: torch.Tensor, latent: torch.Tensor | None = None) -> torch.Tensor:
        """The down path: ``(B, C_in, H, W) -> (B, c, bh, bw)``; ``latent`` only with ``tile_latent``."""
        x = frames
        if self.tile_latent:
            if latent is None:
                raise IdentlamError("latent: PixelFDM(tile_latent=True) needs the latent to encode the frames")
            _, _, h, w = frames.shape
            tiled = self.latent_in(latent)[:, :, None, None].expand(-1, -1, h, w)
            x = torch.cat([frames, tiled.to(frames.dtype)], dim=1)
        elif latent is not None:
            raise IdentlamError("latent: PixelFDM(tile_latent=False) encodes the frames alone; the latent enters in decode")
        for down in self.downs:
            x = down(x)
        return x

    def decode(self, features: torch.Tensor, frames: torch.Tensor, latent: torch.Tensor) -> torch.Tensor:
        """Bottleneck (features + latent map) -> up path -> final conv with the raw frames."""
        bh, bw = self.sizes[-1]
        mid = self.latent_mid(latent).reshape(features.shape[0], self.bottleneck_channels, bh, bw)
        x = self.mid(torch.cat([features, mid.to(features.dtype)], dim=1))
        x = self._up(x)
        out = self.final(torch.cat([x, frames.to(x.dtype)], dim=1))
        return torch.tanh(out) if self.bounded else out

    def predict_per_code(self, frames: torch.Tensor, codes: torch.Tensor) -> torch.Tensor:
        """``forward(frames, codes[a])`` for every code: ``(B, C_in, H, W), (M, d) -> (B, M, C_out, H, W)``.

        The two convs that see a concatenation are linear in it, so each is split by input
        channels: the bottleneck conv into a per-sample part (features) and a per-code part
        (latent map), the final conv into a per-(sample, code) part (up path) and a per-sample
        part (frames). Equal to the loop over codes up to float rounding.
        """
        if self.tile_latent:
            raise IdentlamError("codes: PixelFDM.predict_per_code needs tile_latent=False (the down path must not see the latent)")
        b, m = frames.shape[0], codes.shape[0]
        c, (bh, bw) = self.bottleneck_channels, self.sizes[-1]
        # NHWC: the narrow (16-32 channel) convs of this path ran ~1.5x faster per CPU second
        # (oneDNN); the formats of forward() are left as they are
        frames = frames.contiguous(memory_format=torch.channels_last)
        features = self.encode(frames)  # once per sample
        mid = self.mid[0]
        from_features = F.conv2d(features, mid.weight[:, :c], mid.bias, mid.stride, mid.padding)
        code_maps = self.latent_mid(codes).reshape(m, c, bh, bw).to(features.dtype)
        from_codes = F.conv2d(code_maps, mid.weight[:, c:], None, mid.stride, mid.padding)  # once per code
        x = self.mid[1](from_features[:, None] + from_codes[None]).flatten(0, 1)  # row i*M + a
        x = x.contiguous(memory_format=torch.channels_last)
        x = self._up(x)  # the code-dependent bulk: once per (sample, code)
        conv = self.final[0]
        cx = x.shape[1]
        from_frames = F.conv2d(frames.to(x.dtype), conv.weight[:, cx:], conv.bias, conv.stride, conv.padding)
        from_up = F.conv2d(x, conv.weight[:, :cx], None, conv.stride, conv.padding)
        h = self.final[1](from_up.unflatten(0, (b, m)) + from_frames[:, None])
        out = self.final[2](h.flatten(0, 1)).unflatten(0, (b, m))
        return torch.tanh(out) if self.bounded else out

    def _up(self, x: torch.Tensor) -> torch.Tensor:
        for up, (th, tw) in zip(self.ups, reversed(self.sizes[:-1])):
            x = up(x)[:, :, :th, :tw]  # stride-2 rounding up: crop back to the encoder's size
        return x


def per_sample_mse(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Mean squared error over every non-batch dimension, in fp32: ``(B, ...) -> (B,)``."""
    return F.mse_loss(pred.float(), target.float(), reduction="none").flatten(1).mean(1)


def per_code_mse(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """``per_sample_mse`` of every code's prediction, in fp32: ``(B, M, ...), (B, ...) -> (B, M)``."""
    return (pred.float() - target.float()[:, None]).square().flatten(2).mean(2)
