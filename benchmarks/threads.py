"""Is the default thread count of a stage (identlam.train.threads) close to the best one?

For each preset and observation kind, this times the LAM training step the ``train`` stage runs
(``LatentActionModel.loss`` + backward + AdamW step on random batches built before the clock
starts) with torch threads = 1, 2 and the default the stage would choose, while a competing
process keeps one core busy (as another user's job does on a shared machine; ``--no-competitor``
turns it off). It prints ms/step per setting and the ratio default / best: the goal is that the
default is never much slower than the best setting (ratio close to 1).

    python benchmarks/threads.py                                   # lapo-entropy and lapo, vectors
    python benchmarks/threads.py --presets lapo --obs image --image-size 32 --steps 5
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import time

import numpy as np
import torch


def busy(stop) -> None:
    x = 0
    while not stop.is_set():
        for _ in range(100_000):
            x += 1


class Spec:  # the few dataset attributes a LAM needs (no file: random batches)
    def __init__(self, obs: str, size: int):
        self.obs_kind = obs
        self.obs_shape = (size, size, 3) if obs == "image" else (8,)
        self.action_space, self.n_actions, self.action_dim = "discrete", 4, None


def make_batch(cfg, spec: Spec, rng: np.random.Generator) -> dict:
    b, m = cfg.train.batch_size, cfg.model
    shape = (b, *spec.obs_shape[:-1], spec.obs_shape[-1] * m.frame_stack)  # every key is frame-stacked

    def frames() -> torch.Tensor:
        if spec.obs_kind == "image":
            return torch.from_numpy(rng.integers(0, 256, shape, dtype=np.uint8))
        return torch.from_numpy(rng.normal(size=shape).astype(np.float32))

    batch = {key: frames() for key in ("obs_t", "obs_next", "obs_future", "obs_past")}
    batch["k"] = torch.from_numpy(rng.integers(1, m.future_k + 1, b))
    return batch


def ms_per_step(cfg, spec: Spec, threads: int, steps: int) -> float:
    from identlam.train.artifacts import build_lam

    torch.set_num_threads(threads)
    lam = build_lam(cfg, spec, 0)
    opt = torch.optim.AdamW(lam.parameters(), lr=1e-4)
    batch = make_batch(cfg, spec, np.random.default_rng(0))

    def step(i: int) -> None:
        out = lam.loss(batch, i, steps + 1)
        opt.zero_grad()
        out.loss.backward()
        opt.step()

    step(0)  # warm-up (allocations, kernel selection)
    start = time.perf_counter()
    for i in range(steps):
        step(i + 1)
    return 1000 * (time.perf_counter() - start) / steps


def main() -> None:
    from identlam.presets import get_preset
    from identlam.train.artifacts import build_lam
    from identlam.train.threads import available_cores, choose_threads, step_flops

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--presets", default="lapo-entropy,lapo")
    parser.add_argument("--obs", default="vector", choices=("vector", "image"))
    parser.add_argument("--image-size", type=int, default=32)
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--no-competitor", action="store_true")
    args = parser.parse_args()
    os.environ.pop("OMP_NUM_THREADS", None)  # measure the stage's own default, not the environment's

    stop = mp.Event()
    competitor = None if args.no_competitor else mp.Process(target=busy, args=(stop,), daemon=True)
    if competitor is not None:
        competitor.start()
    print(f"cores available: {available_cores()}; competing busy process: {'no' if competitor is None else 'yes'}")
    print(f"{'preset':<16} {'obs':<7} {'GFLOP/step':>10} {'default':>7} {'1 thr ms':>9} {'2 thr ms':>9} "
          f"{'default ms':>10} {'default/best':>12}")
    try:
        for name in args.presets.split(","):
            cfg = get_preset(name, "cpu", args.obs)
            spec = Spec(args.obs, args.image_size)
            flops = step_flops([build_lam(cfg, spec, 0)], cfg.train.batch_size, spec.obs_shape)
            default, _ = choose_threads(None, flops)
            times = {n: ms_per_step(cfg, spec, n, args.steps) for n in sorted({1, 2, default})}
            best = min(times.values())
            print(f"{name:<16} {args.obs:<7} {flops / 1e9:>10.3g} {default:>7} {times[1]:>9.1f} "
                  f"{times.get(2, float('nan')):>9.1f} {times[default]:>10.1f} {times[default] / best:>12.2f}")
    finally:
        stop.set()
        if competitor is not None:
            competitor.join(timeout=5)


if __name__ == "__main__":
    main()
