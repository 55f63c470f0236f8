"""Benchmark of identlam.data: generation throughput, random-window reads, memory while reading.

    python benchmarks/data.py [--size-gb 1.0] [--tmp DIR]

1. Generation: transitions/s of ``synthetic.generate`` + ``write_dataset`` for vector and 64 px
   image observations (the assumption report, computed once per dataset, is not included).
2. Random windows from a >= 1 GB file of 64 px images (generated into a temporary directory and
   deleted afterwards), read lazily from the chunked HDF5 file in a fresh process (its peak RSS
   is the memory while reading), compared with the same windows from the same data held in memory
   as one numpy array, in the same run (ratio printed).
3. Storage options on a smaller file: obs compression (none, lzf, gzip) and chunk size, read the
   same way, as ratios against the default.

The file is read right after it was written, so the OS page cache likely holds it: the lazy
numbers measure identlam's read path (HDF5 chunk lookup, copies, frame stacking), not the disk.
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
FRAME_STACK, FUTURE_K = 3, 4  # LAOM's window: 3 stacked frames, future offset up to 4
READ_SECONDS = 8.0


def peak_rss_mib() -> float:
    """This process's peak resident memory. VmHWM, not ru_maxrss: after fork + exec, ru_maxrss
    can still report the parent's peak."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def attrs_for(env) -> dict:
    spec = env.spec
    key = "n_actions" if spec["action_space"] == "discrete" else "action_dim"
    return {"env_id": spec["env_id"], "action_space": spec["action_space"], key: spec[key],
            "obs_kind": spec["obs_kind"], "seed": 0, "generator": {"config": env.config}}


def write_synthetic(path: Path, episodes: int, steps: int, **params) -> tuple[float, float]:
    """Generate and write; return (seconds generating + writing, seconds generating alone)."""
    import synthetic

    from identlam.data import write_dataset

    env = synthetic.make("pointmass", **params)
    t0 = time.perf_counter()
    for _ in synthetic.generate(env, episodes=episodes, steps=steps, seed=1):
        pass
    gen_only = time.perf_counter() - t0
    t0 = time.perf_counter()
    write_dataset(path, synthetic.generate(env, episodes=episodes, steps=steps, seed=0), attrs_for(env), **WRITE_OPTIONS)
    return time.perf_counter() - t0, gen_only


WRITE_OPTIONS: dict = {}


def timed_windows(sampler, seed: int) -> tuple[float, int]:
    """Windows per second over about READ_SECONDS of batches drawn with ``seed``."""
    rng = np.random.default_rng(seed)
    sampler.sample(BATCH, rng)  # warm-up: opens datasets, fills caches
    n, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < READ_SECONDS:
        sampler.sample(BATCH, rng)
        n += BATCH
    return n / (time.perf_counter() - t0), n


def read_worker(path: str) -> None:
    """Runs in a fresh process: lazy random-window reads; prints JSON with throughput and RSS."""
    from identlam.data import open_dataset

    base = peak_rss_mib()
    with open_dataset(path, in_memory=False) as ds:
        opened = peak_rss_mib()
        rate, n = timed_windows(ds.observations(FRAME_STACK, FUTURE_K), seed=0)
    print(json.dumps({"windows_per_s": rate, "windows": n, "rss_start_mib": base, "rss_opened_mib": opened,
                      "rss_peak_mib": peak_rss_mib()}))


