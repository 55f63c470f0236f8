"""The Distracting Control Suite as a gymnasium environment with its ground truth.

Order of effects per step (as in the original suite): physics, then the background frame, the
camera pose and the material colours move, then one render. ``info["state"]`` is the
proprioceptive state in LAOM's order; ``info["exo"]`` the distractor state that produced the
frame: ``video, frame`` (when a background plays), ``cam_azimuth, cam_polar, cam_zoom,
cam_roll`` (offsets from the default camera) and ``color_<material>_<r|g|b>`` (offsets from
the original colours), in that order; ``exo_fields()`` names the columns.

Every random draw of the distractions comes from the generator that ``reset(seed=...)`` seeds,
and the task's own initial-state randomness is reseeded from it too, so a seed fixes the episode.
"""

from __future__ import annotations

import inspect
import json
from collections import deque

import gymnasium as gym
import numpy as np

from identlam.envs.dcs import background as bg
from identlam.envs.dcs.camera import CAMERA_FIELDS, CameraShake
from identlam.envs.dcs.color import ColorWalk
from identlam.envs.dcs.difficulty import difficulty as get_difficulty
from identlam.envs.dcs.difficulty import ground_alpha
from identlam.envs.dcs.render import ensure_gl_backend, make_fast, skybox_size, upload_texture
from identlam.envs.dcs.tasks import env_id, flat_state, require_dm_control
from identlam.envs.dcs.videos import PROCEDURAL, load_sky_video, load_video, video_names
from identlam.errors import ConfigError

DISTRACTIONS = ("background", "camera", "color")
BACKGROUND_MODES = ("auto", "composite", "texture")
COMPOSITE_SKYBOX = 8  # the key-coloured skybox never changes, so it can be tiny


def check_values(difficulty, img_hw, frame_stack, background, background_split, background_size, background_frames,
                 background_mode, distractions, camera_id, time_limit):
    """Raise ConfigError for a parameter value the environment would refuse; builds nothing, so a
    sweep's config is checked before any run (the camera's range needs the model: checked on build).
    Returns the difficulty's settings."""
    level = get_difficulty(difficulty)
    for name, value in (("img_hw", img_hw), ("frame_stack", frame_stack), ("background_size", background_size),
                        ("background_frames", background_frames)):
        if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < 1:
            raise ConfigError(f"{name}: {value!r} is not a positive integer")
    if camera_id is not None and (not isinstance(camera_id, (int, np.integer)) or isinstance(camera_id, bool)):
        raise ConfigError(f"camera_id: {camera_id!r} is not an integer")
    if time_limit is not None and (not isinstance(time_limit, (int, float, np.number)) or isinstance(time_limit, bool)
                                   or not np.isfinite(time_limit) or time_limit <= 0):
        raise ConfigError(f"time_limit: {time_limit!r} is not a positive number of seconds")
    if not isinstance(background, str) or not background:
        raise ConfigError(f"background: {background!r} is neither '{PROCEDURAL}' nor the path of a folder of videos")
    if background_split not in ("train", "eval"):
        raise ConfigError(f"background_split: {background_split!r} is not train or eval")
    if background_mode not in BACKGROUND_MODES:
        raise ConfigError(f"background_mode: {background_mode!r} is not one of {', '.join(BACKGROUND_MODES)}")
    if not isinstance(distractions, (list, tuple)) or any(d not in DISTRACTIONS for d in distractions):
        raise ConfigError(f"distractions: {distractions!r} must be a list drawn from {', '.join(DISTRACTIONS)}")
    return level


def check_params(**params) -> None:
    """:func:`check_values` on ``DCSEnv(**params)``'s arguments, defaults filled in (the family's
    value check, called by ``identlam.envs.check_params``)."""
    bound = inspect.signature(DCSEnv.__init__).bind(None, **params)
    bound.apply_defaults()
    args = bound.arguments
    check_values(*(args[name] for name in inspect.signature(check_values).parameters))


