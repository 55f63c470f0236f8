"""Online evaluation in the environment that generated a dataset (part of ``evaluate``).

The environment is rebuilt through :mod:`identlam.envs` from the file's ``env_id`` and
``generator`` attributes (``make(env_id, **generator)``), optionally with some parameters
overridden (``identlam evaluate --env-set key=value``, recorded as ``env_overrides``). Episode
``i`` starts from ``env.reset(seed=EPISODE_SEED_BASE + i)`` and lasts at most
``eval.max_steps`` steps (or until the environment ends it), for every run, so returns are
comparable across methods. The agent stacks frames as training did.

Reported (LAOM's protocol, B.8): ``return_mean`` of the final policy, ``random_return_mean`` of
a uniformly random policy (seeded), and ``bc_all_return_mean`` of a BC trained on **all** true
actions of the same file, the normalizer; ``normalized_return = return / bc_all`` (LAOM's
number, null unless the normalizer's return is positive) and ``normalized_return_random =
(return - random) / (bc_all - random)`` (null when the two are equal).

The normalizer is trained once per (dataset bytes, seed, policy architecture, normalizer
budget, episodes) and cached as JSON under ``$IDENTLAM_CACHE/normalizers`` (default
``~/.cache/identlam``), so every run on the same data reuses it. Evaluations started at once
train it once: the first takes an exclusive lock (``fcntl.flock``, POSIX) on ``<key>.lock``
beside the JSON, the others wait and then read its result.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
import warnings
from pathlib import Path
from typing import Any, Callable, Iterator

import numpy as np
import torch

from identlam.data.privileged import privileged
from identlam.errors import ConfigError, DatasetError
from identlam.io import atomic_write_json, take_flock
from identlam.train.agent import Agent
from identlam.train.artifacts import action_out_dim, build_policy
from identlam.train.batches import action_loss, to_batch, transition_rows
from identlam.train.device import derive_seed, seeded_torch
from identlam.train.loop import RunLog, Schedule, fit

EPISODE_SEED_BASE = 1_000_000


def simulable(ds) -> bool:
    """Whether the dataset names an environment registered here (with the parameters that rebuild it)."""
    import identlam.envs as envs

    return isinstance(ds.attrs.get("generator"), dict) and envs.is_registered(ds.env_id)


def make_env(ds, overrides: dict[str, Any] | None = None):
    """The environment that generated ``ds`` (its ``env_id`` and ``generator`` attributes), with
    ``overrides`` replacing some of its parameters (e.g. held-out backgrounds)."""
    import identlam.envs as envs

    return envs.make(ds.env_id, **{**ds.attrs["generator"], **(overrides or {})})


def episode_returns(agent, env, episodes: int, max_steps: int) -> list[float]:
    """Undiscounted returns of ``episodes`` episodes of at most ``max_steps`` steps, episode ``i``
    reset with seed ``EPISODE_SEED_BASE + i``."""
    returns = []
    for i in range(episodes):
        obs, _ = env.reset(seed=EPISODE_SEED_BASE + i)
        agent.reset(obs)
        total = 0.0
        for _ in range(max_steps):
            obs, reward, terminated, truncated, _ = env.step(agent.act(obs))
            total += float(reward)
            if terminated or truncated:
                break
        returns.append(total)
    return returns


class RandomAgent:
    """The environment's ``random`` policy (uniform actions), seeded."""

    def __init__(self, env, seed: int):
        import identlam.envs as envs

        self.policy, self.rng = envs.make_policy("random", env), np.random.default_rng(seed)

    def reset(self, obs) -> None:
        return None

    def act(self, obs):
        return self.policy(obs, {}, self.rng)


