"""Subcommands ``presets``, ``train``, ``relabel``, ``bc``, ``decode``, ``evaluate``, ``pipeline``.

Argument parsing and printing only: each handler calls a ``run_<stage>`` function of
``identlam.train``. Heavy libraries (torch) are imported inside the handlers so
``identlam --help`` stays fast.
"""

from __future__ import annotations

import argparse
import json
import sys

from identlam.argtypes import field_int, input_file, output_dir, positive_int, thread_count
from identlam.metrics import REGIONS_HELP


def register(subparsers) -> None:
    p = subparsers.add_parser("presets", help="list the methods, or print one as a config JSON",
                              description="Without NAME: one line per preset. With NAME: its config as JSON, "
                                          "to save, edit and pass back with `identlam train --config FILE`; "
                                          "with --fields: every dotted key, its value, meaning and admissible values.")
    p.add_argument("name", nargs="?", help="preset to print")
    p.add_argument("--scale", default="cpu", choices=("cpu", "paper"), help="CPU-scale defaults or the papers' sizes")
    p.add_argument("--obs", default=None, choices=("vector", "image"), help="adapt the encoder to this observation kind")
    p.add_argument("--json", action="store_true", help="list as JSON ({name: description})")
    p.add_argument("--fields", action="store_true",
                   help="with NAME: one line per field (dotted key = value  # meaning (admissible values))")
    p.set_defaults(func=cmd_presets)

    p = subparsers.add_parser("train", help="stage 1: train the latent action model (or a baseline) into RUN",
                              description="Creates RUN/config.json (preset or --config, then flags, then --set) "
                                          "and trains; rerunning resumes from the last checkpoint. One command "
                                          "at a time per RUN: a second one stops with an error.")
    _run_arguments(p)
    p.set_defaults(func=cmd_train)

    for name, text in (("relabel", "stage 2: latent actions of every transition -> RUN/latents.npz"),
                       ("bc", "stage 3: latent behaviour cloning -> RUN/policy.pt"),
                       ("decode", "stage 4: latent -> true action decoder on the label split -> RUN/decoder.pt")):
        p = subparsers.add_parser(name, help=text, description=text + " (skipped when done, resumed when interrupted)")
        p.add_argument("run", metavar="RUN", type=existing_run, help="run directory made by `identlam train`")
        _threads_argument(p)
        p.set_defaults(func=cmd_stage, stage=name)

    p = subparsers.add_parser("evaluate", help="stage 5: identifiability report and online return -> RUN/metrics.json",
                              description="Writes RUN/metrics.json and RUN/report.md (the same results as tables): "
                                          "the offline identifiability report on held-out trajectories and, for "
                                          "synthetic data, the online return of the decoded policy.")
    p.add_argument("run", metavar="RUN", type=existing_run, help="run directory")
    p.add_argument("--episodes", type=positive_int, default=None,
                   help="online episodes (default: eval.episodes of the config)")
    p.add_argument("--regions", default=None, metavar="SPEC", help=REGIONS_HELP)
    p.add_argument("--recompute-offline", action="store_true",
                   help="recompute the offline report although metrics.json holds one (after identlam's metrics "
                        "changed); the online returns are kept")
    _threads_argument(p)
    p.add_argument("--env-set", dest="env_overrides", action="append", default=None, metavar="KEY=VALUE",
                   help="online evaluation in the dataset's environment with this parameter changed, e.g. "
                        "--env-set background=moving (repeatable; recorded in metrics.json)")
    p.set_defaults(func=cmd_evaluate)

    p = subparsers.add_parser("pipeline", help="all stages: train, relabel, bc, decode, evaluate (rerun resumes)",
                              description="Runs every stage into RUN and prints each stage's budget at start; "
                                          "finished stages are skipped, interrupted ones resume from their "
                                          "checkpoint. --steps sets train.steps only: bc and decode keep "
                                          "bc.steps and decoder.steps (change them with --set).")
    _run_arguments(p)
    p.add_argument("--episodes", type=positive_int, default=None, help="online episodes (default: eval.episodes)")
    p.add_argument("--regions", default=None, metavar="SPEC", help=REGIONS_HELP)
    p.set_defaults(func=cmd_pipeline)


def existing_run(text: str):
    """A run directory: a directory holding config.json."""
    from pathlib import Path

    p = Path(text)
    if p.exists() and not p.is_dir():
        raise argparse.ArgumentTypeError(f"'{p}' is a file, not a run directory")
    if not (p / "config.json").is_file():
        raise argparse.ArgumentTypeError(f"'{p}' has no config.json; create the run with `identlam train --out {p}`")
    return p


def _run_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--data", required=True, type=input_file, metavar="FILE.h5", help="dataset (identlam-1 or LAOM HDF5)")
    p.add_argument("--method", default=None, metavar="PRESET", help="preset name (`identlam presets`)")
    p.add_argument("--out", required=True, type=output_dir, metavar="RUN", help="run directory")
    p.add_argument("--config", default=None, type=input_file, metavar="FILE",
                   help="config JSON (`identlam presets NAME`, or RUN/config.json)")
    p.add_argument("--scale", default="cpu", choices=("cpu", "paper"), help="preset scale")
    p.add_argument("--labels", type=field_int("labels", 0), default=None, metavar="N_TRAJ", help="label budget in trajectories")
    p.add_argument("--steps", type=field_int("train.steps", 1), default=None,
                   help="stage-1 (train) updates, train.steps; bc.steps and decoder.steps are unchanged")
    p.add_argument("--seed", type=field_int("seed", 0), default=None, help="run seed")
    p.add_argument("--device", default=None, help="auto (CUDA + bf16 when present), cpu, cuda, cuda:N")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="override a config field, e.g. --set model.entropy.weight=0.3 (repeatable; `identlam presets NAME --fields` lists the keys)")
    _threads_argument(p)


