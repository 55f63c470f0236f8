"""The one optimization loop every stage shares: schedule, clipping, logging, checkpoints, resume.

Each stage writes its algorithm as a ``step_fn(step) -> (loss, logs)`` that draws its own batch
from the numpy Generator it was given; :func:`fit` does the rest, identically for the LAM, the
policies and the decoder:

- AdamW with linear warm-up then a constant, linear or cosine schedule; gradient clipping;
- a NaN or infinite loss stops with :class:`TrainingDiverged` naming the step and the loss term,
  *before* the bad update, so the last checkpoint on disk is the last good one;
- a checkpoint every ``checkpoint_every`` updates (model, optimizer, scheduler, numpy and torch
  RNG states, step); if one exists, :func:`fit` resumes from it and the final weights equal
  those of an uninterrupted run (CPU, same seed);
- progress (``identlam.train.progress``: a bar on a terminal, plain periodic lines otherwise)
  with the stage's step, rate and ETA, a line saying where it starts or resumes, and one JSON
  line per ``log_every`` updates in ``RUN/log.jsonl``: stage, step, loss, lr, grad_norm, the
  step function's logs (the model's losses and collapse diagnostics), and
  ``elapsed_s``/``steps_per_s`` since the process (re)started the stage.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np
import torch

from identlam.errors import ConfigError, TrainingDiverged
from identlam.io import atomic_write_text
from identlam.train.checkpoint import load_checkpoint, load_module_states, module_states, save_checkpoint
from identlam.train.device import autocast
from identlam.train.progress import Progress, say

StepFn = Callable[[int], tuple[torch.Tensor, dict[str, float]]]


@dataclass
class Schedule:
    """How ``steps`` updates are taken; the learning rate is ``lr × lr_factor(step)``."""

    steps: int
    lr: float
    weight_decay: float = 0.0
    warmup_steps: int = 0
    schedule: str = "constant"  # constant | linear | cosine (after warm-up)
    grad_clip: float = 0.0  # max global grad norm; 0 disables
    checkpoint_every: int = 500
    log_every: int = 50

    def validate(self, where: str) -> None:
        if self.steps < 1:
            raise ConfigError(f"config key '{where}.steps': must be >= 1, got {self.steps}")
        if not self.lr > 0:
            raise ConfigError(f"config key '{where}.lr': must be > 0, got {self.lr}")
        if self.schedule not in ("constant", "linear", "cosine"):
            raise ConfigError(f"config key '{where}.schedule': expected constant, linear or cosine, got {self.schedule!r}")
        for name in ("warmup_steps", "grad_clip", "weight_decay"):
            if getattr(self, name) < 0:
                raise ConfigError(f"config key '{where}.{name}': must be >= 0, got {getattr(self, name)}")
        for name in ("checkpoint_every", "log_every"):
            if getattr(self, name) < 1:
                raise ConfigError(f"config key 'train.{name}': must be >= 1, got {getattr(self, name)}")

    def lr_factor(self, step: int) -> float:
        if step < self.warmup_steps:
            return (step + 1) / self.warmup_steps
        span = max(1, self.steps - self.warmup_steps)
        progress = min(1.0, (step - self.warmup_steps) / span)
        if self.schedule == "linear":
            return 1.0 - progress
        if self.schedule == "cosine":
            return 0.5 * (1.0 + math.cos(math.pi * progress))
        return 1.0


class RunLog:
    """``RUN/log.jsonl``: one JSON object per line.

    Step rows carry ``stage`` and ``step`` (:meth:`records`); event rows (a stage started, with
    its device and threads) carry ``event`` (:meth:`events`). A line torn by a crash or a full
    disk is skipped when reading and dropped by :meth:`repair`, so it never blocks a resume.
    """

    def __init__(self, path: str | Path):
        self.path = Path(path)

    def append(self, record: dict[str, Any]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path, "a+") as fh:
            fh.seek(0, 2)
            if fh.tell() > 0:  # a torn last line has no newline: start on a fresh line
                fh.seek(fh.tell() - 1)
                if fh.read(1) != "\n":
                    fh.write("\n")
            fh.write(json.dumps(record, default=float) + "\n")

    def _rows(self) -> list[dict[str, Any]]:
        if not self.path.is_file():
            return []
        return [r for r in map(_parse, self.path.read_text(errors="replace").splitlines()) if r is not None]

    def records(self, stage: str | None = None) -> list[dict[str, Any]]:
        """Step rows, of ``stage`` only when given."""
        return [r for r in self._rows() if "step" in r and (stage is None or r.get("stage") == stage)]

    def events(self, event: str | None = None) -> list[dict[str, Any]]:
        return [r for r in self._rows() if "event" in r and (event is None or r["event"] == event)]

    def repair(self) -> int:
        """Drop lines that are not JSON objects (torn writes); returns how many were dropped."""
        if not self.path.is_file():
            return 0
        lines = self.path.read_text(errors="replace").splitlines()
        keep = [ln for ln in lines if _parse(ln) is not None]
        dropped = sum(1 for ln in lines if ln.strip()) - len(keep)
        if dropped:
            atomic_write_text(self.path, "".join(ln + "\n" for ln in keep))
        return dropped

    def truncate(self, stage: str, after_step: int) -> None:
        """Drop ``stage``'s lines past ``after_step`` (written after the checkpoint we resume from)."""
        if not self.path.is_file():
            return
        lines = self.path.read_text(errors="replace").splitlines()
        keep = [ln for ln in lines if _parse(ln) is not None and not _is_later(_parse(ln), stage, after_step)]
        if len(keep) != len(lines):
            atomic_write_text(self.path, "".join(ln + "\n" for ln in keep))


