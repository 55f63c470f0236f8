"""The one way a stage runs: what ``train``, ``relabel``, ``bc``, ``decode`` and ``evaluate`` share.

:func:`run_stage` wraps a stage's body (its algorithm, a function of a :class:`StageContext`):

1. take the run directory's lock (a second command on the same run stops with one line);
2. skip the stage when its output exists (unless the stage redoes parts itself, as evaluate);
3. clean up after an earlier crash: temporaries of interrupted atomic writes, a torn log line;
4. resolve the device, make CPU kernels deterministic, and (when the body builds its networks)
   choose torch's threads (:mod:`identlam.train.threads`), recorded in ``RUN/log.jsonl``;
5. open the dataset lazily (checked against the run's fingerprint) and close it at the end;
6. on success, delete the stage's checkpoints; restore the caller's thread count either way.

Stage outputs record the dataset's fingerprint (:mod:`identlam.fingerprint`) through
:meth:`StageContext.save`.
"""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path
from typing import Any, Callable

import torch

from identlam.errors import ConfigError, DatasetError
from identlam.fingerprint import dataset_fingerprint
from identlam.io import sweep_temp_files
from identlam.train.artifacts import save_artifact
from identlam.train.device import configure_determinism, resolve_device
from identlam.train.loop import Schedule
from identlam.train.progress import say
from identlam.train.rundir import RunDir
from identlam.train.threads import choose_threads, step_flops


def as_run(run: RunDir | str | Path) -> RunDir:
    return run if isinstance(run, RunDir) else RunDir(run)


def stage_schedule(cfg, stage: str) -> Schedule:
    """The optimization schedule of a training stage (``train``, ``bc`` or ``decode``), validated."""
    where = {"train": "train", "bc": "bc", "decode": "decoder"}[stage]
    part, t = getattr(cfg, where), cfg.train
    schedule = Schedule(steps=part.steps, **dataclasses.asdict(part.optim), checkpoint_every=t.checkpoint_every,
                        log_every=t.log_every)
    schedule.validate(where)
    return schedule


class StageContext:
    """What a stage's body gets: the run, its config, device, dataset (lazy) and helpers."""

    def __init__(self, run: RunDir, name: str, threads: int | None):
        self.run, self.name, self.requested_threads = run, name, threads
        self.cfg = run.cfg
        self.device = resolve_device(self.cfg.device)
        self.threads: int | None = None
        self._ds = None
        self._fingerprint: str | None = None

    @property
    def ds(self):
        if self._ds is None:
            self._ds = self.run.open_dataset()
            check_budgets(self.cfg, self._ds)
        return self._ds

    @property
    def data_fingerprint(self) -> str:
        if self._fingerprint is None:
            self._fingerprint = dataset_fingerprint(self.run.data_path)
        return self._fingerprint

    def checkpoint(self, name: str | None = None) -> Path:
        return self.run.checkpoint(name or self.name)

    def use_threads(self, modules, batch_size: int) -> int:
        """Set torch's threads for training ``modules`` at ``batch_size`` and record the choice."""
        earlier = [e["threads"] for e in self.run.log.events("threads") if e.get("of") == self.name]
        # checkpoints are deleted when a stage finishes: any left belong to this stage, interrupted
        resuming = any((self.run.path / "checkpoints").glob("*.pt"))
        resumed_with = earlier[-1] if earlier and resuming else None
        flops = step_flops(modules, batch_size, tuple(self.ds.obs_shape))
        n, why = choose_threads(self.requested_threads, flops, resumed_with)
        torch.set_num_threads(n)
        self.threads = n
        self.run.log.append({"event": "threads", "of": self.name, "threads": n, "reason": why,
                             "device": str(self.device)})
        say(f"{self.name}: device {self.device}, {n} thread{'s' if n != 1 else ''} ({why})")
        return n

    def save(self, kind: str, modules: dict[str, torch.nn.Module], meta: dict[str, Any]) -> None:
        """Write the stage's output file, with the dataset's fingerprint in its meta."""
        save_artifact(self.run.output(self.name), kind, modules, {**meta, "data_fingerprint": self.data_fingerprint})

    def close(self) -> None:
        if self._ds is not None:
            self._ds.close()
            self._ds = None


def run_stage(run: RunDir | str | Path, name: str, body: Callable[[StageContext], Any], *,
              threads: int | None = None, skip_finished: bool = True) -> Any:
    """Run ``body`` as stage ``name`` of ``run`` (see the module docstring); returns its result."""
    run = as_run(run)
    if threads is not None and int(threads) < 1:
        raise ConfigError(f"--threads: must be >= 1, got {threads}")
    with run.lock():
        if skip_finished and run.finished(name):
            say(f"{name}: done ({run.output(name)}), skipped")
            return None
        clean_up_after_crash(run)
        ctx = StageContext(run, name, threads)
        configure_determinism(ctx.device)
        before = torch.get_num_threads()
        try:
            result = body(ctx)
        finally:
            ctx.close()
            torch.set_num_threads(before)
        shutil.rmtree(run.path / "checkpoints", ignore_errors=True)
        return result


def clean_up_after_crash(run: RunDir) -> None:
    """Temporaries of interrupted atomic writes and a torn final log line (call under the lock)."""
    for directory in (run.path, run.path / "checkpoints"):
        sweep_temp_files(directory)
    dropped = run.log.repair()
    if dropped:
        say(f"warning: {run.log.path}: dropped {dropped} torn line{'s' if dropped != 1 else ''} "
            "(a crash during a write); the run continues from its last checkpoint")


def check_budgets(cfg, ds) -> None:
    """Budgets that only make sense against the data, refused before any work starts."""
    from identlam.train.batches import split_trajectories

    train_traj, _ = split_trajectories(ds.n_trajectories, cfg.eval.holdout_fraction)
    if cfg.labels < 0:
        raise ConfigError(f"config key 'labels': must be >= 0 trajectories, got {cfg.labels}")
    if cfg.labels > len(train_traj):
        raise ConfigError(
            f"config key 'labels': {cfg.labels} labelled trajectories requested but only {len(train_traj)} "
            f"of {ds.n_trajectories} are training trajectories (eval.holdout_fraction={cfg.eval.holdout_fraction})")
    transitions = int((ds.lengths[train_traj] - 1).sum())
    for key, value in (("train.batch_size", cfg.train.batch_size), ("bc.batch_size", cfg.bc.batch_size),
                       ("decoder.batch_size", cfg.decoder.batch_size)):
        if value < 1:
            raise ConfigError(f"config key '{key}': must be >= 1, got {value}")
        if value > transitions:
            raise DatasetError(f"config key '{key}': {value} is more than the {transitions} training transitions "
                               f"of '{ds.path}'")
