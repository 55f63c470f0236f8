import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from identlam.envs.dcs.camera import MIN_POLAR, CameraShake, cart_to_sphere, look_at, sphere_to_cart

angles = st.floats(-3.0, 3.0)


@settings(deadline=None)  # the machine is shared: timing is not what these test
@given(st.floats(0.1, 10.0), angles, st.floats(0.05, 3.09))
def test_sphere_round_trip(r, azimuth, polar):
    back = cart_to_sphere(sphere_to_cart(r, azimuth, polar))
    assert back[0] == pytest.approx(r, rel=1e-9)
    assert back[2] == pytest.approx(polar, abs=1e-9)
    assert np.cos(back[1] - azimuth) == pytest.approx(1.0, abs=1e-9)


@settings(deadline=None)
@given(st.lists(st.floats(-5, 5), min_size=3, max_size=3), st.floats(-3.0, 3.0))
def test_look_at_frame_is_a_rotation_facing_the_target(offset, roll):
    position = np.array(offset) + np.array([0.0, 0.0, 0.5])
    if np.linalg.norm(position) < 1e-2:
        return
    xmat = look_at(position, np.zeros(3), np.array([0.0, 0.0, 1.0]), roll)
    assert np.allclose(xmat.T @ xmat, np.eye(3), atol=1e-9)
    assert np.linalg.det(xmat) == pytest.approx(1.0, abs=1e-9)
    # MuJoCo cameras look along their -z axis
    assert np.allclose(-xmat[:, 2], -position / np.linalg.norm(position), atol=1e-9)


def test_roll_turns_the_image_about_the_view_axis():
    pos, up = np.array([0.0, -3.0, 0.0]), np.array([0.0, 0.0, 1.0])
    flat, rolled = look_at(pos, np.zeros(3), up, 0.0), look_at(pos, np.zeros(3), up, np.pi / 2)
    assert np.allclose(flat[:, 1], [0, 0, 1], atol=1e-12)  # no roll: image up is world up
    assert np.allclose(rolled[:, 2], flat[:, 2])
    assert np.allclose(rolled[:, 0], flat[:, 1], atol=1e-12)


def _default_camera():
    position = np.array([0.0, -3.0, 1.0])
    return position, look_at(position, np.array([0.0, 0.0, 1.0]), np.array([0.0, 0.0, 1.0]))


@settings(max_examples=20, deadline=None)
@given(st.sampled_from([0.1, 0.2, 0.3]), st.integers(0, 2**31))
def test_dynamic_offsets_stay_in_their_box_and_move(scale, seed):
    rng = np.random.default_rng(seed)
    shake = CameraShake(scale, dynamic=True)
    position, xmat = _default_camera()
    shake.reset(rng, position, xmat, np.array([0.0, 0.0, 1.0]))
    assert shake.distance == pytest.approx(3.0)
    first = shake.offsets.copy()
    for _ in range(300):
        shake.step(rng)
        assert np.all(shake.offsets >= shake.low - 1e-12) and np.all(shake.offsets <= shake.high + 1e-12)
        assert np.all(np.abs(shake.velocity) <= 0.4 * scale + 1e-12)
    assert not np.allclose(shake.offsets, first)
    assert np.allclose(shake.high, [np.pi / 2 * scale, np.pi / 2 * scale, 1.5 * scale, np.pi / 2 * scale])


def test_static_offsets_do_not_move_and_pose_applies_them():
    rng = np.random.default_rng(0)
    shake = CameraShake(0.3, dynamic=False)
    position, xmat = _default_camera()
    target = np.array([0.0, 0.0, 1.0])
    shake.reset(rng, position, xmat, target)
    before = shake.offsets.copy()
    shake.step(rng)
    assert np.array_equal(before, shake.offsets)
    shake.offsets = np.array([0.2, -0.1, 0.25, 0.0])
    new_pos, new_xmat = shake.pose(position, xmat)
    r, az, polar = cart_to_sphere(new_pos - target)
    r0, az0, polar0 = cart_to_sphere(position - target)
    assert r == pytest.approx(3.0 * 1.25)
    assert az - az0 == pytest.approx(0.2)
    assert polar - polar0 == pytest.approx(-0.1)
    assert np.allclose(-new_xmat[:, 2], (target - new_pos) / r)  # still looks at the same point


def test_camera_never_goes_below_the_horizon_or_past_the_pole():
    shake = CameraShake(0.3, dynamic=False)
    position, xmat = _default_camera()  # on the horizon of its target: polar = pi/2
    shake.reset(np.random.default_rng(0), position, xmat, np.array([0.0, 0.0, 1.0]))
    target = np.array([0.0, 0.0, 1.0])
    shake.offsets = np.array([0.0, 0.4, 0.0, 0.0])  # would go below
    assert cart_to_sphere(shake.pose(position, xmat)[0] - target)[2] == pytest.approx(np.pi / 2)
    shake.offsets = np.array([0.0, -4.0, 0.0, 0.0])  # would pass over the pole
    assert cart_to_sphere(shake.pose(position, xmat)[0] - target)[2] == pytest.approx(MIN_POLAR)
