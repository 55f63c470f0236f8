"""The tiny experiment of the runner tests (seconds per cell)."""

from __future__ import annotations

from pathlib import Path

TINY = """
name = "tiny"
seeds = [0, 1]
stages = ["train", "relabel", "evaluate"]
metrics = ["ami", "used_codes", "action_probe_accuracy"]

[set]
"train.steps" = 12
"train.batch_size" = 16
"bc.batch_size" = 16
"decoder.batch_size" = 16
"train.optim.warmup_steps" = 2
"train.merge_steps" = 5   # the merge test's fine-tuning (200 updates per attempt) would be most of a run
"model.hidden_dim" = 16
"model.embed_dim" = 16

[data.pm]
source = "synthetic"
env = "pointmass"
episodes = 8
steps = 20
seed = "run"
params = { K = 2 }

[methods.entropy]
preset = "lapo-entropy"

[methods.lambda0]
preset = "lapo-entropy"
set = { "model.entropy.weight" = 0 }

[grid]
method = ["entropy", "lambda0"]
"""


def write_toml(directory: Path, text: str, name: str = "tiny.toml") -> Path:
    path = directory / name
    path.write_text(text)
    return path

