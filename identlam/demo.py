"""``identlam demo``: a small end-to-end look at what identlam gives a researcher.

For now it generates a small PointMass dataset whose distractor copies the action with
probability ``rho`` and prints its inspect summary, ending with the assumption report.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

# The demo dataset: PointMass with 4 displacement actions and an action-correlated distractor.
DEMO_ENV = "pointmass"
DEMO_PARAMS: dict[str, Any] = {"K": 4, "distractor": "correlated", "rho": 0.5}
DEMO_EPISODES = 20
DEMO_STEPS = 100
DEMO_SEED = 0


def register(subparsers) -> None:
    demo = subparsers.add_parser(
        "demo",
        help="generate a small demo dataset and print its summary and assumption report",
        description="Generate a small PointMass dataset with an action-correlated distractor into DIR "
        "and print its inspect summary (shapes, actions, distractor dependence, assumption report).",
    )
    demo.add_argument("--out", type=Path, default=Path("demo"), help="output directory (default ./demo)")
    demo.set_defaults(func=run)


def run_demo(out_dir: str | Path) -> dict[str, Any]:
    """Generate the demo dataset into ``out_dir/pointmass-correlated.h5``; return its inspect summary."""
    from identlam.data.cli import generate
    from identlam.data.reader import open_dataset
    from identlam.data.summary import summarize

    path = Path(out_dir) / "pointmass-correlated.h5"
    generate(DEMO_ENV, path, DEMO_EPISODES, DEMO_STEPS, DEMO_SEED, dict(DEMO_PARAMS))
    with open_dataset(path) as ds:
        return summarize(ds)


def run(args: argparse.Namespace) -> int:
    from identlam.data.summary import format_summary

    summary = run_demo(args.out)
    print(format_summary(summary))
    return 0
