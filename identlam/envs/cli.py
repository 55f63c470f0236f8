"""``identlam collect``: a dataset from any registered environment and policy."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from identlam.argtypes import seed as seed_arg
from identlam.errors import ConfigError


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "collect",
        help="collect a dataset from any registered environment (HDF5, identlam-1)",
        description="Run a policy in a registered environment (see `identlam collect --list`) and write the "
        "trajectories, with their true actions, states and distractors, to one HDF5 file.",
    )
    p.add_argument("env_id", metavar="ENV_ID", nargs="?", help="environment id, e.g. synthetic/pointmass")
    p.add_argument("--out", type=Path, metavar="F.h5", help="output file (.h5); written atomically")
    p.add_argument("--episodes", type=int, default=100, metavar="N", help="number of trajectories (default 100)")
    p.add_argument("--steps", type=int, default=100, metavar="T", help="steps per trajectory, at most (default 100)")
    p.add_argument("--seed", type=seed_arg, default=0, metavar="S", help="seed: episode i depends on (seed, i) only")
    p.add_argument("--policy", default="behaviour", metavar="NAME", help="data-generating policy: behaviour, random, expert, ... "
                   "(default behaviour)")
    p.add_argument("--workers", type=int, default=1, metavar="W", help="processes producing episodes; the file is the same")
    p.add_argument("--difficulty", metavar="D", help="shorthand for --set difficulty=D")
    add_set_argument(p, "environment parameter, e.g. K=4, obs=image (repeatable)")
    p.add_argument("--list", action="store_true", help="list the registered environment ids and exit")
    p.add_argument("--quiet", action="store_true", help="no progress on stderr")
    p.set_defaults(func=run_collect)


def add_set_argument(parser: argparse.ArgumentParser, help: str, flag: str = "--set") -> None:
    parser.add_argument(flag, dest="overrides", action="append", default=[], metavar="KEY=VALUE", help=help)


def parse_overrides(items: list[str], flag: str = "--set") -> dict[str, Any]:
    """``["K=4", "obs=image"]`` -> ``{"K": 4, "obs": "image"}`` (values parsed as JSON when possible)."""
    from identlam.config import parse_value

    params: dict[str, Any] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"{flag} '{item}': expected key=value")
        params[key.strip()] = parse_value(value.strip())
    return params


def run_collect(args: argparse.Namespace) -> int:
    import identlam.envs as envs
    from identlam.envs.collect import format_summary

    if args.list:
        for env_id in envs.available():
            print(f"{env_id:32s} {envs.describe(env_id)}")
        return 0
    if not args.env_id or args.out is None:
        raise ConfigError("arguments ENV_ID and --out are required (or --list)")
    params = parse_overrides(args.overrides)
    if args.difficulty is not None:
        params.update(parse_overrides([f"difficulty={args.difficulty}"], "--difficulty"))
    summary = envs.collect(args.env_id, params, args.policy, args.episodes, args.steps, args.seed, args.out,
                           workers=args.workers, progress=not args.quiet)
    print(format_summary(summary))
    return 0
