"""Cost of the sweep runner: overhead per run against calling the pipeline directly, and the
speed-up of two local workers and of Ray (2 CPUs) over one worker on a 4-run sweep.

    python benchmarks/runner.py [--steps 600] [--skip-ray]

Every measurement is a fresh process (interpreter start and imports included on both sides),
on one dataset made beforehand. ``--steps 600`` makes a run of about 30 s on an idle core.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

EXPERIMENT = """
name = "bench"
seeds = {seeds}
stages = ["train", "relabel", "evaluate"]
metrics = ["ami"]
[set]
"train.steps" = {steps}
[data.pm]
source = "file"
path = "{data}"
[methods.entropy]
preset = "lapo-entropy"
"""

DIRECT = """
import sys
from identlam.cli import main
data, out, steps = sys.argv[1:]
assert main(["train", "--data", data, "--method", "lapo-entropy", "--seed", "0", "--out", out,
             "--set", f"train.steps={steps}"]) == 0
assert main(["relabel", out]) == 0
assert main(["evaluate", out]) == 0
"""


def timed(argv: list[str], env: dict) -> float:
    start = time.perf_counter()
    subprocess.run(argv, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--steps", type=int, default=600, help="LAM updates per run (600: ~30 s on an idle core)")
    p.add_argument("--skip-ray", action="store_true")
    args = p.parse_args()
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    work = Path(tempfile.mkdtemp(prefix="bench-runner-"))
    py = sys.executable
    try:
        data = work / "pm.h5"
        subprocess.run([py, "-m", "identlam", "generate", "pointmass", "--out", str(data), "--episodes", "60",
                        "--steps", "100", "--set", "K=4", "--quiet"], env=env, check=True, stdout=subprocess.DEVNULL)
        env["IDENTLAM_CACHE"] = str(work / "cache")

        def experiment(name: str, seeds: list[int]) -> Path:
            path = work / f"{name}.toml"
            path.write_text(EXPERIMENT.format(seeds=seeds, steps=args.steps, data=data))
            return path

        direct = timed([py, "-c", DIRECT, str(data), str(work / "direct"), str(args.steps)], env)
        one = experiment("one", [0])
        runner = timed([py, "-m", "identlam", "run", str(one), "--out", str(work / "one"), "--no-figure"], env)
        rows = [("one run, pipeline called directly", direct, 1.0),
                ("one run through `identlam run` (1 worker)", runner, runner / direct)]
        print(f"overhead per run: {100 * (runner - direct) / direct:+.1f}% "
              f"({runner - direct:+.1f} s on a {direct:.1f} s run)")

        four = experiment("four", [0, 1, 2, 3])
        base = timed([py, "-m", "identlam", "run", str(four), "--out", str(work / "w1"), "--no-figure"], env)
        rows.append(("4 runs, --workers 1", base, 1.0))
        two = timed([py, "-m", "identlam", "run", str(four), "--out", str(work / "w2"), "--workers", "2",
                     "--no-figure"], env)
        rows.append(("4 runs, --workers 2 (speed-up)", two, base / two))
        if not args.skip_ray:
            ray = timed([py, "-m", "identlam", "run", str(four), "--out", str(work / "ray"), "--backend", "ray",
                         "--workers", "2", "--no-figure"], env)
            rows.append(("4 runs, --backend ray, 2 CPUs (speed-up)", ray, base / ray))
        print(f"\n{'measurement':<44} {'wall s':>8} {'ratio':>7}")
        for name, seconds, ratio in rows:
            print(f"{name:<44} {seconds:8.1f} {ratio:7.2f}")
        print(f"\nload average now: {' '.join(f'{x:.1f}' for x in os.getloadavg())} on {os.cpu_count()} cores")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
