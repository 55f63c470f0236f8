"""Background videos on the skybox: which frame plays, and how it reaches the pixels.

Each episode picks one video of the difficulty's list, a start frame and a direction; when
dynamic the frame index moves one step per environment step and bounces at either end
(ping-pong), as in the Distracting Control Suite; when static the start frame stays.

Two ways to show the frame, which look alike at 64 px:
- ``texture``: the frame is written into the skybox texture (``tex_data``, one face repeated on
  all six sides) and uploaded to the GL context when it changes. Exact, but an upload costs
  more than a whole fast render on a software GL.
- ``composite``: the skybox is filled once with a key colour; after rendering, key-coloured
  pixels are replaced by a cube-map lookup of the frame along each pixel's viewing ray (the same
  frame on all six faces). The video moves with the camera exactly as a skybox would, at the
  cost of a few numpy gathers. It needs an opaque or invisible floor (alpha 1 or 0): a
  half-transparent floor blends the key colour.
"""

from __future__ import annotations

import numpy as np

KEY_COLOR = np.array([255, 0, 255], np.uint8)
BACKGROUND_FIELDS = ("video", "frame")


def ping_pong(index: int, direction: int, n: int) -> tuple[int, int]:
    """The next (index, direction) of a frame index bouncing inside ``0 .. n-1``."""
    if n <= 1:
        return 0, direction
    nxt = index + direction
    if nxt < 0 or nxt >= n:
        direction = -direction
        nxt = index + direction
    return nxt, direction


class VideoPlayer:
    """The playing video and frame; ``videos`` is a list of (frames, H, W, 3) arrays or loaders."""

    def __init__(self, n_videos: int, load, dynamic: bool):
        self.n_videos, self._load, self.dynamic = int(n_videos), load, bool(dynamic)
        self.video_id, self.index, self.direction = 0, 0, 1
        self.frames: np.ndarray | None = None

    def reset(self, rng: np.random.Generator) -> None:
        self.video_id = int(rng.integers(self.n_videos))
        self.frames = self._load(self.video_id)
        self.index = int(rng.integers(len(self.frames)))
        self.direction = 1 if rng.random() < 0.5 else -1

    def step(self) -> None:
        if self.dynamic:
            self.index, self.direction = ping_pong(self.index, self.direction, len(self.frames))

    @property
    def frame(self) -> np.ndarray:
        return self.frames[self.index]

    @property
    def exo(self) -> list[float]:
        return [float(self.video_id), float(self.index)]


def pixel_rays(height: int, width: int, fovy_degrees: float) -> np.ndarray:
    """(H*W, 3) viewing directions in the camera frame (x right, y up, looking along -z), row 0 on top."""
    t = np.tan(np.deg2rad(fovy_degrees) / 2)
    ys = (1 - 2 * (np.arange(height) + 0.5) / height) * t
    xs = (2 * (np.arange(width) + 0.5) / width - 1) * t * width / height
    gx, gy = np.meshgrid(xs, ys)
    return np.stack([gx.ravel(), gy.ravel(), -np.ones(height * width)], axis=1).astype(np.float32)


def upsample2(frames: np.ndarray) -> np.ndarray:
    """Frames (..., H, W, 3) at twice the size, bilinear; done once per video, so that the per-step
    lookup can take the nearest texel and still look filtered."""
    f = frames.astype(np.float32)
    for axis in (f.ndim - 3, f.ndim - 2):
        g = np.moveaxis(f, axis, 0)
        n = g.shape[0]
        prev, nxt = g[np.r_[0, np.arange(n - 1)]], g[np.r_[np.arange(1, n), n - 1]]
        out = np.empty((2 * n,) + g.shape[1:], np.float32)
        out[0::2] = 0.75 * g + 0.25 * prev
        out[1::2] = 0.75 * g + 0.25 * nxt
        f = np.moveaxis(out, 0, axis)
    return (f + 0.5).astype(np.uint8)


def cube_lookup(frame: np.ndarray, directions: np.ndarray) -> np.ndarray:
    """Colours of world ``directions`` (N, 3) on a cube whose six faces all show ``frame``.

    Side faces keep the frame upright (world +z is up); top and bottom faces are laid flat.
    Nearest texel, with ``np.where`` over whole arrays rather than per-face masks: this runs
    every step on most pixels of the image.
    """
    d = np.asarray(directions, np.float32)
    dx, dy, dz = d[:, 0], d[:, 1], d[:, 2]
    ax, ay, az = np.abs(dx), np.abs(dy), np.abs(dz)
    on_x = (ax >= ay) & (ax >= az)
    on_y = ~on_x & (ay >= az)
    inv = 0.5 / np.where(on_x, ax, np.where(on_y, ay, az))
    # horizontal coordinate runs along the face's tangent cross(normal, z); vertical is -z
    u = np.where(on_x, -np.copysign(dy, dx), np.where(on_y, np.copysign(dx, dy), dx)) * inv + 0.5
    v = np.where(on_x | on_y, -dz, dy) * inv + 0.5
    h, w = frame.shape[:2]
    col = np.minimum((u * w).astype(np.int32), w - 1)
    row = np.minimum((v * h).astype(np.int32), h - 1)
    return frame.reshape(h * w, 3)[np.maximum(row, 0) * w + np.maximum(col, 0)]


def sky_mask(rgb: np.ndarray) -> np.ndarray:
    """Flat indices of the key-coloured pixels of ``rgb`` (H, W, 3)."""
    r, g, b = rgb[..., 0].ravel(), rgb[..., 1].ravel(), rgb[..., 2].ravel()
    return np.flatnonzero((r == KEY_COLOR[0]) & (g == KEY_COLOR[1]) & (b == KEY_COLOR[2]))


def composite(rgb: np.ndarray, frame: np.ndarray, rays: np.ndarray, cam_xmat: np.ndarray) -> np.ndarray:
    """``rgb`` with its key-coloured (sky) pixels replaced by the frame seen along their rays."""
    sky = sky_mask(rgb)
    if sky.size:
        world = rays[sky] @ np.asarray(cam_xmat, np.float32).reshape(3, 3).T
        rgb.reshape(-1, 3)[sky] = cube_lookup(frame, world)
    return rgb


def skybox_texture(model) -> int | None:
    """Id of the model's skybox texture, or None."""
    import mujoco

    for i in range(model.ntex):
        if int(model.tex_type[i]) == int(mujoco.mjtTexture.mjTEXTURE_SKYBOX):
            return i
    return None


def write_face(model, tex_id: int, frame: np.ndarray) -> None:
    """Write ``frame`` as the single face of the skybox (MuJoCo repeats a square cube texture)."""
    w = int(model.tex_width[tex_id])
    if frame.shape[:2] != (w, w):
        raise ValueError(f"skybox face is {w}x{w}, frame is {frame.shape[0]}x{frame.shape[1]}")
    model.tex_height[tex_id] = w
    adr = int(model.tex_adr[tex_id])
    model.tex_data[adr : adr + w * w * 3] = frame.reshape(-1)


def fill_texture(model, tex_id: int, color: np.ndarray) -> None:
    adr = int(model.tex_adr[tex_id])
    n = int(model.tex_width[tex_id]) * int(model.tex_height[tex_id])
    model.tex_data[adr : adr + 3 * n] = np.tile(np.asarray(color, np.uint8), n)
