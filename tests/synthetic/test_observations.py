"""Observation maps: rendered images are injective and continuous on the torus; vector maps invert."""

import numpy as np
import pytest

import synthetic
from synthetic.observations import VectorMap


def _distinct(images: np.ndarray) -> int:
    return len({im.tobytes() for im in images})


def _thin(points: np.ndarray, min_dist: float) -> np.ndarray:
    """Indices of a subset whose points are pairwise at least ``min_dist`` apart (torus metric)."""
    from scipy.spatial import cKDTree

    drop = {j for _, j in cKDTree(np.mod(points, 1.0), boxsize=1.0).query_pairs(min_dist)}
    return np.array([i for i in range(len(points)) if i not in drop])


@pytest.mark.parametrize("params", [
    {"image_size": 32},
    {"image_size": 64},
    {"image_size": 32, "walls": True},
    {"image_size": 32, "islands": True},
    {"image_size": 32, "distractor": "markov", "background": "moving"},
    {"image_size": 32, "distractor": "iid", "distractor_dim": 4, "background": "static"},
])
def test_rendering_is_injective_on_sampled_states(params):
    env = synthetic.make("pointmass", obs="image", **params)
    rng = np.random.default_rng(0)
    n = 400
    s = env.family.sample_support(rng, n)
    e = rng.random((n, env.exo_dim)).astype(np.float32)
    # uint8 pixels resolve positions to about 0.01 px: compare states at least 0.02 px apart
    keep = _thin(np.concatenate([s, e], 1), 0.02 / params["image_size"])
    s, e, n = s[keep], e[keep], len(keep)
    assert n > 390
    imgs = env.observe(s, e)
    assert imgs.dtype == np.uint8 and imgs.shape == (n, params["image_size"], params["image_size"], 3)
    assert _distinct(imgs) == n
    # every state against a neighbour a twentieth of a pixel away
    s2 = s.copy()
    s2[:, 0] = np.clip(s2[:, 0] + 0.05 / params["image_size"], 0, 0.999)
    keep = env.family.contains(s2)
    assert np.all(np.any(env.observe(s2[keep], e[keep]) != imgs[keep], axis=(1, 2, 3)))


def test_grid_cells_render_injectively():
    env = synthetic.make("grid", obs="image", image_size=32, size=10)
    cells = env.family.dense_states()
    assert _distinct(env.observe(cells)) == len(cells)


def test_torus_wrap_renders_continuously_and_distinctly():
    env = synthetic.make("pointmass", obs="image", image_size=32)
    y = 0.3
    left, right, edge = env.observe(np.array([[0.0, y], [0.999, y], [0.5 / 32, y]], np.float32))
    # 0.999 is a thirtieth of a pixel from 0 across the wrap: nearly the same picture, yet distinct
    assert np.any(left != right)
    assert np.abs(left.astype(int) - right.astype(int)).max() <= 20
    # the sprite near the left border spills over to the right border
    assert left[:, -1, 0].max() > 40 and edge[:, -1, 0].max() > 5


def test_agent_and_distractor_have_different_colours():
    env = synthetic.make("pointmass", obs="image", image_size=32, distractor="iid")
    p, q = np.array([0.2, 0.3], np.float32), np.array([0.7, 0.6], np.float32)
    a, b = env.observe(p, q), env.observe(q, p)
    assert np.any(a != b)
    assert a[..., 0].max() > 100 and a[..., 1].max() > 100  # red agent, green distractor
    r, c = np.unravel_index(np.argmax(a[..., 0]), a.shape[:2])
    assert a[r, c, 1] == 20 and a[r, c, 2] == 20  # the agent's pixel carries no distractor colour


@pytest.mark.parametrize("kind", ["identity", "linear", "mlp"])
def test_vector_maps_are_bijections(kind):
    m = VectorMap(kind, True, 2, 4, True, 3, np.random.default_rng(1))
    rng = np.random.default_rng(0)
    s, e = rng.random((500, 2)), rng.random((500, 4))
    obs = m(s, e)
    assert obs.dtype == np.float32 and obs.shape == (500, 12)
    np.testing.assert_allclose(m.invert(obs), m.base(s, e), atol=1e-4)
    if kind != "identity":
        for w in m.weights:
            sv = np.linalg.svd(w, compute_uv=False)
            assert sv.max() / sv.min() <= 4.0 + 1e-9


def test_periodic_embedding_is_continuous_across_the_wrap():
    env = synthetic.make("pointmass", obs="mlp")
    a, b = env.observe(np.array([[0.0, 0.5], [1 - 1e-6, 0.5]], np.float32))
    assert np.abs(a - b).max() < 1e-3
    raw = synthetic.make("pointmass", embed_periodic=False)
    assert raw.spec["obs_shape"] == [2]
    np.testing.assert_array_equal(raw.observe(np.array([0.25, 0.5], np.float32)), [0.25, 0.5])


def test_map_seed_changes_the_map_and_nothing_else():
    a = synthetic.make("pointmass", obs="linear", map_seed=0)
    b = synthetic.make("pointmass", obs="linear", map_seed=1)
    s = np.array([[0.1, 0.2]], np.float32)
    assert not np.allclose(a.observe(s), b.observe(s))
    np.testing.assert_array_equal(a.transition(s, [1]), b.transition(s, [1]))