def lazy_in_fresh_process(path: Path) -> dict:
    out = subprocess.run([sys.executable, __file__, "--read-worker", str(path)], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def in_memory_rate(path: Path) -> float:
    from identlam.data import open_dataset

    with open_dataset(path, in_memory=True, memory_budget=1 << 40) as ds:
        return timed_windows(ds.observations(FRAME_STACK, FUTURE_K), seed=0)[0]


def table(title: str, header: list[str], rows: list[list[str]]) -> None:
    widths = [max(len(str(r[i])) for r in [header] + rows) for i in range(len(header))]
    print(f"\n{title}")
    print("  " + "  ".join(str(h).rjust(w) for h, w in zip(header, widths)))
    for r in rows:
        print("  " + "  ".join(str(c).rjust(w) for c, w in zip(r, widths)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-gb", type=float, default=1.0, help="size of the large image file (default 1.0)")
    parser.add_argument("--tmp", default=None, help="directory for the temporary files")
    parser.add_argument("--read-worker", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.read_worker:
        read_worker(args.read_worker)
        return
    from identlam.data import writer

    tmp = Path(tempfile.mkdtemp(prefix="identlam-bench-", dir=args.tmp))
    start = time.perf_counter()
    try:
        # 1. generation throughput
        rows = []
        for name, episodes, steps, params in (
            ("vector (identity, 8-d)", 200, 500, {"distractor": "correlated", "rho": 0.5}),
            ("image 64x64x3 uint8", 40, 250, {"obs": "image", "distractor": "correlated", "rho": 0.5}),
        ):
            path = tmp / "gen.h5"
            total, gen_only = write_synthetic(path, episodes, steps, **params)
            n = episodes * (steps - 1)
            rows.append([name, f"{n}", f"{n / gen_only:,.0f}", f"{n / total:,.0f}", f"{gen_only / total:.2f}",
                         f"{path.stat().st_size / 2**20:.1f}"])
            path.unlink()
        table("generation (synthetic.generate, then generate + write_dataset)",
              ["observations", "transitions", "gen only /s", "gen+write /s", "ratio", "MiB"], rows)

        # 2. random windows from a >= size-gb file, lazily vs in memory
        steps = 1000
        frame_bytes = 64 * 64 * 3
        episodes = int(np.ceil(args.size_gb * 1e9 / (steps * frame_bytes)))
        big = tmp / "big.h5"
        total, _ = write_synthetic(big, episodes, steps, obs="image", distractor="correlated", rho=0.5)
        size_mib = big.stat().st_size / 2**20
        lazy = lazy_in_fresh_process(big)
        mem = in_memory_rate(big)
        table(
            f"random windows (batch {BATCH}, frame stack {FRAME_STACK}, K {FUTURE_K}) from a {size_mib:,.0f} MiB file "
            f"({episodes} x {steps} frames of 64 px, written in {total:.0f} s)",
            ["source", "windows/s", "ratio to memory", "peak RSS MiB", "after imports", "after open"],
            [["lazy HDF5 (fresh process)", f"{lazy['windows_per_s']:,.0f}", f"{lazy['windows_per_s'] / mem:.2f}",
              f"{lazy['rss_peak_mib']:.0f}", f"{lazy['rss_start_mib']:.0f}", f"{lazy['rss_opened_mib']:.0f}"],
             ["in-memory numpy array", f"{mem:,.0f}", "1.00", f">{size_mib:,.0f}", "-", "-"]],
        )
        print(f"  peak RSS while reading lazily: {lazy['rss_peak_mib']:.0f} MiB "
              f"= {lazy['rss_peak_mib'] / size_mib:.3f} of the file size")
        big.unlink()

        # 3. storage options, same windows, on a smaller file
        rows, base = [], None
        for label, options in (
            ("default (no compression, 128 KiB chunks)", {}),
            ("lzf", {"compression": "lzf"}),
            ("gzip", {"compression": "gzip"}),
            ("32 KiB chunks", {"chunk_bytes": 1 << 15}),
            ("1 MiB chunks", {"chunk_bytes": 1 << 20}),
        ):
            WRITE_OPTIONS.clear()
            WRITE_OPTIONS.update(options)
            path = tmp / "opt.h5"
            write_s, _ = write_synthetic(path, 40, 1000, obs="image", distractor="correlated", rho=0.5)
            rate = lazy_in_fresh_process(path)["windows_per_s"]
            base = base or rate
            rows.append([label, f"{path.stat().st_size / 2**20:.0f}", f"{write_s:.1f}", f"{rate:,.0f}", f"{rate / base:.2f}"])
            path.unlink()
        WRITE_OPTIONS.clear()
        table("obs storage options (40 x 1000 frames of 64 px, lazy reads)",
              ["storage", "MiB", "write s", "windows/s", "ratio to default"], rows)
        print(f"\ntotal {time.perf_counter() - start:.0f} s; writer default compression={writer.DEFAULT_COMPRESSION}, "
              f"chunk_bytes={writer.CHUNK_BYTES}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
