"""Batched trajectory generation with recorded ground truth.

Episode ``i`` draws every random number it needs up front: initial state, policy and transition
noise from ``np.random.default_rng([seed, i, 0])``, distractors from ``default_rng([seed, i, 1])``.
So an episode depends only on (parameters, seed, i): not on how many episodes are generated or
how they are batched. Up to 1024 episodes are stepped together (vectorized numpy); observations
are then made for groups of episodes (about 4096 frames per call) just before they are yielded,
so memory holds one group of observations, not the whole batch. States, actions, distractors and rewards are stored as
they are generated, never recomputed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np

from synthetic.env import Env
from synthetic.errors import SyntheticError

BATCH_BYTES = 64 * 2**20  # memory budget of the states, actions and distractors of one batch
RENDER_FRAMES = 4096  # observations are made for this many frames at once, then yielded


@dataclass
class Trajectory:
    """One episode. ``T`` observations and ``T`` actions; action t moves obs[t] to obs[t+1]
    (the last action is recorded but moves nothing stored), so it holds ``T - 1`` transitions.

    obs: (T, H, W, 3) uint8 or (T, D) float32; actions: (T,) int64 or (T, m) float32;
    states: (T, S) float32; exo: (T, E) float32 (E may be 0); rewards: (T,) float32, where
    rewards[t] is earned by action t (minus the distance to the goal after the move).
    """

    obs: np.ndarray
    actions: np.ndarray
    states: np.ndarray
    exo: np.ndarray
    rewards: np.ndarray

    FIELDS = ("obs", "actions", "states", "exo", "rewards")

    def __len__(self) -> int:
        return len(self.obs)

    @property
    def n_transitions(self) -> int:
        return len(self.obs) - 1

    @property
    def traj_return(self) -> float:
        return float(self.rewards.sum(dtype=np.float64))

    def keys(self):
        return list(self.FIELDS)

    def __getitem__(self, key: str) -> np.ndarray:
        if key not in self.FIELDS:
            raise KeyError(key)
        return getattr(self, key)

    def to_dict(self) -> dict[str, np.ndarray]:
        return {k: getattr(self, k) for k in self.FIELDS}


def _check_count(name: str, value, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
        raise SyntheticError(f"parameter '{name}': must be an integer >= {low}, got {value!r}")
    return int(value)


def generate(env: str | Env, episodes: int, steps: int, seed: int = 0,
             progress: Callable[[int], object] | None = None, start: int = 0, **params) -> Iterator[Trajectory]:
    """Yield ``episodes`` trajectories of ``steps`` observations each from the behaviour policy.

    The trajectories are episodes ``start .. start + episodes - 1`` of ``seed``: generating
    episodes 0..9 in one call or as 0..4 and 5..9 (``start=5``) yields the same arrays.

    ``env`` is a name from ``ENVIRONMENTS`` (with ``params`` overriding its preset) or an ``Env``
    (then ``params`` must be empty). ``progress``, if given, is called after each group of yielded
    episodes with the number of time steps it holds (``episodes * steps`` in total), e.g. ``tqdm.update``.
    """
    from synthetic.registry import make

    if isinstance(env, Env):
        if params:
            raise SyntheticError(f"parameter '{next(iter(params))}': pass parameters to make(), not with an Env")
    else:
        env = make(env, **params)
    episodes = _check_count("episodes", episodes, 1)
    steps = _check_count("steps", steps, 2)
    seed = _check_count("seed", seed, 0)
    start = _check_count("start", start, 0)
    per_step = 8 * (env.family.state_dim + env.exo_dim + 2 + env.family.action_dim)
    batch = int(max(1, min(episodes, 1024, BATCH_BYTES // (per_step * steps))))
    for lo in range(start, start + episodes, batch):
        hi = min(start + episodes, lo + batch)
        for group in _generate_batch(env, range(lo, hi), steps, seed):
            yield from group
            if progress is not None:
                progress(len(group) * steps)


def _stack(dicts: list[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    """Per-episode draws {(T, ...)} → batch draws {(B, T, ...)}."""
    return {k: np.stack([d[k] for d in dicts]) for k in (dicts[0] if dicts else {})}


def _generate_batch(env: Env, episode_ids: range, steps: int, seed: int) -> Iterator[list[Trajectory]]:
    """Step a batch of episodes together; yield them in groups, each group observed in one call."""
    fam, policy = env.family, env.policy
    init_s, init_e, pol_d, noise_d, exo_d = [], [], [], [], []
    for i in episode_ids:
        # separate streams: adding or changing a distractor never changes the agent's episode
        rng, exo_rng = np.random.default_rng([seed, i, 0]), np.random.default_rng([seed, i, 1])
        init_s.append(fam.initial_state(rng))
        pol_d.append(policy.draw(rng, steps))
        noise_d.append(fam.draw_noise(rng, steps))
        init_e.append(env._initial_exo(exo_rng))
        exo_d.append([proc.draw(exo_rng, steps) for _, proc in env.processes])
    B = len(episode_ids)
    pol_d, noise_d = _stack(pol_d), _stack(noise_d)
    exo_d = [_stack([ep[j] for ep in exo_d]) for j in range(len(env.processes))]

    s, e = np.stack(init_s), np.stack(init_e).reshape(B, env.exo_dim)
    states = np.empty((B, steps, fam.state_dim), np.float32)
    exo = np.empty((B, steps, env.exo_dim), np.float32)
    rewards = np.empty((B, steps), np.float32)
    if fam.action_space == "discrete":
        actions = np.empty((B, steps), np.int64)
    else:
        actions = np.empty((B, steps, fam.action_dim), np.float32)
    for t in range(steps):
        states[:, t], exo[:, t] = s, e
        a = policy.sample(s, {k: v[:, t] for k, v in pol_d.items()})
        actions[:, t] = a
        s_next = fam.step(s, a, {k: v[:, t] for k, v in noise_d.items()})
        e = env._step_exo(e, a, [{k: v[:, t] for k, v in d.items()} for d in exo_d])
        rewards[:, t] = fam.reward(s_next)
        s = s_next
    group = max(1, RENDER_FRAMES // steps)
    for lo in range(0, B, group):
        hi = min(B, lo + group)
        flat = env.observe(states[lo:hi].reshape((hi - lo) * steps, -1), exo[lo:hi].reshape((hi - lo) * steps, -1))
        obs = flat.reshape((hi - lo, steps) + flat.shape[1:])
        # copies: a yielded trajectory must not keep the whole batch alive
        yield [Trajectory(obs[b], actions[lo + b].copy(), states[lo + b].copy(), exo[lo + b].copy(),
                          rewards[lo + b].copy()) for b in range(hi - lo)]
