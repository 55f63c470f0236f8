"""The ``identlam`` command.

Each area of the package registers its own subcommands (``register(subparsers)`` in its
``cli`` module), so this file only dispatches. User errors (:class:`IdentlamError`) print one
line and exit with status 2; anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys

from identlam.errors import IdentlamError

# Modules that contribute subcommands, in the order they appear in `identlam --help`.
COMMAND_MODULES = (
    "identlam.data.cli",  # generate, inspect
    "identlam.envs.cli",  # collect
    "identlam.metrics.cli",  # metrics
    "identlam.train.cli",  # presets, train, relabel, bc, decode, evaluate, pipeline
    "identlam.demo",  # demo
    "identlam.envs.dcs.expert_cli",  # expert
    "identlam.runner.cli",  # run
    "identlam.paper.cli",  # paper
)


class Parser(argparse.ArgumentParser):
    """argparse with one-line errors (``identlam CMD: error: ...``, status 2), like every other
    user error; ``identlam CMD --help`` shows the usage."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {' '.join(message.split())} (see `{self.prog} --help`)\n")


class VersionAction(argparse.Action):
    """``identlam --version``: the version and the source hash that each run records, so a reader
    can tell whether a store's runs (or a report's) were made by the code installed here."""

    def __init__(self, option_strings, dest=argparse.SUPPRESS, default=argparse.SUPPRESS, help=None):
        super().__init__(option_strings, dest, nargs=0, default=default, help=help)

    def __call__(self, parser, namespace, values, option_string=None):
        from identlam.provenance import code_version

        code = code_version()
        print(f"identlam {code['identlam']} (source {code['source']}, torch {code['torch']})")
        parser.exit(0)


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="identlam",
        description="Latent action models and identifiability metrics on controlled MDPs.",
    )
    parser.add_argument("--version", action=VersionAction,
                        help="print the version and the source hash that runs record, and exit")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return parser


def user_errors() -> tuple[type[BaseException], ...]:
    errors: list[type[BaseException]] = [IdentlamError]
    try:
        from synthetic.errors import SyntheticError

        errors.append(SyntheticError)
    except ImportError:
        pass
    return tuple(errors)


def os_error_line(err: OSError) -> str:
    """``strerror: 'file'`` (and ``-> 'file2'`` for a rename) of an OSError, on one line."""
    text = err.strerror or str(err) or type(err).__name__
    if err.filename is not None:
        text += f": '{err.filename}'"
    if err.filename2 is not None:
        text += f" -> '{err.filename2}'"
    return " ".join(text.split())


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as stop:  # --help (0) or a parse error, already printed in one line (2)
        return int(stop.code or 0)
    if not getattr(args, "func", None):
        parser.print_help()
        return 1
    try:
        result = args.func(args)
    except user_errors() as err:
        print(f"identlam {args.command}: error: {err}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # `identlam presets x | head`: the reader left; end quietly, as Unix tools do
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    except OSError as err:  # the disk filled, a folder vanished or refused a write mid-command
        if os.environ.get("IDENTLAM_TRACEBACK"):
            raise
        print(f"identlam {args.command}: error: {os_error_line(err)} (IDENTLAM_TRACEBACK=1 shows where)", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"identlam {args.command}: interrupted; rerun the same command to resume", file=sys.stderr)
        return 130
    return int(result or 0)


if __name__ == "__main__":
    sys.exit(main())
