"""Every subcommand of `identlam`: a description in --help, and every option refuses bad values
with one stderr line and exit status 2, before any work starts (never a traceback)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pytest

from identlam.cli import build_parser, main

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "train"))
from train_fixtures import TINY, make_pointmass  # noqa: E402


# Locations nothing can be created in, whoever runs the tests (root ignores permission bits):
# /proc refuses new files, and a path below a regular file has no directory to go in.
UNWRITABLE = ["/proc/identlam-out"]


def subcommands() -> dict[str, argparse.ArgumentParser]:
    sub = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    return dict(sub.choices)


def options(parser: argparse.ArgumentParser) -> list[argparse.Action]:
    return [a for a in parser._actions if not isinstance(a, argparse._HelpAction)]


def test_every_subcommand_and_option_is_described():
    for name, parser in subcommands().items():
        assert parser.description and len(parser.description.split()) >= 5, name
        for action in options(parser):
            assert action.help, (name, action.dest)


def test_version_names_the_source_hash_that_runs_record(capsys):
    from identlam import __version__
    from identlam.provenance import source_hash

    assert main(["--version"]) == 0
    assert capsys.readouterr().out.startswith(f"identlam {__version__} (source {source_hash()}, torch ")


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """Valid inputs for every subcommand, and bad files of each kind."""
    root = tmp_path_factory.mktemp("cli")
    data = make_pointmass(root / "pm.h5", episodes=20, steps=20)  # more transitions than a preset's batch
    other = make_pointmass(root / "other.h5", episodes=20, steps=20, K=4, noise=0.05)
    run = root / "run"
    assert main(["train", "--data", str(data), "--method", "lapo-entropy", "--labels", "1", "--out", str(run),
                 "--steps", "4", *[x for item in TINY if not item.startswith("train.steps") for x in ("--set", item)]]) == 0
    for stage in ("relabel",):
        assert main([stage, str(run)]) == 0
    regular = root / "regular"
    regular.write_text("x")
    (root / "dir").mkdir()
    (root / "notutf8.json").write_bytes(b'{"method": "\xff\xfe"}')
    (root / "corrupt.npz").write_bytes(b"PK\x03\x04" + b"\x00" * 40)
    np.savez(root / "nokeys.npz", other=np.zeros(3))
    (root / "badconfig.json").write_text('{"config": 1, "data": 2}')
    store = root / "store" / "runs" / "r1"  # a results store of one finished run, in the runner's format
    store.mkdir(parents=True)
    (store / "cell.json").write_text('{"params": {"method": "a"}, "run_id": "r1", "seed": 0, "metrics": ["ami"]}')
    (store / "result.json").write_text('{"metrics": {"ami": 0.5}}')
    (store / "done").write_text("")
    (root / "tiny.toml").write_text('seeds = [0]\n[data.d]\nsource = "synthetic"\nenv = "pointmass"\nepisodes = 4\n'
                                    'steps = 10\n[methods.m]\npreset = "lapo-entropy"\n')
    (root / "badexp.toml").write_text('seeds = [0]\n[data.d]\nsource = "nowhere"\n[methods.m]\npreset = "lapo"\n')
    return {"root": root, "data": data, "other": other, "run": run, "regular": regular, "store": store.parents[1]}


def bad_values(cmd: str, action: argparse.Action, w) -> list[str]:
    """Bad values for one option, derived from its type, choices and role."""
    root, regular = w["root"], w["regular"]
    dest, kind = action.dest, getattr(action.type, "__name__", str(action.type))
    if action.choices is not None and not isinstance(action, argparse._SubParsersAction):
        return ["no-such-choice"]
    if isinstance(action, (argparse._StoreTrueAction, argparse._StoreFalseAction)):
        return []  # flags take no value
    values = {
        "positive_int": ["0", "-3", "abc", "1.5"],
        "nonneg_int": ["-1", "abc"],
        "thread_count": ["0", "-3", "abc", "100000"],
        "seed": ["-1", "abc", "1.5", str(2**70)],
        "int": ["abc", "1.5"],
        "input_file": [str(root / "missing.h5"), str(root / "dir")],
        "output_dir": [str(regular), str(regular / "sub"), *UNWRITABLE],
        "output_file": [str(root / "dir"), str(regular / "sub.json"), *(p + ".json" for p in UNWRITABLE)],
        "existing_run": [str(root / "missing-run"), str(regular), str(root / "dir")],
    }.get(kind, [])
    if kind in ("train.steps", "labels", "seed"):  # field_int
        values = ["-1", "abc"] + (["0"] if kind == "train.steps" else [])
    by_role = {
        ("generate", "episodes"): ["0", "-1", "abc"], ("generate", "steps"): ["1", "-1", "abc"],
        ("generate", "out"): [str(root / "dir"), str(regular / "x.h5"), *(p + ".h5" for p in UNWRITABLE)],
        ("generate", "seed"): ["-1", "abc", str(2**70)], ("collect", "seed"): ["-1", str(2**70)], ("generate", "env"): ["no-such-env"],
        ("generate", "overrides"): ["K", "nosuchparam=1"], ("inspect", "file"): [str(root / "missing.h5"), str(root / "dir"), str(regular)],
        ("metrics", "latents"): [str(root / "missing.npz"), str(root / "corrupt.npz"), str(root / "nokeys.npz"),
                                 str(w["run"] / "latents.npz") + "@other"],
        ("metrics", "data"): [str(root / "missing.h5"), str(root / "dir"), "@other"],
        ("metrics", "regions"): ["kmeans:0", "abc", "kmeans:100000"],
        ("metrics", "out"): [str(root / "dir"), str(regular / "sub.json"), str(root / "missing-dir" / "r.json"),
                            *(p + ".json" for p in UNWRITABLE)], ("metrics", "seed"): ["abc", "-1", str(2**70)],
        ("presets", "name"): ["no-such-preset"],
        ("train", "method"): ["no-such-preset"], ("pipeline", "method"): ["no-such-preset"],
        ("train", "device"): ["tpu"], ("pipeline", "device"): ["tpu"],
        ("train", "config"): [str(root / "notutf8.json"), str(root / "badconfig.json")],
        ("pipeline", "config"): [str(root / "notutf8.json")],
        ("train", "overrides"): ["nokey", "train.batch_size=100000", "train.batch_size=0", "labels=99",
                                 "model.no_such_field=1"],
        ("pipeline", "overrides"): ["labels=-2", "train.batch_size=100000", "labels=99"],
        ("evaluate", "regions"): ["bogus:3", "kmeans:100000"], ("evaluate", "env_overrides"): ["nokey", "nosuchparam=1"], ("pipeline", "regions"): ["bogus:3", "kmeans:100000"],
        ("demo", "overrides"): ["nokey"],
        ("collect", "env_id"): ["no/such-env"],
        ("collect", "episodes"): ["0", "-1"], ("collect", "steps"): ["0", "-1"], ("collect", "workers"): ["0", "-1"],
        ("collect", "policy"): ["no-such-policy"], ("collect", "difficulty"): ["no-such-difficulty"],
        ("collect", "overrides"): ["K", "nosuchparam=1"],
        ("collect", "out"): [str(root / "dir"), str(regular / "x.h5"), *(p + ".h5" for p in UNWRITABLE)],
        ("run", "config"): [str(root / "missing.toml"), str(root / "dir"), str(regular), str(root / "badexp.toml")],
        ("run", "out"): [str(regular), str(regular / "sub")], ("run", "address"): ["127.0.0.1:6379"],
        ("run", "only"): ["method", "=x", "nosuchcolumn=1", "seed=12345"],
        ("expert", "expert_command"): ["no-such-action"],
        ("paper", "results"): [str(root / "missing"), str(regular), str(root / "dir")],
        ("paper", "out"): [str(regular), str(regular / "sub")],
        ("paper", "claims"): [str(root / "missing.toml"), str(root / "dir"), str(regular)],
    }
    return values + by_role.get((cmd, dest), [])


def valid_argv(cmd: str, w, out: Path) -> dict[str, list[str]]:
    """Per subcommand: positional values and option -> value of a valid command line."""
    data = str(w["data"])
    make = {"--data": data, "--method": "lapo-entropy", "--out": str(out), "--steps": "2"}
    return {
        "presets": {"": ["lapo"]},
        "train": make, "pipeline": make,
        "relabel": {"": [str(w["run"])]}, "bc": {"": [str(w["run"])]}, "decode": {"": [str(w["run"])]},
        "evaluate": {"": [str(w["run"])]},
        "generate": {"": ["pointmass"], "--out": str(out / "g.h5"), "--episodes": "2", "--steps": "5"},
        "inspect": {"": [data]},
        "metrics": {"--latents": str(w["run"] / "latents.npz"), "--data": data},
        "demo": {"--out": str(out), "--steps": "2"},
        "collect": {"": ["synthetic/pointmass"], "--out": str(out / "g.h5"), "--episodes": "2", "--steps": "5"},
        "expert": {"": ["list"]},
        "paper": {"--results": str(w["store"]), "--out": str(out)},
        "run": {"": [str(w["root"] / "tiny.toml")], "--out": str(out), "--dry-run": None},
    }[cmd]


def command_line(cmd: str, parser, action, value: str, w, out: Path) -> list[str]:
    base = dict(valid_argv(cmd, w, out))
    positional = list(base.pop("", []))
    if value.endswith("@other"):  # latents scored against another dataset of the same length
        value = value[: -len("@other")] or str(w["other"])
        base["--data"] = str(w["other"])
    if action.option_strings:
        base[action.option_strings[0]] = value
    else:
        positional = [value]
    argv = [cmd, *positional]
    for flag, v in base.items():
        argv += [flag] if v is None else [flag, v]
    return argv


def cases(w) -> list[tuple[str, list[str]]]:
    found = []
    for cmd, parser in subcommands().items():
        for action in options(parser):
            values = bad_values(cmd, action, w)
            if isinstance(action, (argparse._StoreTrueAction, argparse._StoreFalseAction)):
                continue
            assert values, f"no bad values for `identlam {cmd} {action.option_strings or action.dest}`"
            for value in values:
                found.append((cmd, action, value))
    return found


def test_every_option_refuses_bad_values_in_one_line_before_any_work(world, tmp_path, capsys):
    failures = []
    for i, (cmd, action, value) in enumerate(cases(world)):
        out = tmp_path / f"out{i}"
        argv = command_line(cmd, subcommands()[cmd], action, value, world, out)
        capsys.readouterr()
        try:
            rc = main(argv)
        except BaseException as err:  # noqa: BLE001 - a traceback is exactly what this test looks for
            failures.append(f"{argv}: {type(err).__name__}: {err}")
            continue
        err = capsys.readouterr().err.strip().splitlines()
        if rc != 2 or len(err) != 1 or not err[0].startswith(f"identlam {cmd}: error:"):
            failures.append(f"{argv}: rc {rc}, stderr {err}")
        elif out.exists() and any(p.name in ("log.jsonl", "model.pt", "g.h5", "pointmass.h5") for p in out.rglob("*")):
            failures.append(f"{argv}: refused only after work started ({sorted(p.name for p in out.rglob('*'))})")
    assert not failures, "\n".join(failures)


def test_an_os_error_mid_command_is_one_line_and_exit_2(monkeypatch, tmp_path, capsys):
    import errno

    import identlam.paper.cli as paper_cli

    def disk_full(args):
        raise OSError(errno.ENOSPC, "No space left on device", str(tmp_path / "paper" / "report.md"))

    monkeypatch.setattr(paper_cli, "cmd_paper", disk_full)
    argv = ["paper", "--results", str(tmp_path), "--out", str(tmp_path / "paper")]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith(
        f"identlam paper: error: No space left on device: '{tmp_path / 'paper' / 'report.md'}'"), err
    monkeypatch.setenv("IDENTLAM_TRACEBACK", "1")  # a developer asks where it happened
    with pytest.raises(OSError, match="No space left"):
        main(argv)
