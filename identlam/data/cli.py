"""``identlam generate`` and ``identlam inspect``."""

from __future__ import annotations

import argparse
import re
import sys
import time
from pathlib import Path
from typing import Any

from identlam.argtypes import output_file
from identlam.errors import ConfigError

# Generation of at least this many transitions shows a progress bar on stderr.
PROGRESS_MIN_TRANSITIONS = 20_000


def register(subparsers) -> None:
    gen = subparsers.add_parser(
        "generate",
        help="generate a synthetic dataset (HDF5, identlam-1)",
        description="Generate trajectories of a synthetic MDP and write them, with their true actions, "
        "states, distractors and assumption report, to one HDF5 file.",
    )
    gen.add_argument("env", metavar="ENV", help="environment, e.g. pointmass, pointmass-islands, linear, grid")
    gen.add_argument("--out", required=True, type=output_file, help="output file (.h5); written atomically")
    gen.add_argument("--episodes", type=int, default=100, help="number of trajectories (default 100)")
    gen.add_argument("--steps", type=int, default=100, help="steps per trajectory, T (default 100)")
    gen.add_argument("--seed", type=int, default=0, help="seed of the environment and behaviour policy")
    gen.add_argument(
        "--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
        help="environment parameter, e.g. K=4, obs=image, distractor=correlated, rho=0.5, noise=0.01 (repeatable)",
    )
    gen.add_argument("--quiet", action="store_true", help="no progress bar")
    gen.set_defaults(func=run_generate)

    ins = subparsers.add_parser(
        "inspect",
        help="summarize a dataset: shapes, actions, distractors, assumption report",
        description="Validate a dataset file and print its shapes and dtypes, action histogram, "
        "distractor statistics (with the action-distractor mutual information) and assumption report.",
    )
    ins.add_argument("file", metavar="FILE.h5", type=Path, help="dataset file (identlam-1 or LAOM HDF5)")
    ins.add_argument("--json", action="store_true", help="print the summary as JSON")
    ins.set_defaults(func=run_inspect)


def parse_overrides(items: list[str]) -> dict[str, Any]:
    """``["K=4", "obs=image"]`` -> ``{"K": 4, "obs": "image"}`` (values parsed as JSON when possible)."""
    from identlam.config import parse_value

    params: dict[str, Any] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"--set '{item}': expected key=value")
        params[key.strip()] = parse_value(value.strip())
    return params


def generate(env_name: str, out: Path, episodes: int, steps: int, seed: int, params: dict[str, Any], progress: bool = False) -> dict[str, Any]:
    """Generate ``episodes`` trajectories of ``steps`` steps of ``env_name`` into ``out``, streaming
    each trajectory to the file as it is produced. Returns a small summary dict."""
    for name, value, low in (("--episodes", episodes, 1), ("--steps", steps, 2)):
        if value < low:
            raise ConfigError(f"argument '{name}' is {value}; expected at least {low}")
    import synthetic

    from identlam.data.writer import write_dataset

    env = synthetic.make(env_name, **params)
    spec = env.spec
    report = env.assumptions(seed=seed).to_dict()
    space = spec["action_space"]
    attrs = {
        "env_id": spec["env_id"],
        "action_space": space,
        "n_actions" if space == "discrete" else "action_dim": spec["n_actions" if space == "discrete" else "action_dim"],
        "obs_kind": spec["obs_kind"],
        "seed": int(seed),
        "generator": {
            "env": env_name, "episodes": episodes, "steps": steps, "seed": seed,
            "overrides": params, "config": env.config, "spec": spec,
        },
        "assumptions": report,
    }
    bar = None
    if progress and episodes * steps >= PROGRESS_MIN_TRANSITIONS:
        from tqdm import tqdm

        bar = tqdm(total=episodes, unit="traj", file=sys.stderr, desc=f"generate {env_name}", dynamic_ncols=True)
    start = time.perf_counter()
    try:
        trajectories = synthetic.generate(env, episodes=episodes, steps=steps, seed=seed)
        write_dataset(out, trajectories, attrs, on_trajectory=(lambda i, T: bar.update(1)) if bar else None)
    finally:
        if bar is not None:
            bar.close()
    seconds = time.perf_counter() - start
    transitions = episodes * (steps - 1)
    return {
        "file": str(out), "env_id": spec["env_id"], "episodes": episodes, "steps": steps,
        "transitions": transitions, "obs_shape": list(spec["obs_shape"]), "obs_dtype": str(spec["obs_dtype"]),
        "action_space": space, "size_bytes": out.stat().st_size, "seconds": seconds,
        "transitions_per_second": transitions / max(seconds, 1e-9),
        "assumptions_hold": {k: v.get("holds") for k, v in report.items() if re.fullmatch(r"A\d+", k) and isinstance(v, dict)},
    }


def format_generated(s: dict[str, Any]) -> str:
    holds = ", ".join(f"{k} {'holds' if v else 'fails'}" for k, v in s["assumptions_hold"].items())
    return (
        f"wrote {s['file']}: {s['episodes']} trajectories x {s['steps']} steps ({s['transitions']} transitions) of "
        f"{s['env_id']}, obs {tuple(s['obs_shape'])} {s['obs_dtype']}, {s['action_space']} actions, "
        f"{s['size_bytes'] / 2**20:.1f} MiB in {s['seconds']:.1f} s ({s['transitions_per_second']:.0f} transitions/s)"
        + (f"\nassumptions: {holds}" if holds else "")
    )


def run_generate(args: argparse.Namespace) -> int:
    summary = generate(args.env, args.out, args.episodes, args.steps, args.seed, parse_overrides(args.overrides),
                       progress=not args.quiet)
    print(format_generated(summary))
    return 0


def run_inspect(args: argparse.Namespace) -> int:
    from identlam.data.reader import open_dataset
    from identlam.data.summary import format_summary, summarize, to_json

    with open_dataset(args.file, in_memory=False) as ds:
        summary = summarize(ds)
    print(to_json(summary) if args.json else format_summary(summary))
    return 0
