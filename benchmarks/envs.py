"""Benchmark of identlam.envs: what the environment interface costs.

    python benchmarks/envs.py [--episodes 200] [--steps 100]

1. ``collect`` with the synthetic behaviour policy against the same work done directly
   (``synthetic.generate`` + ``write_dataset`` + the assumption report): the ratio is the
   overhead of the interface on the vectorized path (``identlam generate``).
2. One step through ``identlam.envs.make`` (gymnasium's wrappers, ``info`` copies) against one
   ``step`` of the synthetic environment itself: the per-step overhead that the generic
   collection loop and online evaluation pay.
3. ``collect`` with the ``random`` policy (the generic per-step loop) against the vectorized
   path, in transitions per second.

Each source runs in interleaved rounds and is compared by median CPU seconds of this process
(the machine may be shared, so wall-clock times swing with other load).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

ROUNDS = 3


def cpu_seconds(fn) -> float:
    start = time.process_time()
    fn()
    return time.process_time() - start


def median_seconds(sources: dict, rounds: int = ROUNDS) -> dict[str, float]:
    times: dict[str, list[float]] = {name: [] for name in sources}
    for _ in range(rounds):
        for name, fn in sources.items():
            times[name].append(cpu_seconds(fn))
    return {name: float(np.median(t)) for name, t in times.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--episodes", type=int, default=200)
    parser.add_argument("--steps", type=int, default=100)
    args = parser.parse_args()

    import identlam.envs as envs
    import synthetic
    from identlam.data.writer import write_dataset

    E, T = args.episodes, args.steps
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "d.h5"
        print(f"1. identlam generate: collect(behaviour) vs synthetic.generate + write_dataset ({E} x {T})")
        for label, params in (("vector", {"K": 4}), ("image 64 px", {"K": 4, "obs": "image"})):
            episodes = E if label == "vector" else max(1, E // 5)

            def direct():
                env = synthetic.make("pointmass", **params)
                attrs = {"env_id": "synthetic/pointmass", "action_space": "discrete", "n_actions": 4,
                         "obs_kind": env.spec["obs_kind"], "generator": env.params,
                         "assumptions": env.assumptions(seed=0).to_dict()}
                write_dataset(out, synthetic.generate(env, episodes=episodes, steps=T, seed=0), attrs)

            def through():
                envs.collect("synthetic/pointmass", params, "behaviour", episodes, T, 0, out, progress=False)

            t = median_seconds({"direct": direct, "interface": through})
            print(f"   {label:12s} {episodes:4d} episodes: direct {t['direct']:.2f} s, interface "
                  f"{t['interface']:.2f} s, ratio {t['interface'] / t['direct']:.2f}")

        print("2. one step: identlam.envs.make(...).step vs synthetic Env.step (10 000 steps)")
        wrapped, core = envs.make("synthetic/pointmass", K=4), synthetic.make("pointmass", K=4)
        actions = np.random.default_rng(0).integers(0, 4, 10_000)

        def run(env, reset):
            def go():
                reset(env)
                for a in actions:
                    env.step(int(a))
            return go

        t = median_seconds({"core": run(core, lambda e: e.reset(seed=0)),
                            "wrapped": run(wrapped, lambda e: e.reset(seed=0))})
        print(f"   synthetic {1e6 * t['core'] / len(actions):.1f} us/step, interface "
              f"{1e6 * t['wrapped'] / len(actions):.1f} us/step, ratio {t['wrapped'] / t['core']:.2f}")

        print(f"3. collect: per-step loop (random policy) vs vectorized (behaviour), vector obs ({E} x {T})")
        t = median_seconds({
            "vectorized": lambda: envs.collect("synthetic/pointmass", {"K": 4}, "behaviour", E, T, 0, out,
                                               progress=False),
            "per-step": lambda: envs.collect("synthetic/pointmass", {"K": 4}, "random", E, T, 0, out,
                                             progress=False),
        })
        n = E * (T - 1)
        print(f"   vectorized {n / t['vectorized']:.0f} transitions/s, per-step {n / t['per-step']:.0f} "
              f"transitions/s, ratio {t['per-step'] / t['vectorized']:.1f}")


if __name__ == "__main__":
    main()
