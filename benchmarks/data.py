"""Benchmark of identlam.data: generation throughput, random-window reads, memory while reading.

    python benchmarks/data.py [--size-gib 1.0] [--tmp DIR]

1. Generation: transitions/s of ``synthetic.generate`` alone and of generate + ``write_dataset``,
   for vector and 64 px image observations (the assumption report is not included).
2. Random windows (batch 256, frame stack 3, K 4: LAOM's window) from a >= 1 GiB file of 64 px
   images, generated into a temporary directory and deleted afterwards. Read lazily from the
   chunked HDF5 file and, in the same process, the same windows from the same data held in
   memory as one numpy array; the ratio is printed. Peak memory while reading lazily is measured
   in a fresh process (its VmHWM), so nothing else inflates it.
3. Storage options (compression, chunk size) on a smaller file, as ratios against the default.
4. Opening files of 1k, 10k and 30k trajectories (``--open-sizes``; vector observations, 100
   steps each): CPU seconds per 10k trajectories of ``open_dataset`` loading into memory and
   reading lazily, and of ``identlam inspect``'s summary, each in a fresh process, as ratios
   against two baselines measured in that process on the same file: listing the groups once
   (``list(f.keys())``) and opening and closing every HDF5 dataset of the file once through
   h5py's low-level API (the least any validation that looks at every field can cost). Peak
   memory added by the open, and the write cost per 10k trajectories, beside them.

Sources are measured in interleaved rounds and compared by median windows per CPU second of
this process (user + system): the machine is shared, and wall-clock rates swing with other
load. The file is read right after it was written, so the OS page cache likely holds it: the
lazy numbers measure identlam's read path (HDF5 chunk lookup, copies, frame stacking), not a disk.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

# Run as a script, this folder is first on sys.path and its siblings (benchmarks/synthetic.py)
# would shadow the packages of the same name; the repository's own packages come first instead.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

BATCH = 256
FRAME_STACK, FUTURE_K = 3, 4
ROUNDS, ROUND_CPU_SECONDS = 3, 0.7


def peak_rss_mib() -> float:
    """Peak resident memory of this process. VmHWM, not ru_maxrss: after fork + exec, ru_maxrss
    can still report the parent's peak."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def write_synthetic(path: Path, episodes: int, steps: int, write_options: dict | None = None, **params) -> tuple[float, float, float]:
    """Generate and write one file; return CPU s of generate + write, CPU s of generate alone,
    and wall s of generate + write."""
    import synthetic

    from identlam.data import write_dataset

    env = synthetic.make("pointmass", **params)
    spec = env.spec
    attrs = {"env_id": spec["env_id"], "action_space": spec["action_space"], "n_actions": spec["n_actions"],
             "obs_kind": spec["obs_kind"], "seed": 0, "generator": {"config": env.config}}
    t0 = time.process_time()
    for _ in synthetic.generate(env, episodes=episodes, steps=steps, seed=1):
        pass
    gen_only = time.process_time() - t0
    t0, w0 = time.process_time(), time.perf_counter()
    write_dataset(path, synthetic.generate(env, episodes=episodes, steps=steps, seed=0), attrs, **(write_options or {}))
    return time.process_time() - t0, gen_only, time.perf_counter() - w0


def interleaved_rates(samplers: dict, seed: int = 0) -> dict[str, dict[str, float]]:
    """Median windows per CPU second and per wall second of each sampler, in alternating rounds;
    every sampler draws the same windows in the same round."""
    cpu = {name: [] for name in samplers}
    wall = {name: [] for name in samplers}
    for name, sampler in samplers.items():
        sampler.sample(BATCH, np.random.default_rng(seed))  # warm-up: open datasets
    for r in range(ROUNDS):
        for name, sampler in samplers.items():
            rng = np.random.default_rng([seed, r])
            n, c0, w0 = 0, time.process_time(), time.perf_counter()
            while time.process_time() - c0 < ROUND_CPU_SECONDS:
                sampler.sample(BATCH, rng)
                n += BATCH
            cpu[name].append(n / (time.process_time() - c0))
            wall[name].append(n / (time.perf_counter() - w0))
    return {name: {"cpu": float(np.median(cpu[name])), "wall": float(np.median(wall[name]))} for name in samplers}


def read_worker(path: str) -> None:
    """In a fresh process: lazy random-window reads; prints JSON with the rate and memory."""
    from identlam.data import open_dataset

    start = peak_rss_mib()
    with open_dataset(path, in_memory=False) as ds:
        opened = peak_rss_mib()
        rate = interleaved_rates({"lazy": ds.observations(FRAME_STACK, FUTURE_K)})["lazy"]
    print(json.dumps({"rate": rate, "rss_start_mib": start, "rss_opened_mib": opened, "rss_peak_mib": peak_rss_mib()}))


