"""The pixel forward model of LAPO-style presets: frames + latent action -> next frames.

A small conv encoder / transposed-conv decoder. The latent enters at the bottleneck as an extra
feature map and, with ``tile_latent`` (LAPO's world model), also tiled over
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
from torch.utils.checkpoint import checkpoint

from identlam.errors import IdentlamError

LATENT_CHANNELS = 8  # feature maps the latent is tiled into at the input
# per-chunk activation budget of per_code_errors on CPU: half of glibc's largest automatic
# mmap threshold (32 MiB), so a chunk's blocks come from and return to the heap
CHUNK_BYTES = 16 * 2**20


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
        frames, from_features, from_codes = self._shared(frames, codes)
        return self._decode_codes(from_features, from_codes, frames)

    def per_code_errors(self, frames: torch.Tensor, codes: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """``per_code_mse(predict_per_code(frames, codes), target)``: ``(B, M)``, the same values.

        On CPU the per-(sample, code) decoder runs in chunks of samples whose largest activation
        stays under ``CHUNK_BYTES``, and each chunk is recomputed in the backward pass instead of
        being kept (activation checkpointing). The batched pass allocates gigabytes per step
        (B x M full-resolution feature maps); the C allocator hands blocks that large straight
        back to the kernel, so every step paid a page fault per 4 KiB touched, which took more
        CPU time than the convolutions. Small chunks are recycled in the process's heap; the
        recomputation adds one forward pass of the decoder (about a third more FLOPs) and costs
        far less than the faults (docs/performance.md). On CUDA the caching allocator keeps
        memory, so the batched pass runs unchanged.
        """
        frames, from_features, from_codes = self._shared(frames, codes)
        if frames.device.type != "cpu":
            return per_code_mse(self._decode_codes(from_features, from_codes, frames), target)
        per_chunk = max(1, CHUNK_BYTES // (self._row_bytes(frames.element_size()) * codes.shape[0]))
        checkpointed = torch.is_grad_enabled()
        out = []
        for i in range(0, frames.shape[0], per_chunk):
            args = (from_features[i:i + per_chunk], from_codes, frames[i:i + per_chunk], target[i:i + per_chunk])
            if checkpointed:
                out.append(checkpoint(self._chunk_errors, *args, use_reentrant=False, preserve_rng_state=False))
            else:
                out.append(self._chunk_errors(*args))
        return torch.cat(out)

    def _chunk_errors(self, from_features, from_codes, frames, target) -> torch.Tensor:
        return per_code_mse(self._decode_codes(from_features, from_codes, frames), target)

    def _shared(self, frames: torch.Tensor, codes: torch.Tensor):
        """What does not depend on the (sample, code) pair: the frames (channels-last), the
        bottleneck conv's share of the features (per sample) and of the latent maps (per code)."""
        if self.tile_latent:
            raise IdentlamError("codes: PixelFDM.predict_per_code needs tile_latent=False (the down path must not see the latent)")
        m = codes.shape[0]
        c, (bh, bw) = self.bottleneck_channels, self.sizes[-1]
        # NHWC: the narrow (16-32 channel) convs of this path ran ~1.5x faster per CPU second
        # (oneDNN); the formats of forward() are left as they are
        frames = frames.contiguous(memory_format=torch.channels_last)
        features = self.encode(frames)  # once per sample
        mid = self.mid[0]
        from_features = F.conv2d(features, mid.weight[:, :c], mid.bias, mid.stride, mid.padding)
        code_maps = self.latent_mid(codes).reshape(m, c, bh, bw).to(features.dtype)
        from_codes = F.conv2d(code_maps, mid.weight[:, c:], None, mid.stride, mid.padding)  # once per code
        return frames, from_features, from_codes

    def _decode_codes(self, from_features, from_codes, frames) -> torch.Tensor:
        """The code-dependent bulk, once per (sample, code): ``-> (b, M, C_out, H, W)``."""
        b, m = from_features.shape[0], from_codes.shape[0]
        x = self.mid[1](from_features[:, None] + from_codes[None]).flatten(0, 1)  # row i*M + a
        x = x.contiguous(memory_format=torch.channels_last)
        x = self._up(x)
        conv = self.final[0]
        cx = x.shape[1]
        from_frames = F.conv2d(frames.to(x.dtype), conv.weight[:, cx:], conv.bias, conv.stride, conv.padding)
        from_up = F.conv2d(x, conv.weight[:, :cx], None, conv.stride, conv.padding)
        h = self.final[1](from_up.unflatten(0, (b, m)) + from_frames[:, None])
        out = self.final[2](h.flatten(0, 1)).unflatten(0, (b, m))
        return torch.tanh(out) if self.bounded else out

    def _row_bytes(self, element_size: int) -> int:
        """Bytes of the largest activation of one (sample, code) row in the decoder."""
        ups = [up[0].out_channels * h * w for up, (h, w) in zip(self.ups, reversed(self.sizes[:-1]))]
        h, w = self.sizes[0]
        return element_size * max(ups + [self.final[0].out_channels * h * w])

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