def _threads_argument(p: argparse.ArgumentParser) -> None:
    p.add_argument("--threads", type=thread_count, default=None, metavar="N",
                   help="torch CPU threads (default: chosen from the model's work per step and the cores "
                        "available; recorded in RUN/log.jsonl)")


def _checked_config(args):
    """The run's config, with every budget that needs the data checked: nothing is written yet."""
    from identlam.data import open_dataset
    from identlam.train.pipeline import make_config
    from identlam.train.stage import check_budgets

    cfg = make_config(args.data, args.method, config_file=args.config, scale=args.scale, labels=args.labels,
                      steps=args.steps, seed=args.seed, device=args.device, overrides=args.overrides)
    with open_dataset(args.data) as ds:
        check_budgets(cfg, ds)
    return cfg


def cmd_presets(args) -> int:
    from identlam.config import describe_fields, to_dict
    from identlam.presets import PRESET_NAMES, PRESETS, get_preset

    if args.name is not None:
        cfg = get_preset(args.name, args.scale, args.obs)
        print(describe_fields(cfg) if args.fields else json.dumps(to_dict(cfg), indent=2))
        return 0
    lines = {name: _first_sentence(PRESETS[name].__doc__ or "") for name in PRESET_NAMES}
    if args.json:
        print(json.dumps(lines, indent=2))
        return 0
    width = max(map(len, lines))
    for name, text in lines.items():
        print(f"{name:<{width}}  {text}")
    print(f"\n`identlam presets NAME [--scale paper]` prints one as JSON; edit it and pass --config FILE.",
          file=sys.stderr)
    return 0


def _first_sentence(doc: str) -> str:
    text = " ".join(doc.split())
    cut = text.find(". ")
    return text if cut < 0 else text[: cut + 1]


def cmd_train(args) -> int:
    from identlam.train.stage_train import run_train

    from identlam.io import directory_lock
    from identlam.train.rundir import RunDir

    cfg = _checked_config(args)
    with directory_lock(args.out, "run"):  # held from the config's creation to the end of training
        run = RunDir.create(args.out, cfg, args.data)
        run_train(run, threads=args.threads)
    print(f"train: {run.output('train')}")
    return 0


def cmd_stage(args) -> int:
    from identlam.train.rundir import RunDir
    from identlam.train.stage_bc import run_bc
    from identlam.train.stage_decode import run_decode
    from identlam.train.stage_relabel import run_relabel

    run = RunDir(args.run)
    {"relabel": run_relabel, "bc": run_bc, "decode": run_decode}[args.stage](run, threads=args.threads)
    print(f"{args.stage}: {run.output(args.stage)}")
    return 0


def cmd_evaluate(args) -> int:
    from identlam.train.evaluate import run_evaluate
    from identlam.train.rundir import RunDir

    env_overrides = None
    if args.env_overrides is not None:
        from identlam.envs.cli import parse_overrides

        env_overrides = parse_overrides(args.env_overrides, "--env-set")
    run = RunDir(args.run)
    _summarize(run_evaluate(run, args.episodes, regions=args.regions, env_overrides=env_overrides,
                            threads=args.threads, recompute_offline=args.recompute_offline), run)
    return 0


def cmd_pipeline(args) -> int:
    from identlam.train.pipeline import run_pipeline
    from identlam.metrics import parse_regions

    if args.regions is not None:
        parse_regions(args.regions)  # a bad spec fails before training, not after
    from identlam.io import directory_lock
    from identlam.train.rundir import RunDir

    cfg = _checked_config(args)
    if args.regions is not None:  # against the held-out transitions, before training
        from identlam.train.evaluate import check_regions_fit_data

        check_regions_fit_data(args.regions, cfg, args.data)
    with directory_lock(args.out, "run"):
        run = RunDir.create(args.out, cfg, args.data)
        report = run_pipeline(run, args.episodes, regions=args.regions, threads=args.threads)
    _summarize(report, run)
    return 0


def _summarize(report: dict, run) -> None:
    print(f"evaluate: {run.output('evaluate')} (tables: {run.path / 'report.md'})")
    offline = (report.get("offline") or {}).get("score") or {}
    for key in ("ami", "used_codes", "hungarian_global", "hungarian_per_region", "hungarian_gap",
                "action_probe_accuracy", "action_probe_r2", "action_probe_accuracy_fit_on_train",
                "action_probe_r2_fit_on_train"):
        if isinstance(offline.get(key), (int, float)):
            print(f"  {key}: {offline[key]:.4g}")
    online = report.get("online")
    if online:
        print(f"  return: {online['return_mean']:.4g} (random {online['random_return_mean']:.4g}, "
              f"BC on all actions {online['bc_all_return_mean']:.4g})")
    elif report.get("online_skipped"):
        print(f"  online: skipped ({report['online_skipped']})")
