"""Benchmark of the Distracting Control Suite: cost per step of each difficulty against plain rendering.

    python benchmarks/dcs.py [--task cheetah-run] [--steps 150] [--rounds 3] [--img-hw 64]

One process, one task. Each setting runs ``steps`` environment steps (random actions, one 64 px
frame each) per round, in interleaved rounds, and is scored by the median CPU milliseconds per
step of this process (user + system, which includes the software GL's render threads): the
machine is shared, so wall-clock rates swing with other load; wall-clock medians are printed too.

Settings:
- ``dm_control default``: ``physics.render`` with the task's own render settings (shadows,
  reflections, MSAA, a new scene every call);
- ``plain fast``: the same task with the fast settings and one reused camera, no distraction:
  the baseline of the ratios;
- ``dcs <difficulty>``: the identlam environment, dynamic unless marked static; ``texture``
  uploads the video to the skybox instead of compositing it.

A second table compares how much the picture changes between consecutive frames where the
procedural background shows (dynamic, camera and colour off) and on the agent's body (vanilla):
mean absolute difference per pixel and channel, on the same random-action rollouts.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("MUJOCO_GL", "egl")


def plain_runner(domain: str, task: str, img_hw: int, fast: bool):
    from dm_control import suite
    from dm_control.mujoco import engine

    from identlam.envs.dcs.render import make_fast

    env = suite.load(domain, task, task_kwargs={"random": 0})
    spec = env.action_spec()
    if fast:
        make_fast(env.physics.model, img_hw)
        camera = engine.Camera(env.physics, img_hw, img_hw, camera_id=0)
        render = camera.render
    else:
        def render():
            return env.physics.render(img_hw, img_hw, camera_id=0)
    env.reset()
    rng = np.random.default_rng(0)

    def step():
        ts = env.step(rng.uniform(spec.minimum, spec.maximum))
        if ts.last():
            env.reset()
        return render()

    return step


def dcs_runner(domain: str, task: str, img_hw: int, **params):
    from identlam.envs.dcs.env import DCSEnv

    env = DCSEnv(domain, task, img_hw=img_hw, **params)
    env.reset(seed=0)
    rng = np.random.default_rng(0)

    def step():
        obs, _, terminated, truncated, _ = env.step(rng.uniform(env.action_space.low, env.action_space.high))
        if terminated or truncated:
            env.reset()
        return obs

    return step


def measure(runners: dict, steps: int, rounds: int) -> dict:
    cpu = {name: [] for name in runners}
    wall = {name: [] for name in runners}
    for _ in range(rounds):
        for name, step in runners.items():
            step()  # warm: first video frames, GL state
            c0, w0 = time.process_time(), time.perf_counter()
            for _ in range(steps):
                step()
            cpu[name].append((time.process_time() - c0) / steps * 1e3)
            wall[name].append((time.perf_counter() - w0) / steps * 1e3)
    return {name: (float(np.median(cpu[name])), float(np.median(wall[name]))) for name in runners}


def agent_mask(env) -> np.ndarray:
    """Pixels showing a geom of the agent (any body but the world's: not the floor)."""
    import mujoco

    seg = env._camera.render(segmentation=True)
    model = env._dm.physics.model
    geoms = (seg[..., 1] == int(mujoco.mjtObj.mjOBJ_GEOM)) & (seg[..., 0] >= 0)
    ids = np.where(geoms, seg[..., 0], 0)
    return geoms & (model.geom_bodyid[ids] != 0)


def frame_change(domain: str, task: str, img_hw: int, steps: int) -> tuple[float, float]:
    """Mean |frame t+1 - frame t| on background pixels (video only) and on the agent's pixels (vanilla)."""
    from identlam.envs.dcs.background import KEY_COLOR
    from identlam.envs.dcs.env import DCSEnv

    out = []
    for difficulty, distractions in (("hard", ["background"]), ("vanilla", [])):
        env = DCSEnv(domain, task, img_hw=img_hw, difficulty=difficulty, distractions=distractions)
        rng = np.random.default_rng(1)
        diffs = []
        for episode in range(3):
            prev, _ = env.reset(seed=episode)
            prev_mask = agent_mask(env)
            for _ in range(steps):
                obs, *_ = env.step(rng.uniform(env.action_space.low, env.action_space.high))
                if difficulty == "hard":
                    mask = np.all(env._camera.render() == KEY_COLOR, axis=-1)  # sky pixels
                else:
                    now = agent_mask(env)
                    mask, prev_mask = now | prev_mask, now  # where the agent is or was
                diffs.append(np.abs(obs.astype(np.int16) - prev)[mask].mean())
                prev = obs
        out.append(float(np.mean(diffs)))
        env.close()
    return out[0], out[1]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--task", default="cheetah-run")
    parser.add_argument("--steps", type=int, default=150)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--img-hw", type=int, default=64)
    args = parser.parse_args(argv)
    from identlam.envs.dcs.tasks import have_dm_control, parse_task

    if not have_dm_control():
        print("benchmarks/dcs.py: dm_control is not importable; install the dcs extra", file=sys.stderr)
        return 0
    domain, task = parse_task(args.task)
    hw = args.img_hw
    runners = {
        "dm_control default": plain_runner(domain, task, hw, fast=False),
        "plain fast": plain_runner(domain, task, hw, fast=True),
        "dcs vanilla": dcs_runner(domain, task, hw, difficulty="vanilla"),
    }
    for difficulty in ("easy", "medium", "hard", "scale_easy_video_hard"):
        runners[f"dcs {difficulty}"] = dcs_runner(domain, task, hw, difficulty=difficulty)
    runners["dcs hard, video only"] = dcs_runner(domain, task, hw, difficulty="hard", distractions=["background"])
    runners["dcs hard, camera only"] = dcs_runner(domain, task, hw, difficulty="hard", distractions=["camera"])
    runners["dcs hard static"] = dcs_runner(domain, task, hw, difficulty="hard", dynamic=False)
    runners["dcs hard texture"] = dcs_runner(domain, task, hw, difficulty="hard", background_mode="texture")
    t0 = time.perf_counter()
    from identlam.envs.dcs.procedural import procedural_video

    procedural_video("train-59", frames=64, size=64)
    video_ms = (time.perf_counter() - t0) * 1e3
    results = measure(runners, args.steps, args.rounds)
    base = results["plain fast"][0]
    print(f"{args.task} at {hw} px: ms per step (step + render), median of {args.rounds} rounds x {args.steps} steps")
    print(f"{'setting':<28}{'cpu ms':>9}{'wall ms':>9}{'x plain fast':>14}")
    for name, (cpu, wall) in results.items():
        print(f"{name:<28}{cpu:>9.2f}{wall:>9.2f}{cpu / base:>14.2f}")
    print(f"procedural video (64 frames, 64 px) generated once per video and process: {video_ms:.0f} ms")
    bg_change, scene_change = frame_change(domain, task, hw, steps=40)
    print("mean |frame t+1 - frame t| per pixel and channel (0-255), random actions:")
    print(f"  background pixels (hard, video only): {bg_change:.2f}")
    print(f"  agent pixels, vanilla (where the body is or was): {scene_change:.2f}")
    print(f"  ratio background / agent: {bg_change / scene_change:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