def _parse(line: str) -> dict[str, Any] | None:
    try:
        row = json.loads(line)
    except ValueError:
        return None
    return row if isinstance(row, dict) else None


def _is_later(record: dict, stage: str, step: int) -> bool:
    return record.get("stage") == stage and int(record.get("step", -1)) > step


def fit(
    modules: dict[str, torch.nn.Module],
    step_fn: StepFn,
    *,
    schedule: Schedule,
    rng: np.random.Generator,
    device: torch.device,
    stage: str,
    checkpoint_path: str | Path,
    log: RunLog,
    stop_at: int | None = None,
) -> dict[str, Any]:
    """Run (or resume) ``schedule.steps`` updates of every trainable parameter in ``modules``.

    ``stop_at`` ends early after that many updates (the schedule still spans ``schedule.steps``)
    and checkpoints there; the restart procedure uses it. ``rng`` is advanced in place and
    restored from the checkpoint on resume, as are torch's RNG states. Returns the checkpoint
    payload reached at the end (also on disk). Call inside :func:`seeded_torch`.
    """
    end = schedule.steps if stop_at is None else min(stop_at, schedule.steps)
    params = [p for m in modules.values() for p in m.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=schedule.lr, weight_decay=schedule.weight_decay)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, schedule.lr_factor)
    start = 0
    saved = load_checkpoint(checkpoint_path)
    if saved is not None:
        load_module_states(modules, saved["modules"], source=str(checkpoint_path))
        optimizer.load_state_dict(saved["optimizer"])
        scheduler.load_state_dict(saved["scheduler"])
        rng.bit_generator.state = saved["numpy_rng"]
        torch.set_rng_state(saved["torch_rng"])
        if device.type == "cuda" and saved.get("cuda_rng") is not None:
            torch.cuda.set_rng_state(saved["cuda_rng"], device)
        start = int(saved["step"])
        log.truncate(stage, start)
    if start:
        say(f"{stage}: resuming at step {start} of {end} from checkpoint '{checkpoint_path}'")
    else:
        say(f"{stage}: starting, {end} steps" + (f" of a {schedule.steps}-step schedule" if end < schedule.steps else ""))

    def snapshot(step: int) -> dict[str, Any]:
        return {
            "stage": stage,
            "step": step,
            "modules": module_states(modules),
            "optimizer": optimizer.state_dict(),
            "scheduler": scheduler.state_dict(),
            "numpy_rng": rng.bit_generator.state,
            "torch_rng": torch.get_rng_state(),
            "cuda_rng": torch.cuda.get_rng_state(device) if device.type == "cuda" else None,
        }

    for m in modules.values():
        m.train()
    bar = Progress(stage, end, initial=start)
    started = time.perf_counter()  # wall clock of this process's part of the stage (resets on resume)
    try:
        for step in range(start, end):
            with autocast(device):
                loss, logs = step_fn(step)
            _check_finite(loss, logs, step=step, stage=stage, checkpoint_path=checkpoint_path)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            grad_norm = (
                float(torch.nn.utils.clip_grad_norm_(params, schedule.grad_clip)) if schedule.grad_clip > 0 else None
            )
            optimizer.step()
            lr = scheduler.get_last_lr()[0]
            scheduler.step()
            done = step + 1
            postfix: dict[str, float] = {}
            if done % schedule.log_every == 0 or done == end:
                elapsed = time.perf_counter() - started
                record = {"stage": stage, "step": done, "loss": float(loss.detach()), "lr": lr,
                          "elapsed_s": elapsed, "steps_per_s": (done - start) / max(elapsed, 1e-9)}
                if grad_norm is not None:
                    record["grad_norm"] = grad_norm
                record.update({k: float(v) for k, v in logs.items() if k not in record})
                log.append(record)
                postfix = {"loss": record["loss"]}
            bar.update(done, **postfix)
            if done % schedule.checkpoint_every == 0 or done == end:
                save_checkpoint(checkpoint_path, snapshot(done))
    finally:
        bar.close()
    return snapshot(end)


def _check_finite(loss: torch.Tensor, logs: dict[str, float], *, step: int, stage: str, checkpoint_path) -> None:
    if bool(torch.isfinite(loss.detach()).all()):
        return
    values = {k: _as_float(v) for k, v in logs.items()}
    bad_terms = [k for k, v in values.items() if v is not None and not math.isfinite(v)]
    term = bad_terms[0] if bad_terms else "loss"
    value = values[term] if bad_terms else float(loss.detach().float().sum())
    kept = load_checkpoint(checkpoint_path)
    where = f"last good checkpoint '{checkpoint_path}' at step {kept['step']}" if kept else "no checkpoint written yet"
    raise TrainingDiverged(f"{stage} diverged at step {step}: loss term '{term}' is {value}; {where}")


def _as_float(value: Any) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError, RuntimeError):
        return None
