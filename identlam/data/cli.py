"""``identlam generate`` and ``identlam inspect``."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from identlam.argtypes import output_file, seed as seed_arg
# `identlam generate pointmass` names an environment of this family.
DEFAULT_FAMILY = "synthetic"


def register(subparsers) -> None:
    gen = subparsers.add_parser(
        "generate",
        help="generate a synthetic dataset (HDF5, identlam-1)",
        description="Generate trajectories of a synthetic MDP under its behaviour policy and write them, with "
        "their true actions, states, distractors and assumption report, to one HDF5 file "
        "(`identlam collect` with --policy behaviour).",
    )
    gen.add_argument("env", metavar="ENV", help="environment, e.g. pointmass, pointmass-islands, linear, grid "
                     "(or any id of `identlam collect --list`)")
    gen.add_argument("--out", required=True, type=output_file, help="output file (.h5); written atomically")
    gen.add_argument("--episodes", type=int, default=100, help="number of trajectories (default 100)")
    gen.add_argument("--steps", type=int, default=100, help="steps per trajectory, T (default 100)")
    gen.add_argument("--seed", type=seed_arg, default=0, help="seed of the environment and behaviour policy")
    gen.add_argument(
        "--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
        help="environment parameter, e.g. K=4, obs=image, distractor=correlated, rho=0.5, noise=0.01 (repeatable)",
    )
    gen.add_argument("--workers", type=int, default=1, help="processes producing episodes; the file is the same")
    gen.add_argument("--quiet", action="store_true", help="no progress on stderr")
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


def generate(env: str, out: Path, episodes: int, steps: int, seed: int, params: dict[str, Any],
             progress: bool = False, workers: int = 1) -> dict[str, Any]:
    """Episodes of ``env``'s behaviour policy into ``out`` (:func:`identlam.envs.collect`); a name
    without a family (``pointmass``) means the synthetic one. Returns the collection summary."""
    import identlam.envs as envs

    env_id = env if "/" in env else f"{DEFAULT_FAMILY}/{env}"
    return envs.collect(env_id, params, "behaviour", episodes, steps, seed, out, workers=workers, progress=progress)


def run_generate(args: argparse.Namespace) -> int:
    from identlam.envs.cli import parse_overrides
    from identlam.envs.collect import format_summary

    summary = generate(args.env, args.out, args.episodes, args.steps, args.seed, parse_overrides(args.overrides),
                       progress=not args.quiet, workers=args.workers)
    print(format_summary(summary))
    return 0


def run_inspect(args: argparse.Namespace) -> int:
    from identlam.data.reader import open_dataset
    from identlam.data.summary import format_summary, summarize, to_json

    with open_dataset(args.file, in_memory=False) as ds:
        summary = summarize(ds)
    print(to_json(summary) if args.json else format_summary(summary))
    return 0
