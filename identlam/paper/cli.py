"""``identlam paper``: results stores -> figures, tables and a report with every claim tested."""

from __future__ import annotations

import argparse
import shlex
from pathlib import Path

from identlam.argtypes import output_dir

DEFAULT_CLAIMS = Path("paper") / "claims.toml"


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "paper", help="build the report (figures, tables, claims tested over seeds) from results stores",
        description="Regenerate every figure (PNG and PDF: mean and 95% bootstrap interval over seeds), "
        "every table (Markdown) and OUT/report.md + report.html from the results stores alone. Each claim "
        "of the claims file is tested on its experiment's store (paired over seeds; one-sided p-value); "
        "a claim whose experiment has no store given is listed as not run, with the command to run it; "
        "a claim marked needs_paper_scale is tested on the NAME-paper store alone (--scale paper), and is "
        "not testable here without one. "
        "OUT/data/NAME/ keeps each experiment's table and config, a store that --results accepts.")
    p.add_argument("--results", nargs="+", required=True, type=Path, metavar="DIR",
                   help="results stores of `identlam run`, or folders holding a store's results.csv (e.g. OUT/data/NAME); "
                   "stores of the same experiment are pooled")
    p.add_argument("--out", type=output_dir, default="paper", metavar="OUT", help="output folder (default paper/)")
    p.add_argument("--claims", type=Path, default=None, metavar="FILE",
                   help=f"claims file (default {DEFAULT_CLAIMS} when it exists; else no claims)")
    p.set_defaults(func=cmd_paper)


def cmd_paper(args: argparse.Namespace) -> int:
    from identlam.paper import build_report, load_claims, load_stores, tally
    from identlam.paper.report import DATA

    if args.claims is not None:
        claims = load_claims(args.claims)
    elif DEFAULT_CLAIMS.is_file():
        claims = load_claims(DEFAULT_CLAIMS)
    else:
        claims = []
        print(f"no claims file ({DEFAULT_CLAIMS} not found; --claims FILE): figures and tables only")
    stores = load_stores(args.results)
    command = "identlam paper --results " + " ".join(shlex.quote(str(d)) for d in args.results)
    command += f" --out {shlex.quote(str(args.out))}"
    if args.claims is not None:
        command += f" --claims {shlex.quote(str(args.claims))}"
    written, outcomes = build_report(stores, claims, args.out, command)
    print(tally(outcomes))
    for kind in ("figures", "tables"):
        paths = [p for p in written[kind] if p.suffix != ".pdf"]
        print(f"{kind}: {len(paths)} in {args.out / kind} ({', '.join(p.name for p in paths)})"
              + (" + PDF of each" if kind == "figures" else ""))
    data = args.out / DATA
    print(f"data: {len(stores)} experiment table{'' if len(stores) == 1 else 's'} in {data} (NAME/results.csv; rebuild with "
          f"`identlam paper --results {data}/*`)")
    print(f"report: {args.out / 'report.md'} and {args.out / 'report.html'}")
    return 0
