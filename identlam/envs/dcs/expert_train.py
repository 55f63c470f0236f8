"""Training state-based experts with stable-baselines3 (PPO or SAC), resumable.

A run directory holds ``checkpoint/model.zip`` (+ ``vecnormalize.pkl`` for PPO), refreshed every
``checkpoint_every`` steps and at the end; rerunning the same command continues from it up to the
requested total. At the end the deterministic actor is exported to ``expert.zip``
(:mod:`identlam.envs.dcs.expert_file`) and scored on fresh seeded episodes.
"""

from __future__ import annotations

import json
import shlex
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from identlam.envs.dcs.expert_file import Expert, load_expert, save_expert
from identlam.envs.dcs.state_env import StateEnv
from identlam.envs.dcs.tasks import flat_state, load_suite, parse_task
from identlam.errors import ConfigError
from identlam.io import atomic_path, atomic_write_json


@dataclass
class ExpertConfig:
    task: str
    algo: str = "ppo"
    steps: int = 3_000_000
    seed: int = 0
    n_envs: int = 8
    device: str = "auto"
    checkpoint_every: int = 200_000
    eval_episodes: int = 5
    hidden: int = 128  # the actor's width: it is what ships, so it stays small
    n_steps: int = 512  # PPO rollout length per environment


def _device(name: str) -> str:
    import torch

    if name == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    return name


def _vec_env(cfg: ExpertConfig, domain: str, task: str):
    from stable_baselines3.common.vec_env import DummyVecEnv, VecMonitor

    # physics steps cost ~0.05 ms, so worker processes would cost more than they save
    fns = [lambda i=i: StateEnv(domain, task, seed=cfg.seed * 1000 + i) for i in range(cfg.n_envs)]
    return VecMonitor(DummyVecEnv(fns))


def _new_model(cfg: ExpertConfig, env):
    import torch
    from stable_baselines3 import PPO, SAC
    from stable_baselines3.common.vec_env import VecNormalize

    if cfg.algo == "ppo":
        env = VecNormalize(env, norm_obs=True, norm_reward=True, gamma=0.99)
        policy_kwargs = dict(net_arch=dict(pi=[cfg.hidden, cfg.hidden], vf=[256, 256]),
                             activation_fn=torch.nn.Tanh, log_std_init=-0.5)
        return PPO("MlpPolicy", env, n_steps=cfg.n_steps, batch_size=min(512, cfg.n_steps * cfg.n_envs), n_epochs=10, learning_rate=3e-4,
                   gamma=0.99, gae_lambda=0.95, clip_range=0.2, ent_coef=0.0, max_grad_norm=0.5,
                   policy_kwargs=policy_kwargs, seed=cfg.seed, device=_device(cfg.device), verbose=0)
    policy_kwargs = dict(net_arch=dict(pi=[cfg.hidden, cfg.hidden], qf=[256, 256]))
    return SAC("MlpPolicy", env, learning_starts=5000, buffer_size=min(cfg.steps, 1_000_000),
               policy_kwargs=policy_kwargs, seed=cfg.seed, device=_device(cfg.device), verbose=0)


class _Progress:
    """A tqdm bar over environment steps showing the recent mean episode return."""

    def __init__(self, total: int, start: int):
        from stable_baselines3.common.callbacks import BaseCallback
        from tqdm import tqdm

        bar = tqdm(total=total, initial=start, unit="step", desc="expert", file=sys.stderr, smoothing=0.05)

        class Callback(BaseCallback):
            def _on_step(self) -> bool:
                bar.n = self.model.num_timesteps
                if self.n_calls % 64 == 0:
                    rets = [ep["r"] for ep in self.model.ep_info_buffer]
                    if rets:
                        bar.set_postfix(ret=f"{np.mean(rets):.0f}", refresh=False)
                    bar.refresh()
                return True

        self.bar, self.callback = bar, Callback()


def _save_checkpoint(model, ckpt: Path) -> None:
    ckpt.mkdir(parents=True, exist_ok=True)
    with atomic_path(ckpt / "model.zip") as tmp:
        model.save(str(tmp))
        # SB3 appends .zip when the name lacks it
        if not tmp.exists() and tmp.with_suffix(tmp.suffix + ".zip").exists():
            tmp.with_suffix(tmp.suffix + ".zip").rename(tmp)
    env = model.get_env()
    if hasattr(env, "obs_rms"):
        with atomic_path(ckpt / "vecnormalize.pkl") as tmp:
            env.save(str(tmp))


def _load_checkpoint(cfg: ExpertConfig, ckpt: Path, env):
    from stable_baselines3 import PPO, SAC
    from stable_baselines3.common.vec_env import VecNormalize

    if cfg.algo == "ppo":
        env = VecNormalize.load(str(ckpt / "vecnormalize.pkl"), env)
        return PPO.load(str(ckpt / "model.zip"), env=env, device=_device(cfg.device))
    return SAC.load(str(ckpt / "model.zip"), env=env, device=_device(cfg.device))


