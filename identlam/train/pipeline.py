"""The whole protocol: make a run's config, then train, relabel, bc, decode, evaluate.

Every stage is skipped when its output exists and resumes from its checkpoint otherwise, so
rerunning ``identlam pipeline`` after an interruption finishes the run.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

from identlam.config import RunConfig, apply_overrides
from identlam.errors import ConfigError
from identlam.train.evaluate import run_evaluate
from identlam.train.progress import say
from identlam.train.rundir import RunDir, load_config_file
from identlam.train.stage import as_run
from identlam.train.stage_bc import run_bc
from identlam.train.stage_decode import run_decode
from identlam.train.stage_relabel import run_relabel
from identlam.train.stage_train import run_train

STAGES = ("train", "relabel", "bc", "decode", "evaluate")


def make_config(
    data: str | Path,
    method: str | None = None,
    *,
    config_file: str | Path | None = None,
    scale: str = "cpu",
    labels: int | None = None,
    steps: int | None = None,
    seed: int | None = None,
    device: str | None = None,
    overrides: Sequence[str] = (),
) -> RunConfig:
    """The run config: a preset (adapted to the data's observation kind) or a config file, then
    ``--labels/--steps/--seed/--device``, then ``--set key=value`` overrides in order."""
    from identlam.data import open_dataset
    from identlam.presets import get_preset

    if config_file is not None:
        cfg = load_config_file(config_file)
        if method is not None and method != cfg.method:
            raise ConfigError(f"--method '{method}' contradicts method '{cfg.method}' of --config {config_file}")
    elif method is not None:
        with open_dataset(data) as ds:
            obs_kind = ds.obs_kind
        cfg = get_preset(method, scale, obs_kind)
    else:
        raise ConfigError("--method: give a preset name (see `identlam presets`) or --config FILE")
    flags = {"labels": labels, "train.steps": steps, "seed": seed, "device": device}
    cfg = apply_overrides(cfg, {k: v for k, v in flags.items() if v is not None})
    return apply_overrides(cfg, list(overrides))


def stage_budgets(cfg: RunConfig, episodes: int | None = None) -> str:
    """One line naming what each stage of ``cfg`` will do (printed when a pipeline starts)."""
    t = cfg.train
    train = f"train {t.steps} steps (batch {t.batch_size}"
    train += f", {t.restarts} restarts of {t.restart_steps} steps first)" if t.restarts > 1 else ")"
    parts = [train]
    if cfg.kind != "bc":
        parts += ["relabel 1 pass", f"bc {cfg.bc.steps} steps (batch {cfg.bc.batch_size})"]
        if cfg.kind == "idm":
            parts.append("decode identity")
        elif cfg.labels > 0:
            parts.append(f"decode {cfg.decoder.steps} steps on {cfg.labels} labelled trajectories")
        else:
            parts.append("decode skipped (no --labels)")
    parts.append(f"evaluate {cfg.eval.episodes if episodes is None else episodes} episodes")
    return "pipeline: " + ", ".join(parts)


def run_pipeline(run: RunDir | str | Path, episodes: int | None = None, regions: str | None = None, *,
                 threads: int | None = None) -> dict[str, Any]:
    """All stages of ``run``; returns the contents of ``metrics.json``.

    ``regions`` is the state-region spec of the offline report (``identlam evaluate --regions``).

    The ``bc`` baseline has no latent stages. ``decode`` needs a label budget (``labels > 0``);
    without one the pipeline stops after ``bc`` and ``evaluate`` reports the offline metrics only.
    """
    run = as_run(run)
    cfg = run.cfg
    with run.lock():  # held across stages: no other command slips in between two of them
        say(stage_budgets(cfg, episodes))
        run_train(run, threads=threads)
        if cfg.kind != "bc":
            run_relabel(run, threads=threads)
            run_bc(run, threads=threads)
            if cfg.kind == "idm" or cfg.labels > 0:
                run_decode(run, threads=threads)
        return run_evaluate(run, episodes, regions=regions, threads=threads)
