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

import math

import numpy as np

# offsets are ordered (azimuth, polar, zoom, roll); this names the exo columns
CAMERA_FIELDS = ("cam_azimuth", "cam_polar", "cam_zoom", "cam_roll")
MIN_POLAR = 0.05  # keeps the camera off the pole, where "up" is undefined


def cart_to_sphere(v) -> tuple[float, float, float]:
    """(radius, azimuth, polar) of a vector; polar is measured from +z."""
    x, y, z = float(v[0]), float(v[1]), float(v[2])
    r = math.sqrt(x * x + y * y + z * z)
    if r == 0.0:
        return 0.0, 0.0, 0.0
    return r, math.atan2(y, x), math.acos(max(-1.0, min(1.0, z / r)))


def sphere_to_cart(r: float, azimuth: float, polar: float) -> np.ndarray:
    s = math.sin(polar)
    return np.array([r * s * math.cos(azimuth), r * s * math.sin(azimuth), r * math.cos(polar)])


def _cross(a, b) -> tuple[float, float, float]:
    # plain floats: np.cross costs ~10x more on 3-vectors, and this runs every step
    return (a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0])


def _unit(v) -> tuple[float, float, float]:
    n = math.sqrt(v[0] * v[0] + v[1] * v[1] + v[2] * v[2])
    return (v[0] / n, v[1] / n, v[2] / n)


def look_at(position, target, up, roll: float = 0.0) -> np.ndarray:
    """MuJoCo camera frame (columns x right, y up, z backwards) at ``position`` facing ``target``.

    ``up`` is a hint (the default camera's own up axis), so cameras that look straight down
    (reacher) keep a well-defined frame. ``roll`` turns the image about the viewing axis.
    """
    forward = _unit([float(t) - float(p) for t, p in zip(target, position)])
    up = [float(u) for u in up]
    right = _cross(forward, up)
    if math.sqrt(sum(c * c for c in right)) < 1e-8:  # up hint parallel to the view: any perpendicular works
        right = _cross(forward, (1.0, 0.0, 0.0) if abs(forward[0]) < 0.9 else (0.0, 1.0, 0.0))
    right = _unit(right)
    cam_up = _cross(right, forward)
    c, s = math.cos(roll), math.sin(roll)
    x = [c * r + s * u for r, u in zip(right, cam_up)]
    y = [-s * r + c * u for r, u in zip(right, cam_up)]
    return np.array([x, y, [-f for f in forward]]).T


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
