"""Camera shake: the camera moves on a sphere around the point it looks at.

The default camera pose (as MuJoCo computes it, following the agent for tracking cameras) gives a
look-at point and spherical coordinates around it. The distraction adds offsets to the azimuth,
the polar angle, the distance (relative zoom) and the roll. Offsets start uniformly inside their
box and, when dynamic, drift with a clipped random-walk velocity; hitting the box stops the
motion along that coordinate. Scales follow the Distracting Control Suite: angles within
``±pi/2 * scale``, zoom in ``[-0.5, 1.5] * scale`` of the distance, velocity noise
``0.1 * scale`` (roll ``pi/300 * scale``) capped at ``0.4 * scale`` per step.
"""

from __future__ import annotations

import numpy as np

# offsets are ordered (azimuth, polar, zoom, roll); this names the exo columns
CAMERA_FIELDS = ("cam_azimuth", "cam_polar", "cam_zoom", "cam_roll")
MIN_POLAR = 0.05  # keeps the camera off the pole, where "up" is undefined


def cart_to_sphere(v: np.ndarray) -> tuple[float, float, float]:
    """(radius, azimuth, polar) of a vector; polar is measured from +z."""
    r = float(np.linalg.norm(v))
    if r == 0.0:
        return 0.0, 0.0, 0.0
    return r, float(np.arctan2(v[1], v[0])), float(np.arccos(np.clip(v[2] / r, -1.0, 1.0)))


def sphere_to_cart(r: float, azimuth: float, polar: float) -> np.ndarray:
    s = np.sin(polar)
    return r * np.array([s * np.cos(azimuth), s * np.sin(azimuth), np.cos(polar)])


def look_at(position: np.ndarray, target: np.ndarray, up: np.ndarray, roll: float = 0.0) -> np.ndarray:
    """MuJoCo camera frame (columns x right, y up, z backwards) at ``position`` facing ``target``.

    ``up`` is a hint (the default camera's own up axis), so cameras that look straight down
    (reacher) keep a well-defined frame. ``roll`` turns the image about the viewing axis.
    """
    forward = np.asarray(target, float) - np.asarray(position, float)
    forward /= np.linalg.norm(forward)
    right = np.cross(forward, up)
    if np.linalg.norm(right) < 1e-8:  # up hint parallel to the view: any perpendicular works
        right = np.cross(forward, [1.0, 0.0, 0.0] if abs(forward[0]) < 0.9 else [0.0, 1.0, 0.0])
    right /= np.linalg.norm(right)
    cam_up = np.cross(right, forward)
    c, s = np.cos(roll), np.sin(roll)
    x = c * right + s * cam_up
    y = -s * right + c * cam_up
    return np.stack([x, y, -forward], axis=1)


class CameraShake:
    """Offsets of one camera; ``pose`` applies them to the default pose."""

    def __init__(self, scale: float, dynamic: bool, upper_hemisphere: bool = True):
        self.scale, self.dynamic, self.upper_hemisphere = float(scale), bool(dynamic), upper_hemisphere
        half_angle = np.pi / 2 * self.scale
        self.low = np.array([-half_angle, -half_angle, -0.5 * self.scale, -half_angle])
        self.high = np.array([half_angle, half_angle, 1.5 * self.scale, half_angle])
        self.vel_std = np.array([0.1, 0.1, 0.1, np.pi / 300]) * self.scale
        self.max_vel = 0.4 * self.scale
        self.offsets = np.zeros(4)
        self.velocity = np.zeros(4)
        self.distance = 1.0  # camera to look-at point, fixed at reset

    def reset(self, rng: np.random.Generator, position: np.ndarray, xmat: np.ndarray, focus: np.ndarray) -> None:
        """Draw offsets; the look-at distance is where the view axis passes closest to ``focus``."""
        forward = -np.asarray(xmat).reshape(3, 3)[:, 2]
        self.distance = max(float(np.dot(np.asarray(focus) - position, forward)), 0.1)
        self.offsets = rng.uniform(self.low, self.high)
        self.velocity = np.zeros(4)

    def step(self, rng: np.random.Generator) -> None:
        if not self.dynamic:
            return
        self.velocity = np.clip(self.velocity + rng.normal(0.0, 1.0, 4) * self.vel_std, -self.max_vel, self.max_vel)
        moved = self.offsets + self.velocity
        clipped = np.clip(moved, self.low, self.high)
        self.velocity[clipped != moved] = 0.0
        self.offsets = clipped

    def pose(self, position: np.ndarray, xmat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The shaken (position, 3x3 frame) from the default ones."""
        xmat = np.asarray(xmat, float).reshape(3, 3)
        target = position - xmat[:, 2] * self.distance
        r, azimuth, polar = cart_to_sphere(position - target)
        d_az, d_polar, zoom, roll = self.offsets
        polar_new = polar + d_polar
        if self.upper_hemisphere:  # never below the look-at point's horizon (unless it started there)
            polar_new = np.clip(polar_new, MIN_POLAR, max(np.pi / 2, polar))
        new_position = target + sphere_to_cart(r * (1.0 + zoom), azimuth + d_az, polar_new)
        return new_position, look_at(new_position, target, xmat[:, 1], roll)
