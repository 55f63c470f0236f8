"""On-device image augmentations (shift, rotate, perspective) drawn from a torch.Generator.

Each enabled op is applied to each image independently with probability 1/2; the chosen ops
are composed (perspective, then rotation, then shift) into one homography per image and
applied with a single ``kornia.geometry.transform.warp_perspective`` call (border padding, as
LAOM's replicate/edge padding). The model calls this once per view (o_t, o_{t+1}, o_{t+k},
o_{t-1}), so views are augmented independently, and only in training.

Magnitudes follow LAOM's augmenter at 64 px (LAOM's augmentation module) scaled to the image size:
shift up to 14/64 of the width, rotation up to 90 degrees, perspective distortion 0.5.
LAOM picks one of 8 fixed pipelines per sub-batch; we draw every op per image instead, which
covers the same compositions (up to order) without looping over sub-batches.
"""

from __future__ import annotations

import math

import torch
from kornia.geometry.transform import get_perspective_transform, warp_perspective
from torch import nn

from identlam.errors import ConfigError

SHIFT_FRACTION = 14 / 64
ROTATE_DEGREES = 90.0
PERSPECTIVE_DISTORTION = 0.5
OPS = ("shift", "rotate", "perspective")


class Augmenter(nn.Module):
    """``augmenter(images, generator)``: images NCHW float in [-1, 1] -> same shape and dtype."""

    def __init__(self, ops: tuple[str, ...]):
        super().__init__()
        unknown = [op for op in ops if op not in OPS]
        if unknown or not ops:
            raise ConfigError(f"model.augment_ops: expected a non-empty subset of {', '.join(OPS)}, got {list(ops)}")
        self.ops = tuple(ops)

    def homographies(self, b: int, h: int, w: int, gen: torch.Generator, device) -> torch.Tensor:
        """``(b, 3, 3)`` pixel-coordinate homographies, identity where an op was not drawn."""
        eye = torch.eye(3, device=device).expand(b, 3, 3)
        mats = eye.clone()

        def coin() -> torch.Tensor:
            return (torch.rand(b, generator=gen, device=device) < 0.5).float()

        if "perspective" in self.ops:
            on = coin()
            corners = torch.tensor([[0.0, 0.0], [w - 1, 0.0], [w - 1, h - 1], [0.0, h - 1]], device=device)
            half = torch.tensor([w / 2, h / 2], device=device) * PERSPECTIVE_DISTORTION
            inward = torch.tensor([[1.0, 1.0], [-1.0, 1.0], [-1.0, -1.0], [1.0, -1.0]], device=device)
            offsets = torch.rand(b, 4, 2, generator=gen, device=device) * half * inward * on[:, None, None]
            persp = get_perspective_transform(corners.expand(b, 4, 2), corners + offsets)
            mats = persp @ mats
        if "rotate" in self.ops:
            on = coin()
            theta = (torch.rand(b, generator=gen, device=device) * 2 - 1) * math.radians(ROTATE_DEGREES) * on
            cx, cy = (w - 1) / 2, (h - 1) / 2
            cos, sin = torch.cos(theta), torch.sin(theta)
            rot = eye.clone()
            rot[:, 0, 0], rot[:, 0, 1], rot[:, 1, 0], rot[:, 1, 1] = cos, -sin, sin, cos
            rot[:, 0, 2] = cx - cos * cx + sin * cy
            rot[:, 1, 2] = cy - sin * cx - cos * cy
            mats = rot @ mats
        if "shift" in self.ops:
            on = coin()
            pad = max(1, round(SHIFT_FRACTION * w))
            shift = torch.randint(-pad, pad + 1, (b, 2), generator=gen, device=device).float() * on[:, None]
            trans = eye.clone()
            trans[:, 0, 2], trans[:, 1, 2] = shift[:, 0], shift[:, 1]
            mats = trans @ mats
        return mats

    def forward(self, images: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
        b, _, h, w = images.shape
        mats = self.homographies(b, h, w, gen, images.device)
        out = warp_perspective(images.float(), mats, (h, w), padding_mode="border", align_corners=True)
        return out.to(images.dtype).contiguous(memory_format=torch.channels_last)
