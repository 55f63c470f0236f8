"""Colour changes: every material's RGB moves inside a box around its original colour.

At reset each channel is drawn uniformly from ``[orig - scale, orig + scale]`` intersected with
``[0, 1]``; when dynamic it then follows a Gaussian walk of step ``0.03 * scale``, clipped to the
same box. The offsets (colour minus original) are the ground truth.
"""

from __future__ import annotations

import numpy as np

STEP_STD = 0.03


class ColorWalk:
    def __init__(self, original_rgb: np.ndarray, scale: float, dynamic: bool):
        self.original = np.asarray(original_rgb, np.float64).copy()
        self.scale, self.dynamic = float(scale), bool(dynamic)
        self.low = np.clip(self.original - self.scale, 0.0, 1.0)
        self.high = np.clip(self.original + self.scale, 0.0, 1.0)
        self.rgb = self.original.copy()

    def reset(self, rng: np.random.Generator) -> np.ndarray:
        self.rgb = rng.uniform(self.low, self.high)
        return self.rgb

    def step(self, rng: np.random.Generator) -> np.ndarray:
        if self.dynamic:
            walk = self.rgb + rng.normal(0.0, STEP_STD * self.scale, self.rgb.shape)
            self.rgb = np.clip(walk, self.low, self.high)
        return self.rgb

    @property
    def offsets(self) -> np.ndarray:
        return self.rgb - self.original

    def field_names(self, material_names: list[str]) -> list[str]:
        return [f"color_{name}_{c}" for name in material_names for c in "rgb"]
