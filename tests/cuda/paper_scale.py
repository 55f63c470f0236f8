"""A few stage-1 updates of a preset through the real training path (``identlam train``'s stage).

Shared by the CUDA test (every preset at paper scale, 64 px images, bf16 autocast) and by its CPU
check (the same function at tiny sizes), so the GPU test cannot rot unnoticed on CPU-only machines.
"""

from __future__ import annotations

import json
from pathlib import Path

import torch

from identlam.train.artifacts import load_artifact
from identlam.train.pipeline import make_config
from identlam.train.rundir import RunDir
from identlam.train.stage_train import run_train

# sizes that make any preset train in about a second on CPU; the method-defining axes stay
TINY = ("model.hidden_dim=16", "model.embed_dim=16", "model.impala_channels=[4,8]", "model.impala_scale=1",
        "model.impala_res_blocks=1", "model.latent_dim=8", "model.vq.code_dim=4", "model.vq.codebook_size=8",
        "model.vq.num_latents=2", "model.label_batch_size=4", "bc.hidden_dim=16", "bc.impala_scale=1",
        "train.batch_size=8", "bc.batch_size=8", "decoder.batch_size=8")


def make_image_data(path: Path, episodes: int = 16, steps: int = 24, image_size: int = 64) -> Path:
    """A small pointmass-image dataset (rendered frames with a distractor sprite)."""
    from identlam.data.cli import generate

    generate("pointmass-image", path, episodes, steps, 0, {"image_size": image_size})
    return path


def train_steps(method: str, data: Path, out: Path, *, scale: str, device: str, steps: int,
                overrides=()) -> dict:
    """Train ``steps`` stage-1 updates of preset ``method``; returns the logged losses, the
    throughput (updates/s, transitions/s) and the largest parameter change between the model
    after one update and after ``steps`` updates (two runs from the same initialization)."""
    base = ["train.log_every=1", f"train.checkpoint_every={steps}", "train.optim.warmup_steps=0", *overrides]
    finals = []
    for n in (1, steps):
        cfg = make_config(data, method, scale=scale, steps=n, device=device, overrides=base)
        if cfg.labels > 0:
            cfg.labels = 4  # the tiny dataset has few trajectories; the label path still runs
        run = RunDir.create(out / f"{method}-{n}", cfg, data)
        run_train(run)
        finals.append(load_artifact(run.output("train"))["modules"])
        log = [json.loads(line) for line in (run.path / "log.jsonl").read_text().splitlines()]
    records = [r for r in log if r.get("stage") == "train"]
    losses = [r["loss"] for r in records]
    first, last = finals
    change = max(float((first[m][k].float() - last[m][k].float()).abs().max())
                 for m in first for k in first[m] if first[m][k].is_floating_point())
    rate = records[-1]["steps_per_s"]
    return {"losses": losses, "steps_per_s": rate, "transitions_per_s": rate * cfg.train.batch_size,
            "param_change": change, "batch_size": cfg.train.batch_size, "device": str(torch.device(device))}
