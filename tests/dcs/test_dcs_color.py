import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from identlam.envs.dcs.color import ColorWalk


@settings(max_examples=25, deadline=None)
@given(st.sampled_from([0.1, 0.2, 0.3]), st.integers(0, 2**31))
def test_colour_walk_stays_inside_its_box_and_unit_range(scale, seed):
    rng = np.random.default_rng(seed)
    original = rng.uniform(0, 1, (5, 3))
    original[0] = [0.0, 1.0, 0.05]  # corners: the box is cut at 0 and 1
    walk = ColorWalk(original, scale, dynamic=True)
    rgb = walk.reset(rng)
    seen = [rgb.copy()]
    for _ in range(200):
        rgb = walk.step(rng)
        seen.append(rgb.copy())
    seen = np.array(seen)
    assert seen.min() >= 0.0 and seen.max() <= 1.0
    assert np.all(seen >= np.maximum(original - scale, 0) - 1e-12)
    assert np.all(seen <= np.minimum(original + scale, 1) + 1e-12)
    assert np.allclose(walk.offsets, rgb - original)
    assert np.abs(np.diff(seen, axis=0)).max() > 0  # it moves


def test_static_colours_keep_their_reset_draw():
    rng = np.random.default_rng(1)
    walk = ColorWalk(np.full((3, 3), 0.5), 0.2, dynamic=False)
    first = walk.reset(rng).copy()
    assert not np.allclose(first, 0.5)
    for _ in range(5):
        assert np.array_equal(walk.step(rng), first)
    assert walk.field_names(["a"]) == ["color_a_r", "color_a_g", "color_a_b"]
