"""Rendered image observations: the agent and each distractor as coloured Gaussian sprites.

Images are (H, W, 3) uint8 with H = W = ``image_size``. The agent is red; distractor sprite j
(coordinates 2j, 2j+1 of the distractor) has its own green/blue colour, so swapping the agent
with a distractor, or two distractors, changes the image. Sprites are splatted at sub-pixel
positions (bilinear weights over four precomputed one-pixel shifts of the sprite), so the image
moves continuously with the state and distinct states give distinct images (uint8 pixels resolve
positions to about a hundredth of a pixel). On a torus a sprite wraps around the image borders
(pixel indices modulo the size), which keeps the map continuous and injective across the wrap;
on bounded domains (walls, grid) positions are mapped inside a margin so no sprite is cut.

Backgrounds: ``none`` (flat grey 20), ``static`` (a smooth periodic colour texture, 0–50),
``moving`` (that texture shifted by the whole-pixel offset recorded in ``exo``). Rendering is
vectorized over frames: the background is copied (or gathered through a sliding-window view),
then each sprite only touches its own small window of pixels.
"""

from __future__ import annotations

import math

import numpy as np

AGENT_COLOUR = np.array([200.0, 0.0, 0.0], np.float32)
FLAT_BACKGROUND = 20
TEXTURE_MAX = 50.0
CHUNK = 1024  # frames rendered at once


def distractor_colours(n: int) -> np.ndarray:
    """(n, 3) distinct colours without a red component."""
    theta = (np.pi / 2) * np.arange(n) / max(n - 1, 1)
    return (200.0 * np.stack([np.zeros(n), np.cos(theta), np.sin(theta)], axis=1)).astype(np.float32)


def periodic_texture(size: int, rng: np.random.Generator, modes: int = 6) -> np.ndarray:
    """A smooth colour texture (size, size, 3) uint8 in [0, TEXTURE_MAX], periodic in both axes."""
    g = np.arange(size) / size
    yy, xx = np.meshgrid(g, g, indexing="ij")
    tex = np.zeros((size, size, 3))
    for c in range(3):
        for _ in range(modes):
            kx, ky = rng.integers(-3, 4, 2)
            tex[:, :, c] += rng.uniform(0.3, 1.0) * np.cos(2 * np.pi * (kx * xx + ky * yy) + rng.uniform(0, 2 * np.pi))
    tex -= tex.min()
    return np.rint(tex * (TEXTURE_MAX / max(tex.max(), 1e-12))).astype(np.uint8)


class Sprite:
    """A Gaussian blob of width ``sigma`` pixels with its four one-pixel shifts precomputed."""

    def __init__(self, sigma: float):
        self.r = r = int(math.ceil(3 * sigma))
        off = np.arange(-r, r + 1)
        g = np.exp(-0.5 * (off[:, None] ** 2 + off[None, :] ** 2) / sigma**2)
        self.size = P = 2 * r + 2
        self.shifted = np.zeros((4, P * P), np.float32)
        for k, (dx, dy) in enumerate([(0, 0), (1, 0), (0, 1), (1, 1)]):
            win = np.zeros((P, P))
            win[dy:dy + 2 * r + 1, dx:dx + 2 * r + 1] = g
            self.shifted[k] = win.ravel()

    def splat(self, canvas: np.ndarray, centre: np.ndarray, colour: np.ndarray, wrap: bool) -> None:
        """Add the sprite centred at pixel coordinates ``centre`` (n, 2) = (col, row) to uint8 ``canvas``.

        Only the sprite's P×P window and the colour's non-zero channels are touched, through flat
        indices (``take``/``put`` are far faster than broadcast fancy indexing here).
        """
        n, H, W, C = canvas.shape
        P = self.size
        fl = np.floor(centre)
        fx, fy = (centre - fl).astype(np.float32).T
        w = np.stack([(1 - fx) * (1 - fy), fx * (1 - fy), (1 - fx) * fy, fx * fy], axis=1)
        alpha = np.einsum("nk,kp->np", w, self.shifted)  # (n, P*P)
        span = np.arange(P)
        cols = fl[:, 0].astype(np.int64)[:, None] - self.r + span
        rows = fl[:, 1].astype(np.int64)[:, None] - self.r + span
        if wrap:
            cols %= W
            rows %= H
        pixel = ((np.arange(n)[:, None, None] * H + rows[:, :, None]) * W + cols[:, None, :]).reshape(n, P * P)
        flat = canvas.reshape(-1)
        for c in np.flatnonzero(colour):
            idx = pixel * C + c
            v = flat.take(idx).astype(np.float32)
            v += alpha * colour[c]
            np.clip(v, 0.0, 255.0, out=v)
            v += 0.5
            flat.put(idx, v.astype(np.uint8))


class Renderer:
    """Maps (state, exo) batches to uint8 images (see module docstring)."""

    def __init__(self, family, size: int, n_distractor_sprites: int, background: str,
                 background_column: int | None, rng: np.random.Generator):
        self.family, self.size = family, size
        cell = size / getattr(family, "size", 1) if family.discrete_states else size
        self.agent = Sprite(max(0.8, min(size / 40, cell / 4)))
        self.distractor = Sprite(max(0.8, size / 40))
        self.n_sprites = n_distractor_sprites
        self.colours = distractor_colours(n_distractor_sprites)
        self.background = background
        self.background_column = background_column
        self.texture = periodic_texture(size, rng) if background != "none" else None
        if background == "moving":
            doubled = np.tile(self.texture, (2, 2, 1))  # (2H, 2W, 3): every offset is one window
            self._windows = np.lib.stride_tricks.sliding_window_view(doubled, (size, size, 3))[:size, :size, 0]

    @property
    def shape(self) -> tuple[int, int, int]:
        return (self.size, self.size, 3)

    def _pixels(self, unit: np.ndarray, wrap: bool, sprite: Sprite) -> np.ndarray:
        """Unit-square positions (n, 2) → pixel centres; bounded domains keep a margin of r pixels."""
        if wrap:
            return np.mod(unit, 1.0) * self.size
        return sprite.r + np.clip(unit, 0.0, 1.0) * (self.size - 2 - 2 * sprite.r)

    def _background(self, n: int, exo: np.ndarray) -> np.ndarray:
        H = self.size
        if self.texture is None:
            return np.full((n, H, H, 3), FLAT_BACKGROUND, np.uint8)
        if self.background == "static":
            return np.broadcast_to(self.texture, (n, H, H, 3)).copy()
        col = self.background_column
        off = np.rint(np.asarray(exo[:, col:col + 2], np.float64) * H).astype(np.int64) % H
        return self._windows[off[:, 1], off[:, 0]]

    def __call__(self, state: np.ndarray, exo: np.ndarray) -> np.ndarray:
        n = len(state)
        out = np.empty((n, self.size, self.size, 3), np.uint8)
        for lo in range(0, n, CHUNK):
            hi = min(n, lo + CHUNK)
            out[lo:hi] = self._render(state[lo:hi], exo[lo:hi])
        return out

    def _render(self, state: np.ndarray, exo: np.ndarray) -> np.ndarray:
        canvas = self._background(len(state), exo)
        unit, wrap = self.family.render_positions(state)
        self.agent.splat(canvas, self._pixels(unit, wrap, self.agent), AGENT_COLOUR, wrap)
        for j in range(self.n_sprites):
            pos = np.asarray(exo[:, 2 * j:2 * j + 2], np.float64)
            self.distractor.splat(canvas, self._pixels(pos, True, self.distractor), self.colours[j], True)
        return canvas
