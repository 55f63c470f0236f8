"""Collect a dataset from any registered environment: :func:`collect`.

Episode ``i`` of a collection with seed ``s`` depends on (environment parameters, policy,
``s``, ``i``) only: the environment is reset with ``episode_seed(s, i)`` and the policy draws
from ``policy_rng(s, i)``. Episodes can therefore be produced in any grouping, by any number
of worker processes, and the file (written in episode order) is the same byte for byte.

An environment may offer ``env.unwrapped.rollouts(policy, start=, episodes=, steps=, seed=)``,
an iterator over the trajectories of episodes ``start ..`` for a policy it can simulate in bulk
(or None for any other); collection then uses it instead of stepping one action at a time.
Its episodes obey the same rule (a function of the seed and the index alone), so the file
still does not depend on ``workers``.
"""

from __future__ import annotations

import inspect
import json
import math
import multiprocessing
import re
import time
from collections import deque
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

from identlam.argtypes import SEED_MAX
from identlam.envs.progress import Progress
from identlam.envs.registry import EnvError, make, make_policy, restore, snapshot

# Collections of at least this many time steps show progress on stderr.
PROGRESS_MIN_STEPS = 20_000
# A worker returns at most about this many bytes of observations at once.
CHUNK_BYTES = 1 << 27


def episode_seed(seed: int, i: int) -> int:
    """The ``reset`` seed of episode ``i`` (a 32-bit integer, which every simulator accepts)."""
    return int(np.random.SeedSequence([seed, i]).generate_state(1)[0])


def policy_rng(seed: int, i: int) -> np.random.Generator:
    """The generator the policy draws from in episode ``i`` (independent of the environment's)."""
    return np.random.default_rng([seed, i, 2])