def export_actor(model, cfg: ExpertConfig, command: str) -> Expert:
    """The deterministic actor of a trained SB3 model as a numpy :class:`Expert`."""
    import torch

    if cfg.algo == "ppo":
        layers = [m for m in model.policy.mlp_extractor.policy_net if isinstance(m, torch.nn.Linear)]
        layers.append(model.policy.action_net)
        squash, activation = "clip", "tanh"
        rms = model.get_env().obs_rms
        obs_mean, obs_var, clip = np.asarray(rms.mean), np.asarray(rms.var), float(model.get_env().clip_obs)
    else:
        layers = [m for m in model.policy.actor.latent_pi if isinstance(m, torch.nn.Linear)]
        layers.append(model.policy.actor.mu)
        squash, activation = "tanh", "relu"
        obs_mean = obs_var = None
        clip = 10.0
    space = model.action_space
    return Expert(
        weights=[layer.weight.detach().cpu().numpy().astype(np.float32) for layer in layers],
        biases=[layer.bias.detach().cpu().numpy().astype(np.float32) for layer in layers],
        activation=activation, squash=squash,
        low=space.low.astype(np.float32), high=space.high.astype(np.float32),
        obs_mean=obs_mean, obs_var=obs_var, obs_clip=clip,
        meta={"task": cfg.task, "algo": cfg.algo, "steps": int(model.num_timesteps), "seed": cfg.seed,
              "command": command},
    )


def evaluate_expert(expert: Expert, task: str, episodes: int, seed: int = 12345) -> list[float]:
    """Undiscounted returns of the expert's mean action on seeded full-length episodes."""
    domain, name = parse_task(task)
    returns = []
    for ep in range(episodes):
        env = load_suite(domain, name, seed + ep)
        ts, total = env.reset(), 0.0
        while not ts.last():
            ts = env.step(expert.act(flat_state(ts.observation)))
            total += float(ts.reward or 0.0)
        returns.append(total)
    return returns


def train_expert(cfg: ExpertConfig, out: str | Path, command: str | None = None) -> dict:
    """Train (or resume) an expert in ``out``; returns the summary also written to summary.json."""
    if cfg.algo not in ("ppo", "sac"):
        raise ConfigError(f"algo: {cfg.algo!r} is not one of ppo, sac")
    for key in ("steps", "n_envs", "checkpoint_every", "hidden", "n_steps", "eval_episodes"):
        if getattr(cfg, key) <= 0:
            raise ConfigError(f"{key}: {getattr(cfg, key)} is not positive")
    domain, name = parse_task(cfg.task)
    out = Path(out)
    ckpt = out / "checkpoint"
    out.mkdir(parents=True, exist_ok=True)
    command = command or "identlam " + " ".join(map(shlex.quote, sys.argv[1:]))
    config_path = out / "config.json"
    if config_path.exists():
        saved = json.loads(config_path.read_text())
        for key in ("task", "algo", "seed", "n_envs", "hidden", "n_steps"):
            if saved.get(key) != getattr(cfg, key):
                raise ConfigError(f"{key}: {getattr(cfg, key)!r} differs from {saved.get(key)!r} of the run in {out}")
    atomic_write_json(config_path, asdict(cfg))
    env = _vec_env(cfg, domain, name)
    model = _load_checkpoint(cfg, ckpt, env) if (ckpt / "model.zip").exists() else _new_model(cfg, env)
    from stable_baselines3.common.logger import Logger

    model.set_logger(Logger(folder=None, output_formats=[]))  # SB3's default leaves a folder in /tmp per learn()
    start = int(model.num_timesteps)
    progress = _Progress(cfg.steps, start)
    t0 = time.time()
    try:
        while model.num_timesteps < cfg.steps:
            chunk = min(cfg.checkpoint_every, cfg.steps - model.num_timesteps)
            model.learn(chunk, callback=progress.callback, reset_num_timesteps=False)
            _save_checkpoint(model, ckpt)
    finally:
        progress.bar.close()
    expert = export_actor(model, cfg, command)
    returns = evaluate_expert(expert, cfg.task, cfg.eval_episodes)
    expert.meta.update(eval_returns=[round(r, 1) for r in returns], eval_mean=round(float(np.mean(returns)), 1))
    save_expert(expert, out / "expert.zip")
    summary = {"task": cfg.task, "algo": cfg.algo, "steps": int(model.num_timesteps),
               "train_seconds_this_run": round(time.time() - t0, 1), "eval_returns": expert.meta["eval_returns"],
               "eval_mean": expert.meta["eval_mean"], "expert": str(out / "expert.zip"), "command": command}
    atomic_write_json(out / "summary.json", summary)
    return summary


def score_expert_file(path: str | Path, episodes: int, seed: int) -> dict:
    expert = load_expert(path)
    returns = evaluate_expert(expert, expert.meta["task"], episodes, seed)
    return {"task": expert.meta["task"], "episodes": episodes, "seed": seed,
            "returns": [round(r, 1) for r in returns], "mean": round(float(np.mean(returns)), 1)}