def online_report(run, ds, device: torch.device, episodes: int,
                  env_overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    """Returns of the run's final policy, a random policy and the BC-on-all-actions normalizer in
    the dataset's environment (``env_overrides`` replacing some of its parameters)."""
    cfg = run.cfg
    if episodes < 1:
        raise DatasetError(f"--episodes must be >= 1, got {episodes}")
    env_overrides = dict(env_overrides or {})
    env = make_env(ds, env_overrides)
    returns = episode_returns(Agent.from_run(run, ds, device), env, episodes, cfg.eval.max_steps)
    random_returns = episode_returns(RandomAgent(env, derive_seed(cfg.seed, "random-policy")), env, episodes,
                                     cfg.eval.max_steps)
    normalizer = bc_all_normalizer(run, ds, device, episodes, env_overrides)
    ret, rnd, ref = float(np.mean(returns)), float(np.mean(random_returns)), normalizer["return_mean"]
    return {
        "env_id": ds.env_id,
        "env_overrides": env_overrides,
        "episodes": episodes,
        "max_steps": cfg.eval.max_steps,
        "episode_seeds": [EPISODE_SEED_BASE, EPISODE_SEED_BASE + episodes - 1],
        "returns": returns,
        "return_mean": ret,
        "return_std": float(np.std(returns)),
        "random_returns": random_returns,
        "random_return_mean": rnd,
        "bc_all_return_mean": ref,
        "bc_all_cache": normalizer["cache"],
        "normalized_return": ret / ref if ref > 0 else None,
        "normalized_return_random": (ret - rnd) / (ref - rnd) if ref != rnd else None,
    }


def cache_dir() -> Path:
    return Path(os.environ.get("IDENTLAM_CACHE", Path.home() / ".cache" / "identlam")) / "normalizers"


def bc_all_normalizer(run, ds, device: torch.device, episodes: int,
                      env_overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    """Mean return of a BC on all true actions (trained once, then read from the cache)."""
    cfg = run.cfg
    bc_used = {"lr": cfg.bc.optim.lr, **{k: getattr(cfg.bc, k) for k in ("batch_size", "hidden_dim", "impala_scale")}}  # what _train_bc_all reads
    key_fields = {"data_sha256": run.data_fingerprint["sha256"], "seed": cfg.seed, "bc": bc_used,
                  "frame_stack": cfg.model.frame_stack, "impala_channels": list(cfg.model.impala_channels),
                  "impala_res_blocks": cfg.model.impala_res_blocks, "steps": cfg.eval.normalizer_steps,
                  "episodes": episodes, "max_steps": cfg.eval.max_steps}
    extra = {}
    if env_overrides:  # only then: caches of evaluations in the dataset's own environment stay valid
        key_fields["env_overrides"] = extra["env_overrides"] = dict(env_overrides)
    key = hashlib.sha256(json.dumps(key_fields, sort_keys=True).encode()).hexdigest()[:24]
    path = cache_dir() / f"{key}.json"
    record = cached_normalizer(path, key_fields, lambda: _measure_bc_all(cfg, ds, device, episodes, **extra))
    return {**record, "cache": str(path)}


def cached_normalizer(path: Path, key_fields: dict[str, Any], measure: Callable[[], list[float]]) -> dict[str, Any]:
    """The record ``{"key", "returns", "return_mean"}`` cached at ``path``, measuring the returns
    with ``measure()`` only when no valid record exists.

    Concurrent evaluations of runs on the same data measure once: the measurement happens under
    an exclusive lock on ``<key>.lock`` beside the JSON, and the cache is read again after the
    lock is taken. The JSON is written atomically; an unreadable one (truncated, wrong key) is
    reported in a one-line warning and replaced.
    """
    record = _read_cached(path, key_fields, warn=False)  # atomic writes: no lock needed to read
    if record is not None:
        return record
    with _exclusive_lock(path.with_suffix(".lock")):
        record = _read_cached(path, key_fields, warn=True)  # another evaluation may have written it meanwhile
        if record is None:
            returns = [float(r) for r in measure()]
            record = {"key": key_fields, "returns": returns, "return_mean": float(np.mean(returns))}
            atomic_write_json(path, record)
    return record


def _read_cached(path: Path, key_fields: dict[str, Any], warn: bool) -> dict[str, Any] | None:
    if not path.is_file():
        return None
    try:
        record = json.loads(path.read_text())
        problem = _cache_problem(record, json.loads(json.dumps(key_fields)))
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        problem = f"not valid JSON: {str(err).splitlines()[0]}"
    if problem is None:
        return record
    if warn:
        warnings.warn(f"normalizer cache '{path}' is unusable ({problem}); recomputing it", RuntimeWarning,
                      stacklevel=3)
    return None


def _cache_problem(record: Any, key_fields: dict[str, Any]) -> str | None:
    if not isinstance(record, dict):
        return "not a JSON object"
    if record.get("key") != key_fields:
        return "its key does not match the run"
    returns = record.get("returns")
    if not isinstance(returns, list) or not returns or not all(isinstance(r, (int, float)) for r in returns):
        return "'returns' is not a non-empty list of numbers"
    if not isinstance(record.get("return_mean"), (int, float)):
        return "'return_mean' is not a number"
    return None


@contextlib.contextmanager
def _exclusive_lock(path: Path) -> Iterator[None]:
    """Hold an exclusive ``fcntl.flock`` on ``path`` (created if needed; never deleted, since
    unlinking a lock file lets a third process lock a fresh inode while the second holds the old)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fh = take_flock(path, wait=True)  # waits while another evaluation measures the same normalizer
    try:
        yield
    finally:
        fh.close()


def _measure_bc_all(cfg, ds, device: torch.device, episodes: int,
                    env_overrides: dict[str, Any] | None = None) -> list[float]:
    """Train the BC on all true actions and return its ``episodes`` returns."""
    policy = _train_bc_all(cfg, ds, device)
    agent = Agent(policy, discrete=ds.action_space == "discrete", frame_stack=cfg.model.frame_stack, device=device)
    return episode_returns(agent, make_env(ds, env_overrides), episodes, cfg.eval.max_steps)


def _train_bc_all(cfg, ds, device: torch.device):
    """BC ``o_t -> a_t`` on every transition of the file: privileged, so it lives here."""
    table = privileged(ds).transition_table()
    discrete = ds.action_space == "discrete"
    actions = torch.from_numpy(table.actions)  # host memory; one batch moves per step
    windows = ds.observations(frame_stack=cfg.model.frame_stack, future_k=1)
    policy = build_policy(cfg, ds, action_out_dim(ds), derive_seed(cfg.seed, "bc-all")).to(device)
    rng = np.random.default_rng(derive_seed(cfg.seed, "bc-all-batches"))
    if cfg.eval.normalizer_steps < 1:
        raise ConfigError(f"config key 'eval.normalizer_steps': must be >= 1, got {cfg.eval.normalizer_steps}")
    schedule = Schedule(steps=cfg.eval.normalizer_steps, lr=cfg.bc.optim.lr, checkpoint_every=cfg.eval.normalizer_steps,
                        log_every=cfg.train.log_every)

    def step_fn(step: int):
        w = windows.sample(cfg.bc.batch_size, rng)
        rows = torch.from_numpy(transition_rows(ds.lengths, w.traj, w.t))
        return action_loss(policy(to_batch(w, device)["obs_t"]), actions[rows].to(device), discrete), {}

    with tempfile.TemporaryDirectory() as tmp, seeded_torch(derive_seed(cfg.seed, "bc-all-torch"), device):
        fit({"policy": policy}, step_fn, schedule=schedule, rng=rng, device=device, stage="bc_all",
            checkpoint_path=Path(tmp) / "bc_all.pt", log=RunLog(Path(tmp) / "log.jsonl"))
    return policy.eval()