def run_episode(env, policy, steps: int, seed: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """One episode of at most ``steps`` observations: obs, actions, states, exo, rewards.

    Action ``t`` is taken in observation ``t``; the observation it leads to is stored as
    ``obs[t + 1]`` unless ``t`` is the last step (the last action moves nothing stored).
    """
    obs, info = env.reset(seed=seed)
    frames, actions, states, exo, rewards = [], [], [], [], []
    for _ in range(steps):
        frames.append(obs)
        states.append(info["state"])
        exo.append(info["exo"])
        action = policy(obs, info, rng)
        obs, reward, terminated, truncated, info = env.step(action)
        actions.append(action)
        rewards.append(reward)
        if terminated or truncated:
            break
    discrete = np.ndim(actions[0]) == 0
    return {
        "obs": np.stack(frames),
        "actions": np.asarray(actions, np.int64) if discrete else np.stack(actions).astype(np.float32),
        "states": np.stack(states).astype(np.float32),
        "exo": np.stack(exo).astype(np.float32).reshape(len(frames), -1),
        "rewards": np.asarray(rewards, np.float32),
    }


def trajectories(env, policy: str, policy_kwargs: dict, start: int, count: int, steps: int,
                 seed: int) -> Iterator[Any]:
    """Trajectories of episodes ``start .. start + count - 1``, in order."""
    rollouts = getattr(env.unwrapped, "rollouts", None)
    if rollouts is not None and not policy_kwargs:
        stream = rollouts(policy, start=start, episodes=count, steps=steps, seed=seed)
        if stream is not None:
            yield from stream
            return
    act = make_policy(policy, env, **policy_kwargs)
    for i in range(start, start + count):
        yield run_episode(env, act, steps, episode_seed(seed, i), policy_rng(seed, i))


def dataset_attrs(env, seed: int) -> dict[str, Any]:
    """The environment's file attributes (``seed`` passed on when its ``dataset_attrs`` takes one)."""
    method = env.unwrapped.dataset_attrs
    takes_seed = "seed" in inspect.signature(method).parameters
    return dict(method(seed=seed) if takes_seed else method())


def _check_counts(**values: tuple[Any, int]) -> None:
    for name, (value, low) in values.items():
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
            raise EnvError(f"argument '--{name}' is {value!r}; expected an integer of at least {low}")
        if name == "seed" and value > SEED_MAX:
            raise EnvError(f"argument '--seed' is {value!r}; expected an integer of at most {SEED_MAX}")


def collect(env_id: str, params: dict[str, Any], policy: str, episodes: int, steps: int, seed: int,
            out: str | Path, workers: int = 1, *, policy_kwargs: dict[str, Any] | None = None,
            progress: bool = True, compression: str | None = None) -> dict[str, Any]:
    """Write ``episodes`` episodes of ``steps`` steps of ``env_id`` (built with ``params``)
    under ``policy`` to ``out`` (identlam HDF5, atomic) and return a summary dict.

    ``workers > 1`` produces episodes in that many processes; the file is the same.
    ``progress`` shows progress on stderr for collections of at least ``PROGRESS_MIN_STEPS`` steps.
    """
    from identlam.data.writer import write_dataset

    _check_counts(episodes=(episodes, 1), steps=(steps, 2), seed=(seed, 0), workers=(workers, 1))
    policy_kwargs = dict(policy_kwargs or {})
    out = Path(out)
    env = make(env_id, **params)
    lengths: list[int] = []
    bar = Progress(episodes, f"collect {env_id}", "episodes",
                   enabled=progress and episodes * steps >= PROGRESS_MIN_STEPS)

    def written(index: int, length: int) -> None:
        lengths.append(length)
        bar.update(1)

    try:
        make_policy(policy, env, **policy_kwargs)  # an unknown policy fails before any work
        attrs = {**dataset_attrs(env, seed), "seed": int(seed), "policy": policy}
        start = time.perf_counter()
        with bar:
            if workers == 1:
                stream = trajectories(env, policy, policy_kwargs, 0, episodes, steps, seed)
            else:
                chunk = _chunk_size(env, episodes, steps, workers)
                stream = _in_workers(env_id, params, policy, policy_kwargs, episodes, steps, seed, workers, chunk)
            write_dataset(out, stream, attrs, compression=compression, on_trajectory=written)
        seconds = time.perf_counter() - start
    finally:
        env.close()
    return summarize(out, attrs, env.observation_space, lengths, steps, seconds)


def summarize(out: Path, attrs: dict[str, Any], obs_space, lengths: list[int], steps: int,
              seconds: float) -> dict[str, Any]:
    """What ``collect`` returns: the file, its environment and size, the rate, the assumptions."""
    transitions = int(np.sum(np.asarray(lengths) - 1))
    report = attrs.get("assumptions") or {}
    return {
        "file": str(out), "env_id": attrs["env_id"], "policy": attrs["policy"], "episodes": len(lengths),
        "steps": steps, "mean_length": float(np.mean(lengths)), "transitions": transitions,
        "obs_shape": list(obs_space.shape), "obs_dtype": str(obs_space.dtype), "action_space": attrs["action_space"],
        "size_bytes": out.stat().st_size, "seconds": seconds,
        "transitions_per_second": transitions / max(seconds, 1e-9),
        "assumptions_hold": {k: v.get("holds") for k, v in report.items()
                             if re.fullmatch(r"A\d+", k) and isinstance(v, dict)},
    }


def format_summary(s: dict[str, Any]) -> str:
    holds = ", ".join(f"{k} {'holds' if v else 'fails'}" for k, v in s["assumptions_hold"].items())
    steps = f"{s['steps']} steps" if s["mean_length"] == s["steps"] else f"at most {s['steps']} steps"
    return (
        f"wrote {s['file']}: {s['episodes']} trajectories x {steps} ({s['transitions']} transitions) of "
        f"{s['env_id']}, obs {tuple(s['obs_shape'])} {s['obs_dtype']}, {s['action_space']} actions, "
        f"{s['size_bytes'] / 2**20:.1f} MiB in {s['seconds']:.1f} s ({s['transitions_per_second']:.0f} transitions/s)"
        + (f"\nassumptions: {holds}" if holds else "")
    )


def _chunk_size(env, episodes: int, steps: int, workers: int) -> int:
    """Episodes per task: about four tasks per worker, each returning at most ``CHUNK_BYTES`` of observations."""
    frame_bytes = max(1, int(np.prod(env.observation_space.shape)) * np.dtype(env.observation_space.dtype).itemsize)
    by_bytes = max(1, CHUNK_BYTES // (frame_bytes * steps))
    return max(1, min(math.ceil(episodes / (4 * workers)), by_bytes))


def _in_workers(env_id, params, policy, policy_kwargs, n_episodes, steps, seed, workers, chunk) -> Iterator[Any]:
    """Episodes produced by ``workers`` processes, yielded in episode order; at most two tasks per
    worker wait in memory at a time."""
    # spawn: a fresh interpreter per worker, safe whatever the parent holds (threads, GL contexts)
    pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"),
                               initializer=_init_worker, initargs=(snapshot(env_id),))
    starts = iter(range(0, n_episodes, chunk))
    pending: deque = deque()

    def submit() -> None:
        lo = next(starts, None)
        if lo is not None:
            pending.append(pool.submit(_work, env_id, params, policy, policy_kwargs, lo,
                                       min(chunk, n_episodes - lo), steps, seed))

    try:
        for _ in range(2 * workers):
            submit()
        while pending:
            done = pending.popleft().result()
            submit()
            yield from done
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


_WORKER_ENVS: dict[str, Any] = {}


def _init_worker(state) -> None:
    import identlam.envs  # noqa: F401  (registers the built-in families)

    restore(state)


def _work(env_id, params, policy, policy_kwargs, start, count, steps, seed) -> list[Any]:
    key = json.dumps([env_id, params], sort_keys=True, default=str)
    if key not in _WORKER_ENVS:
        _WORKER_ENVS[key] = make(env_id, **params)
    return list(trajectories(_WORKER_ENVS[key], policy, policy_kwargs, start, count, steps, seed))
