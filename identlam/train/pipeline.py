"""The whole protocol (DESIGN §5): make a run's config, then train, relabel, bc, decode, evaluate.

Every stage is skipped when its output exists and resumes from its checkpoint otherwise, so
rerunning ``identlam pipeline`` after an interruption finishes the run.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

from identlam.config import RunConfig, apply_overrides
from identlam.errors import ConfigError
from identlam.train.evaluate import run_evaluate
from identlam.train.rundir import RunDir, load_config_file
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


def run_pipeline(run: RunDir, episodes: int | None = None, regions: str | None = None) -> dict[str, Any]:
    """All stages of ``run``; returns the contents of ``metrics.json``.

    ``regions`` is the state-region spec of the offline report (``identlam evaluate --regions``).

    The ``bc`` baseline has no latent stages. ``decode`` needs a label budget (``labels > 0``);
    without one the pipeline stops after ``bc`` and ``evaluate`` reports the offline metrics only.
    """
    cfg = run.cfg
    run_train(run)
    if cfg.kind != "bc":
        run_relabel(run)
        run_bc(run)
        if cfg.kind == "idm" or cfg.labels > 0:
            run_decode(run)
    return run_evaluate(run, episodes, regions=regions)