class DCSEnv(gym.Env):
    """dm_control ``domain``/``task`` rendered at ``img_hw`` px with DCS distractions."""

    metadata = {"render_modes": ["rgb_array"]}

    def __init__(self, domain: str, task: str, difficulty: str = "hard", dynamic: bool = True, img_hw: int = 64,
                 camera_id: int | None = None, fast_render: bool = True, frame_stack: int = 1,
                 background: str = PROCEDURAL, background_split: str = "train", background_size: int = 64,
                 background_frames: int = 64, background_mode: str = "auto",
                 distractions: list[str] | tuple[str, ...] = DISTRACTIONS, time_limit: float | None = None,
                 render_mode: str | None = "rgb_array"):
        require_dm_control()
        ensure_gl_backend()
        self.domain, self.task = domain, task
        self.level = check_values(difficulty, img_hw, frame_stack, background, background_split, background_size,
                                  background_frames, background_mode, distractions, camera_id, time_limit)
        self.params = dict(difficulty=difficulty, dynamic=bool(dynamic), img_hw=int(img_hw), camera_id=camera_id,
                           fast_render=bool(fast_render), frame_stack=int(frame_stack), background=str(background),
                           background_split=background_split, background_size=int(background_size),
                           background_frames=int(background_frames), background_mode=background_mode,
                           distractions=list(distractions), time_limit=time_limit)
        self.render_mode = render_mode
        active = set(distractions) if self.level.distracted else set()
        self._names = video_names(background, background_split) if "background" in active else []
        if self.level.num_videos is not None:
            self._names = self._names[: self.level.num_videos]
        use_video = bool(self._names)
        self.background_mode = self._choose_mode(background_mode, use_video, fast_render)
        face = {"composite": COMPOSITE_SKYBOX, "texture": int(background_size)}.get(self.background_mode)
        with skybox_size(face):
            from dm_control import suite

            env_kwargs = {} if time_limit is None else {"time_limit": float(time_limit)}
            self._dm = suite.load(domain, task, environment_kwargs=env_kwargs)
        physics = self._dm.physics
        model = physics.model
        if fast_render:
            make_fast(model, img_hw)
        self.camera_id = (2 if domain == "quadruped" else 0) if camera_id is None else int(camera_id)
        if not 0 <= self.camera_id < model.ncam:
            raise ConfigError(f"camera_id: {self.camera_id} is not a camera of {domain} (it has {model.ncam})")
        from dm_control.mujoco import engine

        self._camera = engine.Camera(physics, int(img_hw), int(img_hw), camera_id=self.camera_id)
        self._camera.render()  # creates the GL context, so textures can be uploaded from now on
        self._sky = bg.skybox_texture(model) if use_video else None
        if use_video and self._sky is None:
            raise ConfigError(f"difficulty: {domain} has no skybox to show background videos on")
        if use_video:
            self._set_ground_alpha(model, ground_alpha(domain))
            if self.background_mode == "composite":
                bg.fill_texture(model, self._sky, bg.KEY_COLOR)
                upload_texture(physics, self._sky)
                self._rays = bg.pixel_rays(int(img_hw), int(img_hw), float(model.cam_fovy[self.camera_id]))
        size, frames, source = int(background_size), int(background_frames), str(background)
        names = self._names
        self._player = bg.VideoPlayer(len(names), lambda i: load_video(source, names[i], size, frames),
                                      dynamic) if use_video else None
        self._sky_video = lambda i: load_sky_video(source, names[i], size, frames)
        self._shake = CameraShake(self.level.scale, dynamic, upper_hemisphere=domain != "reacher") \
            if "camera" in active and self.level.scale > 0 else None
        self._materials = [model.id2name(i, "material") or f"mat{i}" for i in range(model.nmat)]
        self._colors = ColorWalk(model.mat_rgba[:, :3].copy(), self.level.scale, dynamic) \
            if "color" in active and self.level.scale > 0 and model.nmat else None
        spec = self._dm.action_spec()
        self.action_space = gym.spaces.Box(spec.minimum.astype(np.float32), spec.maximum.astype(np.float32),
                                           dtype=np.float32)
        self.observation_space = gym.spaces.Box(0, 255, (int(img_hw), int(img_hw), 3 * int(frame_stack)), np.uint8)
        self._frames: deque = deque(maxlen=int(frame_stack))
        self._rng = np.random.default_rng(0)
        self._time_step = None
        self.last_frame: np.ndarray | None = None

    # -- gymnasium API -------------------------------------------------------------------------
    def reset(self, *, seed: int | None = None, options=None):
        super().reset(seed=seed)
        task_seed, distraction_seed = self.np_random.integers(0, 2**31, size=2)
        self._dm.task.random.seed(int(task_seed))
        self._rng = np.random.default_rng(int(distraction_seed))
        self._time_step = self._dm.reset()
        physics = self._dm.physics
        if self._player is not None:
            self._player.reset(self._rng)
        if self._shake is not None:
            pos, xmat = self._default_pose()
            focus = physics.data.subtree_com[1] if physics.model.nbody > 1 else pos
            self._shake.reset(self._rng, pos, xmat, focus)
        if self._colors is not None:
            physics.model.mat_rgba[:, :3] = self._colors.reset(self._rng)
        frame = self._render_frame()
        self._frames.clear()
        for _ in range(self._frames.maxlen):
            self._frames.append(frame)
        return self._observation(), self._info()

    def step(self, action):
        if self._time_step is None:
            raise ConfigError("dcs: call reset() before step()")
        action = np.clip(np.asarray(action, np.float32).reshape(self.action_space.shape),
                         self.action_space.low, self.action_space.high)
        self._time_step = ts = self._dm.step(action)
        if self._player is not None:
            self._player.step()
        if self._shake is not None:
            self._shake.step(self._rng)
        if self._colors is not None:
            self._dm.physics.model.mat_rgba[:, :3] = self._colors.step(self._rng)
        self._frames.append(self._render_frame())
        terminated = bool(ts.last() and ts.discount == 0.0)
        truncated = bool(ts.last() and not terminated)
        return self._observation(), float(ts.reward or 0.0), terminated, truncated, self._info()

    def render(self):
        return None if self.last_frame is None else self.last_frame.copy()

    def close(self):
        camera = getattr(self, "_camera", None)
        if camera is not None:
            camera._scene.free()
            self._camera = None
        dm = getattr(self, "_dm", None)
        if dm is not None:
            dm.close()
            self._dm = None

    # -- ground truth and attributes -----------------------------------------------------------
    def exo_fields(self) -> list[str]:
        fields = list(bg.BACKGROUND_FIELDS) if self._player is not None else []
        if self._shake is not None:
            fields += CAMERA_FIELDS
        if self._colors is not None:
            fields += self._colors.field_names(self._materials)
        return fields

    def state_fields(self) -> list[str]:
        spec = self._dm.observation_spec()
        return [f"{key}_{i}" for key in sorted(spec) for i in range(int(np.prod(spec[key].shape, dtype=int)))]

    def dataset_attrs(self) -> dict:
        generator = {k: v for k, v in self.params.items()}
        return {
            "env_id": env_id(self.domain, self.task),
            "action_space": "continuous",
            "action_dim": int(self.action_space.shape[0]),
            "obs_kind": "image",
            "generator": json.dumps(generator, sort_keys=True),
            "domain_name": self.domain,
            "task_name": self.task,
            "difficulty": self.level.name,
            "dynamic": bool(self.params["dynamic"]),
            "img_hw": int(self.params["img_hw"]),
            "fast_render": bool(self.params["fast_render"]),
            "background_mode": self.background_mode,
        }

    # -- internals -----------------------------------------------------------------------------
    def _choose_mode(self, mode: str, use_video: bool, fast_render: bool) -> str | None:
        if not use_video:
            return None
        alpha = ground_alpha(self.domain)
        if mode == "auto":
            # reflections would mirror the key colour, and a half-transparent floor blends it
            return "composite" if fast_render and alpha in (0.0, 1.0) else "texture"
        if mode == "composite" and (not fast_render or alpha not in (0.0, 1.0)):
            raise ConfigError("background_mode: composite needs fast_render and an opaque or hidden floor; use texture")
        return mode

    @staticmethod
    def _set_ground_alpha(model, alpha: float) -> None:
        for i in range(model.nmat):
            if model.id2name(i, "material") == "grid":
                model.mat_rgba[i, 3] = alpha

    def _default_pose(self) -> tuple[np.ndarray, np.ndarray]:
        import mujoco

        physics = self._dm.physics
        mujoco.mj_camlight(physics.model.ptr, physics.data.ptr)  # undo last step's shaken pose
        return physics.data.cam_xpos[self.camera_id].copy(), physics.data.cam_xmat[self.camera_id].copy()

    def _render_frame(self) -> np.ndarray:
        physics = self._dm.physics
        if self._shake is not None:
            pos, xmat = self._shake.pose(*self._default_pose())
            physics.data.cam_xpos[self.camera_id] = pos
            physics.data.cam_xmat[self.camera_id] = xmat.reshape(-1)
        if self.background_mode == "texture":
            bg.write_face(physics.model, self._sky, self._player.frame)
            upload_texture(physics, self._sky)
        rgb = np.array(self._camera.render(), copy=True)
        if self.background_mode == "composite":
            sky = self._sky_video(self._player.video_id)[self._player.index]
            bg.composite(rgb, sky, self._rays, physics.data.cam_xmat[self.camera_id])
        self.last_frame = rgb
        return rgb

    def _observation(self) -> np.ndarray:
        if len(self._frames) == 1:
            return self._frames[0].copy()
        return np.concatenate(list(self._frames), axis=-1)

    def _info(self) -> dict:
        exo = []
        if self._player is not None:
            exo += self._player.exo
        if self._shake is not None:
            exo += list(self._shake.offsets)
        if self._colors is not None:
            exo += list(self._colors.offsets.ravel())
        return {"state": flat_state(self._time_step.observation),
                "exo": np.asarray(exo, np.float32)}