def lazy_in_fresh_process(path: Path) -> dict:
    out = subprocess.run([sys.executable, __file__, "--read-worker", str(path)], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def table(title: str, header: list[str], rows: list[list[str]]) -> None:
    widths = [max(len(str(r[i])) for r in [header] + rows) for i in range(len(header))]
    print(f"\n{title}")
    print("  " + "  ".join(str(h).rjust(w) for h, w in zip(header, widths)))
    for r in rows:
        print("  " + "  ".join(str(c).rjust(w) for c, w in zip(r, widths)))


def bench_generation(tmp: Path) -> None:
    rows = []
    for name, episodes, steps, params in (
        ("vector (8-d: state + distractor)", 200, 500, {"distractor": "correlated", "rho": 0.5}),
        ("image 64x64x3 uint8", 40, 500, {"obs": "image", "distractor": "correlated", "rho": 0.5}),
    ):
        path = tmp / "gen.h5"
        total, gen_only, wall = write_synthetic(path, episodes, steps, **params)
        n = episodes * (steps - 1)
        rows.append([name, f"{n}", f"{n / gen_only:,.0f}", f"{n / total:,.0f}", f"{gen_only / total:.2f}",
                     f"{n / wall:,.0f}", f"{path.stat().st_size / 2**20:.1f}"])
        path.unlink()
    table("generation: transitions per CPU second of synthetic.generate alone and of generate + write_dataset",
          ["observations", "transitions", "generate /s", "gen+write /s", "ratio", "gen+write /wall s", "MiB"], rows)


def bench_large_file(tmp: Path, size_gib: float) -> None:
    from identlam.data import open_dataset

    steps, frame_bytes = 1000, 64 * 64 * 3
    episodes = int(np.ceil(size_gib * 2**30 / (steps * frame_bytes)))
    big = tmp / "big.h5"
    write_wall = write_synthetic(big, episodes, steps, obs="image", distractor="correlated", rho=0.5)[2]
    size_mib = big.stat().st_size / 2**20
    fresh = lazy_in_fresh_process(big)
    with open_dataset(big, in_memory=False) as lazy, open_dataset(big, in_memory=True, memory_budget=1 << 40) as mem:
        rates = interleaved_rates({"lazy": lazy.observations(FRAME_STACK, FUTURE_K),
                                   "memory": mem.observations(FRAME_STACK, FUTURE_K)})
    big.unlink()
    lz, mm = rates["lazy"], rates["memory"]
    table(
        f"random windows (batch {BATCH}, frame stack {FRAME_STACK}, K {FUTURE_K}) from a {size_mib:,.0f} MiB file "
        f"({episodes} x {steps} frames of 64 px; generated and written in {write_wall:.0f} s wall)",
        ["source", "windows/CPU s", "ratio to memory", "windows/wall s"],
        [["lazy HDF5", f"{lz['cpu']:,.0f}", f"{lz['cpu'] / mm['cpu']:.2f}", f"{lz['wall']:,.0f}"],
         ["in-memory numpy array", f"{mm['cpu']:,.0f}", "1.00", f"{mm['wall']:,.0f}"]],
    )
    print(f"  lazy reading in a fresh process: {fresh['rate']['cpu']:,.0f} windows/CPU s; memory after imports "
          f"{fresh['rss_start_mib']:.0f} MiB, after open {fresh['rss_opened_mib']:.0f} MiB, peak "
          f"{fresh['rss_peak_mib']:.0f} MiB = {fresh['rss_peak_mib'] / size_mib:.3f} of the file size")


def bench_storage(tmp: Path) -> None:
    from identlam.data import open_dataset, writer

    options = {
        f"default (compression {writer.DEFAULT_COMPRESSION}, {writer.CHUNK_BYTES // 1024} KiB chunks)": {},
        "lzf, 32 KiB chunks": {"compression": "lzf"},
        "lzf, 128 KiB chunks": {"compression": "lzf", "chunk_bytes": 1 << 17},
        "gzip, 32 KiB chunks": {"compression": "gzip"},
        "none, 128 KiB chunks": {"chunk_bytes": 1 << 17},
        "none, 1 MiB chunks": {"chunk_bytes": 1 << 20},
    }
    sizes, write_s, datasets = {}, {}, {}
    try:
        for i, (label, opts) in enumerate(options.items()):
            path = tmp / f"opt{i}.h5"
            write_s[label] = write_synthetic(path, 40, 1000, write_options=opts, obs="image", distractor="correlated", rho=0.5)[0]
            sizes[label] = path.stat().st_size / 2**20
            datasets[label] = open_dataset(path, in_memory=False)
        rates = interleaved_rates({label: ds.observations(FRAME_STACK, FUTURE_K) for label, ds in datasets.items()})
    finally:
        for ds in datasets.values():
            ds.close()
    base = next(iter(rates.values()))["cpu"]
    table("obs storage options (40 x 1000 frames of 64 px, lazy random windows)",
          ["storage", "MiB", "write CPU s", "windows/CPU s", "ratio to default"],
          [[label, f"{sizes[label]:.0f}", f"{write_s[label]:.1f}", f"{r['cpu']:,.0f}", f"{r['cpu'] / base:.2f}"]
           for label, r in rates.items()])


OPEN_STEPS = 100
GOAL_CPU_PER_10K = 1.0


def open_worker(spec: str) -> None:
    """In a fresh process: baselines, then one open (``memory``, ``lazy`` or ``inspect``) of a
    file; prints JSON with CPU seconds and memory."""
    import h5py

    from identlam.data import open_dataset
    from identlam.data.summary import summarize

    path, mode = spec.rsplit(":", 1)
    with h5py.File(path, "r") as f:
        c0 = time.process_time()
        names = list(f.keys())
        listing = time.process_time() - c0
        c0 = time.process_time()
        for name in names:
            gid = h5py.h5g.open(f.id, name.encode())
            for field in gid:
                h5py.h5d.open(gid, field)
        floor = time.process_time() - c0
    base_rss = peak_rss_mib()
    c0 = time.process_time()
    ds = open_dataset(path, in_memory={"memory": True, "lazy": False, "inspect": False}[mode])
    if mode == "inspect":
        summarize(ds)
    cpu = time.process_time() - c0
    peak = peak_rss_mib()
    ds.close()
    print(json.dumps({"cpu": cpu, "listing": listing, "floor": floor, "added_mib": peak - base_rss, "n": len(names)}))


def bench_open(tmp: Path, sizes: list[int]) -> None:
    from identlam.data import write_dataset

    rng = np.random.default_rng(0)
    T = OPEN_STEPS
    traj = {"obs": rng.normal(size=(T, 8)).astype(np.float32), "actions": rng.integers(0, 4, T),
            "states": rng.normal(size=(T, 4)).astype(np.float32), "exo": rng.normal(size=(T, 2)).astype(np.float32),
            "rewards": rng.normal(size=T).astype(np.float32)}
    attrs = {"env_id": "bench/vector", "action_space": "discrete", "n_actions": 4, "obs_kind": "vector"}
    rows, opens, floors = [], [], []
    for n in sizes:
        path = tmp / f"open{n}.h5"
        c0 = time.process_time()
        write_dataset(path, (traj for _ in range(n)), attrs)
        write_cpu = time.process_time() - c0
        size_mib = path.stat().st_size / 2**20
        for mode in ("memory", "lazy", "inspect"):
            out = subprocess.run([sys.executable, __file__, "--open-worker", f"{path}:{mode}"],
                                 capture_output=True, text=True, check=True)
            r = json.loads(out.stdout.strip().splitlines()[-1])
            per10k = r["cpu"] * 1e4 / n
            floors.append(r["floor"] * 1e4 / n)
            if mode == "lazy":
                opens.append(per10k)
            rows.append([f"{n:,}", f"{size_mib:.0f}", mode, f"{per10k:.2f}", f"{r['cpu'] / r['listing']:,.0f}",
                         f"{r['cpu'] / r['floor']:.2f}", f"{r['added_mib']:.0f}",
                         f"{write_cpu * 1e4 / n:.2f}" if mode == "memory" else ""])
        path.unlink()
    table(f"opening a file of vector trajectories ({OPEN_STEPS} steps, 5 fields); goal: at most "
          f"{GOAL_CPU_PER_10K:g} CPU s per 10k trajectories, lazy peak memory flat in file size",
          ["trajectories", "MiB", "open", "CPU s/10k", "x group listing", "x open+close every dataset",
           "peak +MiB", "write CPU s/10k"], rows)
    print(f"  goal {'met' if max(opens) <= GOAL_CPU_PER_10K else 'not met'}: a lazy open costs {min(opens):.2f}-{max(opens):.2f} "
          f"CPU s per 10k trajectories (it checks group 0 and reads each group's length; the other checks run at "
          f"each trajectory's first read); opening and closing every dataset costs {min(floors):.2f}-{max(floors):.2f}; "
          f"a loaded open checks everything at open")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-gib", type=float, default=1.0, help="size of the large image file (default 1.0)")
    parser.add_argument("--tmp", default=None, help="directory for the temporary files")
    parser.add_argument("--open-sizes", default="1000,10000,30000",
                        help="trajectory counts of the open benchmark (default 1000,10000,30000)")
    parser.add_argument("--only", choices=("generation", "large", "storage", "open"), default=None,
                        help="run one part only")
    parser.add_argument("--read-worker", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--open-worker", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.read_worker:
        read_worker(args.read_worker)
        return
    if args.open_worker:
        open_worker(args.open_worker)
        return
    tmp = Path(tempfile.mkdtemp(prefix="identlam-bench-", dir=args.tmp))
    start = time.perf_counter()
    try:
        parts = {"generation": lambda: bench_generation(tmp), "large": lambda: bench_large_file(tmp, args.size_gib),
                 "storage": lambda: bench_storage(tmp),
                 "open": lambda: bench_open(tmp, [int(s) for s in args.open_sizes.split(",")])}
        for name, run in parts.items():
            if args.only in (None, name):
                run()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"\ntotal {time.perf_counter() - start:.0f} s wall")


if __name__ == "__main__":
    main()
