"""How many CPU threads a stage gives torch.

torch's default (one thread per core) is a poor fit for this package's typical networks: a
small MLP's matmuls take microseconds, so each step is dominated by thread hand-offs, and when
another process takes a core, torch's threads wait for the one that lost it (measured on 2
cores with one competing process: 10-15x slower with 2 threads than with 1, for vector and for
32 px image models alike; ``benchmarks/threads.py`` prints the ratio). The default is therefore
one thread per :data:`FLOPS_PER_THREAD` of work per step, at least one, and at most the cores
this process may run on minus one (left to the other processes of a shared machine).

The thread count changes floating-point summation order, so the choice must not depend on the
machine's momentary load: it depends only on the model, the batch and the cores, and a resumed
stage reuses the count recorded in ``RUN/log.jsonl`` when it started, so that it continues
bit-identically. ``--threads N`` (or ``OMP_NUM_THREADS``) overrides it.
"""

from __future__ import annotations

import math
import os
from typing import Iterable

import torch

from identlam.errors import ConfigError

# Work per step (forward + backward) that keeps one more thread busy enough to pay for itself.
FLOPS_PER_THREAD = 2e9


def available_cores() -> int:
    """Cores this process may run on (its CPU affinity, which a cluster scheduler restricts)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # platforms without sched_getaffinity
        return max(1, os.cpu_count() or 1)


def step_flops(modules: Iterable[torch.nn.Module], batch_size: int, obs_shape: tuple[int, ...]) -> float:
    """Rough FLOPs of one training step: 6 per weight per sample (forward + backward), with a
    convolution's weights applied at about a quarter of the image's positions (IMPALA stages
    pool as they go)."""
    positions = max(1, (obs_shape[-3] * obs_shape[-2]) // 4) if len(obs_shape) == 3 else 1
    per_sample = 0
    for module in modules:
        for layer in module.modules():
            weight = getattr(layer, "weight", None)
            if not isinstance(weight, torch.nn.Parameter) or not weight.requires_grad:
                continue
            reuse = positions if isinstance(layer, torch.nn.modules.conv._ConvNd) else 1
            per_sample += weight.numel() * reuse
    return 6.0 * per_sample * max(1, int(batch_size))


def default_threads(flops: float, cores: int) -> int:
    return int(max(1, min(cores - 1, math.floor(flops / FLOPS_PER_THREAD))))


def choose_threads(requested: int | None, flops: float, resumed_with: int | None = None) -> tuple[int, str]:
    """The thread count and why: ``requested`` (``--threads``), ``OMP_NUM_THREADS``, the count a
    resumed stage started with (``resumed_with``), or the default."""
    if requested is not None:
        if int(requested) < 1:
            raise ConfigError(f"--threads: must be >= 1, got {requested}")
        return int(requested), "--threads"
    env = os.environ.get("OMP_NUM_THREADS", "").strip()
    if env.isdigit() and int(env) >= 1:
        return int(env), "OMP_NUM_THREADS"
    if resumed_with is not None:
        return int(resumed_with), "as when the stage started (resume)"
    cores = available_cores()
    return default_threads(flops, cores), f"default for {flops / 1e9:.2g} GFLOP/step on {cores} core(s)"
