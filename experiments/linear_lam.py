"""The linear latent action model on linear-Gaussian data: d_z x noise sweep, scored by linear probes.

Every run goes through the CLI (``identlam generate``, ``identlam train --method linear-lam``,
``identlam relabel``, called in this process through ``identlam.cli.main`` so torch is imported
once); the latents are then scored with identlam.metrics' linear probe against
the true action a_t, the observation o_t and the noise on o_{t+1} (the part of o_{t+1} - o_t
that a linear regression on a_t leaves), all read through identlam.data.privileged.

    python experiments/linear_lam.py --out /tmp/linear_lam            # 4 d_z x 3 noise x 2 seeds
    python experiments/linear_lam.py --out DIR --seeds 5 --reads-state  # also the FDM that reads o_t

Prints one line per (FDM variant, d_z, noise): mean and standard deviation over seeds; writes
DIR/results.csv (one row per run). Reruns reuse finished datasets and runs in DIR.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import io
import os
import sys
from pathlib import Path

import numpy as np

D, A = 8, 2
DZ = (1, A, 2 * A, D)
NOISE = (0.0, 0.1, 0.5)


def cli(*args: str) -> None:
    from identlam.cli import main as identlam_main

    with contextlib.redirect_stdout(io.StringIO()):
        status = identlam_main(list(args))
    if status:
        raise SystemExit(f"identlam {' '.join(args)} exited with status {status}")


def scores(data: Path, run: Path) -> dict[str, float]:
    from identlam.data import open_dataset
    from identlam.data.privileged import privileged
    from identlam.metrics import linear_probe

    with open_dataset(data) as ds:
        table = privileged(ds).transition_table()
    z = np.load(run / "latents.npz")["z"]
    delta = table.next_states.astype(np.float64) - table.states
    fit, *_ = np.linalg.lstsq(table.actions, delta, rcond=None)
    noise = delta - table.actions @ fit  # what of o_{t+1} - o_t the action does not explain
    out = {"action_r2": linear_probe(table.actions, z).score["r2"], "obs_r2": linear_probe(table.states, z).score["r2"]}
    out["noise_r2"] = linear_probe(noise, z).score["r2"] if np.abs(noise).max() > 1e-4 else float("nan")
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, required=True, help="working directory (datasets, runs, results.csv)")
    ap.add_argument("--seeds", type=int, default=2, help="seeds 0..N-1 (data and model)")
    ap.add_argument("--steps", type=int, default=1000, help="training updates per run")
    ap.add_argument("--episodes", type=int, default=2000, help="transitions per dataset (episodes of 2 steps)")
    ap.add_argument("--reads-state", action="store_true", help="also run model.fdm_reads_state=true (noise 0 only)")
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    variants = [("residual", False)] + ([("reads-state", True)] if args.reads_state else [])
    rows = []
    for name, reads in variants:
        for noise in NOISE if not reads else (0.0,):
            for seed in range(args.seeds):
                data = args.out / f"data_n{noise}_s{seed}.h5"
                if not data.exists():
                    cli("generate", "linear-gaussian", "--set", f"K={A}", "--set", f"obs_dim={D}", "--set",
                        f"noise={noise}", "--set", f"map_seed={seed}", "--episodes", str(args.episodes), "--steps", "2",
                        "--seed", str(seed), "--out", str(data), "--quiet")
                for dz in DZ:
                    run = args.out / f"{name}_dz{dz}_n{noise}_s{seed}"
                    if not (run / "latents.npz").exists():
                        cli("train", "--data", str(data), "--method", "linear-lam", "--out", str(run), "--seed", str(seed),
                            "--steps", str(args.steps), "--device", "cpu", "--set", f"model.latent_dim={dz}",
                            "--set", f"model.fdm_reads_state={'true' if reads else 'false'}")
                        cli("relabel", str(run))
                    rows.append({"variant": name, "d_z": dz, "noise": noise, "seed": seed, **scores(data, run)})
                    print(rows[-1], file=sys.stderr, flush=True)
    tmp = args.out / "results.csv.tmp"
    with open(tmp, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    os.replace(tmp, args.out / "results.csv")
    print(f"{'variant':<12} {'d_z':>3} {'noise':>5}  {'action R2':>15}  {'obs R2':>15}  {'noise R2':>15}  (mean ± sd, "
          f"{args.seeds} seeds)")
    keys = sorted({(r["variant"], r["d_z"], r["noise"]) for r in rows}, key=lambda k: (k[0] != "residual", k[2], k[1]))
    for key in keys:
        sel = [r for r in rows if (r["variant"], r["d_z"], r["noise"]) == key]
        cells = []
        for metric in ("action_r2", "obs_r2", "noise_r2"):
            v = np.array([r[metric] for r in sel], float)
            cells.append("n/a" if np.isnan(v).all() else f"{v.mean():.3f} ± {v.std():.3f}")
        print(f"{key[0]:<12} {key[1]:>3} {key[2]:>5}  {cells[0]:>15}  {cells[1]:>15}  {cells[2]:>15}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
