"""Fast offscreen rendering for dm_control tasks.

On a software GL the default settings (2048² shadow map, mirrored floor, 4x MSAA, a new scene per
call) cost 20-40 ms per 64 px frame; without shadows, reflections and MSAA, with a small
offscreen buffer and one reused camera, a frame costs about 1 ms. The settings must be on the
model before the GL context exists, because the context is sized from them.
"""

from __future__ import annotations

import contextlib
import os

SKYBOX_ASSET = "./common/skybox.xml"


def ensure_gl_backend() -> None:
    """Headless machines have no display: default to EGL rather than GLFW."""
    os.environ.setdefault("MUJOCO_GL", "egl")


@contextlib.contextmanager
def skybox_size(size: int | None):
    """Load models whose skybox face is ``size`` px (dm_control's is 800) while inside."""
    if size is None:
        yield
        return
    from dm_control.suite import common

    original = common.ASSETS[SKYBOX_ASSET]
    text = original.decode()
    for attr in ("width", "height"):
        text = text.replace(f'{attr}="800"', f'{attr}="{int(size)}"')
    common.ASSETS[SKYBOX_ASSET] = text.encode()
    try:
        yield
    finally:
        common.ASSETS[SKYBOX_ASSET] = original


def make_fast(model, img_hw: int) -> None:
    model.light_castshadow[:] = 0
    model.mat_reflectance[:] = 0
    model.vis.quality.offsamples = 0
    model.vis.global_.offwidth = max(int(img_hw), 1)
    model.vis.global_.offheight = max(int(img_hw), 1)


def upload_texture(physics, tex_id: int) -> None:
    import mujoco

    contexts = physics.contexts
    with contexts.gl.make_current() as ctx:
        ctx.call(mujoco.mjr_uploadTexture, physics.model.ptr, contexts.mujoco.ptr, tex_id)
