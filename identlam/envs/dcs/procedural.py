"""Procedural background videos: textured, temporally smooth, reproducible by name.

A video is a scrolling, slowly rotating field of 1/f colour noise (the spectrum of natural
images) with a few soft-edged textured blobs gliding over it on smooth paths, under a slowly
varying illumination. Everything is drawn from a generator seeded by the video's name, so the
same name always yields the same frames and nothing is downloaded or written to disk.

Named splits mirror DAVIS's: 60 training videos and 30 held-out evaluation videos.
"""

from __future__ import annotations

import zlib

import numpy as np

SPLITS = {"train": 60, "eval": 30}
DEFAULT_FRAMES = 64
DEFAULT_SIZE = 64
# Pixels moved per frame by the texture; with the blobs this puts the mean frame-to-frame change
# of the background near that of the agent's body in the cheetah/walker views (benchmarks/dcs.py).
DRIFT_SPEED = 1.2


def split_names(split: str) -> list[str]:
    if split not in SPLITS:
        raise KeyError(split)
    return [f"{split}-{i:02d}" for i in range(SPLITS[split])]


def _noise_field(rng: np.random.Generator, size: int, beta: float = 1.8) -> np.ndarray:
    """Periodic (size, size, 3) noise with power spectrum ~ 1/f^beta, scaled to [0, 1]."""
    f = np.fft.fftfreq(size)
    radius = np.sqrt(f[:, None] ** 2 + f[None, :] ** 2)
    radius[0, 0] = 1.0
    amplitude = radius ** (-beta / 2)
    amplitude[0, 0] = 0.0
    channels = []
    mix = rng.dirichlet(np.ones(3), 3)  # correlated channels: colours, not RGB static
    base = [np.real(np.fft.ifft2(np.fft.fft2(rng.normal(size=(size, size))) * amplitude)) for _ in range(3)]
    for c in range(3):
        channels.append(sum(mix[c, j] * base[j] for j in range(3)))
    field = np.stack(channels, -1)
    field -= field.min()
    return field / max(field.max(), 1e-8)


def _sample(field: np.ndarray, ys: np.ndarray, xs: np.ndarray) -> np.ndarray:
    """Bilinear lookup in a periodic field."""
    n = field.shape[0]
    y0, x0 = np.floor(ys).astype(int), np.floor(xs).astype(int)
    wy, wx = (ys - y0)[..., None], (xs - x0)[..., None]
    y0, x0 = y0 % n, x0 % n
    y1, x1 = (y0 + 1) % n, (x0 + 1) % n
    top = field[y0, x0] * (1 - wx) + field[y0, x1] * wx
    bottom = field[y1, x0] * (1 - wx) + field[y1, x1] * wx
    return top * (1 - wy) + bottom * wy


def procedural_video(name: str, frames: int = DEFAULT_FRAMES, size: int = DEFAULT_SIZE) -> np.ndarray:
    """(frames, size, size, 3) uint8 frames of the video called ``name``."""
    rng = np.random.default_rng(zlib.crc32(name.encode()))
    tex_size = 2 * size
    background = _noise_field(rng, tex_size, beta=rng.uniform(1.6, 2.4))
    palette = rng.uniform(0.15, 1.0, 3)
    background = 0.25 + 0.75 * background * palette
    angle0, spin = rng.uniform(0, 2 * np.pi), rng.normal(0.0, 0.004)
    heading = rng.uniform(0, 2 * np.pi)
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float64) - size / 2
    n_blobs = int(rng.integers(2, 5))
    blobs = []
    for _ in range(n_blobs):
        texture = _noise_field(rng, tex_size, beta=rng.uniform(1.0, 2.0)) * rng.uniform(0.2, 1.0, 3)
        blobs.append(dict(
            texture=texture, radius=rng.uniform(0.12, 0.3) * size, aspect=rng.uniform(0.5, 1.5),
            centre=rng.uniform(-0.4, 0.4, 2) * size, amp=rng.uniform(0.15, 0.45, 2) * size,
            freq=rng.uniform(0.02, 0.06, 2) * 2 * np.pi, phase=rng.uniform(0, 2 * np.pi, 2),
        ))
    light_phase, light_freq = rng.uniform(0, 2 * np.pi), rng.uniform(0.02, 0.05) * 2 * np.pi
    out = np.empty((frames, size, size, 3), np.uint8)
    for t in range(frames):
        angle = angle0 + spin * t
        c, s = np.cos(angle), np.sin(angle)
        shift = DRIFT_SPEED * t * np.array([np.cos(heading), np.sin(heading)])
        ys = c * yy - s * xx + shift[0]
        xs = s * yy + c * xx + shift[1]
        frame = _sample(background, ys, xs)
        for blob in blobs:
            cy, cx = blob["centre"] + blob["amp"] * np.sin(blob["freq"] * t + blob["phase"])
            dist = ((yy - cy) / blob["aspect"]) ** 2 + ((xx - cx) * blob["aspect"]) ** 2
            alpha = 1.0 / (1.0 + np.exp((np.sqrt(dist) - blob["radius"]) / 1.5))  # soft edge
            patch = _sample(blob["texture"], yy - cy, xx - cx)
            frame = frame * (1 - alpha[..., None]) + patch * alpha[..., None]
        light = 0.85 + 0.15 * np.sin(light_freq * t + light_phase)
        out[t] = np.clip(frame * light * 255.0, 0, 255).astype(np.uint8)
    return out
